"""PDF text of the 上海市 财政项目支出绩效目标申报表 (2023 form), one field per line.

The extraction keeps the form's reading order but not its cells: a label and
its value share a line (``项目性质 其他一次性项目 项目类别 特定目标类``), a
narrow cell wraps mid-word onto the next line(s), sometimes with blank lines
in between (``分布式供能与燃气空调推进办经`` / ``费``), and the merged labels
of the first column (``项目`` / ``绩效`` / ``目标``, ``绩效`` / ``指标``) show up
as lines of their own.  Fields are found by their labels, never by position.
"""
from __future__ import annotations

import re

from ..base import (LEVEL1_LABELS, LEVEL2_LABELS, ImportedProject, ImportedUnit, LayoutError,
                    join_wrapped, published_amount, region_of, tables)

NAME = "pdf-lines"

_TITLE = "财政项目支出绩效目标申报表"
_YEAR_RE = re.compile(r"^[（(]\s*(\d{4})\s*年度\s*[)）]$")
_HEADER_LABELS = ("项目名称", "项目性质", "项目类别", "主管部门", "实施单位", "计划开始日期",
                  "计划完成日期")
_HEADER_RE = re.compile(r"(?:(?<=\s)|^)(" + "|".join(_HEADER_LABELS) + r")(?=\s|$)", re.M)
_FUNDS_HEAD_RE = re.compile(r"^项目资金\s*(?:[（(](万?元)[)）])?$")
_FUND_LABEL_RE = re.compile(
    r"项目资金总额|年度资金申请总额|其中[：:]\s*财政资金|其中[：:]\s*当年财政拨款|上年结转资金|其他资金")
_GOALS_HEAD_RE = re.compile(r"^项目总目标\s*年度总体目标$")
_IND_HEAD_RE = re.compile(r"^一级指标\s+二级指标\s+三级指标\s+\S*指标值")
_NOISE = {"项目", "绩效", "目标", "指标", "项目绩效目标", "绩效指标"}
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_OVERALL_RE = re.compile(r"^(?:项目)?总目标[：:]")


def detect(text: str) -> bool:
    return ("\t" not in text
            and re.search(r"^财政项目支出绩效目标申报表\s*$", text, re.M) is not None
            and re.search(r"^项目资金总额\s+年度资金申请总额", text, re.M) is not None
            and re.search(r"^一级指标\s+二级指标\s+三级指标", text, re.M) is not None)


def parse(text: str, source: str) -> list[ImportedProject]:
    projects = []
    for table in tables(text, _TITLE, source):
        block = [(n, line.strip()) for n, line in table if line.strip()]
        projects.append(_Block(source, block).parse())
    return projects


class _Block:
    """One table: a list of (1-based line number, stripped non-empty text)."""

    def __init__(self, source: str, rows: list[tuple[int, str]]):
        self.source, self.rows = source, rows
        self.first = rows[0][0]

    def error(self, line: int, message: str) -> LayoutError:
        return LayoutError(self.source, line, message)

    def find(self, pattern: re.Pattern, start: int = 0, what: str = "") -> int:
        for i in range(start, len(self.rows)):
            if pattern.search(self.rows[i][1]):
                return i
        last = self.rows[-1][0]
        raise self.error(last, f"table ends before {what or pattern.pattern}")

    def parse(self) -> ImportedProject:
        rows = self.rows
        if len(rows) < 2 or not _YEAR_RE.match(rows[1][1]):
            raise self.error(self.first, f"{_TITLE} without its （YYYY年度） line")
        year = int(_YEAR_RE.match(rows[1][1]).group(1))
        title = rows[0][1] + rows[1][1]

        i_funds = self.find(_FUNDS_HEAD_RE, 2, "项目资金")
        header = self.header(rows[2:i_funds])
        i_goals = self.find(_GOALS_HEAD_RE, i_funds, "项目总目标 年度总体目标")
        funds = self.funds(rows[i_funds:i_goals])
        i_ind = self.find(_IND_HEAD_RE, i_goals, "一级指标 二级指标 三级指标")
        goals = self.goals(rows[i_goals + 1:i_ind], rows[i_goals][0])
        indicators = self.indicators(rows[i_ind + 1:], rows[i_ind][0])

        unit = ImportedUnit(name=header["实施单位"], department=header["主管部门"],
                            region=region_of(header["实施单位"]))
        record = {
            "name": header["项目名称"],
            "nature": header["项目性质"],
            "category": header["项目类别"],
            "start": header["计划开始日期"],
            "end": header["计划完成日期"],
            "funds": funds,
            "goals": goals,
            "sections": [],
            "indicators": indicators,
            "source": {"title": title, "document": None},
        }
        return ImportedProject(unit=unit, year=year, line=self.first, record=record)

    # -- 项目名称 … 计划完成日期
    def header(self, rows) -> dict:
        if not rows:
            raise self.error(self.first, "table without 项目名称")
        text = "\n".join(t for _, t in rows)
        line_of = []                       # character offset -> source line
        for n, t in rows:
            line_of.extend([n] * (len(t) + 1))
        found = list(_HEADER_RE.finditer(text))
        labels = [m.group(1) for m in found]
        if labels != list(_HEADER_LABELS):
            missing = [x for x in _HEADER_LABELS if x not in labels]
            raise self.error(rows[0][0], f"table header: expected labels {'/'.join(_HEADER_LABELS)}"
                                         f" in this order, missing {missing or 'none'}, got "
                                         f"{labels}")
        values = {}
        for k, m in enumerate(found):
            stop = found[k + 1].start() if k + 1 < len(found) else len(text)
            raw = text[m.end():stop]
            # a wrapped cell: the line breaks were inserted by the extraction
            values[m.group(1)] = re.sub(r"\s*\n\s*", "", raw.strip()) or None
        for label in ("项目名称", "实施单位"):
            if not values[label]:
                raise self.error(line_of[found[_HEADER_LABELS.index(label)].start()],
                                 f"{label} without a value")
        for label in ("计划开始日期", "计划完成日期"):
            v = values[label]
            if v is not None and not _DATE_RE.fullmatch(v):
                raise self.error(line_of[found[_HEADER_LABELS.index(label)].start()],
                                 f"{label}: expected a date YYYY-MM-DD, got {v!r}")
        return values

    # -- 项目资金（元）
    def funds(self, rows) -> dict:
        head_line, head = rows[0]
        unit = _FUNDS_HEAD_RE.match(head).group(1)
        body = rows[1:]
        if unit is None and body and re.fullmatch(r"[（(](万?元)[)）]", body[0][1]):
            unit = body[0][1][1:-1]
            body = body[1:]
        if unit is None:
            raise self.error(head_line, "项目资金 without its unit （元） or （万元）")
        cells = []                                   # (label, value text, line)
        for n, t in body:
            if t in _NOISE:               # 项目 / 绩效 / 目标: the next section's label
                continue
            found = list(_FUND_LABEL_RE.finditer(t))
            if not found:
                raise self.error(n, f"unexpected line in 项目资金: {t!r}")
            if t[:found[0].start()].strip():
                raise self.error(n, f"unexpected text before {found[0].group(0)}: {t!r}")
            for k, m in enumerate(found):
                stop = found[k + 1].start() if k + 1 < len(found) else len(t)
                label = re.sub(r"\s+", "", m.group(0)).replace(":", "：")
                cells.append((label, t[m.end():stop].strip(), n))
        funds = {"unit": unit, "annual": None, "total": None, "fiscal": None,
                 "appropriation": None, "carryover": None, "other": None,
                 "prior_year_budget": None, "prior_year_spent": None}
        key_of = {"项目资金总额": "total", "年度资金申请总额": "annual", "其中：财政资金": "fiscal",
                  "其中：当年财政拨款": "appropriation", "上年结转资金": "carryover"}
        others = [c for c in cells if c[0] == "其他资金"]
        for label, value, n in cells:
            try:
                amount = published_amount(value)
            except ValueError as e:
                raise self.error(n, f"{label}: {e}") from None
            if label == "其他资金":
                if len(others) == 2 and (label, value, n) == others[0]:
                    # the 项目资金总额 column's 其他资金: no field of its own
                    if amount is not None:
                        raise self.error(n, "其他资金 of the 项目资金总额 column has a value; "
                                            "the record keeps only the annual column's")
                    continue
                funds["other"] = amount
            else:
                funds[key_of[label]] = amount
        labels = {c[0] for c in cells}
        for needed in ("项目资金总额", "年度资金申请总额"):
            if needed not in labels:
                raise self.error(head_line, f"项目资金 without {needed}")
        if funds["annual"] is None:
            raise self.error(head_line, "项目资金 without the 年度资金申请总额 amount")
        return funds

    # -- 项目总目标 / 年度总体目标: one text, the column is not in the text
    def goals(self, rows, head_line) -> dict:
        lines = [t for _, t in rows if t not in _NOISE]
        if not lines:
            raise self.error(head_line, "项目总目标/年度总体目标 without text")
        text = join_wrapped(lines)
        # The extraction loses which of the two cells held the text.  The
        # publisher labels a 项目总目标 written there as such (总目标：…).
        if _OVERALL_RE.match(text):
            return {"overall": text, "annual": None}
        return {"overall": None, "annual": text}

    # -- 一级指标 二级指标 三级指标 年度(/项目)指标值
    def indicators(self, rows, head_line) -> list[dict]:
        labels = set(LEVEL1_LABELS) | set(LEVEL2_LABELS)
        level1 = level2 = None
        out = []
        i = 0
        rows = list(rows)
        while i < len(rows):
            n, t = rows[i]
            i += 1
            if t == "绩效指标" or (t == "绩效" and i < len(rows) and rows[i][1] == "指标"):
                i += t == "绩效"          # the merged first-column label, printed per page
                continue
            tokens = t.split()
            # a level label wrapped onto the next line: 服务对象满意度 / 指标
            if (len(tokens) == 1 and tokens[0] not in labels and i < len(rows)
                    and any(lab.startswith(tokens[0]) for lab in labels)):
                nxt_n, nxt = rows[i]
                head, _, rest = nxt.partition(" ")
                if tokens[0] + head in labels:
                    tokens = [tokens[0] + head]
                    if rest.strip():
                        rows[i] = (nxt_n, rest.strip())
                    else:
                        i += 1
            rest = " ".join(tokens) if len(tokens) == 1 else t
            while rest:
                tok, _, remainder = rest.partition(" ")
                remainder = remainder.strip()
                nxt = remainder.split()[0] if remainder else None
                if tok in LEVEL1_LABELS and (tok not in LEVEL2_LABELS or nxt in LEVEL2_LABELS
                                             or nxt is None):
                    level1, level2 = tok, None
                elif tok in LEVEL2_LABELS:
                    if level1 is None:
                        raise self.error(n, f"{tok} before any 一级指标")
                    level2 = tok
                else:
                    break
                rest = remainder
            if not rest:
                continue
            parts = rest.rsplit(None, 1)
            if len(parts) < 2:
                raise self.error(n, f"indicator row without a target: {rest!r}")
            if level1 is None or level2 is None:
                raise self.error(n, f"indicator row before its 一级指标/二级指标: {rest!r}")
            out.append({"level1": level1, "level2": level2, "name": parts[0].strip(),
                        "description": None, "target": parts[1].strip()})
        if not out:
            raise self.error(head_line, "indicator table without rows")
        return out
