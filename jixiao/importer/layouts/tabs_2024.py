"""Tab-separated text of the 上海市 财政项目支出绩效目标申报表 (2024 form).

One table row per line, cells separated by tabs::

    项目名称  <name>  项目性质  <nature>  项目类别  <category>
    主管部门  <department>  实施单位  <unit>
    计划开始日期  <date>  计划完成日期  <date>
    项目资金 (元)  项目资金总额  <n>  年度资金申请总额  <n>
                   其中：财政资金  <n>  其中：当年财政拨款  <n>
                                        上年结转资金  <n>
                   其他资金  <n>  其他资金  <n>
    项目 绩效 目标  项目总目标  年度总体目标      (next row: the two texts)
    一级指标  二级指标  三级指标  年度(/项目)指标值
    <rows>

A table that spans pages loses its grid: the two goal texts may stand as
free paragraphs after ``项目总目标`` / ``年度总体目标`` lines, a merged label
cell (``产出指标``, ``时效指标``, ``项目 绩效 目标``) is printed in the middle of
the rows it spans, and each page (a blank line) shifts the columns.  The
parser therefore reads rows by their content (labels, then 三级指标 and
指标值), not by column, and repairs the drifted labels it can prove from the
form, with a note for the publisher.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..base import (LEVEL1_LABELS, LEVEL1_OF, LEVEL2_LABELS, ImportedProject, ImportedUnit,
                    LayoutError, published_amount, region_of, starts_point, tables)

NAME = "tabs-2024"

_TITLE = "财政项目支出绩效目标申报表"
_YEAR_RE = re.compile(r"^[（(]\s*(\d{4})\s*年度\s*[)）]$")
_HEADER = {"项目名称": "name", "项目性质": "nature", "项目类别": "category",
           "主管部门": "department", "实施单位": "unit", "计划开始日期": "start",
           "计划完成日期": "end"}
_FUNDS_RE = re.compile(r"^项目资金\s*[（(](万?元)[)）]$")
_FUND_LABELS = {"项目资金总额": "total", "年度资金申请总额": "annual", "其中：财政资金": "fiscal",
                "其中：当年财政拨款": "appropriation", "上年结转资金": "carryover",
                "其他资金": "other"}
_NOISE = {"项目绩效目标", "绩效指标", "项目", "绩效", "目标"}
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_END_PUNCT = tuple("。；！？.;!?")


def detect(text: str) -> bool:
    return (re.search(r"^财政项目支出绩效目标申报表\s*$", text, re.M) is not None
            and re.search(r"^项目名称\t[^\t]+\t项目性质\t", text, re.M) is not None
            and re.search(r"^项目资金\s*[（(]万?元[)）]\t项目资金总额\t", text, re.M) is not None)


def _norm(cell: str) -> str:
    return re.sub(r"\s+", "", cell).replace(":", "：")


def parse(text: str, source: str) -> list[ImportedProject]:
    return [_Table(source, table).parse() for table in tables(text, _TITLE, source)]


@dataclass
class _Ind:
    line: int
    page: int
    col: int                  # column of the 三级指标 cell (the row's layout)
    level1: str | None        # labels printed on this row
    level2: str | None
    name: str
    target: str
    l1: str | None = None     # labels in effect
    l2: str | None = None
    notes: list[str] = field(default_factory=list)


class _Table:
    def __init__(self, source: str, lines: list[tuple[int, str]]):
        self.source, self.lines = source, lines
        self.first = lines[0][0]
        self.notes: list[str] = []

    def error(self, line: int, message: str) -> LayoutError:
        return LayoutError(self.source, line, message)

    def parse(self) -> ImportedProject:
        body = [(n, t) for n, t in self.lines[1:] if t.strip()]
        if not body or not _YEAR_RE.match(body[0][1].strip()):
            raise self.error(self.first, f"{_TITLE} without its (YYYY年度) line")
        year = int(_YEAR_RE.match(body[0][1].strip()).group(1))
        title = _TITLE + body[0][1].strip()

        # split: header rows | goals | indicator table
        i_goal = next((i for i, (_, t) in enumerate(body)
                       if "项目总目标" in [c.strip() for c in t.split("\t")]), None)
        if i_goal is None:
            raise self.error(body[-1][0], "table ends before 项目总目标/年度总体目标")
        i_ind = next((i for i, (_, t) in enumerate(body)
                      if i > i_goal and [c.strip() for c in t.split("\t") if c.strip()][:3]
                      == ["一级指标", "二级指标", "三级指标"]), None)
        if i_ind is None:
            raise self.error(body[-1][0], "table ends before its indicators (一级指标 二级指标 …)")
        header, funds = self.header(body[1:i_goal])
        goals = self.goals(body[i_goal:i_ind])
        # keep the blank lines of the indicator table: they are page breaks
        ind_start = body[i_ind][0]
        ind_lines = [(n, t) for n, t in self.lines if n > ind_start]
        indicators = self.indicators(ind_lines, ind_start)

        unit = ImportedUnit(name=header["unit"], department=header["department"],
                            region=region_of(header["unit"]))
        record = {
            "name": header["name"], "nature": header["nature"], "category": header["category"],
            "start": header["start"], "end": header["end"], "funds": funds, "goals": goals,
            "sections": [], "indicators": indicators,
            "source": {"title": title, "document": None},
        }
        return ImportedProject(unit=unit, year=year, line=self.first, record=record,
                               notes=self.notes)

    # -- 项目名称 … 项目资金
    def header(self, rows):
        values = dict.fromkeys(_HEADER.values())
        seen = set()
        funds = {"unit": None, "annual": None, "total": None, "fiscal": None,
                 "appropriation": None, "carryover": None, "other": None,
                 "prior_year_budget": None, "prior_year_spent": None}
        fund_labels = set()
        for n, t in rows:
            cells = [c.strip() for c in t.split("\t")]
            i = 0
            others = [j for j, c in enumerate(cells) if _norm(c) == "其他资金"]
            while i < len(cells):
                label = _norm(cells[i])
                nxt = cells[i + 1] if i + 1 < len(cells) else ""
                if label in _HEADER:
                    value = nxt if _norm(nxt) not in _HEADER else ""
                    values[_HEADER[label]] = value or None
                    seen.add(label)
                    i += 2
                    continue
                m = _FUNDS_RE.match(cells[i])
                if m:
                    funds["unit"] = m.group(1)
                elif label in _FUND_LABELS:
                    value = "" if _norm(nxt) in _FUND_LABELS else nxt
                    try:
                        amount = published_amount(value)
                    except ValueError as e:
                        raise self.error(n, f"{label}: {e}") from None
                    if label == "其他资金" and len(others) == 2 and i == others[0]:
                        # the 项目资金总额 column's 其他资金 has no field of its own
                        if amount is not None:
                            raise self.error(n, "其他资金 of the 项目资金总额 column has a value; "
                                                "the record keeps only the annual column's")
                    else:
                        funds[_FUND_LABELS[label]] = amount
                    fund_labels.add(label)
                    i += 2 if value else 1
                    continue
                elif cells[i]:
                    raise self.error(n, f"unexpected cell {cells[i]!r} in the table header")
                i += 1
        missing = [label for label in _HEADER if label not in seen]
        if missing:
            raise self.error(rows[0][0] if rows else self.first,
                             f"table header without {'/'.join(missing)}")
        for label in ("项目名称", "实施单位"):
            if not values[_HEADER[label]]:
                raise self.error(self.first, f"{label} without a value")
        for key in ("start", "end"):
            if values[key] is not None and not _DATE_RE.fullmatch(values[key]):
                raise self.error(self.first, f"{key}: expected a date YYYY-MM-DD, "
                                             f"got {values[key]!r}")
        if funds["unit"] is None:
            raise self.error(self.first, "table without 项目资金 (元)/(万元)")
        if funds["annual"] is None:
            raise self.error(self.first, "项目资金 without the 年度资金申请总额 amount")
        return values, funds

    # -- 项目总目标 / 年度总体目标
    def goals(self, rows) -> dict:
        n0, t0 = rows[0]
        cells = [c.strip() for c in t0.split("\t")]
        if "年度总体目标" in cells and len(rows) >= 2 and "\t" in rows[1][1]:
            # in the grid: the next row holds the two texts under their headers
            texts = [(j, c.strip()) for j, c in enumerate(rows[1][1].split("\t")) if c.strip()]
            if len(rows) > 2:
                raise self.error(rows[2][0], "unexpected line after the goal texts")
            col_o, col_a = cells.index("项目总目标"), cells.index("年度总体目标")
            goals = {"overall": None, "annual": None}
            for j, text in texts:
                key = "overall" if abs(j - col_o) < abs(j - col_a) else "annual"
                if goals[key] is not None:
                    raise self.error(rows[1][0], "two texts under one goal header")
                goals[key] = text
            if not any(goals.values()):
                raise self.error(rows[1][0], "goal texts missing")
            return goals
        # off the grid: headers on lines of their own, then the texts as paragraphs
        heads = [t.strip() for _, t in rows[:2]]
        if heads != ["项目总目标", "年度总体目标"]:
            raise self.error(n0, f"unexpected goal header {heads}")
        paras: list[tuple[int, str]] = []
        for n, t in rows[2:]:
            t = t.strip()
            if _norm(t) in _NOISE:            # the merged 项目绩效目标 label, printed mid-cell
                continue
            if "\t" in t:
                raise self.error(n, f"unexpected table row among the goal texts: {t!r}")
            if paras and not paras[-1][1].endswith(_END_PUNCT) and not starts_point(t):
                paras[-1] = (paras[-1][0], paras[-1][1] + t)    # a page broke the sentence
            else:
                paras.append((n, t))
        split = next((k for k, (_, t) in enumerate(paras) if starts_point(t)), None)
        if not split:
            raise self.error(n0, "项目总目标 and 年度总体目标 stand outside the table and cannot "
                                 "be told apart")
        self.notes.append(f"项目总目标 and 年度总体目标 stood outside the table: the paragraphs "
                          f"before the list (line {paras[split][0]}) are taken as 项目总目标, "
                          f"the list as 年度总体目标")
        return {"overall": "\n".join(t for _, t in paras[:split]),
                "annual": "\n".join(t for _, t in paras[split:])}

    # -- 一级指标 二级指标 三级指标 年度(/项目)指标值
    def indicators(self, lines, head_line) -> list[dict]:
        rows: list[_Ind] = []
        page = 0
        for n, t in lines:
            if not t.strip():
                page += 1 if rows and rows[-1].page == page else 0
                continue
            cells = [(j, c.strip()) for j, c in enumerate(t.split("\t"))]
            cells = [(j, c) for j, c in cells if c and _norm(c) not in _NOISE]
            level1 = level2 = None
            while cells:
                c = _norm(cells[0][1])
                if c in LEVEL1_LABELS and level1 is None and level2 is None and not (
                        c in LEVEL2_LABELS and len(cells) > 1
                        and _norm(cells[1][1]) not in LEVEL2_LABELS):
                    level1 = c
                elif c in LEVEL2_LABELS and level2 is None:
                    level2 = c
                else:
                    break
                cells = cells[1:]
            if not cells:
                continue
            if len(cells) == 1:
                raise self.error(n, f"indicator row without a target: {cells[0][1]!r}")
            if len(cells) > 2:
                raise self.error(n, f"indicator row with more cells than 三级指标 and 指标值: "
                                    f"{[c for _, c in cells]}")
            rows.append(_Ind(n, page, cells[0][0], level1, level2, cells[0][1], cells[1][1]))
        if not rows:
            raise self.error(head_line, "indicator table without rows")
        self.drifted_page_breaks(rows)
        l1 = l2 = None
        for r in rows:
            if r.level2:
                l2 = r.level2
                expected = LEVEL1_OF.get(l2)
                given = r.level1 or l1
                if expected and given != expected:
                    if given is not None:
                        self.notes.append(f"line {r.line}: 二级指标 {l2} stands under "
                                          f"一级指标 {given}; the form puts it under {expected} "
                                          f"(a merged label drifted)")
                    given = expected
                l1 = given
            elif r.level1:
                l1, l2 = r.level1, None
            if l1 is None or l2 is None:
                raise self.error(r.line, f"indicator row before its 一级指标/二级指标: {r.name!r}")
            r.l1, r.l2 = l1, l2
        return [{"level1": r.l1, "level2": r.l2, "name": r.name, "description": None,
                 "target": r.target} for r in rows]

    def drifted_page_breaks(self, rows: list[_Ind]) -> None:
        """A merged 二级指标 cell that spans a page break is printed on the next
        page only.  Rows closing a page whose layout (the column of 三级指标)
        differs from the group labelled above them on that page, when the next
        page opens with a new 二级指标, belong to that next label."""
        for k in range(1, len(rows)):
            if rows[k].page == rows[k - 1].page or not rows[k].level2:
                continue
            page = rows[k - 1].page
            on_page = [r for r in rows[:k] if r.page == page]
            labelled = [r for r in on_page if r.level2]
            if not labelled:
                continue
            ref = labelled[-1]
            tail = on_page[on_page.index(ref) + 1:]
            moved = []
            for r in reversed(tail):
                if r.col == ref.col:
                    break
                moved.append(r)
            for r in moved:
                r.level2 = rows[k].level2 if r is moved[-1] else None
                r.level1 = None
            if moved:
                first = moved[-1]
                self.notes.append(f"lines {first.line}-{moved[0].line}: rows at the end of a page "
                                  f"belong to {rows[k].level2} (its merged label is printed on "
                                  f"the next page, line {rows[k].line})")
