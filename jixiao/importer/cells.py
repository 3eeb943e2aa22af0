"""A grid's cells as the reader sees them, and what one cell's text says.

    tokens(grid) -> [Tok]        the non-empty cells in reading order, labels split off
                                 the values glued to them (``项目名称XXX``)

and the readings of one cell: ``amount`` (``'250万'`` → 250, 万元), ``split_code``
(``[042]六安市…局``), ``looks_like_target`` / ``split_name_target`` /
``compose_target`` (指标性质 + 指标值 + 度量单位 → ``≥95%``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from . import labels as L
from .grid import Grid

@dataclass
class Tok:
    text: str
    line: int
    row: int          # index of the grid row
    col: int
    table: int = 0    # the grid row's table (-1: text around tables)
    norm: str = ""

    def __post_init__(self):
        self.norm = L.norm(self.text)


# ---------------------------------------------------------------- cells → tokens

RULE_RE = re.compile(r"^[\s\-—_=─]*-[\s\-—_=─]*$")


def title_of(label: str) -> str:
    """A section's title: its label as written, without line breaks, blanks or the colon."""
    return re.sub(r"\s+", "", label).rstrip("：:")
LEVEL_GLUE_RE = re.compile(r"^(.{2,16}?指标)(.+)$", re.S)
COLON_RE = re.compile(r"^([^:：]{2,16})[:：]\s*(.+)$", re.S)


def is_label(n: str) -> bool:
    return bool(L.match(L.HEADER, n) or L.match(L.FUNDS, n) or L.FUNDS_GROUP.match(L.norm(n))
                or L.match(L.GOALS, n) or L.SECTIONS.match(L.norm(n))
                or L.match(L.IND_HEAD, n))


def split_glued(text: str, inside: bool = False) -> list[str]:
    """``项目名称XXX`` → [项目名称, XXX]; ``年度资金总额:16`` → [年度资金总额, 16];
    ``项目主管部门青山区教育局项目执行单位化工区学校`` → [项目主管部门, 青山区教育局,
    项目执行单位, 化工区学校].  A cell is split only when it starts with a label (a row of
    labels and values glued together); a label word inside running text (…与相关行政主管
    部门实现…) is left alone."""
    t = text.strip()
    if not t:
        return []
    compact = re.sub(r"\s+", "", t)
    m = LEVEL_GLUE_RE.match(compact)
    if m and (L.level1(m.group(1)) or L.level2(m.group(1)) or L.IND_NOISE.match(m.group(1))):
        return [m.group(1)] + split_glued(m.group(2), True)
    m = COLON_RE.match(t)
    if m and is_label(m.group(1)):
        return [m.group(1)] + split_glued(m.group(2), True)
    for lab in L.GLUE_LABELS:
        k = compact.find(lab)
        if k < 0 or compact == lab or (k > 0 and not inside):
            continue
        before, after = compact[:k], compact[k + len(lab):].lstrip(":：")
        if k == 0 or (len(before) >= 2 and not before.endswith(("、", "的", "和"))):
            return (split_glued(before, True) if before else []) + [lab] + \
                split_glued(after, True)
    return [t]


def text_kind(n: str) -> str | None:
    """"goal" or "section" for the label of a text, else None."""
    return "goal" if L.match(L.GOALS, n) else "section" if L.SECTIONS.match(n) else None


def is_any_label(n: str) -> bool:
    return is_label(n) or bool(L.level1(n) or L.level2(n))


def tokens(grid: Grid) -> list[Tok]:
    """The non-empty cells in reading order, glued labels split off their values,
    and a label broken over two cells (``主管部门`` / ``及编码``) joined again."""
    toks = []
    for r, row in enumerate(grid.rows):
        text_label = None       # the cell before is a goal's or a section's label
        for c in row.cells:
            if not c.text or RULE_RE.match(c.text):      # empty, or a drawn rule (-----)
                continue
            n = L.norm(c.text)
            if is_label(n) or L.level1(n) or L.level2(n):
                toks.append(Tok(c.text, c.line, r, c.col, row.table))
                text_label = text_kind(n)
                continue
            parts = split_glued(c.text)
            if text_label and len(parts) > 1 and text_kind(L.norm(parts[0])) == text_label:
                parts = [c.text]     # a text naming its label again (总目标：… under 总目标及阶段性目标)
            text_label = None
            for p in parts:
                toks.append(Tok(p, c.line, r, c.col, row.table))
    out: list[Tok] = []
    for t in toks:
        if out and is_any_label(out[-1].norm + t.norm) and (
                (not is_any_label(t.norm) and len(t.norm) <= 4)
                or (not is_any_label(out[-1].norm) and len(out[-1].norm) <= 4)):
            prev = out.pop()
            t = Tok(prev.text + t.text, prev.line, prev.row, prev.col, prev.table)
        out.append(t)
    return out


# ---------------------------------------------------------------- values

AMOUNT_IN_RE = re.compile(r"^([-−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)\s*(万元|万|元)?")


def amount(text: str) -> tuple[str | None, str | None, str]:
    """``'1,000.00'`` → ('1000.00', None, ''); ``'250万'`` → ('250', '万元', '');
    ``'854万(…)'`` → ('854', '万元', '(…)'); not an amount → (None, None, text)."""
    t = re.sub(r"\s+", "", text or "").replace("，", ",")
    if t in ("", "-", "—", "/", "无", "——"):
        return None, None, ""
    m = AMOUNT_IN_RE.match(t)
    if not m:
        return None, None, t
    unit = {"万": "万元", "万元": "万元", "元": "元"}.get(m.group(2) or "")
    return m.group(1).replace(",", "").replace("−", "-"), unit, t[m.end():]


YEAR_TITLE_RES = (
    re.compile(r"[（(]\s*(20\d\d)\s*年度?\s*[)）]"),
    re.compile(r"(20\d\d)\s*年度?[^，,。]{0,40}(?:绩效目标|目标表|申报表|绩效指标)"),
    re.compile(r"^\s*(20\d\d)\s*年度\s*[)）]?\s*$"),
)
UNIT_OF_AMOUNT_RES = (
    re.compile(r"(?:金额)?单位\s*[:：]\s*(万元|元)"),
    re.compile(r"[（(]\s*(万元|元)\s*[)）]"),
)
DEPT_CODE_RES = (re.compile(r"^[\[【(（]\s*(\d{2,9})\s*[\]】)）]\s*(\S.*)$"),
                  re.compile(r"^(\S.*?\D)\s*(\d{3,9})$"),
                  re.compile(r"^(\d{6,})\s*[-—－_]?\s*(\S.*)$"))


def split_code(text: str) -> tuple[str, str | None]:
    """``[042]六安市金安区体育局`` → (六安市金安区体育局, 042); ``…局 308001`` likewise."""
    t = text.strip()
    for i, rx in enumerate(DEPT_CODE_RES):
        m = rx.match(t)
        if m:
            name, code = (m.group(2), m.group(1)) if i != 1 else (m.group(1), m.group(2))
            return name.strip(), code
    return t, None


OPS = {"≥": "≥", ">=": "≥", "大于等于": "≥", "不低于": "≥", "不少于": "≥", "≤": "≤", "<=": "≤",
        "小于等于": "≤", "不高于": "≤", "不超过": "≤", "=": "=", "等于": "=", ">": ">", "大于": ">",
        "＞": ">", "<": "<", "小于": "<", "＜": "<", "＝": "=", "≧": "≥", "≦": "≤"}
OP_START_RE = re.compile(r"^(?:[≥≤=<>＜＞＝≧≦]|不[低少高超])")
QUALITATIVE = ("稳步提高", "显著提高", "明显提高", "逐步提高", "有效提高", "明显提升", "显著提升",
                "有效提升", "持续提升", "逐步提升", "显著改善", "明显改善", "持续改善", "有所改善",
                "及时", "合格", "达标", "完成", "良好", "满意", "长期", "有效", "提升", "提高",
                "改善", "持续", "优良", "是", "否", "无")


def looks_like_target(text: str) -> bool:
    t = L.norm(text)
    return bool(OP_START_RE.match(t) or re.match(r"^[-+]?\d", t) or t in QUALITATIVE
                or re.fullmatch(r"[≥≤=<>]?\d.*", t))


def split_name_target(text: str) -> tuple[str, str] | None:
    """A glued ``学生家长满意度≥90%`` → (学生家长满意度, ≥90%), only where the target is
    unmistakable: an operator, a number with a short unit at the end, or a stock phrase."""
    t = text.strip()
    m = re.search(r"[≥≤=<>＜＞＝≧≦]", t)
    if m and m.start() >= 2:
        return t[:m.start()].strip(), t[m.start():].strip()
    m = re.search(r"(?<![\d.])\d+(?:\.\d+)?\s*(?:%|％|[^\d\s≥≤=<>，,。、（）()]{0,3})$", t)
    if m and m.start() >= 2:
        return t[:m.start()].strip(), t[m.start():].strip()
    for q in QUALITATIVE:
        if t.endswith(q) and len(t) - len(q) >= 2 and len(q) >= 2:
            return t[:-len(q)].strip(), q
    return None


def compose_target(value: str, op: str | None, unit: str | None) -> str:
    """The target as one string: 指标性质 ``≥`` + 指标值 ``95`` + 度量单位 ``%`` → ``≥95%``."""
    v = value.strip()
    o = OPS.get(L.norm(op or ""), "")
    if o and not OP_START_RE.match(L.norm(v)):
        v = o + v
    u = (unit or "").strip()
    if u and u not in ("/", "-", "—", "无") and not v.endswith(u) and re.search(r"\d$", v):
        v = v + u
    return v
