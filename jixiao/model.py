"""The record format of DESIGN §3 as typed models (pydantic).

A record keeps what was published, verbatim; everything else (amounts in
yuan, parsed targets, indicator categories) is derived in ``derive`` and
exposed here as read-only properties.  The JSON Schema that editors use is
generated from these classes (``python build.py schema``).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from decimal import Decimal
from functools import cached_property, lru_cache
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from . import derive
from .load import MAX_FRACTION_DIGITS, MAX_INT_DIGITS, in_range
from .targets import Target, parse_target

Slug = Annotated[str, Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=80,
                            description="ASCII id: lower-case letters, digits and single hyphens")]
Text = Annotated[str, Field(min_length=1)]
_PLAIN_AMOUNT = re.compile(rf"[0-9]{{1,{MAX_INT_DIGITS}}}(?:\.[0-9]{{1,{MAX_FRACTION_DIGITS}}})?\Z")


def _amount(value):
    """One limit for every spelling of a number (the loader's, ``load.in_range``): ``1e20``,
    ``"1e-400"``, ``1E+30`` and ``1e-999999999`` (which YAML reads as text) are refused like
    a 16-digit number, before anything formats them (a Decimal of 1e-999999999 formats to
    a billion characters)."""
    if type(value) is str and _PLAIN_AMOUNT.match(value):
        return Decimal(value)            # the common case (records cached as JSON): fast
    if isinstance(value, bool):
        raise ValueError("expected a number, got a yes/no value")
    if isinstance(value, str):
        text = value.strip()
        if not text or not all(c in "0123456789.-+eE" for c in text):
            raise ValueError(f"expected a number, got {value[:40]!r}")
        value = text
    if isinstance(value, float):
        raise ValueError("expected a decimal number, not a binary float")
    try:
        d = Decimal(value)
    except Exception:
        raise ValueError(f"expected a number, got {str(value)[:40]!r}") from None
    if not d.is_finite():
        raise ValueError(f"expected a finite number, got {str(d)!r}")
    if not in_range(d):
        raise ValueError(f"number out of range: at most {MAX_INT_DIGITS} digits before the "
                         f"point and {MAX_FRACTION_DIGITS} after")
    return d


Amount = Annotated[Decimal, Field(ge=0, description="as published, in funds.unit"),
                   BeforeValidator(_amount)]


# A pure function of (level1, level2), whose vocabulary is small: 328k indicators of the
# 10k-project corpus have 29 pairs; memoized, the indicator pages' grouping is 5× faster.
_category = lru_cache(maxsize=4096)(derive.category)


def _code(value):
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class Record(BaseModel):
    # defer_build: a model's validator is made when first used, not at import (a
    # one-record rebuild validates one project and reads the others' summaries)
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False, defer_build=True,
                              str_strip_whitespace=False, ignored_types=(cached_property,))


class Unit(Record):
    """``content/<unit-id>/unit.yaml``"""
    id: Slug
    name: Text
    code: Annotated[str | None, BeforeValidator(_code)] = Field(
        None, description="budget unit code when published, e.g. 326301")
    department: str | None = Field(None, description="主管部门")
    region: str | None = Field(None, description="e.g. 上海市, 上海市青浦区, 天津市")

    @property
    def url(self) -> str:
        return f"/units/{self.id}/"


class Funds(Record):
    unit: Literal["元", "万元"] = Field(description="the unit the table was published in")
    annual: Amount = Field(description="年度资金申请总额 / 预算数 / 项目当年预算")
    total: Amount | None = Field(None, description="项目资金总额 / 项目总预算")
    fiscal: Amount | None = Field(None, description="其中：财政资金")
    appropriation: Amount | None = Field(None, description="当年财政拨款")
    carryover: Amount | None = Field(None, description="上年结转资金")
    other: Amount | None = Field(None, description="其他资金")
    prior_year_budget: Amount | None = Field(None, description="同名项目上年预算额")
    prior_year_spent: Amount | None = Field(None, description="同名项目上年预算执行数")

    AMOUNTS: ClassVar[tuple[str, ...]] = ("annual", "total", "fiscal", "appropriation", "carryover", "other",
               "prior_year_budget", "prior_year_spent")

    def yuan(self, name: str) -> Decimal | None:
        return derive.to_yuan(getattr(self, name), self.unit)

    @property
    def annual_yuan(self) -> Decimal:
        # not a cached_property: model_copy(update=…) would carry a stale amount along
        return derive.to_yuan(self.annual, self.unit)


class Goals(Record):
    overall: str | None = Field(None, description="项目总目标 / 长期目标")
    annual: str | None = Field(None, description="年度总体目标 / 绩效目标")


class Section(Record):
    title: Text
    text: str | None = None


class Indicator(Record):
    level1: Text = Field(description="一级指标")
    level2: Text = Field(description="二级指标")
    name: Text = Field(description="三级指标")
    description: str | None = Field(None, description="绩效指标描述")
    target: str | None = Field(None, description="指标值, as published")

    @property
    def parsed(self) -> Target:
        return parse_target(self.target)

    @property
    def category(self) -> str:
        # a plain property: _category is memoized, and a cached_property would take a lock
        # on every indicator's first access
        return _category(self.level1, self.level2)


OfficialUrl = Annotated[str, Field(pattern=r"^https?://[^\s<>\"']+$", max_length=500)]


class Source(Record):
    title: str | None = Field(None, description="the table's title as published")
    document: str | None = Field(None, description="file name under content/sources/")
    url: OfficialUrl | None = Field(
        None, description="the official page or file where the publisher published the table")
    publisher: str | None = Field(None, description="who published it, e.g. 上海市燃气管理事务中心")
    published: dt.date | None = Field(None, description="the date it was published")


class Project(Record):
    """``content/<unit-id>/<year>/<project-id>.yaml``"""
    id: Slug
    year: Annotated[int, Field(ge=1949, le=2100)]
    name: Text
    unit: Slug
    nature: str | None = Field(None, description="项目性质")
    category: str | None = Field(None, description="项目类别")
    start: dt.date | None = Field(None, description="计划开始日期")
    end: dt.date | None = Field(None, description="计划完成日期")
    funds: Funds
    goals: Goals = Goals()
    sections: list[Section] = []
    indicators: list[Indicator] = []
    source: Source = Source()

    @model_validator(mode="after")
    def _dates_in_order(self):
        if self.start and self.end and self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self

    @property
    def url(self) -> str:
        return project_url(self.id)

    @property
    def funds_json(self) -> str:
        """Its funds as JSON (what keys hash; a ``StoredProject`` has it without parsing)."""
        return self.funds.model_dump_json()

    # What lists, aggregates and the search index's facets read of the indicators; a
    # ``stored.StoredProject`` keeps these without its indicators.
    @property
    def indicator_count(self) -> int:
        return len(self.indicators)

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(sorted({i.category for i in self.indicators}))

    @property
    def indicator_key(self) -> str:
        """A hash of what this project adds to the indicator pages: (category, level2,
        name) of each indicator, in order."""
        names = [(i.category, i.level2, i.name) for i in self.indicators]
        return hashlib.sha1(repr(names).encode()).hexdigest()

    @property
    def target_key(self) -> str:
        """A hash of the targets of its indicators, in order: what else the indicator
        pages show of it (the target of each sampled project), kept apart from
        ``indicator_key`` so that a corrected target changes the samples' targets without
        making the whole aggregate again."""
        return hashlib.sha1(repr([i.target for i in self.indicators]).encode()).hexdigest()


def project_url(project_id: str) -> str:
    return f"/projects/{project_id}/"


def schema(kind: str) -> dict:
    """JSON Schema of a unit or project record, for yaml-language-server."""
    model = {"unit": Unit, "project": Project}[kind]
    out = model.model_json_schema(mode="validation")
    out["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    out["$id"] = f"https://jixiao.invalid/schema/{kind}.json"
    return out
