"""Layout "ocr-tabs": OCR of the 财政项目支出绩效目标申报表, tab-separated cells.

Seed: 003_aaa9a1b340ae4bd4.txt (上海市青浦区香花桥街道, 2026).  The form is the
one of 004 (项目名称/项目性质/项目类别, 主管部门/实施单位, 项目资金, 项目总目标/
年度总体目标, 一级/二级/三级指标/年度(/项目)指标值), but read by OCR, so:

* OCR inserts spaces inside words: ``经常性专项业 务费``, ``计划开始 日期``,
  ``满意度指 标``.  A run of spaces between two CJK characters (ideographs, CJK
  and full-width punctuation) is removed everywhere; every other space is kept
  as published (``各镇街道在 2022 年``, ``24 小时``, ``项目 (一次性)``).
* Targets follow the form's generated pattern ``<op><number>(<unit>)``; the
  spaces OCR put around the number are removed there:
  ``≤ 8000.00 (每年)`` → ``≤8000.00(每年)``.
* LaTeX residue in cells is markup noise: ``$\\geq 95\\%$`` → ``≥95%``,
  ``$>=85\\%$`` → ``≥85%`` (inside math, ``>=`` is the ≥ operator).  Outside
  ``$…$`` nothing is rewritten (``>=85%`` stays).
* The labels of merged cells drift away from their rows and columns (two
  level-1 labels in one cell, a level-2 label in the level-1 column, a level-1
  label on the row of another family).  Cells are therefore classified by what
  they say, not by their column: the known level labels, then exactly two
  remaining cells, the 三级指标 and its 指标值.  level2 carries down to the next
  rows (merged cells) and level1 is always the standard level1 of level2
  (数量/质量/时效 → 产出指标, 经济/社会/生态成本 → 成本指标, 经济/社会/生态效益 and
  可持续影响 → 效益指标, 服务对象满意度 → 满意度指标).  Every repair, and every row
  whose label looks misplaced but cannot be decided from the layout, is
  written into ``notes`` (the data then stays as published).
"""
from __future__ import annotations

import re

from ..base import (AMOUNT_RE, ImportedProject, ImportedUnit, LayoutError, SkippedRecord, amount_cell,
                    date_cell, region_of)

NAME = "ocr-tabs"

TITLE = "财政项目支出绩效目标申报表"

L2_TO_L1 = {
    "数量指标": "产出指标",
    "质量指标": "产出指标",
    "时效指标": "产出指标",
    "经济成本指标": "成本指标",
    "社会成本指标": "成本指标",
    "生态成本指标": "成本指标",
    "生态环境成本指标": "成本指标",
    "经济效益指标": "效益指标",
    "社会效益指标": "效益指标",
    "生态效益指标": "效益指标",
    "可持续影响指标": "效益指标",
    "服务对象满意度指标": "满意度指标",
    "满意度": "满意度指标",
}
L1 = {"产出指标", "成本指标", "效益指标", "满意度指标"}
OUTER = {"绩效指标"}          # the vertical label of the whole indicator block
HEAD = {"项目名称": "name", "项目性质": "nature", "项目类别": "category",
        "主管部门": "department", "实施单位": "unit",
        "计划开始日期": "start", "计划完成日期": "end"}
FUNDS = {"项目资金总额": "total", "年度资金申请总额": "annual",
         "其中财政资金": "fiscal", "其中当年财政拨款": "appropriation",
         "上年结转资金": "carryover", "其他资金": "other"}
GOALS = {"项目总目标": "overall", "年度总体目标": "annual"}

_CJK = r"\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef“”‘’"
_CJK_SPACE_RE = re.compile(rf"(?<=[{_CJK}])[ \t\u00a0\u3000]+(?=[{_CJK}])")
_TAG_RE = re.compile(r"</?(?:p|br|span|div|font|strong|b|i|em|u)(?:\s[^<>]*)?/?>", re.I)
_PARA_RE = re.compile(r"</p>\s*<p(?:\s[^<>]*)?>", re.I)
_MATH_RE = re.compile(r"\$([^$\n]{1,80})\$")
_YEAR_RE = re.compile(r"^[(（]\s*(\d{4})\s*年度\s*[)）]$")
_FUNDS_ROW_RE = re.compile(r"^项目资金[(（](万元|元)[)）]$")
_LATEX = [(r"\geq", "≥"), (r"\leq", "≤"), (r"\ge", "≥"), (r"\le", "≤"), (r"\neq", "≠"),
          (">=", "≥"), ("<=", "≤"), (r"\%", "%"), (r"\times", "×"), (r"\,", ""), (r"\ ", "")]


def detect(text: str) -> bool:
    """The 申报表 as tab-separated cells, with OCR traces: a form label split by
    a space between two CJK characters (``满意度指 标``), two level-1 labels in
    one cell, or LaTeX markup in a cell."""
    lines = [ln.rstrip("\r") for ln in text.split("\n")]
    if not any(_key(ln.split("\t")[0]) == TITLE for ln in lines):
        return False
    if not any("\t" in ln and _key(ln.split("\t")[0]) == "项目名称" for ln in lines):
        return False
    labels = set(L2_TO_L1) | L1 | set(HEAD) | set(GOALS) | set(FUNDS)
    for ln in lines:
        if "\t" not in ln:
            continue
        for cell in ln.split("\t"):
            c = cell.strip()
            if _key(c) in labels and _CJK_SPACE_RE.search(c):
                return True
            if len(c.split()) > 1 and all(p in L1 for p in c.split()):
                return True
            if re.search(r"\$[^$]*(\\[a-z]+|[<>]=)[^$]*\$", c):
                return True
    return False


def parse(text: str, source: str) -> list[ImportedProject | SkippedRecord]:
    lines = [ln.rstrip("\r") for ln in text.split("\n")]
    starts = [i for i, ln in enumerate(lines) if _key(ln.split("\t")[0]) == TITLE]
    if not starts:
        raise LayoutError(source, 1, f"no table title {TITLE!r} found")
    out: list[ImportedProject | SkippedRecord] = []
    for i, ln in enumerate(lines[: starts[0]]):
        if "\t" in ln and ln.strip():
            out.append(SkippedRecord(source, i + 1, "table content before the first "
                                     f"{TITLE}: its header is lost, not imported"))
            break
    bounds = starts + [len(lines)]
    for a, b in zip(bounds, bounds[1:]):
        out.append(_Block(lines, a, b, source, last=(b == len(lines))).parse())
    return out


# ---------------------------------------------------------------- helpers

def _key(cell: str) -> str:
    """A cell as a label key: no spaces, no colons, no HTML."""
    return re.sub(r"[\s:：]+", "", _TAG_RE.sub("", cell))


def clean(cell: str) -> str:
    """OCR text cell → published text: HTML residue out (a paragraph boundary
    becomes a line break), OCR spaces between CJK characters out, trimmed."""
    cell = _PARA_RE.sub("\n", cell)
    cell = _TAG_RE.sub("", cell)
    cell = _CJK_SPACE_RE.sub("", cell)
    return cell.strip()


def delatex(cell: str) -> str:
    def repl(m: re.Match) -> str:
        s = m.group(1)
        for a, b in _LATEX:
            s = s.replace(a, b)
        return re.sub(r"\s+", "", s)
    return _MATH_RE.sub(repl, cell)


def clean_target(cell: str) -> str:
    t = clean(delatex(cell))
    t = re.sub(r"([≤≥=<>＝≠])\s+(?=[\d.])", r"\1", t)   # '≤ 8000.00' → '≤8000.00'
    t = re.sub(r"(\d)\s+(?=[(（])", r"\1", t)            # '8000.00 (每年)' → '8000.00(每年)'
    return t






def _cells(line: str) -> list[tuple[int, str]]:
    """Non-empty cells of a line with their column."""
    return [(i, c) for i, c in enumerate(line.split("\t")) if c.strip()]


class _Block:
    def __init__(self, lines, a, b, source, last):
        self.lines, self.a, self.b, self.source, self.last = lines, a, b, source, last
        self.notes: list[str] = []

    def err(self, line: int, message: str) -> LayoutError:
        return LayoutError(self.source, line, message)

    def parse(self) -> ImportedProject:
        year = None
        head: dict[str, tuple[str, int]] = {}
        funds = {"unit": None, "annual": None, "total": None, "fiscal": None,
                 "appropriation": None, "carryover": None, "other": None,
                 "prior_year_budget": None, "prior_year_spent": None}
        fund_cells: list[tuple[str, str | None, int]] = []   # (key, raw value, line)
        goal_cols: dict[str, int] | None = None
        goal_rows: list[tuple[int, list[tuple[int, str]]]] = []
        ind_rows: list[tuple[int, list[tuple[int, str]]]] = []
        phase = "head"
        title_line = self.a + 1
        for idx in range(self.a + 1, self.b):
            lineno = idx + 1
            raw = self.lines[idx]
            cells = _cells(raw)
            if not cells:
                continue
            keys = [_key(c) for _, c in cells]
            if phase == "indicators":
                ind_rows.append((lineno, cells))
                continue
            if "三级指标" in keys:
                phase = "indicators"
                continue
            if len(cells) == 1 and _YEAR_RE.match(re.sub(r"\s+", "", cells[0][1])):
                year = int(_YEAR_RE.match(re.sub(r"\s+", "", cells[0][1])).group(1))
                continue
            if phase == "goals":
                if any(k in GOALS for k in keys):
                    raise self.err(lineno, "a second row of goal labels: cannot tell the goal columns")
                goal_rows.append((lineno, cells))
                continue
            if any(k in GOALS for k in keys):
                if len(cells) < 2:
                    raise self.err(lineno, "goal label alone on its line: the goals are not "
                                           "laid out in columns, cannot tell which text is which")
                goal_cols = {GOALS[k]: col for (col, _), k in zip(cells, keys) if k in GOALS}
                phase = "goals"
                continue
            if any(k in HEAD for k in keys):
                self._head_row(cells, keys, lineno, head)
                continue
            if any(k in FUNDS or _FUNDS_ROW_RE.match(k) or _split_fund(c) for (_, c), k in zip(cells, keys)):
                self._funds_row(cells, keys, lineno, funds, fund_cells)
                continue
            raise self.err(lineno, f"unexpected row before the indicators: {raw.strip()[:40]!r}")

        if year is None:
            raise self.err(title_line, "no year '(YYYY年度)' under the title")
        name = head.get("name", ("", title_line))
        if not name[0]:
            raise self.err(name[1], "table without 项目名称")
        unit_name = head.get("unit", ("", title_line))
        if not unit_name[0]:
            raise self.err(unit_name[1], "table without 实施单位")
        self._resolve_funds(funds, fund_cells, title_line)
        goals = self._goals(goal_cols, goal_rows, title_line)
        indicators = self._indicators(ind_rows, title_line)
        department = head.get("department", ("", 0))[0] or None
        unit = ImportedUnit(name=unit_name[0], code=None, department=department,
                            region=region_of(department) or region_of(unit_name[0]))
        start = date_cell(head["start"][0], self.source, head["start"][1], "计划开始日期") \
            if "start" in head else None
        end = date_cell(head["end"][0], self.source, head["end"][1], "计划完成日期") \
            if "end" in head else None
        record = {
            "name": name[0],
            "nature": head.get("nature", ("", 0))[0] or None,
            "category": head.get("category", ("", 0))[0] or None,
            "start": start,
            "end": end,
            "funds": funds,
            "goals": goals,
            "sections": [],
            "indicators": indicators,
            "source": {"title": TITLE,
                       "document": self.source.replace("\\", "/").rsplit("/", 1)[-1]},
        }
        return ImportedProject(unit=unit, year=year, line=title_line, record=record,
                               notes=self.notes)

    # -- header: 项目名称 … 项目性质 … 项目类别 …
    def _head_row(self, cells, keys, lineno, head):
        i = 0
        while i < len(cells):
            k = keys[i]
            if k in HEAD:
                value = ""
                if i + 1 < len(cells) and keys[i + 1] not in HEAD:
                    value = clean(cells[i + 1][1])
                    i += 1
                field = HEAD[k]
                if field in head:
                    raise self.err(lineno, f"{k} given twice")
                head[field] = (value, lineno)
            else:
                raise self.err(lineno, f"cell without a label: {cells[i][1].strip()[:40]!r}")
            i += 1

    # -- funds: label/value cells in reading order; left column values are
    # those of 项目资金总额, right column those of 年度资金申请总额
    def _funds_row(self, cells, keys, lineno, funds, fund_cells):
        seq: list[tuple[str, str]] = []       # ('label', key) | ('value', raw)
        for (_, c), k in zip(cells, keys):
            m = _FUNDS_ROW_RE.match(k)
            if m:
                if funds["unit"] not in (None, m.group(1)):
                    raise self.err(lineno, "two units for the amounts")
                funds["unit"] = m.group(1)
                continue
            split = _split_fund(c)
            if split:
                seq += [("label", split[0]), ("value", split[1])]
            elif k in FUNDS:
                seq.append(("label", k))
            elif AMOUNT_RE.fullmatch(c.strip()):
                seq.append(("value", c.strip()))
            else:
                raise self.err(lineno, f"unexpected cell among the amounts: {c.strip()[:40]!r}")
        for j, (kind, v) in enumerate(seq):
            if kind == "label":
                nxt = seq[j + 1] if j + 1 < len(seq) else None
                fund_cells.append((v, nxt[1] if nxt and nxt[0] == "value" else None, lineno))
            elif j == 0 or seq[j - 1][0] != "label":
                raise self.err(lineno, f"amount {v!r} without a label")

    def _resolve_funds(self, funds, fund_cells, title_line):
        others = [fc for fc in fund_cells if fc[0] == "其他资金"]
        for key, value, line in fund_cells:
            if key == "其他资金":
                continue
            field = FUNDS[key]
            if funds[field] is not None:
                raise self.err(line, f"{key} given twice")
            funds[field] = amount_cell(value or "", self.source, line, key)
        if len(others) == 2:
            left, right = others
            if left[1]:
                raise self.err(left[2], "其他资金 of 项目资金总额 has a value; the record has "
                                        "one 其他资金 only (that of 年度资金申请总额)")
            funds["other"] = amount_cell(right[1] or "", self.source, right[2], "其他资金")
        elif len(others) == 1:
            key, value, line = others[0]
            funds["other"] = amount_cell(value or "", self.source, line, "其他资金")
            self.notes.append(
                f"line {line}: one 其他资金 label only (the form has one under 项目资金总额 and "
                f"one under 年度资金申请总额); read as that of 年度资金申请总额")
        elif len(others) > 2:
            raise self.err(others[2][2], "其他资金 given more than twice")
        if funds["annual"] is None:
            raise self.err(title_line, "table without 年度资金申请总额: the project has no amount")
        if funds["unit"] is None:
            raise self.err(title_line, "amounts without 项目资金(元) / 项目资金(万元)")

    # -- goals: each text cell goes to the goal label nearest its column
    def _goals(self, cols, rows, title_line):
        goals = {"overall": None, "annual": None}
        if cols is None:
            raise self.err(title_line, "table without 项目总目标/年度总体目标")
        for lineno, cells in rows:
            for col, c in cells:
                if len(cols) == 1:
                    which = next(iter(cols))
                else:
                    d = sorted((abs(col - cc), w) for w, cc in cols.items())
                    if d[0][0] == d[1][0]:
                        raise self.err(lineno, "goal text between 项目总目标 and 年度总体目标: "
                                               "cannot tell which")
                    which = d[0][1]
                text = clean(delatex(c))
                if goals[which]:
                    sep = "\n" if goals[which][-1] in "。；;！？" else ""
                    goals[which] += sep + text
                else:
                    goals[which] = text
                if "<p" in c or "</p" in c:
                    self.notes.append(f"line {lineno}: HTML residue (<p>…</p>) removed from the goal text")
        if goals["overall"] is None and goals["annual"] is None:
            self.notes.append("项目总目标 and 年度总体目标 are both empty in the source")
        return goals

    # -- indicators
    def _indicators(self, rows, title_line):
        if not rows:
            raise self.err(title_line, "table without indicator rows")
        out = []
        cur_l2 = None
        cur_pub_l1 = None
        for lineno, cells in rows:
            l1s: list[str] = []
            l2 = None
            l2_col = None
            content: list[str] = []
            for col, c in cells:
                k = _key(c)
                parts = c.split()
                if k in OUTER:
                    continue
                if k in L1:
                    l1s.append(k)
                elif len(parts) > 1 and all(_key(p) in L1 for p in parts):
                    l1s.extend(_key(p) for p in parts)
                elif k in L2_TO_L1:
                    if l2 is not None:
                        raise self.err(lineno, f"two 二级指标 labels on one row: {l2}, {k}")
                    l2, l2_col = k, col
                else:
                    content.append(c)
            if not content:
                if l1s or l2:
                    raise self.err(lineno, "indicator row with labels only, without 三级指标 and 指标值")
                continue
            if len(content) == 1:
                raise self.err(lineno, f"indicator row without 指标值: {clean(content[0])[:40]!r}")
            if len(content) > 2:
                raise self.err(lineno, f"indicator row with {len(content)} text cells, expected "
                                       "三级指标 and 指标值: " + " | ".join(clean(c)[:15] for c in content))
            name = clean(delatex(content[0]))
            target_raw = content[1]
            target = clean_target(target_raw)
            if "$" in target_raw:
                self.notes.append(f"line {lineno}: LaTeX residue in the target of {name}: "
                                  f"{target_raw.strip()!r} → {target!r}")
            if l2 is not None:
                if l2_col == 0:
                    self.notes.append(f"line {lineno}: 二级指标 label {l2} stood in the first "
                                      f"(一级指标) column; read as 二级指标")
                cur_l2 = l2
            if cur_l2 is None:
                raise self.err(lineno, f"indicator {name!r} before any 二级指标 label")
            level1 = L2_TO_L1[cur_l2]
            if len(l1s) > 1:
                self.notes.append(f"line {lineno}: one cell holds the 一级指标 labels "
                                  f"{' '.join(l1s)}; {level1} is that of {cur_l2} on this row")
                if level1 != l1s[0]:
                    self.notes.append(f"line {lineno}: 一级指标 {l1s[0]} on the row of {cur_l2} "
                                      f"({name}); set to {level1}")
                cur_pub_l1 = l1s[-1]
            elif l1s:
                if l1s[0] != level1:
                    self.notes.append(f"line {lineno}: 一级指标 label {l1s[0]} stands on the row of "
                                      f"{cur_l2} ({name}); level1 set to {level1} from its 二级指标")
                cur_pub_l1 = l1s[0]
            else:
                if l2 is not None and cur_pub_l1 is not None and cur_pub_l1 != level1:
                    self.notes.append(f"line {lineno}: no 一级指标 label for {cur_l2} ({name}) after "
                                      f"{cur_pub_l1}; level1 set to {level1}")
                cur_pub_l1 = level1
            self._check_meaning(lineno, cur_l2, name, target)
            out.append({"level1": level1, "level2": cur_l2, "name": name,
                        "description": None, "target": target})
        if not any(i["level1"] == "满意度指标" for i in out):
            where = (f"; the table is the last of the document and ends at line {rows[-1][0]}: "
                     "the source may be cut off" if self.last else "")
            self.notes.append("no 满意度指标 row" + where)
        return out

    def _check_meaning(self, lineno, l2, name, target):
        """Flag rows whose label looks drifted; never changes the data."""
        doubt = None
        if l2 == "服务对象满意度指标" and "满意" not in name:
            doubt = f"{name!r} stands under {l2} but names no satisfaction"
        elif "满意" in name and l2 != "服务对象满意度指标":
            doubt = f"{name!r} names a satisfaction but stands under {l2}"
        elif "及时" in name and l2 != "时效指标":
            doubt = f"{name!r} names timeliness but stands under {l2}"
        elif re.search(r"\d\s*[(（]?元", target) and L2_TO_L1[l2] != "成本指标":
            doubt = f"{name!r} has a money target {target!r} but stands under {l2}"
        if doubt:
            self.notes.append(f"line {lineno}: {doubt}; the OCR may have moved the merged level "
                              "labels, which cannot be decided from the layout: kept as published, "
                              "check against the original")


def _split_fund(cell: str):
    """'其他资金 0.00' → ('其他资金', '0.00')."""
    m = re.match(r"^(\S.*?)\s*[:：]?\s*(-?[\d,]+(?:\.\d+)?)$", cell.strip())
    if m and _key(m.group(1)) in FUNDS and AMOUNT_RE.fullmatch(m.group(2)):
        return _key(m.group(1)), m.group(2)
    return None
