"""Tables read by OCR, repaired as a grid before the general reader sees them.

    repair(grid) -> grid          (the same grid, ``ocr`` set, when it looks OCR'd)

An OCR tool puts spaces inside words (``经常性专项业 务费``, ``计划开始 日期``, ``满意度指
标``), leaves HTML and LaTeX residue (``<p>``, ``$\\geq 95\\%$``) and spaces the form's
generated targets (``≤ 8000.00 (每年)``).  A grid is taken as OCR'd when form labels of
three kinds are split by a space between two CJK characters, or a cell holds LaTeX
markup; then, in every cell, spaces between two CJK characters go (every other space
stays: ``各镇街道在 2022 年``), HTML residue goes (a paragraph boundary becomes a line
break) and LaTeX becomes the characters it stands for (inside ``$…$`` only).
``target`` undoes the spacing of a target (the reader calls it on OCR'd grids).
"""
from __future__ import annotations

import re

from . import labels as L
from .grid import Cell, Grid, strip_tags

__all__ = ["repair", "clean", "target"]

_CJK = r"\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef“”‘’"
_CJK_SPACE_RE = re.compile(rf"(?<=[{_CJK}])[ \t\u00a0\u3000]+(?=[{_CJK}])")
_MATH_RE = re.compile(r"\$([^$\n]{1,80})\$")
_LATEX_RE = re.compile(r"\$[^$]*(\\[a-z]+|[<>]=)[^$]*\$")
_LATEX = [(r"\geq", "≥"), (r"\leq", "≤"), (r"\ge", "≥"), (r"\le", "≤"), (r"\neq", "≠"),
          (">=", "≥"), ("<=", "≤"), (r"\%", "%"), (r"\times", "×"), (r"\,", ""), (r"\ ", "")]


def _form_label(text: str) -> bool:
    n = L.norm(text)
    return bool(L.match(L.HEADER, n) or L.match(L.FUNDS, n) or L.level1(n) or L.level2(n))


def _looks_ocrd(grid: Grid) -> bool:
    """LaTeX in a cell, or form labels of three kinds split inside a word (one label split
    is a narrow PDF cell wrapping its line: ``其中：财政 资金``)."""
    split = set()
    for row in grid.rows:
        for c in row.cells:
            if _LATEX_RE.search(c.text):
                return True
            if _CJK_SPACE_RE.search(c.text) and _form_label(c.text):
                split.add(L.norm(c.text))
    return len(split) >= 3


def _delatex(text: str) -> str:
    def repl(m: re.Match) -> str:
        s = m.group(1)
        for a, b in _LATEX:
            s = s.replace(a, b)
        return re.sub(r"\s+", "", s)
    return _MATH_RE.sub(repl, text)


def clean(text: str) -> str:
    """An OCR'd cell's text as published: LaTeX as characters, HTML residue and the
    spaces between CJK characters out."""
    return _CJK_SPACE_RE.sub("", strip_tags(_delatex(text))).strip()


def repair(grid: Grid) -> Grid:
    if grid.kind not in ("tabs", "lines", "pipe") or not _looks_ocrd(grid):
        return grid
    grid.ocr = True
    for row in grid.rows:
        cells = []
        for c in row.cells:
            cells.append(Cell(clean(c.text), c.col, c.line))
            if _MATH_RE.search(c.text):
                grid.repairs[c.line] = f"{c.text.strip()!r} read as {cells[-1].text!r} (LaTeX of the OCR)"
        row.cells = cells
    return grid


def target(text: str) -> str:
    """A target as the form generates it: ``≤ 8000.00 (每年)`` → ``≤8000.00(每年)``."""
    text = re.sub(r"([≤≥=<>＝≠])\s+(?=[\d.])", r"\1", text)
    return re.sub(r"(\d)\s+(?=[(（])", r"\1", text)
