"""Parse a published target value (指标值) into operator, number, unit and text.

``≥192家次`` → (≥, 192, 家次); ``=100(%)`` → (=, 100, %); ``<=1月`` → (≤, 1, 月);
``不超过预算29.38万元`` → (≤, 29.38, 万元, text 预算); ``及时`` → text only.
The published string is always kept next to the parsed form.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

# Longest first, so that "不低于" wins over "低于" and ">=" over ">".
_OPERATORS = [
    ("大于等于", "≥"), ("大于或等于", "≥"), ("不低于", "≥"), ("不少于", "≥"), ("不小于", "≥"),
    ("至少", "≥"), ("小于等于", "≤"), ("小于或等于", "≤"), ("不超过", "≤"), ("不高于", "≤"),
    ("不多于", "≤"), ("不大于", "≤"), ("控制在", "≤"), ("等于", "="),
    ("超过", ">"), ("高于", ">"), ("大于", ">"), ("低于", "<"), ("小于", "<"),
    (">=", "≥"), ("=>", "≥"), ("<=", "≤"), ("=<", "≤"), ("≧", "≥"), ("≦", "≤"),
    ("≥", "≥"), ("≤", "≤"), ("=", "="), (">", ">"), ("<", "<"),
]

_NUMBER = re.compile(r"[-+]?\d+(?:,\d{3})*(?:\.\d+)?")
# "=100(%)", "≥192家次", "≤220.00(元/个)", "100%合规": number, unit, an optional qualifier.
_AFTER = re.compile(r"^\s*[(（]?\s*(%|‰|[A-Za-z\u4e00-\u9fff/·²³]{1,6})?\s*[)）]?\s*(.*)$")
# Deadlines and references are words, not units: "11月底前", "2026年预算数".
_NOT_A_UNIT = re.compile(r"[前后底内]|预算|^年.")
# Full-width forms to ASCII, one character for one, so positions still match the original.
_WIDTH = {c: chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)} | {0x3000: " ", 0x2267: "≥", 0x2266: "≤"}


@dataclass(frozen=True)
class Target:
    published: str
    op: str | None = None          # one of ≥ ≤ = > <, or None
    value: Decimal | None = None
    unit: str | None = None
    text: str | None = None        # qualitative part (及时, 合格, 预算…)

    def as_dict(self) -> dict:
        return {"op": self.op, "value": None if self.value is None else str(self.value),
                "value_unit": self.unit, "text": self.text}


@lru_cache(maxsize=1 << 16)
def parse_target(published: str | None) -> Target:
    """Memoized: a Target is immutable, and published targets repeat (100%, ≥95%, 及时)."""
    if published is None:
        return Target("")
    original = published.strip()
    if not original:
        return Target(published)
    text = original.translate(_WIDTH)        # same length as ``original``
    op, at = None, 0
    for word, symbol in _OPERATORS:
        if text.startswith(word):
            op, at = symbol, len(word)
            break
    while at < len(text) and text[at].isspace():
        at += 1
    match = _NUMBER.match(text, at) or _NUMBER.search(text, at)
    if match:
        prefix = text[at:match.start()].strip()
        after = _AFTER.match(text[match.end():])
        unit, rest = after.group(1), after.group(2).strip()
        if unit and _NOT_A_UNIT.search(unit):
            unit, rest = None, "x"                  # not a quantity: keep it all as text
        qualifier_ok = not rest or (unit in ("%", "‰") and not re.search(r"\d", rest))
        if len(prefix) <= 4 and not re.search(r"\d", prefix) and qualifier_ok:
            value = Decimal(match.group().replace(",", ""))
            words = " ".join(w for w in (prefix, rest) if w) or None
            return Target(published, op, value, unit, words)
    return Target(published, op, None, None, original[at:] or None)
