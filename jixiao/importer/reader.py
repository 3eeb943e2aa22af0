"""The general reader: any grid of a 绩效目标表 → records, driven by the form's labels.

    read(grid, source) -> list[ImportedProject | Refusal]

It does not know layouts.  It walks the cells in reading order (``cells.tokens``) and
recognises the form's labels (``labels.py``): a header label takes the next cell that is
not a label as its value (or the text glued after it: ``项目名称XXX``, ``年度资金总额:16``); an
amount label takes the next amount; a goal or section label takes the text that follows
until the next label; ``一级指标 二级指标 三级指标 … 指标值`` opens the indicator table,
whose header says which cell of a row is the name, the target, the 指标性质 and the
度量单位.  Rows of the indicator table are read by the table's columns where the file
keeps them (spreadsheets, web tables, tab or ``|`` text), by counting cells where it
does not (one cell per line).

A file may hold several projects: each ``项目名称`` after an indicator table opens the
next.  Titles and ``单位：万元`` lines before a project belong to it, and the first ones
of a file to every project in it.

Nothing is guessed silently: what the reader could not place or had to infer is a
note of the project (shown in the import report), and a table it cannot read whole
— no name, no year, no amount unit, no indicators, a row without its target, a
self-evaluation table — is a ``Refusal`` with the reason and the line.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from . import labels as L
from . import ocr
from .base import (LEVEL1_OF, SENTENCE_END, ImportedProject, ImportedUnit, SkippedRecord,
                   iso_date, join_page_broken, join_wrapped, region_of, starts_point)
from .cells import (UNIT_OF_AMOUNT_RES, YEAR_TITLE_RES, Tok, amount, compose_target,
                    is_any_label, looks_like_target, split_code, split_name_target, title_of,
                    tokens)
from .grid import Grid

__all__ = ["read", "Refusal"]


@dataclass
class Refusal:
    line: int
    message: str


# ---------------------------------------------------------------- the reader

@dataclass
class _Project:
    first_line: int
    pre: list = field(default_factory=list)       # tokens between the last table and this one
    doc_pre: list = field(default_factory=list)   # tokens before the document's first table
    header: dict = field(default_factory=dict)
    funds: dict = field(default_factory=dict)
    fund_units: set = field(default_factory=set)
    goals: dict = field(default_factory=dict)
    sections: list = field(default_factory=list)
    indicators: list = field(default_factory=list)
    parts: list = field(default_factory=list)     # 自有资金 / 一般公共预算 … amounts
    funds_section: int | None = None              # the section 预算规模及资金用途, if any
    fund_labels: dict = field(default_factory=dict)   # fund key → the label's token
    year_in_name: bool = False                    # the year came from a title = name + 目标表
    notes: list = field(default_factory=list)
    refusal: Refusal | None = None


_END_RE = re.compile(r"^(?:注[:：]|备注|财政部门审核意见|主管部门审核意见|填表人|填报人|单位负责人|经办人"
                     r"|上报时间|填报日期"
                     r"|其他(?:需)?说明|联系电话|审核意见)")
_TITLE_RE = re.compile(r"(?:绩效目标|目标申报|目标表|申报表)")


def _is_title(tok: Tok) -> bool:
    return bool(_TITLE_RE.search(tok.norm) and len(tok.norm) <= 80) or bool(
        any(rx.search(tok.text) for rx in YEAR_TITLE_RES)) or bool(
        any(rx.search(tok.text) for rx in UNIT_OF_AMOUNT_RES) and "单位" in tok.norm)


class _Reader:
    def __init__(self, grid: Grid, source: str):
        self.grid, self.source = grid, source
        self.toks = tokens(grid)

    # -- the document: blocks that each start at a 项目名称
    def read(self) -> list:
        toks = self.toks
        if not toks:
            return [Refusal(1, "not a 绩效目标表: the file has no text")]
        selfeval = next((t for t in toks if L.IND_HEAD["selfeval"].match(t.norm)
                         or "自评" in t.norm), None)
        if selfeval is not None:
            return [Refusal(selfeval.line, f"a self-evaluation table (绩效自评表, "
                                           f"{selfeval.text[:40]!r}), not a target table")]
        if not any(L.IND_HEAD["l1"].match(t.norm) or L.IND_HEAD["name"].match(t.norm)
                   for t in toks):
            return [Refusal(toks[0].line, "not a 绩效目标表: no indicator table "
                                          "(一级指标 / 二级指标 / 三级指标 …)")]
        listed = _list_header(self.grid)
        if listed is not None:
            return _ListReader(self, *listed).read()
        anchors = [i for i, t in enumerate(toks)
                   if L.match(L.HEADER, t.norm) in ("name", "parent_name")]
        if not anchors:
            return [Refusal(toks[0].line, "no 项目名称: not a project's 绩效目标表 "
                                          "(a summary or a unit's overall table cannot be imported)")]
        out = []
        doc_pre = toks[:anchors[0]]
        pos = anchors[0]
        pre = doc_pre
        skipped = self.headless_table(doc_pre)
        while pos < len(toks):
            proj, end = self.project(pos, pre, doc_pre)
            out.append(proj)
            nxt = next((i for i in range(end, len(toks))
                        if L.match(L.HEADER, toks[i].norm) in ("name", "parent_name")), None)
            stray = next((t for t in toks[end:nxt] if L.level1(t.norm) or L.level2(t.norm)
                          or L.IND_HEAD["l1"].match(t.norm)), None)
            if stray is not None and proj.refusal is None:
                proj.refusal = Refusal(stray.line, f"{stray.text!r} stands after the end of the "
                                                   f"indicator table: rows the reader could not "
                                                   f"place (a table split or cut?)")
            if nxt is None:
                break
            pre = toks[end:nxt]
            pos = nxt
        return skipped + _document_year([self.finish(p) for p in out], out)

    def headless_table(self, before: list[Tok]) -> list[SkippedRecord]:
        """Amounts or indicator rows before the first title of the document: the end of a
        table whose beginning (its 项目名称) the file lost.  Left out, and said so."""
        titles = [k for k, t in enumerate(before) if _TITLE_RE.search(t.norm)]
        body = before[:titles[-1]] if titles else before
        if not any(L.match(L.FUNDS, t.norm) or L.IND_HEAD["l1"].match(t.norm) or
                   L.level1(t.norm) for t in body):
            return []
        head = next((k for k, t in enumerate(body) if L.IND_HEAD["l1"].match(t.norm)), None)
        rows = len({t.row for t in body[head + 1:]}) if head is not None else 0
        return [SkippedRecord(self.source, body[0].line,
                              f"a table without its header at lines {body[0].line}-"
                              f"{body[-1].line}: the file starts in the middle of a table, "
                              f"before any title or 项目名称, so the project has no name and "
                              f"cannot be published" + (f" ({rows} indicator rows)" if rows else ""))]

    # -- one project: header, funds, goals, sections, then the indicator table
    def project(self, start: int, pre: list[Tok], doc_pre: list[Tok]):
        toks = self.toks
        p = _Project(first_line=toks[start].line, pre=pre, doc_pre=doc_pre)
        i = start
        pending: list[tuple[str, str]] = []   # labels still waiting for their value
        text_target = None                    # ('goal', key) / ('section', index)
        lines = self.grid.kind == "lines"     # text lines (PDF text): cells wrap onto lines
        last_value = None                     # (header key, token) of the last header value
        ind_start = None
        switch_at = None                      # where the texts of the next goal header begin
        carried: list[Tok] = []              # text that begins the next label's cell
        while i < len(toks):
            t = toks[i]
            n = t.norm
            if L.IND_HEAD["l1"].match(n) or (L.IND_HEAD["name"].match(n) and i + 1 < len(toks)
                                             and L.match(L.IND_HEAD, toks[i + 1].norm)):
                ind_start = i
                break
            if L.match(L.HEADER, n) in ("name", "parent_name") and i > start and (
                    p.header.get("name") or p.header.get("parent_name")) and \
                    L.match(L.HEADER, n) == L.match(L.HEADER, toks[start].norm) == "name":
                break                         # the next project, before any indicator table
            kind = self.label(n) or self.other_label(i)
            if kind:
                switch_at = None
                pending, text_target = self.take_label(p, kind, i, pending)
                if carried and text_target is not None:
                    for c in carried:
                        self.append_text(p, text_target, c)
                    p.notes.append(f"line {carried[0].line}: text above the label {t.text.strip()!r}"
                                   f" (line {t.line}) taken as the beginning of its cell")
                carried = []
                i += 1
                continue
            m = re.match(r"^\((万元|元)\)$", n)
            if m:
                p.fund_units.add(m.group(1))
                i += 1
                continue
            if L.IND_NOISE.match(n) or L.FUNDS_GROUP.match(n):
                i += 1
                continue
            # a value
            if switch_at is not None:          # stacked goal headers, paragraphs then a list
                if i == switch_at:
                    text_target, switch_at = pending.pop(0)[:2], None
                self.append_text(p, text_target, t)
                i += 1
                continue
            if pending and pending[0][0] in ("funds", "header") and len(pending) > 1 and \
                    t.row == pending[-1][2]:
                pending = pending[-1:]        # label, value, label, value: the empty ones go
            if pending:
                kind0, key0 = pending[0][:2]
                if kind0 == "funds":
                    self.take_amount(p, key0, t)
                    pending.pop(0)
                    text_target = None
                elif kind0 == "header":
                    if key0 in ("start", "end") and not re.match(r"^\s*\d", t.text):
                        p.notes.append(f"line {t.line}: {t.text[:30]!r} under a date label "
                                       f"is not a date; left out")
                    elif key0 != "ignore":
                        p.header.setdefault(key0, t.text.strip().replace("\n", ""))
                        last_value = (key0, t, i)
                    pending.pop(0)
                    text_target = None
                elif kind0 in ("goal", "section"):
                    if lines and len(pending) > 1 and pending[0][0] == "goal" and \
                            not any(x.row == t.row and x is not t for x in toks[i - 1:i + 2]):
                        # goal headers side by side whose texts stand on lines of their own
                        # (PDF text lost the columns): the year's goal, unless it says 总目标
                        overall = t.norm.startswith(("总目标", "项目总目标", "长期目标"))
                        text_target = ("goal", "overall" if overall else pending[-1][1])
                        pending = []
                    else:
                        # goal headers side by side take one text each, the last one the rest;
                        # in a table, a text in the row below stands under its own header
                        if self.grid.columns and len(pending) > 1 and \
                                len({x[2] for x in pending}) == 1 and t.row != pending[0][2]:
                            near = min(range(len(pending)), key=lambda j: abs(pending[j][3] - t.col))
                            pending.insert(0, pending.pop(near))
                        text_target = pending.pop(0)[:2]
                        switch_at = self.list_after(i) if kind0 == "goal" and pending else None
                        if switch_at is not None:
                            p.notes.append(f"line {t.line}: {text_target[1]} and {pending[0][1]} "
                                           f"goals stand as paragraphs under both headers: the "
                                           f"paragraphs before the list (line "
                                           f"{toks[switch_at].line}) are taken as {text_target[1]}"
                                           f", the list as {pending[0][1]}")
                        elif pending:
                            self.append_text(p, text_target, t)
                            text_target = None
                            i += 1
                            continue
                    self.append_text(p, text_target, t)
            elif text_target is not None and self.begins_next_cell(p, text_target, i):
                carried.append(t)
            elif text_target is not None:
                self.append_text(p, text_target, t)
            elif lines and last_value and last_value[2] == i - 1 and last_value[1].row != t.row \
                    and len(last_value[1].norm) >= 10 and len(t.norm) <= 20 \
                    and not re.search(r"[:：]", t.text) and (
                        i + 1 >= len(toks) or self.label(toks[i + 1].norm)
                        or L.IND_HEAD["l1"].match(toks[i + 1].norm)):
                # a header value wrapped onto the next line of PDF text (…推进办经 / 费): the
                # very next cell, alone on its line, after a value as long as a full line
                key0 = last_value[0]
                p.header[key0] += t.text.strip()
                p.notes.append(f"line {t.line}: {t.text.strip()!r} joined to {key0} (a wrapped line)")
                last_value = (key0, t, i)
            elif _is_title(t) or i == start:
                pass
            else:
                p.notes.append(f"line {t.line}: cell {t.text[:40]!r} not placed in any field")
            i += 1
        if ind_start is None:
            p.refusal = Refusal(toks[min(i, len(toks) - 1)].line,
                                "the table ends before its indicators (一级指标 / 二级指标 / 三级指标 …)")
            return p, i
        end = self.indicators(p, ind_start)
        return p, end

    def other_label(self, i: int):
        """A label the form's vocabulary lacks (``是否含有政府购买服务：``, ``绩效类型：``): a
        short cell ending in a colon, without a sentence's punctuation, with its value
        beside it in the row.  Kept as a section, under its own words."""
        t, toks = self.toks[i], self.toks
        text = t.text.strip()
        if text.endswith(("：", ":")) and 2 < len(text) <= 30 and \
                not any(ch in text for ch in "。；;，,") and i + 1 < len(toks) and \
                toks[i + 1].row == t.row and self.label(toks[i + 1].norm) is None:
            return "section", title_of(text)
        return None

    def begins_next_cell(self, p: _Project, target, i: int) -> bool:
        """Tab rows of a PDF table: a text alone in its row, after a text that ended its
        sentence and before a goal's or section's label, is the beginning of that label's
        cell (the PDF centred the label lower), unless it ends a sentence itself."""
        toks, t = self.toks, self.toks[i]
        kind, key = target
        before = p.goals.get(key) if kind == "goal" else p.sections[key]["text"]
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        return (self.grid.kind == "tabs" and bool(before) and before[-1].endswith(SENTENCE_END)
                and not t.text.strip().endswith(SENTENCE_END) and nxt is not None
                and nxt.row != t.row and toks[i - 1].row != t.row
                and self.label(nxt.norm) is not None
                and self.label(nxt.norm)[0] in ("goal", "section"))

    def list_after(self, i: int) -> int | None:
        """Goal headers stacked, their texts paragraphs below both (a page lost the grid):
        where paragraphs that open no list are followed by a list, the token the list
        starts at (the first header's text is the paragraphs, the next one's the list)."""
        toks = self.toks
        if starts_point(toks[i].text) or any(x.row == toks[i].row for x in toks[i + 1:i + 2]):
            return None
        k = i + 1
        while k < len(toks) and not self.label(toks[k].norm) and \
                not L.IND_HEAD["l1"].match(toks[k].norm) and not L.IND_NOISE.match(toks[k].norm):
            if starts_point(toks[k].text):
                return k
            k += 1
        return None

    def label(self, n: str):
        key = L.match(L.HEADER, n)
        if key:
            return "header", key
        m = L.FUNDS_GROUP.match(n)          # 项目资金(万元), 金额(万元): headings, no amount
        if m:
            return "fundsgroup", next((g for g in m.groups() if g), None)
        key = L.match(L.FUNDS, n)
        if key:
            return "funds", key
        key = L.match(L.GOALS, n)
        if key:
            return "goal", key
        if L.SECTIONS.match(n):
            return "section", n
        return None

    def take_label(self, p: _Project, kind, i: int, pending):
        t = self.toks[i]
        following = self.toks[i + 1].norm if i + 1 < len(self.toks) else ""
        k, key = kind
        m = L.UNIT_SUFFIX.search(t.norm)
        if m and k == "funds":
            p.fund_units.add(m.group(1))          # 项目预算金额(万元)
        if k == "funds":
            p.fund_labels.setdefault(key, t)
        if k == "fundsgroup":
            if key:
                p.fund_units.add(key)
            if i and L.match(L.FUNDS, self.toks[i - 1].norm) == "annual":
                # 年度资金总额 | 金额(万元): a heading over its parts, not a lost amount
                p.fund_labels.pop("annual", None)
            if L.SECTIONS.match(t.norm):          # 预算规模及资金用途: amounts, then the 用途 text
                p.sections.append({"title": title_of(t.text), "text": [],
                                   "line": t.line})
                p.funds_section = len(p.sections) - 1
            return pending, None
        # a label ends the values still pending before it, except labels side by side in
        # one row (a header row whose values stand in the row below)
        pending = [x for x in pending if (x[0] == "goal" and k == "goal") or
                   (x[0] in ("funds", "header") and k in ("funds", "header") and x[2] == t.row)]
        if k == "section":
            p.sections.append({"title": title_of(t.text), "text": [], "line": t.line})
            key = len(p.sections) - 1
        if k == "goal" and L.GOAL_GROUP.match(t.norm) and L.match(L.GOALS, following):
            return pending, None          # 项目绩效目标 heading 长期目标 / 年度目标
        pending = pending + [(k, key, t.row, t.col)]
        return pending, (k, key) if k in ("goal", "section") else None

    def append_text(self, p: _Project, target, t: Tok) -> None:
        kind, key = target
        if kind == "goal":
            p.goals.setdefault(key, []).append(t.text.strip())
        else:
            p.sections[key]["text"].append(t.text.strip())

    def take_amount(self, p: _Project, key: str, t: Tok) -> None:
        value, unit, rest = amount(t.text)
        if value is None and rest and p.funds_section is not None:
            p.sections[p.funds_section]["text"].append(t.text.strip())
            return
        if value is None and rest:
            p.notes.append(f"line {t.line}: {key}: {t.text[:40]!r} is not an amount; left out")
            return
        if value is None:
            return
        if rest:
            p.notes.append(f"line {t.line}: {key}: read {value} from {t.text[:60]!r}")
        if unit:
            p.fund_units.add(unit)
        if key in ("part", "own"):
            p.parts.append((key, value, t))
            return
        if key == "unplaced":
            p.notes.append(f"line {t.line}: amount {t.text.strip()!r} has no field in the "
                           f"record; not placed")
            return
        if key in p.funds:
            if p.funds[key][0] != value:
                p.notes.append(f"line {t.line}: a second {key} amount {value} "
                               f"(first {p.funds[key][0]}); the first is kept")
            return
        p.funds[key] = (value, t.line)

    # -- the indicator table
    def indicators(self, p: _Project, start: int) -> int:
        toks = self.toks
        head = []
        i = start
        while i < len(toks):
            role = L.match(L.IND_HEAD, toks[i].norm)
            if role is None:
                if L.IND_NOISE.match(toks[i].norm) and head:
                    i += 1
                    continue
                break
            head.append((role, toks[i]))
            i += 1
        roles = [r for r, _ in head]
        if "selfeval" in roles:
            p.refusal = Refusal(toks[start].line, "a self-evaluation table (实际完成值): "
                                                  "not a target table")
            return i
        # where long-term and annual columns stand side by side, the annual ones
        cut = max(k for k, r in enumerate(roles) if r in ("l1", "l2")) if \
            any(r in ("l1", "l2") for r in roles) else -1
        value_roles = [(r, t) for r, t in head[cut + 1:]]
        two_blocks = sum(1 for r, _ in head if r == "l2") > 1
        if two_blocks:
            p.notes.append(f"line {toks[start].line}: long-term and annual indicator columns side "
                           f"by side; the annual ones (after the last 二级指标) are read")
        if not any(r == "target" for r, _ in value_roles):
            p.refusal = Refusal(toks[start].line, "indicator table without a 指标值 column")
            return i
        if not any(r == "name" for r, _ in value_roles):
            value_roles.insert(0, ("name", None))
        cols = {t.col: r for r, t in value_roles if t is not None}
        by_columns = self.grid.columns and len(set(cols)) == len(value_roles) and \
            len({t.row for _, t in head}) == 1
        l1 = l2 = None
        order: list[tuple[str, object]] = []
        # the 2020 form (一级目标 / 二级目标) writes its 二级 labels without 指标: kept so
        as_published = any(r == "l2" and t.norm == "二级目标" for r, t in head)
        head_cols = {r: t.col for r, t in head if r in ("l1", "l2")}
        name_col = next((t.col for r, t in value_roles if r == "name" and t is not None), None)
        # a header in one row, one block of columns: cells can be told by their place
        plain_head = len({t.row for _, t in head}) == 1 and not two_blocks
        row_labels: dict[int, str] = {}       # token index → l1 / l2: labels the form lacks
        # gather: level labels and value cells, up to the end of the table
        table = head[-1][1].table
        while i < len(toks):
            t = toks[i]
            n = t.norm
            if (table > 0 and t.table != table) or \
                    L.match(L.HEADER, n) in ("name", "parent_name") or _END_RE.match(n) or (
                    _is_title(t) and not L.level2(n)):
                break
            if L.IND_NOISE.match(n) or L.match(L.IND_HEAD, n):
                i += 1
                continue
            if (i == 0 or toks[i - 1].row != t.row) and plain_head:
                row_labels = self.unknown_levels(i, len(value_roles), head_cols, name_col)
            a, b = L.level1(n), L.level2(n)
            if b and as_published:
                b = t.text.strip()
                if a and t.col == head_cols.get("l2"):
                    a = None                 # 满意度: a 二级目标 where it stands in that column
            if i in row_labels:
                a, b = {"l1": (t.text.strip(), None), "l2": (None, t.text.strip()),
                        "v": (None, None)}[row_labels[i]]
            last_was_l1 = bool(order) and order[-1][0] == "l1"
            if order and order[-1][0] == "l2" and not n.endswith("指标"):
                a = b = None             # a bare 满意度 under 服务对象满意度指标 is a name
            if a and b and not last_was_l1 and a == "成本指标":
                # 成本指标 is a 一级指标 of the 2021 form (经济成本指标 … under it) and a
                # 二级指标 under 产出指标 in older forms: the next cell tells which
                nxt = toks[i + 1].norm if i + 1 < len(toks) else ""
                current = next((v for k, v, _ in reversed(order) if k == "l1"), None)
                if not (L.level2(nxt) or L.level1(nxt)) and current == "产出指标":
                    a = None
            if a and not (b and last_was_l1):
                order.append(("l1", a, t))
            elif b:
                order.append(("l2", b, t))
            else:
                order.append(("v", t.text.strip(), t))
            i += 1
        end = i
        if end >= len(toks) and order and order[-1][0] in ("l1", "l2"):
            p.refusal = Refusal(order[-1][2].line, f"the table ends at {order[-1][2].text!r} "
                                                   f"without its rows: truncated?")
            return end
        if two_blocks:
            order = _annual_block(order)
        # group value cells into rows: by grid row where rows hold several cells, else by count
        n_roles = len(value_roles)
        row_sizes: dict[int, int] = {}
        for k, _, t in order:
            if k == "v":
                row_sizes[t.row] = row_sizes.get(t.row, 0) + 1
        values = [t for k, _, t in order if k == "v"]
        glued = self.grid.kind == "lines" and bool(values) and sum(
            1 for t in values if split_name_target(t.text) and not looks_like_target(t.text)
        ) >= 0.6 * len(row_sizes)       # one glued 'name target' cell per line
        # rows where rows hold several cells (text lines: most of them), else by count
        use_rows = glued or max(row_sizes.values(), default=0) > 1 and (
            self.grid.kind != "lines"
            or sum(1 for v in row_sizes.values() if v > 1) >= 0.5 * len(row_sizes))
        groups: list[tuple[str | None, str | None, list[Tok]]] = []
        cur: list[Tok] = []

        labelled = False          # the row being gathered began after a 一级/二级 label

        def flush():
            nonlocal cur, labelled
            if cur:
                groups.append((l1, l2, cur, labelled))
            cur, labelled = [], False

        for k, val, t in order:
            if k == "l1":
                flush()
                l1, l2 = val, None
                labelled = "l1"
            elif k == "l2":
                flush()
                l2 = val
                labelled = "l2"
            else:
                if cur and ((use_rows and t.row != cur[-1].row) or
                            (not use_rows and len(cur) >= n_roles)):
                    flush()
                cur.append(t)
        flush()
        if self.grid.kind == "tabs":
            self.drifted_at_page_breaks(p, groups)
        drifted: dict[tuple, list[int]] = {}
        for g1, g2, cells, after_label in groups:
            ind = self.indicator(p, cells, value_roles, cols if by_columns else None, use_rows,
                                 after_label, glued)
            if ind is None:
                continue
            if g1 is None and g2 is None:
                p.refusal = Refusal(cells[0].line, f"indicator row before any 一级/二级指标: "
                                                   f"{cells[0].text[:40]!r}")
                return end
            if g1 is None:
                g1 = LEVEL1_OF.get(g2)
            expected = LEVEL1_OF.get(g2)
            if expected and g1 != expected and g1 in ("产出指标", "效益指标", "满意度指标", "成本指标"):
                drifted.setdefault((g2, g1, expected), []).append(cells[0].line)
                g1 = expected
            if g2 is None:
                g2 = g1
                if not any("stands for both" in n for n in p.notes):
                    p.notes.append(f"line {cells[0].line}: rows under 一级指标 {g1} without a "
                                   f"二级指标: the 一级 label stands for both")
            ind["level1"], ind["level2"] = g1, g2
            p.indicators.append(ind)
        for (g2, g1, expected), at in drifted.items():
            where = f"line {at[0]}" if len(at) == 1 else f"lines {at[0]}-{at[-1]} ({len(at)} rows)"
            p.notes.append(f"{where}: 二级指标 {g2} stands under 一级指标 {g1}; the form puts it "
                           f"under {expected} (a merged label drifted)")
        if not p.indicators:
            p.refusal = Refusal(toks[start].line, "indicator table without rows")
        return end

    def unknown_levels(self, i: int, n_values: int, head_cols: dict,
                       name_col: int | None) -> dict[int, str]:
        """Level labels outside the form's vocabulary (``投入管理``, ``信息共享``): in a row
        with more cells than the header has value columns, the leading extra cells are
        labels — 一级 or 二级 by their column where the table keeps columns, else the one
        next to the values is the 二级.  And a name that reads like a label (``预算执行率``)
        is a name where it stands in the name column of a row of just the values ("v")."""
        toks, row = self.toks, self.toks[i].row
        cells, named = [], {}
        while i < len(toks) and toks[i].row == row:
            n = toks[i].norm
            if not (L.IND_NOISE.match(n) or L.match(L.IND_HEAD, n)):
                if not (L.level1(n) or L.level2(n)):
                    cells.append(i)
                elif self.grid.columns and toks[i].col == name_col and \
                        i + 1 < len(toks) and toks[i + 1].row == row:
                    named[i] = "v"
                    cells.append(i)
            i += 1
        extra = cells[:len(cells) - n_values] if len(cells) > n_values else []
        if not extra or len(extra) > 2 or any(len(toks[k].norm) > 12 or
                                              looks_like_target(toks[k].text) for k in extra):
            return named
        if self.grid.columns and head_cols and \
                all(toks[k].col in head_cols.values() for k in extra):
            return named | {k: next(r for r, c in head_cols.items() if c == toks[k].col)
                            for k in extra}
        return named | dict(zip(extra, ("l1", "l2")[2 - len(extra):]))

    def drifted_at_page_breaks(self, p: _Project, groups: list) -> None:
        """A merged 二级指标 cell that spans a page break (a blank line of tab text) is
        printed on the next page only.  Rows closing a page whose 三级指标 stands in
        another column than in the row labelled last on that page belong, when the next
        page opens with a 二级指标 label, to that label."""
        present = {row.line for row in self.grid.rows}
        pages, page = [], 0
        for k, (_, _, cells, _) in enumerate(groups):
            if k and any(n not in present for n in range(groups[k - 1][2][-1].line + 1,
                                                          cells[0].line)):
                page += 1
            pages.append(page)
        for k in range(1, len(groups)):
            if pages[k] == pages[k - 1] or groups[k][3] != "l2":
                continue
            on_page = [j for j in range(k) if pages[j] == pages[k - 1]]
            labelled = [j for j in on_page if groups[j][3] == "l2"]
            if not labelled:
                continue
            col = groups[labelled[-1]][2][0].col
            moved = []
            for j in reversed(on_page[on_page.index(labelled[-1]) + 1:]):
                if groups[j][2][0].col == col:
                    break
                moved.append(j)
            for j in moved:
                groups[j] = (None, groups[k][1], groups[j][2], groups[j][3])
            if moved:
                p.notes.append(f"lines {groups[moved[-1]][2][0].line}-{groups[moved[0]][2][0].line}"
                               f": rows at the end of a page belong to {groups[k][1]} (its merged "
                               f"label is printed on the next page, line {groups[k][2][0].line})")

    def indicator(self, p, cells: list[Tok], roles, cols, use_rows, after_label: bool,
                  glued: bool) -> dict | None:
        texts = [c.text.strip() for c in cells]
        got: dict[str, str] = {}
        line = cells[0].line
        if cols is not None and all(c.col in cols for c in cells):
            for c in cells:
                got.setdefault(cols[c.col], c.text.strip())
        elif len(texts) == len(roles):
            for (r, _), v in zip(roles, texts):
                got.setdefault(r, v)
        elif len(texts) == 1:
            # a name and a target glued into one cell are split only in a document whose
            # rows are all glued so (a target such as 及时 ends many names)
            split = split_name_target(texts[0]) if glued else None
            if split is None:
                # a wrapped line of PDF text: the short rest of a long name above, on a line
                # of its own (not a row that starts with a label)
                if p.indicators and use_rows and self.grid.kind == "lines" and \
                        not after_label and len(texts[0]) <= 12 and \
                        len(p.indicators[-1]["name"]) >= 12 and \
                        not looks_like_target(texts[0]):
                    prev = p.indicators[-1]
                    prev["name"] += texts[0]
                    p.notes.append(f"line {line}: {texts[0][:30]!r} taken as the rest of the "
                                   f"indicator name above (a wrapped line)")
                    return None
                p.refusal = Refusal(line, f"indicator row without a target: {texts[0][:40]!r}")
                return None
            got["name"], got["target"] = split
            p.notes.append(f"line {line}: {texts[0][:40]!r} read as name {split[0]!r} and "
                           f"target {split[1]!r} (cells glued)")
        else:
            # fewer cells than columns.  Only where every other column may stand empty
            # (备注, 度量单位, 指标性质) and the second cell reads as a target is the row read
            # as name + target; otherwise which cell is missing cannot be known
            names = [r for r, _ in roles]
            optional = all(r in ("name", "target", "ignore", "unit", "op") for r in names)
            if not (optional and len(texts) >= 2 and names.index("target") <= len(texts) - 1
                    and looks_like_target(texts[names.index("target")])):
                p.refusal = Refusal(line, f"indicator row with {len(texts)} cells, the header has "
                                          f"{len(roles)} ({' | '.join(x[:20] for x in texts)})")
                return None
            got = dict(zip(names, texts))
            p.notes.append(f"line {line}: row of {len(texts)} cells for {len(roles)} columns "
                           f"({' | '.join(x[:20] for x in texts)}); the missing ones taken as empty")
        name, target = got.get("name"), got.get("target")
        if not name and not target:
            return None
        if not target:
            p.refusal = Refusal(line, f"indicator row without a target: {name[:40]!r}")
            return None
        if not name:
            p.refusal = Refusal(line, f"indicator row without a name (target {target!r})")
            return None
        if self.grid.ocr:
            target = ocr.target(target)
            if line in self.grid.repairs:
                p.notes.append(f"line {line}: {self.grid.repairs[line]}")
        return {"name": name.replace("\n", ""), "description": got.get("description"),
                "target": compose_target(target.replace("\n", ""), got.get("op"),
                                          got.get("unit")), "line": line}

    # -- the record
    def finish(self, p: _Project):
        if p.refusal:
            return p.refusal
        h = p.header
        name = h.get("name") or h.get("parent_name")
        if not name:
            return Refusal(p.first_line, "项目名称 without a value")
        value, _, rest = amount(name)
        if is_any_label(L.norm(name)) or (value is not None and not rest) or len(name) > 120:
            return Refusal(p.first_line, f"项目名称 reads {name[:40]!r}: not a project name")
        odd = next((i for i in p.indicators if L.level1(i["target"]) or L.level2(i["target"])
                    or L.match(L.IND_HEAD, i["name"])
                    or (L.level1(i["name"]) and i["name"].endswith("指标"))), None)
        if odd is not None:
            return Refusal(odd["line"], f"indicator row {odd['name'][:30]!r} → {odd['target'][:30]!r} "
                                        f"holds a label: the columns could not be told apart")
        if h.get("name") and h.get("parent_name"):
            p.notes.append(f"项目名称 is the 二级项目 {h['name']!r}; its 一级项目 "
                           f"{h['parent_name']!r} is not kept")
        unit = h.get("unit")
        dept_raw = h.get("department")
        dept, dept_code = split_code(dept_raw) if dept_raw else (None, None)
        if dept_code:
            p.notes.append(f"主管部门 {dept_raw!r}: code {dept_code} set apart from the name")
        code = None
        if unit:
            unit, code = split_code(unit)
            if code and len(code) < 6:
                code = None
        if not unit:
            unit = self.unit_from_pre(p)
            if unit:
                unit, code = split_code(unit)
        if not unit and dept:
            unit = dept
            p.notes.append(f"no 实施单位 published: the unit is the 主管部门 {dept!r} (a guess)")
        if not unit:
            return Refusal(p.first_line, "no 实施单位 / 申报单位 / 主管部门: the project's unit is "
                                         "not published")
        year, how = self.year(p, name)
        if year is None:
            return Refusal(p.first_line, "no year: neither the title ((2025年度), 2025年…目标表) "
                                         "nor the project's dates give one")
        if how:
            p.notes.append(how)
        if not 2000 <= year <= 2099:
            return Refusal(p.first_line, f"year {year} is not a budget year")
        funds, problem = self.funds(p)
        if problem:
            return problem
        # text lines (PDF text) wrap inside a paragraph: joined again, a numbered point
        # starting a new line; tab rows (a table copied page by page) break a sentence at a
        # page; elsewhere a cell's lines are its paragraphs
        join = {"lines": join_wrapped, "tabs": join_page_broken}.get(self.grid.kind, "\n".join)
        goals = {k: join(v) or None for k, v in p.goals.items()}
        sections = [{"title": s["title"], "text": join(s["text"])}
                    for s in p.sections if s["text"]]
        start, end = self.dates(p, year)
        record = {
            "name": name.replace("\n", ""),
            "nature": h.get("nature"), "category": h.get("category"),
            "start": start, "end": end, "funds": funds,
            "goals": {"overall": goals.get("overall"), "annual": goals.get("annual")},
            "sections": sections,
            "indicators": [{k: ind[k] for k in ("level1", "level2", "name", "description",
                                                "target")} for ind in p.indicators],
            "source": {"title": self.title(p), "document": None},
        }
        if not record["goals"]["annual"] and not record["goals"]["overall"]:
            p.notes.append("no 年度目标 / 绩效目标 text found")
        u = ImportedUnit(name=unit.replace("\n", ""), code=code, department=dept,
                         region=region_of(unit) or _city_of(unit))
        if self.grid.ocr:
            p.notes.insert(0, "read as the output of OCR: spaces between CJK characters, HTML "
                              "and LaTeX residue and the spaces inside targets removed")
        return ImportedProject(unit=u, year=year, line=p.first_line, record=record, notes=p.notes)

    def unit_from_pre(self, p: _Project) -> str | None:
        for toks in (p.pre, p.doc_pre):                # 申报单位名称: X above 项目名称
            for a, b in zip(toks, toks[1:]):
                if L.match(L.HEADER, a.norm) == "unit" and not is_any_label(b.norm) \
                        and not _is_title(b):
                    p.notes.append(f"line {b.line}: unit {b.text.strip()!r} from above the table")
                    return b.text.strip()
        for tok in list(p.pre) + list(p.doc_pre):
            m = re.match(r"^(?:\d{6,})\s*(\S+?(?:局|委员会|中心|政府|办公室|所|院|站|队|馆|学校|处|委|厅|会))$",
                         tok.text.strip())
            if m:
                p.notes.append(f"unit {m.group(1)!r} from the line above the table")
                return tok.text.strip()
        return None

    def year(self, p: _Project, name: str):
        for toks in (p.pre, [t for t in self.toks if t.line == p.first_line], p.doc_pre):
            for tok in reversed(toks):               # the nearest title above the table first
                for rx in YEAR_TITLE_RES:
                    m = rx.search(tok.text)
                    if m:
                        # a title that is the project's name + 绩效目标表 dates the project,
                        # not the budget: the document's year may overrule it (see read)
                        p.year_in_name = L.norm(name) in tok.norm and str(m.group(1)) in name
                        return int(m.group(1)), None
        m = re.search(r"(20\d\d)\s*年", name) or re.match(r"^(20\d\d)", name)
        if m:
            return int(m.group(1)), f"year {m.group(1)} from the project name (no title gives it)"
        for key in ("start", "period"):
            v = p.header.get(key) or ""
            m = re.match(r"^\s*(20\d\d)", v)
            if m:
                return int(m.group(1)), f"year {m.group(1)} from {key} {v!r} (no title gives it)"
        return None, None

    def title(self, p: _Project) -> str | None:
        """The table's own title: the nearest one above it (a document's title comes
        first, each table's after it), with its year line when that stands apart."""
        for toks in (p.pre, p.doc_pre):
            for k in range(len(toks) - 1, -1, -1):
                tok = toks[k]
                if _TITLE_RE.search(tok.norm) and len(tok.norm) <= 80:
                    title = re.sub(r"\[bookmark:[^\]]*\]", "", tok.text).replace("\n", "")
                    title = re.sub(r"^\s*\d{1,3}[.．、]\s*", "", title).strip()
                    after = toks[k + 1].text.strip() if k + 1 < len(toks) else ""
                    if re.fullmatch(r"[（(]\s*\d{4}\s*年度\s*[)）]", after) and "年" not in title:
                        title += re.sub(r"\s+", "", after)
                    return title
        return None

    def dates(self, p: _Project, year: int):
        out = []
        for key in ("start", "end"):
            v = p.header.get(key)
            try:
                out.append(iso_date(v) if v else None)
            except ValueError:
                p.notes.append(f"{key} {v!r} is not a date; left out")
                out.append(None)
        if p.header.get("period"):
            p.notes.append(f"项目期 {p.header['period']!r} kept out of start/end (not a pair of dates)")
        return out

    def funds(self, p: _Project):
        f = {k: v for k, (v, _) in p.funds.items()}
        lines = {k: ln for k, (_, ln) in p.funds.items()}
        units = set(p.fund_units)
        for tok in list(p.pre) + list(p.doc_pre):
            for rx in UNIT_OF_AMOUNT_RES:
                m = rx.search(tok.text)
                if m and ("单位" in tok.text or L.FUNDS_GROUP.match(tok.norm)):
                    units.add(m.group(1))
        if "total_or_annual" in f:
            v = f.pop("total_or_annual")
            if "annual" not in f:
                f["annual"] = v
                lines["annual"] = lines["total_or_annual"]
                p.notes.append("资金总额 read as the year's amount (the form has no separate "
                               "年度 amount)")
            elif "total" not in f:
                f["total"] = v
        if "annual" not in f and "annual" in p.fund_labels:
            label = p.fund_labels["annual"]
            return None, Refusal(label.line, f"{label.text.strip()} has no amount (a lost line?)")
        if "annual" not in f:
            if "total" in f:
                f["annual"] = f["total"]
                lines["annual"] = lines["total"]
                p.notes.append("年度资金 not published: the 项目资金总额 is taken as the year's "
                               "amount (a guess)")
            elif any(k == "own" for k, _, _ in p.parts) and ("appropriation" in f or "other" in f):
                terms = [f[k] for k in ("appropriation", "carryover", "other") if k in f] + \
                    [v for k, v, _ in p.parts if k == "own"]
                f["annual"] = str(sum(Decimal(x) for x in terms))
                lines["annual"] = p.first_line
                p.notes.append(f"年度资金总额 is published as its parts: {' + '.join(terms)} = "
                               f"{f['annual']}")
            elif "appropriation" in f or "fiscal" in f:
                k = "fiscal" if "fiscal" in f else "appropriation"
                f["annual"] = f[k]
                lines["annual"] = lines[k]
                p.notes.append(f"年度资金总额 not published: the {k} amount is taken as the year's "
                               f"amount (a guess)")
            else:
                return None, Refusal(p.first_line, "no 年度资金 amount (年度资金总额 / 预算数 …) "
                                                   "could be read")
        if not units:
            units = self.unit_from_text(p, f["annual"])
        if len(units) != 1:
            how = "not published" if not units else f"published twice, as {sorted(units)}"
            return None, Refusal(p.first_line, f"the unit of amounts (元 or 万元) is {how}")
        unit = units.pop()
        funds = {"unit": unit}
        for k in ("annual", "total", "fiscal", "appropriation", "carryover", "other",
                  "prior_year_budget", "prior_year_spent"):
            funds[k] = f.get(k)
        if not any(funds[k] for k in ("fiscal", "appropriation", "other", "carryover")):
            p.notes.append("only the year's amount was found: no 财政拨款 / 其他资金 line")
        return funds, None


    def unit_from_text(self, p: _Project, annual: str) -> set:
        """No 单位：万元 anywhere: the document's own prose may name the same amount
        with its unit (``年度预算安排5万元`` beside a table cell ``5.00``)."""
        found = {}
        for tok in self.toks:
            for m in re.finditer(r"(\d+(?:\.\d+)?)\s*(万元|元)", tok.text):
                if Decimal(m.group(1)) == Decimal(annual):
                    found.setdefault(m.group(2), tok)
        if len(found) == 1:
            unit, tok = next(iter(found.items()))
            p.notes.append(f"line {tok.line}: the unit of amounts is not in the table; "
                           f"{unit} from the text {tok.text[:40]!r}, which names the same amount")
            return {unit}
        return set()


def _annual_block(order: list) -> list:
    """Long-term and annual blocks side by side in one row (``l1 | l2 | name | value | l2 |
    name | value``): keep the row's 一级指标 and its last block.  Rows that hold one block
    (the other left empty, or one cell per line) are kept as they are."""
    rows: dict[int, list] = {}
    for item in order:
        rows.setdefault(item[2].row, []).append(item)
    out = []
    for items in rows.values():
        kinds = [k for k, _, _ in items]
        values_then_l2 = [i for i in range(1, len(items))
                          if kinds[i] == "l2" and "v" in kinds[:i]]
        if values_then_l2:
            last = values_then_l2[-1]
            items = [x for x in items[:last] if x[0] == "l1"] + items[last:]
        out.extend(items)
    return out


def _document_year(items: list, projects: list[_Project]) -> list:
    """A unit's document files every project under its budget year.  Where a project's
    only date is a year inside its own name (``市热燃中心2024年…平台`` in a 2025
    document), the year that at least two thirds of the document's projects share wins."""
    read = [(it, p) for it, p in zip(items, projects) if isinstance(it, ImportedProject)]
    if len(read) < 3:
        return items
    years = [it.year for it, _ in read]
    top = max(set(years), key=years.count)
    if years.count(top) * 3 < len(years) * 2:
        return items
    for it, p in read:
        if it.year != top and p.year_in_name:
            it.notes.append(f"title names {it.year}年; filed under the document's budget year {top}")
            it.year = top
    return items


def _list_header(grid: Grid):
    """The list form (one row per indicator, 项目名称 / 预算数 / 年度目标 as columns, as in many
    部门预算 documents): the row that heads both 项目名称 and 一级指标, and its columns."""
    if not grid.columns:
        return None
    for r, row in enumerate(grid.rows):
        texts = [L.norm(c.text) for c in row.cells]
        if any(L.match(L.HEADER, t) == "name" for t in texts) and \
                any(L.IND_HEAD["l1"].match(t) for t in texts):
            return r, row
    return None


class _ListReader:
    """One row per indicator; a row that fills the 项目名称 column opens a project.  Cells are
    placed by their position among the header's columns, counted from the left where a
    row is whole, and from the indicator columns where merged cells left it short."""

    def __init__(self, reader: "_Reader", head_index: int, head):
        self.r, self.head_index = reader, head_index
        # (kind, key) of each column: the reader's own labels, else an indicator column
        self.roles = [reader.label(n) or ("ind", L.match(L.IND_HEAD, n))
                      for n in (L.norm(c.text) for c in head.cells)]

    def read(self) -> list:
        grid = self.r.grid
        pre = [t for t in self.r.toks if t.row < self.head_index]
        ind_at = next(k for k, r in enumerate(self.roles) if r == ("ind", "l1"))
        ind_roles = [r[1] for r in self.roles[ind_at:]]
        out, cur = [], None
        for row in grid.rows[self.head_index + 1:]:
            cells = [c.text.strip() for c in row.cells]
            while cells and not cells[-1]:
                cells.pop()
            if not cells:
                continue
            lead = next((k for k, c in enumerate(cells) if c), 0)
            if len(cells) >= len(self.roles) - 2 and not (L.level1(cells[lead]) or
                                                          L.level2(cells[lead])):
                # a whole row: the project's columns, then the indicator's
                cur = _Project(first_line=row.line, pre=pre, doc_pre=pre)
                out.append(cur)
                for role, text in zip(self.roles[:ind_at], cells[:ind_at]):
                    if not text:
                        continue
                    kind, key = role
                    if kind == "header" and key in ("name", "unit", "department", "nature",
                                                    "category"):
                        cur.header.setdefault(key, text)
                    elif kind == "funds":
                        self.r.take_amount(cur, key, Tok(text, row.line, 0, 0))
                    elif kind == "goal":
                        cur.goals.setdefault(key, []).append(text)
                rest = cells[ind_at:]
            elif L.level1(cells[lead]) or L.level2(cells[lead]):
                rest = [c for c in cells if c] if cur is not None else None
            else:
                if cur is None:
                    continue              # a summary row above the first project
                rest = None
            if cur is None or rest is None:
                if cur is not None:
                    cur.notes.append(f"line {row.line}: row {' | '.join(cells)[:50]!r} not placed")
                continue
            got = dict(zip(ind_roles, rest))
            name, target = got.get("name"), got.get("target")
            if not name or not target:
                cur.refusal = Refusal(row.line, f"indicator row without a name or a target: "
                                                f"{' | '.join(rest)[:60]!r}")
                continue
            l1, l2 = L.level1(got.get("l1", "")), L.level2(got.get("l2", ""))
            cur.indicators.append({
                "level1": l1 or got.get("l1") or LEVEL1_OF.get(l2), "level2": l2 or got.get("l2"),
                "name": name, "description": got.get("description"),
                "target": compose_target(target, got.get("op"), got.get("unit")),
                "line": row.line})
        if not out:
            return [Refusal(grid.rows[self.head_index].line, "list of indicators without a project row")]
        return [self.r.finish(p) for p in out]


_CITY_RE = re.compile(r"^([^\s\d]{2,6}?(?:市|州|盟|地区))([^\s\d]{1,5}?(?:区|县|旗))?")


def _city_of(name: str) -> str | None:
    m = _CITY_RE.match(name or "")
    if not m:
        return None
    if m.group(2) and len(name) > m.end():
        return m.group(1) + m.group(2)
    return m.group(1) if len(name) > len(m.group(1)) else None


def read(grid: Grid, source: str) -> list:
    return _Reader(ocr.repair(grid), source).read()
