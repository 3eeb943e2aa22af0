"""The contract between layout parsers and the importer.

A layout module (``jixiao/importer/layouts/<name>.py``) exposes

    NAME: str                                   # short layout name, e.g. "tabs-2024"
    def detect(text: str) -> bool               # recognise the layout from the text itself
    def parse(text: str, source: str) -> list[ImportedProject | SkippedRecord]

``parse`` raises ``LayoutError`` (with the 1-based source line) when a table
cannot be read completely: never a partial or guessed record.  Problems that
do not stop the import (a record left out, a repaired label) are returned as
``ImportedProject.notes``, or as a ``SkippedRecord`` in the returned list.
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


class LayoutError(Exception):
    """A table that cannot be read completely: stops the import."""

    def __init__(self, source: str, line: int, message: str):
        super().__init__(f"{source}:{line}: {message}")
        self.source, self.line, self.message = source, line, message


@dataclass
class SkippedRecord:
    """A record the source cannot support (e.g. 002's first record without header)."""
    source: str
    line: int
    message: str


# --- helpers shared by the layouts (added with the importer framework) -------

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


AMOUNT_RE = _re.compile(r"[-−]?\d{1,3}(?:,\d{3})+(?:\.\d+)?|[-−]?\d+(?:\.\d+)?")


def published_amount(cell: str | None) -> str | None:
    """``'90,000.00'`` → ``'90000.00'`` (exact text, thousands separators
    dropped); empty → None; anything else → ValueError."""
    s = (cell or "").strip().replace("，", ",")
    if not s:
        return None
    if not AMOUNT_RE.fullmatch(s):
        raise ValueError(f"not an amount: {s!r}")
    return s.replace(",", "").replace("−", "-")


def amount_cell(value: str, source: str, line: int, label: str) -> str | None:
    """A table's amount cell as exact text, or LayoutError naming the line and label."""
    try:
        return published_amount(value)
    except ValueError:
        raise LayoutError(source, line, f"{label}: expected an amount, got {value.strip()!r}") from None


def date_cell(value: str, source: str, line: int, label: str) -> str | None:
    """``2023-01-01``, ``2023 年 1 月 1 日``… as an ISO date, or LayoutError."""
    v = value.strip()
    if not v:
        return None
    m = _re.match(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$", v)
    if not m:
        raise LayoutError(source, line, f"{label}: expected a date, got {v!r}")
    try:
        return _dt.date(*map(int, m.groups())).isoformat()
    except ValueError:
        raise LayoutError(source, line, f"{label}: not a valid date: {v!r}") from None


# Indicator level labels of the 2018+ forms.  成本指标 is a level-1 label in
# the newer forms and a level-2 label (under 产出指标) in older ones.
LEVEL1_LABELS = ("产出指标", "效益指标", "满意度指标", "成本指标")
LEVEL2_LABELS = ("数量指标", "质量指标", "时效指标", "成本指标", "经济成本指标", "社会成本指标",
                 "生态环境成本指标", "生态成本指标", "经济效益指标", "社会效益指标",
                 "生态效益指标", "可持续影响指标", "服务对象满意度指标")
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


_SENTENCE_END = tuple("。；！？.;!?")


def join_page_broken(paragraphs: list[str]) -> str:
    """Paragraphs one per line, as a table copied page by page gives them: one that ends
    without a sentence's end and is followed by no numbered point was broken by the page,
    and is joined to the next."""
    out: list[str] = []
    for raw in paragraphs:
        line = raw.strip()
        if out and not out[-1].endswith(_SENTENCE_END) and not starts_point(line):
            out[-1] += line
        elif line:
            out.append(line)
    return "\n".join(out)


def tables(text: str, title: str, source: str) -> list[list[tuple[int, str]]]:
    """Split a document at each line that is exactly ``title``: per table, its (line number, text)."""
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines) if line.strip() == title]
    if not starts:
        raise LayoutError(source, 1, f"no table titled {title}")
    ends = starts[1:] + [len(lines)]
    return [[(i + 1, lines[i]) for i in range(start, end)] for start, end in zip(starts, ends)]
