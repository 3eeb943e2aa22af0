"""Parse a published target value (指标值) into operator, number, unit and text.

``≥192家次`` → (≥, 192, 家次); ``=100(%)`` → (=, 100, %); ``<=1月`` → (≤, 1, 月);
``不超过预算29.38万元`` → (≤, 29.38, 万元, text 预算); ``及时`` → text only.
The published string is always kept next to the parsed form.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

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
# A unit is short and holds no verb-like words; the parentheses of "=100(%)" are noise.
_UNIT = re.compile(r"^[（(]?\s*([%‰A-Za-z\u4e00-\u9fff/·²³]{1,6})\s*[)）]?$")


@dataclass(frozen=True)
class Target:
    published: str
    op: str | None = None          # one of ≥ ≤ = > <, or None
    value: Decimal | None = None
    unit: str | None = None
    text: str | None = None        # qualitative part (及时, 合格, 预算…)

    @property
    def is_empty(self) -> bool:
        return self.op is None and self.value is None and not self.text

    def as_dict(self) -> dict:
        return {"op": self.op, "value": None if self.value is None else str(self.value),
                "value_unit": self.unit, "text": self.text}


def normalise(published: str) -> str:
    """Full-width forms to ASCII (＞＝ → >=, ％ → %), spaces out."""
    text = unicodedata.normalize("NFKC", published)
    return re.sub(r"\s+", "", text)


def parse_target(published: str | None) -> Target:
    if published is None:
        return Target("")
    text = normalise(published)
    if not text:
        return Target(published)
    op = None
    for word, symbol in _OPERATORS:
        if text.startswith(word):
            op, text = symbol, text[len(word):]
            break
    match = _NUMBER.search(text)
    if match:
        prefix, rest = text[: match.start()], text[match.end():]
        unit = _UNIT.match(rest)
        if (rest == "" or unit) and len(prefix) <= 4 and not re.search(r"\d", prefix):
            value = Decimal(match.group().replace(",", ""))
            return Target(published, op, value, unit.group(1) if unit else None, prefix or None)
    return Target(published, op, None, None, text or None)
