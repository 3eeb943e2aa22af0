"""Search parameters: parsed and checked once, for /search/, /api/search and the CLI.

A bad parameter raises ``ParamError`` with a message for the citizen (Chinese)
— the server answers 400 with it, never 500.  Unknown parameters are ignored
(tracking tags and the like); the query is never syntax (see ``analysis``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from decimal import Decimal
from urllib.parse import urlencode

from ..derive import CATEGORY_LABELS

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_PAGE = 10_000
MAX_QUERY = 200                      # characters; longer queries are refused with a message
FACETS = ("year", "unit", "department", "category")
# values a facet lists: the first in its order (most projects first for units and
# departments) and any asked for; how many it left out is ``facets_more`` (a word found in
# 90,000 of 100,000 projects listed 5,000 units: 500 KB an answer, most of a request)
FACET_LIMIT = 50
# sort → what it says to a citizen; the first of each pair is the usual direction
SORTS = {"relevance": "相关度",
         "amount": "年度资金从多到少", "amount_asc": "年度资金从少到多",
         "name": "项目名称（拼音 A→Z）", "name_desc": "项目名称（拼音 Z→A）",
         "year": "年度从新到旧", "year_asc": "年度从旧到新",
         "unit": "实施单位（拼音 A→Z）", "unit_desc": "实施单位（拼音 Z→A）"}
AMOUNT = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,6})?\Z")      # 万元, as a citizen types it
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")


class ParamError(ValueError):
    """A parameter a citizen can correct; ``str(error)`` says how."""


@dataclass(frozen=True)
class SearchParams:
    q: str = ""
    year: tuple[str, ...] = ()
    unit: tuple[str, ...] = ()
    department: tuple[str, ...] = ()
    category: tuple[str, ...] = ()
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE
    sort: str = "relevance"
    amount_min: str = ""            # 万元 (exact decimal text), inclusive; "" = no bound
    amount_max: str = ""
    filters: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "filters", {f: getattr(self, f) for f in FACETS if getattr(self, f)})

    def with_(self, **changes) -> SearchParams:
        return replace(self, **changes)

    def toggled(self, facet: str, value: str) -> SearchParams:
        """These parameters with one facet value switched on or off (back to page 1)."""
        values = getattr(self, facet)
        values = tuple(v for v in values if v != value) if value in values else values + (value,)
        return replace(self, **{facet: values, "page": 1})

    def query_string(self) -> str:
        """A canonical, shareable query string (defaults left out)."""
        pairs: list[tuple[str, str]] = []
        if self.q:
            pairs.append(("q", self.q))
        for f in FACETS:
            pairs += [(f, v) for v in getattr(self, f)]
        if self.amount_min:
            pairs.append(("amount_min", self.amount_min))
        if self.amount_max:
            pairs.append(("amount_max", self.amount_max))
        if self.sort != "relevance":
            pairs.append(("sort", self.sort))
        if self.page_size != DEFAULT_PAGE_SIZE:
            pairs.append(("page_size", str(self.page_size)))
        if self.page != 1:
            pairs.append(("page", str(self.page)))
        return urlencode(pairs)


def _one(args: dict[str, list[str]], name: str) -> str | None:
    values = args.get(name) or []
    if len(values) > 1:
        raise ParamError(f"参数 {name} 只能出现一次")
    return values[0] if values else None


def _int(args, name: str, default: int, low: int, high: int) -> int:
    raw = _one(args, name)
    if raw is None or raw == "":
        return default
    text = raw.strip()
    if not re.fullmatch(r"[0-9]{1,6}", text):
        raise ParamError(f"参数 {name} 应为 {low}–{high} 之间的整数，收到的是 {raw[:20]!r}")
    value = int(text)
    if not low <= value <= high:
        raise ParamError(f"参数 {name} 应为 {low}–{high} 之间的整数，收到的是 {value}")
    return value


def _values(args, name: str, check) -> tuple[str, ...]:
    out: list[str] = []
    for raw in args.get(name) or []:
        value = raw.strip()
        if not value:
            continue                         # an empty select in a form means "any"
        if not check(value):
            raise ParamError(f"参数 {name} 的值 {value[:40]!r} 无效")
        if value not in out:
            out.append(value)
    if len(out) > 50:
        raise ParamError(f"参数 {name} 的值过多")
    return tuple(out)


def parse_params(args: dict[str, list[str]]) -> SearchParams:
    """``args`` as from ``urllib.parse.parse_qs(..., keep_blank_values=True)``."""
    q = _one(args, "q") or ""
    q = "".join(ch if ch.isprintable() or ch.isspace() else " " for ch in q).strip()
    if len(q) > MAX_QUERY:
        raise ParamError(f"查询过长（{len(q)} 个字符）；请缩短到 {MAX_QUERY} 个字符以内")
    sort = _one(args, "sort") or "relevance"
    if sort not in SORTS:
        raise ParamError("参数 sort 应为 " + "、".join(f"{k}（{v}）" for k, v in SORTS.items()))
    bounds = [_amount(args, name) for name in ("amount_min", "amount_max")]
    if all(bounds) and Decimal(bounds[0]) > Decimal(bounds[1]):
        raise ParamError(f"年度资金下限 {bounds[0]} 万元大于上限 {bounds[1]} 万元")
    return SearchParams(
        q=q,
        year=_values(args, "year", lambda v: re.fullmatch(r"[0-9]{4}", v) is not None),
        unit=_values(args, "unit", lambda v: _SLUG.match(v) is not None and len(v) <= 80),
        department=_values(args, "department", lambda v: re.fullmatch(r"d-[0-9a-f]{8}", v) is not None),
        category=_values(args, "category", lambda v: v in CATEGORY_LABELS),
        page=_int(args, "page", 1, 1, MAX_PAGE),
        page_size=_int(args, "page_size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE),
        sort=sort,
        amount_min=bounds[0],
        amount_max=bounds[1],
    )


def _amount(args, name: str) -> str:
    """An amount bound in 万元: digits with at most six decimals (exact), or ""."""
    raw = (_one(args, name) or "").strip().replace(",", "").replace("，", "")
    if not raw:
        return ""
    if not AMOUNT.match(raw):
        raise ParamError(f"参数 {name} 应为以万元计的金额，如 50 或 12.5，收到的是 {raw[:20]!r}")
    return format(Decimal(raw).normalize(), "f")          # 0050.50 → 50.5, 2000 → 2000


def yuan(wan: str) -> Decimal | None:
    """A bound in 万元 as exact yuan (None: no bound)."""
    return Decimal(wan) * 10000 if wan else None
