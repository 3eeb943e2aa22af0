"""Word text of the 天津市 项目支出绩效目标表 (2025 form): one table cell per line.

Each cell is a line that starts with a tab; a line without the tab right
after a cell continues that cell (a paragraph break inside it); a blank line
ends a table row; an empty cell (``\\t`` alone) is a merged or blank cell.
Between the tables stand free paragraphs: the table's title
(``3.市热燃中心2025年…绩效目标表``, sometimes behind a ``[bookmark: …]``) and
closing notes.  The form::

    <code><unit>              单位：万元
    项目名称                  <name>
    预算规模及资金用途  预算数 <n>  其中：财政资金 <n>  其他资金 <n>
    (merged)                  <资金用途 text>
    绩效目标                  <text>
    一级指标 二级指标 三级指标 绩效指标描述 指标值
    <rows; an empty 一级/二级 cell continues the one above>
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from ..base import ImportedProject, ImportedUnit, LayoutError, published_amount, region_of

NAME = "word-cells"

_BOOKMARK_RE = re.compile(r"\[bookmark:[^\]]*\]")
_TITLE_RE = re.compile(r"^(?:\d+[.．、]\s*)?(?P<title>\S.*绩效目标表)$")
_UNIT_RE = re.compile(r"^(?P<code>\d{6,})?\s*(?P<name>[^\d\s]\S*)$")
_MONEY_UNIT_RE = re.compile(r"^单位[：:]\s*(万?元)$")
_YEAR_RE = re.compile(r"(\d{4})年")
_FUND_KEYS = {"预算数": "annual", "年度预算数": "annual", "项目总预算": "total",
              "其中：财政资金": "fiscal", "财政资金": "fiscal", "其他资金": "other"}
_OVERALL = ("项目总目标", "总体目标", "长期目标")
_ANNUAL = ("绩效目标", "年度目标", "年度绩效目标", "年度总体目标")


def detect(text: str) -> bool:
    return (re.search(r"^\t一级指标\n\t二级指标\n\t三级指标\n", text, re.M) is not None
            and re.search(r"^\t项目名称\n", text, re.M) is not None
            and re.search(r"^\t预算规模及资金用途\n", text, re.M) is not None)


@dataclass
class _Row:
    line: int                   # line of the first cell
    cells: list[str]            # stripped cell texts ('' for an empty cell)
    lines: list[int]

    @property
    def first(self) -> str:
        return self.cells[0] if self.cells else ""


def _rows(text: str):
    """Yield ('para', line, text) for free paragraphs and ('row', _Row) for rows."""
    row: _Row | None = None
    for n, raw in enumerate(text.split("\n"), 1):
        if raw.startswith("\t"):
            if row is None:
                row = _Row(n, [], [])
            row.cells.append(raw[1:].strip())
            row.lines.append(n)
        elif raw.strip() and row is not None:
            row.cells[-1] = (row.cells[-1] + "\n" + raw.strip()).strip("\n")
        else:
            if row is not None:
                yield ("row", row)
                row = None
            if raw.strip():
                yield ("para", n, raw.strip())
    if row is not None:
        yield ("row", row)


def parse(text: str, source: str) -> list[ImportedProject]:
    tables: list[dict] = []
    for item in _rows(text):
        if item[0] == "para":
            _, n, para = item
            para = _BOOKMARK_RE.sub("", para).strip()
            m = _TITLE_RE.match(para)
            if m:
                tables.append({"line": n, "title": m.group("title"), "rows": []})
            continue                    # closing notes (注：…) belong to no table
        row = item[1]
        if not any(row.cells):
            continue
        if not tables:
            raise LayoutError(source, row.line, "table row before any table title (…绩效目标表)")
        tables[-1]["rows"].append(row)
    if not tables:
        raise LayoutError(source, 1, "no table title (…绩效目标表)")

    # The budget year: the tables of one document share it; a table carried
    # over from an earlier year keeps that year in its title only.
    years = Counter()
    for t in tables:
        m = _YEAR_RE.search(t["title"])
        if m:
            years[int(m.group(1))] += 1
    if not years:
        raise LayoutError(source, tables[0]["line"], "no budget year in the table titles")
    top = max(years.values())
    doc_year = max(y for y, c in years.items() if c == top)
    return [_Table(source, t, doc_year).parse() for t in tables]


class _Table:
    def __init__(self, source: str, table: dict, year: int):
        self.source, self.year = source, year
        self.line, self.title, self.rows = table["line"], table["title"], table["rows"]

    def error(self, line: int, message: str) -> LayoutError:
        return LayoutError(self.source, line, message)

    def parse(self) -> ImportedProject:
        unit = money_unit = name = None
        funds = None
        sections: list[dict] = []
        goals = {"overall": None, "annual": None}
        indicators: list[dict] | None = None
        header: list[str] = []
        notes: list[str] = []
        prev = None
        for row in self.rows:
            first = row.first
            if indicators is not None:
                indicators.append(self.indicator(row, header, indicators))
                continue
            if (unit is None and _UNIT_RE.match(first)
                    and any(_MONEY_UNIT_RE.match(c) for c in row.cells[1:])):
                # <code><unit name> | 单位：万元 (the code only when published)
                m = _UNIT_RE.match(first)
                unit = ImportedUnit(name=m.group("name"), code=m.group("code"),
                                    region=region_of(m.group("name")))
                for cell in row.cells[1:]:
                    mu = _MONEY_UNIT_RE.match(cell)
                    if mu:
                        money_unit = mu.group(1)
            elif _MONEY_UNIT_RE.match(first):
                money_unit = _MONEY_UNIT_RE.match(first).group(1)
            elif first == "项目名称":
                name = self.value(row, 1, "项目名称")
            elif first == "预算规模及资金用途":
                funds = self.funds(row)
            elif first == "" and prev is not None and prev.first == "预算规模及资金用途":
                # the merged first cell goes on: the row holds the 资金用途 text
                text = "\n".join(c for c in row.cells[1:] if c)
                if text:
                    sections.append({"title": "预算规模及资金用途", "text": text})
            elif first in _ANNUAL or first in _OVERALL:
                key = "annual" if first in _ANNUAL else "overall"
                goals[key] = self.value(row, 1, first)
            elif first == "一级指标":
                header = row.cells
                if header[:3] != ["一级指标", "二级指标", "三级指标"] or header[-1] != "指标值":
                    raise self.error(row.line, f"unexpected indicator header {header}")
                indicators = []
            else:
                raise self.error(row.line, f"unexpected row {row.cells}")
            prev = row

        for what, value in (("unit (code + 单位名称)", unit), ("单位：元/万元", money_unit),
                            ("项目名称", name), ("预算规模及资金用途", funds),
                            ("indicator table", indicators)):
            if not value:
                raise self.error(self.line, f"table without {what}")
        funds["unit"] = money_unit
        m = _YEAR_RE.search(self.title)
        if m and int(m.group(1)) != self.year:
            notes.append(f"title names {m.group(1)}年; filed under the document's budget year "
                         f"{self.year}")
        record = {
            "name": name, "nature": None, "category": None, "start": None, "end": None,
            "funds": funds, "goals": goals, "sections": sections, "indicators": indicators,
            "source": {"title": self.title, "document": None},
        }
        return ImportedProject(unit=unit, year=self.year, line=self.line, record=record,
                               notes=notes)

    def value(self, row: _Row, index: int, label: str) -> str:
        text = "\n".join(c for c in row.cells[index:] if c)
        if not text:
            raise self.error(row.line, f"{label} without a value")
        return text

    def funds(self, row: _Row) -> dict:
        funds = {"unit": None, "annual": None, "total": None, "fiscal": None,
                 "appropriation": None, "carryover": None, "other": None,
                 "prior_year_budget": None, "prior_year_spent": None}
        cells = row.cells[1:]
        i = 0
        while i < len(cells):
            label = re.sub(r"\s+", "", cells[i]).replace(":", "：")
            if label not in _FUND_KEYS:
                raise self.error(row.lines[i + 1], f"unexpected cell in 预算规模及资金用途: "
                                                   f"{cells[i]!r}")
            value = cells[i + 1] if i + 1 < len(cells) else ""
            try:
                funds[_FUND_KEYS[label]] = published_amount(value)
            except ValueError as e:
                raise self.error(row.lines[min(i + 2, len(row.lines) - 1)], f"{label}: {e}") \
                    from None
            i += 2
        if funds["annual"] is None:
            raise self.error(row.line, "预算规模及资金用途 without the 预算数 amount")
        return funds

    def indicator(self, row: _Row, header: list[str], done: list[dict]) -> dict:
        cells = row.cells
        if len(cells) != len(header):
            raise self.error(row.line, f"indicator row with {len(cells)} cells, the header has "
                                       f"{len(header)}: {cells}")
        described = "绩效指标描述" in header
        level1, level2, name = cells[0], cells[1], cells[2]
        description = cells[3] if described else None
        target = cells[-1]
        if not level1:
            if not done:
                raise self.error(row.line, "first indicator row without 一级指标")
            level1 = done[-1]["level1"]
        if not level2:
            if not done or done[-1]["level1"] != level1:
                raise self.error(row.line, "indicator row without 二级指标")
            level2 = done[-1]["level2"]
        if not name:
            raise self.error(row.line, "indicator row without 三级指标")
        if not target:
            raise self.error(row.line, f"indicator {name!r} without a target")
        return {"level1": level1, "level2": level2, "name": name,
                "description": description or None, "target": target}
