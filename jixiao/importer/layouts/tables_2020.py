"""Layout "tables-2020": the older 财政项目支出绩效目标表, tab-separated.

One table per project (seed: 002_cce70094bf5820ab.txt, Shanghai 2020)::

    财政项目支出绩效目标表
    (2020年度)
    申报单位名称：<unit>
    项目名称：<TAB><name><TAB>项目类别：<TAB><category>
    计划开始日期：<TAB>2020-01-01<TAB>计划完成日期：<TAB>2020-12-31
    是否含有政府购买服务：<TAB>否<TAB>绩效类型：<TAB>其他类
    项目概况：<TAB><text>            (and 立项依据, 项目设立的必要性, …)
    总目标及阶段性目标：<TAB><text>
    本项目上年度市级财政资金使用情况
    项目总预算（元）：<TAB>5,000,000<TAB>项目当年预算（元）：<TAB>5,000,000
    同名项目上年预算额（元）：<TAB>…<TAB>同名项目上年预算执行数（元）：<TAB>…
    2020年绩效目标
    一级目标<TAB>二级目标<TAB>三级目标<TAB>指标目标值
    投入与管理<TAB>投入管理<TAB>预算资金到位率<TAB>=100%
    <TAB><TAB>…                                (empty cell = merged with the row above)

Decisions (see also the report in the importer docs):

* 总目标及阶段性目标 → ``goals.overall`` (it is the form's only goal statement;
  ``goals.annual`` stays null).  Every other labelled text — 是否含有政府购买服务,
  绩效类型, 项目概况, 立项依据, 项目设立的必要性, 保证项目实施的制度、措施,
  项目实施计划 and any unknown label — goes to ``sections`` in published order.
* 项目类别 → ``category`` verbatim (its values here read like 项目性质, but the
  form calls them 项目类别).  ``nature`` is set only from a 项目性质 label.
* ``<p>``/``</p>`` (and similar tags) are extraction residue: removed, a
  ``</p><p>`` boundary becomes a line break; no text is dropped.
* A text cell without a label is a wrapped part of a neighbouring cell: it
  continues the previous cell when that one ends mid-sentence, otherwise it is
  the beginning of the next labelled cell (whose label the PDF centred lower).
* Amounts are kept as published without thousands separators (``5,000,000`` →
  ``"5000000"``); the unit comes from the label (``（元）``).
* The form has no 主管部门: ``department`` is set only if such a label exists.
* Text before the first table title that holds a table body (the source lost
  the header) becomes a ``SkippedRecord``; a table with a title but without a
  name, an amount or a target raises ``LayoutError``.
"""
from __future__ import annotations

import re

from ..base import (ImportedProject, ImportedUnit, LayoutError, SkippedRecord, amount_cell,
                    date_cell, region_of)

NAME = "tables-2020"

_NO_DEPARTMENT = "主管部门 is not published in this form"

TITLE = "财政项目支出绩效目标表"
INDICATOR_HEADER = ("一级目标", "二级目标", "三级目标", "指标目标值")

_TAG_RE = re.compile(r"</?(?:p|br|span|div|font|strong|b|i|em|u)(?:\s[^<>]*)?/?>", re.I)
_PARA_RE = re.compile(r"</p>\s*<p(?:\s[^<>]*)?>", re.I)
_YEAR_RE = re.compile(r"^[(（]\s*(\d{4})\s*年度?\s*[)）]$")
_GOAL_CAPTION_RE = re.compile(r"^(\d{4})\s*年\s*绩效目标$")
_FUNDS_CAPTION_RE = re.compile(r"^本项目上年度.{0,10}资金使用情况$")
_RULE_RE = re.compile(r"^[\s\-—_=─]+$")
_UNIT_IN_LABEL_RE = re.compile(r"[(（]\s*(万元|元)\s*[)）]")
_SENTENCE_END = "。；;！!？?"
_CLOSERS = "）)」』”’\"'》】]"

# label → (kind, key)
_SCALARS = {
    "申报单位名称": "unit",
    "实施单位": "unit",
    "主管部门": "department",
    "项目名称": "name",
    "项目类别": "category",
    "项目性质": "nature",
    "计划开始日期": "start",
    "计划完成日期": "end",
}
_AMOUNTS = {
    "项目总预算": "total",
    "项目当年预算": "annual",
    "同名项目上年预算额": "prior_year_budget",
    "同名项目上年预算执行数": "prior_year_spent",
}
_GOALS = {
    "总目标及阶段性目标": "overall",
    "项目总目标": "overall",
    "年度总体目标": "annual",
    "年度绩效目标": "annual",
}
# labels that may share one cell with their value ("申报单位名称：上海市…")
_INLINE_LABELS = ("申报单位名称", "主管部门", "实施单位")


def detect(text: str) -> bool:
    """The 2020 form: title 财政项目支出绩效目标表, 申报单位名称, 项目当年预算 and
    the tab-separated 一级目标/二级目标/三级目标/指标目标值 header."""
    lines = [ln.rstrip("\r") for ln in text.split("\n")]
    has_title = any(_clean(ln.split("\t")[0]) == TITLE for ln in lines)
    has_header = any(
        tuple(c.strip() for c in ln.split("\t")[:4]) == INDICATOR_HEADER for ln in lines
    )
    return has_title and has_header and "申报单位名称" in text and "项目当年预算" in text


def parse(text: str, source: str) -> list[ImportedProject | SkippedRecord]:
    lines = [ln.rstrip("\r") for ln in text.split("\n")]
    starts = [i for i, ln in enumerate(lines) if _clean(ln.split("\t")[0]) == TITLE]
    if not starts:
        raise LayoutError(source, 1, f"no table title {TITLE!r} found")
    out: list[ImportedProject | SkippedRecord] = []
    preamble = _preamble_record(lines[: starts[0]], source)
    if preamble is not None:
        out.append(preamble)
    bounds = starts + [len(lines)]
    told: set[str] = set()      # units already told that 主管部门 is missing
    for a, b in zip(bounds, bounds[1:]):
        project = _Block(lines, a, b, source).parse()
        if project.unit.name in told:
            project.notes = [n for n in project.notes if not n.startswith(_NO_DEPARTMENT)]
        elif project.unit.department is None:
            told.add(project.unit.name)
        out.append(project)
    return out


# ---------------------------------------------------------------- helpers

def _clean(cell: str) -> str:
    """Remove HTML residue (a paragraph boundary becomes a line break) and trim."""
    cell = _PARA_RE.sub("\n", cell)
    cell = _TAG_RE.sub("", cell)
    return cell.strip()


def _has_tags(cell: str) -> bool:
    return bool(_TAG_RE.search(cell))


def _label_key(label: str) -> str:
    """'项目总预算（元）：' → '项目总预算'; '<p>项目实施计划：</p>' → '项目实施计划'."""
    key = _UNIT_IN_LABEL_RE.sub("", label)
    return re.sub(r"\s+", "", key).rstrip("：:")


def _is_label(cell: str) -> bool:
    return (
        cell.endswith(("：", ":"))
        and 1 < len(cell) <= 30
        and not any(p in cell for p in "。；;，,")
    )


def _ends_sentence(text: str) -> bool:
    t = text.rstrip().rstrip(_CLOSERS)
    return bool(t) and t[-1] in _SENTENCE_END






def _preamble_record(lines: list[str], source: str) -> SkippedRecord | None:
    """Text before the first title: a record whose header the source lost."""
    first = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if first is None:
        return None
    body = "\n".join(lines)
    has_body = (
        any(tuple(c.strip() for c in ln.split("\t")[:4]) == INDICATOR_HEADER for ln in lines)
        or any(k in body for k in _AMOUNTS)
        or "\t" in body
    )
    if not has_body:
        return None  # a document title, nothing to import
    last = max(i for i, ln in enumerate(lines) if ln.strip())
    annual = re.search(r"项目当年预算[^\t]*\t([\d,.]+)", body)
    n_ind = 0
    in_ind = False
    for ln in lines:
        cells = tuple(c.strip() for c in ln.split("\t")[:4])
        if cells == INDICATOR_HEADER:
            in_ind = True
        elif in_ind and ln.strip():
            n_ind += 1
    what = []
    if annual:
        what.append(f"项目当年预算 {annual.group(1)}")
    if n_ind:
        what.append(f"{n_ind} indicators")
    has = f" (it has {', '.join(what)})" if what else ""
    return SkippedRecord(
        source,
        first + 1,
        f"record without header at lines {first + 1}-{last + 1}: the source starts "
        f"in the middle of a table, before any {TITLE}/申报单位名称/项目名称, so the "
        f"project has no name and cannot be published{has}",
    )


class _Block:
    """One table: lines[a:b], a being the title line."""

    def __init__(self, lines: list[str], a: int, b: int, source: str):
        self.lines, self.a, self.b, self.source = lines, a, b, source
        self.notes: list[str] = []
        self.html: list[str] = []     # where HTML residue was removed

    def err(self, line: int, message: str) -> LayoutError:
        return LayoutError(self.source, line, message)

    # -- pass 1: rows → labelled items and indicator rows
    def parse(self) -> ImportedProject:
        items: list[dict] = []        # {label, text, line}
        indicator_rows: list[tuple[int, list[str]]] = []
        year = caption_year = None
        in_indicators = False
        for idx in range(self.a, self.b):
            lineno = idx + 1
            raw = self.lines[idx]
            if not raw.strip():
                continue
            cells = raw.split("\t")
            if in_indicators:
                indicator_rows.append((lineno, cells))
                continue
            first = _clean(cells[0])
            rest_empty = not any(c.strip() for c in cells[1:])
            if idx == self.a:
                continue  # the title
            if tuple(c.strip() for c in cells[:4]) == INDICATOR_HEADER:
                in_indicators = True
                continue
            if rest_empty and _YEAR_RE.match(first):
                year = int(_YEAR_RE.match(first).group(1))
                continue
            if rest_empty and _GOAL_CAPTION_RE.match(first):
                caption_year = int(_GOAL_CAPTION_RE.match(first).group(1))
                continue
            if rest_empty and _FUNDS_CAPTION_RE.match(first):
                continue
            if _RULE_RE.match(raw) and "-" in raw:
                self.notes.append(f"line {lineno}: rule residue {raw.strip()!r} dropped")
                continue
            items.extend(self._row_items(cells, lineno))

        if year is None:
            year = caption_year
        if year is None:
            raise self.err(self.a + 1, "no year: neither '(YYYY年度)' nor 'YYYY年绩效目标'")
        if caption_year is not None and caption_year != year:
            raise self.err(self.a + 1, f"year {year} of the form and {caption_year}年绩效目标 disagree")
        fields = self._merge(items)
        return self._build(fields, indicator_rows, year)

    def _row_items(self, cells: list[str], lineno: int) -> list[dict]:
        out: list[dict] = []
        i, n = 0, len(cells)
        while i < n:
            raw = cells[i]
            c = _clean(raw)
            if not c:
                i += 1
                continue
            if _is_label(c):
                j = i + 1
                values = []
                while j < n and not _is_label(_clean(cells[j])):
                    if cells[j].strip():
                        values.append((cells[j], j))
                    j += 1
                if len(values) > 1:
                    raise self.err(lineno, f"{_label_key(c)}: more than one value cell")
                value_raw = values[0][0] if values else ""
                if _has_tags(raw) or _has_tags(value_raw):
                    self.html.append(f"{_label_key(c)} (line {lineno})")
                out.append({"label": c, "text": _clean(value_raw), "line": lineno})
                i = j
                continue
            m = re.match(r"^(%s)\s*[：:]\s*(.+)$" % "|".join(_INLINE_LABELS), c)
            if m:
                out.append({"label": m.group(1) + "：", "text": m.group(2).strip(), "line": lineno})
            else:
                if _has_tags(raw):
                    self.html.append(f"wrapped text (line {lineno})")
                out.append({"label": None, "text": c, "line": lineno})
            i += 1
        return out

    # -- pass 2: wrapped texts without a label join a neighbour
    def _merge(self, items: list[dict]) -> list[dict]:
        fields: list[dict] = []
        pending: list[dict] = []
        for it in items:
            if it["label"] is None:
                prev = fields[-1] if fields else None
                if not pending and prev is not None and prev["text"] and not _ends_sentence(prev["text"]):
                    prev["text"] += it["text"]
                    self.notes.append(
                        f"line {it['line']}: wrapped text joined to {_label_key(prev['label'])} "
                        f"(line {prev['line']})")
                else:
                    pending.append(it)
                continue
            if pending:
                if _ends_sentence(pending[-1]["text"]) and fields:
                    self._attach_back(fields[-1], pending, undecided=True)
                else:
                    it["text"] = "".join(p["text"] for p in pending) + it["text"]
                    self.notes.append(
                        f"lines {pending[0]['line']}-{it['line']}: text above the label "
                        f"{_label_key(it['label'])} (line {it['line']}) is the beginning of its cell")
                pending = []
            fields.append(it)
        if pending:
            if not fields:
                raise self.err(pending[0]["line"], "text without any label")
            self._attach_back(fields[-1], pending, undecided=not _ends_sentence(fields[-1]["text"]))
        return fields

    def _attach_back(self, field: dict, pending: list[dict], undecided: bool) -> None:
        key = _label_key(field["label"])
        if key in _AMOUNTS or key in ("计划开始日期", "计划完成日期"):
            raise self.err(pending[0]["line"], f"text without a label after {key}")
        sep = "\n" if _ends_sentence(field["text"]) else ""
        field["text"] += sep + "".join(p["text"] for p in pending)
        lines = f"{pending[0]['line']}" if len(pending) == 1 else f"{pending[0]['line']}-{pending[-1]['line']}"
        self.notes.append(
            f"line {lines}: text without a label appended to {key} (line {field['line']})"
            + ("; where it belongs cannot be decided from the layout, check the source" if undecided else ""))

    # -- pass 3: the record
    def _build(self, fields: list[dict], indicator_rows, year: int) -> ImportedProject:
        scal: dict[str, tuple[str, int]] = {}
        funds = {"unit": None, "annual": None, "total": None, "fiscal": None,
                 "appropriation": None, "carryover": None, "other": None,
                 "prior_year_budget": None, "prior_year_spent": None}
        seen_amounts: set[str] = set()
        goals = {"overall": None, "annual": None}
        sections: list[dict] = []
        for f in fields:
            label, text, line = f["label"], f["text"], f["line"]
            key = _label_key(label)
            if key in _SCALARS:
                k = _SCALARS[key]
                if k in scal:
                    raise self.err(line, f"{key} given twice (first on line {scal[k][1]})")
                scal[k] = (text, line)
            elif key in _AMOUNTS:
                k = _AMOUNTS[key]
                if k in seen_amounts:
                    raise self.err(line, f"{key} given twice")
                seen_amounts.add(k)
                m = _UNIT_IN_LABEL_RE.search(label)
                if m:
                    if funds["unit"] not in (None, m.group(1)):
                        raise self.err(line, f"{key}: unit {m.group(1)} differs from {funds['unit']}")
                    funds["unit"] = m.group(1)
                funds[k] = amount_cell(text, self.source, line, key)
            elif key in _GOALS:
                k = _GOALS[key]
                if goals[k] is not None:
                    raise self.err(line, f"{key} given twice")
                goals[k] = text or None
            elif text:
                sections.append({"title": key, "text": text})

        title_line = self.a + 1
        name = scal.get("name", ("", title_line))[0]
        if not name:
            raise self.err(scal.get("name", ("", title_line))[1], "table without 项目名称")
        unit_name = scal.get("unit", ("", title_line))[0]
        if not unit_name:
            raise self.err(title_line, "table without 申报单位名称")
        if "annual" not in seen_amounts or funds["annual"] is None:
            raise self.err(title_line, "table without 项目当年预算: the project has no amount")
        if funds["unit"] is None:
            raise self.err(title_line, "amounts without a unit (元/万元) in their labels")

        indicators = self._indicators(indicator_rows)
        if self.html:
            self.notes.append("HTML residue (<p>…</p>) removed, text kept, from: " + ", ".join(self.html))
        department = scal.get("department", ("", 0))[0] or None
        if department is None:
            self.notes.append(_NO_DEPARTMENT + f" for {unit_name}; department left empty")
        unit = ImportedUnit(name=unit_name, code=None, department=department,
                            region=region_of(unit_name) or region_of(department))
        start = end = None
        if "start" in scal:
            start = date_cell(scal["start"][0], self.source, scal["start"][1], "计划开始日期")
        if "end" in scal:
            end = date_cell(scal["end"][0], self.source, scal["end"][1], "计划完成日期")
        record = {
            "name": name,
            "nature": scal.get("nature", ("", 0))[0] or None,
            "category": scal.get("category", ("", 0))[0] or None,
            "start": start,
            "end": end,
            "funds": funds,
            "goals": goals,
            "sections": sections,
            "indicators": indicators,
            "source": {"title": TITLE, "document": self.source.replace("\\", "/").rsplit("/", 1)[-1]},
        }
        return ImportedProject(unit=unit, year=year, line=title_line, record=record, notes=self.notes)

    def _indicators(self, rows) -> list[dict]:
        if not rows:
            raise self.err(self.a + 1, "table without indicators (一级目标/二级目标/三级目标/指标目标值)")
        out = []
        l1 = l2 = None
        for lineno, cells in rows:
            while len(cells) > 4 and not cells[-1].strip():
                cells = cells[:-1]
            if len(cells) != 4:
                raise self.err(lineno, f"indicator row with {len(cells)} cells, expected 4 "
                                       "(一级目标, 二级目标, 三级目标, 指标目标值)")
            c1, c2, name, target = (_clean(c) for c in cells)
            if any(_has_tags(c) for c in cells):
                self.html.append(f"indicator row (line {lineno})")
            if c1:
                l1, l2 = c1, None
            if c2:
                l2 = c2
            if l1 is None:
                raise self.err(lineno, "indicator row without 一级目标")
            if l2 is None:
                raise self.err(lineno, "indicator row without 二级目标")
            if not name:
                raise self.err(lineno, "indicator row without 三级目标 (name)")
            if not target:
                raise self.err(lineno, f"indicator {name!r} without 指标目标值")
            out.append({"level1": l1, "level2": l2, "name": name,
                        "description": None, "target": target})
        return out
