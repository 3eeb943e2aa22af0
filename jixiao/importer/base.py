"""What the reader makes of a published table, and the small helpers it reads with.

``reader.read`` returns, per table, an ``ImportedProject`` (with ``notes``: what it
repaired or inferred, for the publisher), a ``SkippedRecord`` (a table the file holds
only part of, left out and said so) or a ``Refusal`` (a table it cannot read whole:
never a partial or guessed record).
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ImportedUnit:
    name: str                      # 实施单位 / 申报单位 as published
    code: str | None = None        # budget unit code when published (e.g. 326301)
    department: str | None = None  # 主管部门
    region: str | None = None      # 上海市, 上海市青浦区, 天津市 …


@dataclass
class ImportedProject:
    unit: ImportedUnit
    year: int
    line: int                      # 1-based line of the source where this project starts
    # The project record of DESIGN §3 without ``id`` and ``unit`` (the importer
    # assigns both): name, nature, category, start, end, funds, goals,
    # sections, indicators, source — values verbatim as published.
    record: dict
    notes: list[str] = field(default_factory=list)   # repairs made, for the publisher


@dataclass
class SkippedRecord:
    """A table the file holds only part of (002 starts with a table's last rows)."""
    source: str
    line: int
    message: str


import re as _re

_REGION_RE = _re.compile(
    r"^(?P<top>北京市|天津市|上海市|重庆市|[^\s\d]{2,7}?(?:省|自治区|特别行政区))"
    r"(?P<district>[^\s\d（(]{1,4}?[区县])?")


def region_of(unit_name: str) -> str | None:
    """The region a unit name starts with: 上海市, 上海市青浦区, 天津市 … (None if none).

    A district (…区/…县) counts only when the name goes on after it.
    """
    m = _REGION_RE.match(unit_name or "")
    if not m:
        return None
    top, district = m.group("top"), m.group("district")
    if district and len(unit_name) > m.end():
        return top + district
    return top


def iso_date(value: str) -> str | None:
    """``2023-01-01``, ``2023 年 1 月 1 日``… as an ISO date; ValueError if it is none."""
    v = value.strip()
    if not v:
        return None
    m = _re.match(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$", v)
    if not m:
        raise ValueError(f"expected a date, got {v!r}")
    return _dt.date(*map(int, m.groups())).isoformat()     # ValueError: 2023-02-30


# The level-1 label a level-2 label belongs to (used where a form's merged
# level-1 cell drifted away from its rows).
LEVEL1_OF = {
    "数量指标": "产出指标", "质量指标": "产出指标", "时效指标": "产出指标",
    "经济成本指标": "成本指标", "社会成本指标": "成本指标", "生态环境成本指标": "成本指标",
    "生态成本指标": "成本指标",
    "经济效益指标": "效益指标", "社会效益指标": "效益指标", "生态效益指标": "效益指标",
    "可持续影响指标": "效益指标", "服务对象满意度指标": "满意度指标",
}

# A line that starts a numbered point or a list item: 1）  （2）  3.  4、  一、  ①  - 
_LIST_MARK_RE = _re.compile(
    r"^(?:\d{1,2}(?:[）)、]|[.．](?!\d))|[（(]\d{1,2}[）)]|[一二三四五六七八九十]{1,3}、|[①-⑳]|[-•·]\s)")


def starts_point(line: str) -> bool:
    """Does this line open a numbered point or list item (a real line break)?"""
    return bool(_LIST_MARK_RE.match(line.strip()))


def join_wrapped(lines: list[str]) -> str:
    """Join text lines wrapped by the extraction: a wrap inside a sentence is
    joined without inventing characters; a line opening a numbered point
    starts a new line."""
    out: list[str] = []
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if out and not starts_point(line):
            out[-1] += line
        else:
            out.append(line)
    return "\n".join(out)


SENTENCE_END = tuple("。；！？.;!?")   # what ends a sentence (a paragraph may end there)


def join_page_broken(paragraphs: list[str]) -> str:
    """Paragraphs one per line, as a table copied page by page gives them: one that ends
    without a sentence's end and is followed by no numbered point was broken by the page,
    and is joined to the next."""
    out: list[str] = []
    for raw in paragraphs:
        line = raw.strip()
        if out and not out[-1].endswith(SENTENCE_END) and not starts_point(line):
            out[-1] += line
        elif line:
            out.append(line)
    return "\n".join(out)
