"""Every published file becomes a grid: rows of cells, each cell with its column and source line.

    read_grid(path) -> Grid

The general reader (``reader.py``) sees only grids, whatever the file was:

- ``.html`` / ``.htm``: every ``<table>`` (lxml), rowspan/colspan expanded so that a
  cell keeps its column; text outside tables (titles such as ``2025年度…绩效目标表``,
  ``单位：万元``) becomes rows of one cell;
- ``.xlsx``: every sheet (openpyxl), merged ranges read once, at their first cell;
- ``.xls`` (and ``.et``): the binary Excel format (xlrd) the same way, or, under that name,
  an ``.xlsx`` or a web page (what many budget systems' "export to Excel" writes);
- ``.docx``: paragraphs and tables in document order (python-docx), merged cells once;
- ``.pdf``: each page's text lines (pdfplumber), cells split at wide gaps, so that a
  PDF with a text layer reads like the PDF text a publisher copies;
- ``.csv`` / ``.tsv``: a sheet saved as CSV (the csv module; the delimiter sniffed);
- text: cells separated by ``|`` (a web table copied), by tabs (Word, OCR), or one
  line per row with cells split at runs of spaces (PDF text, stored web pages).

A cell's ``line`` is the 1-based line of the source (text), the row number (sheets,
tables), or the page's line number across pages (PDF): what ``path:line`` points at.
"""
from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass, field

from .base import join_wrapped

__all__ = ["Cell", "Row", "Grid", "read_grid", "text_grid", "GridError"]


class GridError(Exception):
    """A file that cannot be turned into a grid (unreadable, wrong format)."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line, self.message = line, message


@dataclass(frozen=True)
class Cell:
    text: str          # the cell's text, stripped; '' for an empty or merged cell
    col: int           # 0-based column in its table (after span expansion)
    line: int          # 1-based line (or row) of the source


@dataclass
class Row:
    cells: list[Cell]
    line: int
    table: int = 0     # which table of the file the row belongs to; -1 for text around tables

    @property
    def texts(self) -> list[str]:
        return [c.text for c in self.cells if c.text]


@dataclass
class Grid:
    rows: list[Row] = field(default_factory=list)
    kind: str = "text"     # html, xlsx, docx, pdf, pipe, tabs, lines
    # True where cells keep their columns (a real table): empty cells are kept,
    # a merged cell stands once and the rows it spans start further right.
    columns: bool = False
    ocr: bool = False      # read by OCR (``ocr.repair``): its targets' spacing is noise
    repairs: dict = field(default_factory=dict)   # line → what a repair changed there

    def next_table(self) -> int:
        return 1 + max([0] + [r.table for r in self.rows])

    def add(self, texts: list[str], line: int, cols: list[int] | None = None,
            table: int = 0) -> None:
        cols = cols if cols is not None else list(range(len(texts)))
        cells = [Cell(_clean(t), c, line) for t, c in zip(texts, cols)]
        if any(c.text for c in cells):
            self.rows.append(Row(cells, line, table))


_SPACE_RE = re.compile(r"[ \t\u3000\xa0]+")


# PDF fonts often map ideographs to radical code points: ⾸⻚ for 首页.  Kangxi radicals
# fold under NFKC; the simplified forms of the supplement need this table.
_RADICALS = str.maketrans(dict(zip(
    "⻔⻚⻓⻢⻋⻅⻆⻛⻜⻝⻩⻬⻮⻰⻳⻥⻦⻨⻉⻊⻄⻌⻖⻗⻘⻙⻈⻕⻤⻪⻣",
    "门页长马车见角风飞食黄齐齿龙龟鱼鸟麦贝足西辶阝雨青韦讠阝鬼黾骨")))


def _unradical(text: str) -> str:
    if not any("\u2e80" <= ch <= "\u2fdf" for ch in text):
        return text
    import unicodedata
    return "".join(unicodedata.normalize("NFKC", ch) if "\u2f00" <= ch <= "\u2fdf" else ch
                   for ch in text).translate(_RADICALS)


_TAG_RE = re.compile(r"</?(?:p|br|span|div|font|strong|b|i|em|u)(?:\s[^<>]*)?/?>", re.I)
_PARA_RE = re.compile(r"</p>\s*<p(?:\s[^<>]*)?>", re.I)


def strip_tags(text: str) -> str:
    """HTML residue of an extraction out; a paragraph boundary becomes a line break."""
    if "<" not in text:
        return text
    return _TAG_RE.sub("", _PARA_RE.sub("\n", text)).strip()


def _clean(text: str | None) -> str:
    """A cell's text: HTML residue out, line breaks inside a cell kept as \\n, blanks
    around them dropped."""
    if text is None:
        return ""
    text = strip_tags(_unradical(str(text)))
    lines = [_SPACE_RE.sub(" ", t).strip() for t in str(text).replace("\r", "\n").split("\n")]
    return "\n".join(t for t in lines if t)


# ---------------------------------------------------------------- text

_PIPE_SEP_RE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_CELL_GAP_RE = re.compile(r"[ \u3000\xa0]{2,}|\t")


def text_grid(text: str) -> Grid:
    """Text as published or copied: ``|`` rows, tab rows, or lines split at blanks."""
    lines = text.split("\n")
    content = [ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    closed = sum(1 for ln in content if ln.count("|") == 1 and ln.rstrip().endswith("|"))
    multi = sum(1 for ln in content if "|" in ln) - closed
    tabs = sum(1 for ln in content if "\t" in ln.strip("\t ") or ln.startswith("\t"))
    if content and closed >= 0.5 * len(content) and multi < 0.5 * closed:
        return _closed_cell_grid(lines)
    if content and closed + multi >= 0.3 * len(content):
        return _pipe_grid(lines)
    if content and tabs >= 0.3 * len(content):
        return _row_grid(lines, "tabs", True, lambda ln: ln.rstrip().split("\t"))
    return _row_grid(lines, "lines", False, _split_line)


def _comment(line: str) -> bool:
    # the fixture header ("# source: …") and markdown headings are not cells
    return line.lstrip().startswith("#")


def _pipe_grid(lines: list[str]) -> Grid:
    g = Grid(kind="pipe", columns=True)
    # rows of the table are table 1; text lines around it are not
    for n, ln in enumerate(lines, 1):
        if not ln.strip() or _comment(ln) or _PIPE_SEP_RE.match(ln):
            continue
        s = ln.strip()
        if "|" not in s:
            g.add([s], n, table=-1)     # text around the table: a title, a page's footer
            continue
        if s.startswith("|"):
            s = s[1:]
        if s.endswith("|"):
            s = s[:-1]
        g.add(s.split("|"), n, table=1)
    return g


def _closed_cell_grid(lines: list[str]) -> Grid:
    """A web table as some sites store it: each cell ends in ``|`` and may run over
    several lines; ``||||`` pads a row.  Rows are lost, so every cell is a row of its own."""
    g = Grid(kind="cells", columns=False)
    buf: list[str] = []
    start = None
    for n, ln in enumerate(lines, 1):
        if _comment(ln) and not buf:
            continue
        parts = ln.split("|")
        for k, part in enumerate(parts):
            if part.strip() and start is None:
                start = n
            buf.append(part)
            if k < len(parts) - 1:                 # a | closes the cell
                text = "\n".join(b for b in buf if b.strip())
                if text.strip():
                    g.add([text], start)
                buf, start = [], None
    tail = "\n".join(b for b in buf if b.strip())
    if tail.strip():
        g.add([tail], start or len(lines))
    return g


def _row_grid(lines: list[str], kind: str, columns: bool, cells) -> Grid:
    """One row per non-blank line, its cells split by ``cells`` (tabs; or blanks for text
    lines, whose columns are not kept)."""
    g = Grid(kind=kind, columns=columns)
    for n, ln in enumerate(lines, 1):
        if ln.strip() and not _comment(ln):
            g.add(cells(ln), n)
    return g


_CJK = r"\u3400-\u9fff"
_WORD_GAP_RE = re.compile(rf"(?<=[{_CJK}）)%％\d.。；：”’、])\s+(?=[{_CJK}（(≥≤＞＜>=<≧≦＝\d])")


_DATE_RE = re.compile(r"\d{4}\s*年\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?")


def _split_line(line: str) -> list[str]:
    """A text line's cells: split at tabs and wide gaps, and at single blanks between
    Chinese words (PDF text and copied pages keep one blank where a cell ended)."""
    line = _DATE_RE.sub(lambda m: re.sub(r"\s+", "", m.group(0)), line)   # 2019年 1 月 1日
    parts = [p for p in _CELL_GAP_RE.split(line.strip()) if p.strip()]
    out: list[str] = []
    for p in parts:
        out.extend(x for x in _WORD_GAP_RE.split(p.strip()) if x.strip())
    return out


# ---------------------------------------------------------------- html

def _html_grid(data: bytes) -> Grid:
    import lxml.html

    doc = lxml.html.document_fromstring(data)
    for bad in doc.xpath("//script|//style|//noscript"):
        bad.drop_tree()
    g = Grid(kind="html", columns=True)
    row_no = [0]

    def walk(el):
        for child in el:
            if not isinstance(child.tag, str):
                continue
            tag = child.tag.lower()
            if tag == "table":
                if child.xpath(".//table"):      # a layout table around the real one
                    walk(child)
                else:
                    _html_table(child, g, row_no)
            elif tag in ("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "caption", "title"):
                text = child.text_content()
                if text.strip():
                    row_no[0] += 1
                    g.add([text], row_no[0], table=-1)
            else:
                if child.text and child.text.strip() and tag in ("div", "span", "font", "b",
                                                                   "strong", "center", "td"):
                    row_no[0] += 1
                    g.add([child.text], row_no[0], table=-1)
                walk(child)

    walk(doc.body if doc.find("body") is not None else doc)
    return g


def _html_table(table, g: Grid, row_no: list[int]) -> None:
    index = g.next_table()
    pending: dict[int, int] = {}          # column -> rows still covered by a rowspan above
    for tr in table.xpath("./tr|./thead/tr|./tbody/tr|./tfoot/tr"):
        row_no[0] += 1
        texts, cols = [], []
        col = 0
        for td in tr.xpath("./td|./th"):
            while pending.get(col, 0) > 0:
                col += 1
            try:
                cspan = max(1, min(int(td.get("colspan", "1") or 1), 50))
                rspan = max(1, min(int(td.get("rowspan", "1") or 1), 500))
            except ValueError:
                cspan, rspan = 1, 1
            for br in td.xpath(".//br"):
                br.tail = "\n" + (br.tail or "")
            blocks = [b.text_content() for b in td.xpath(".//p|.//div[not(.//p)]")]
            text = "\n".join(blocks) if blocks else td.text_content()
            texts.append(text)
            cols.append(col)
            if rspan > 1:
                for c in range(col, col + cspan):
                    pending[c] = rspan          # decremented below, this row included
            col += cspan
        for c in list(pending):
            pending[c] -= 1
            if pending[c] <= 0:
                del pending[c]
        g.add(texts, row_no[0], cols, table=index)


# ---------------------------------------------------------------- xlsx

def _xlsx_grid(path) -> Grid:
    """``path``: a file name or an open binary file (a sheet under another extension)."""
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=False, data_only=True)
    return _sheets_grid(
        ([(m.min_row - 1, m.min_col - 1, m.max_row, m.max_col) for m in ws.merged_cells.ranges],
         ([(cell.value, getattr(cell, "number_format", "")) for cell in row]
          for row in ws.iter_rows()))
        for ws in wb.worksheets)


def _sheets_grid(sheets) -> Grid:
    """Sheets — (merged ranges as 0-based (first row, first column, end row, end column),
    rows of (value, number format)) — as one grid: every sheet, a merged range read once,
    at its first cell, numbers with their published decimals (``_xlsx_text``)."""
    g = Grid(kind="xlsx", columns=True)
    line = 0
    for merged, rows in sheets:
        covered = {(r, c) for r0, c0, r1, c1 in merged
                   for r in range(r0, r1) for c in range(c0, c1) if (r, c) != (r0, c0)}
        for r, row in enumerate(rows):
            line += 1
            kept = [(c, _xlsx_text(v, fmt)) for c, (v, fmt) in enumerate(row)
                    if (r, c) not in covered]
            g.add([t for _, t in kept], line, [c for c, _ in kept])
    return g


def _xlsx_text(v, number_format: str) -> str:
    """A cell as the sheet shows it: numbers with their published decimals, never a float's repr."""
    from decimal import Decimal
    import datetime as dt

    if v is None:
        return ""
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, (int, float)):
        d = Decimal(str(v))
        m = re.search(r"0\.(0+)", number_format or "")
        if m:
            d = d.quantize(Decimal(1).scaleb(-len(m.group(1))))
        text = format(d, "f")
        if "%" in (number_format or ""):
            text = format((d * 100).normalize(), "f") + "%"
        return text
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _old_sheet_grid(path: str, ext: str) -> Grid:
    """``.xls`` (and WPS's ``.et``) as finance systems export them: the binary Excel
    format (xlrd), or, under the same name, an ``.xlsx`` or a saved web page (what many
    budget systems' "export to Excel" writes) — told by the file's first bytes."""
    with open(path, "rb") as f:
        head = f.read(512)
        f.seek(0)
        if head.startswith(b"PK\x03\x04"):
            return _xlsx_grid(f)
        if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
            return _html_grid(f.read())
    if not head.startswith(_OLE2):
        raise GridError(1, f"not a spreadsheet: this {ext} file is neither Excel's binary "
                           f"format, nor .xlsx, nor a web page")
    return _xls_grid(path)


def _xls_grid(path: str) -> Grid:
    """The binary Excel format (BIFF, ``.xls``), read as an ``.xlsx`` is (``_sheets_grid``)."""
    import xlrd

    book = xlrd.open_workbook(path, formatting_info=True)

    def cell(c) -> tuple:
        fmt = book.format_map.get(book.xf_list[c.xf_index].format_key)
        value = {xlrd.XL_CELL_DATE: lambda v: xlrd.xldate_as_datetime(v, book.datemode),
                 xlrd.XL_CELL_BOOLEAN: bool, xlrd.XL_CELL_EMPTY: lambda v: None,
                 xlrd.XL_CELL_BLANK: lambda v: None, xlrd.XL_CELL_ERROR: lambda v: None
                 }.get(c.ctype, lambda v: v)(c.value)
        return value, fmt.format_str if fmt else ""
    return _sheets_grid(
        ([(r0, c0, r1, c1) for r0, r1, c0, c1 in sheet.merged_cells],
         ([cell(sheet.cell(r, c)) for c in range(sheet.ncols)] for r in range(sheet.nrows)))
        for sheet in book.sheets())


# ---------------------------------------------------------------- docx

def _docx_grid(path: str) -> Grid:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    d = docx.Document(path)
    g = Grid(kind="docx", columns=True)
    line = 0
    for block in d.iter_inner_content():
        if isinstance(block, Paragraph):
            if block.text.strip():
                line += 1
                g.add([block.text], line, table=-1)
        elif isinstance(block, Table):
            index = g.next_table()
            above: list = []
            for row in block.rows:
                line += 1
                texts, cols, seen = [], [], []
                tcs = [cell._tc for cell in row.cells]    # kept alive: compared by identity
                for c, tc in enumerate(tcs):
                    # a horizontally merged cell is repeated in row.cells; a vertically
                    # merged one is repeated under itself: both stand once
                    if any(tc is x for x in seen) or (c < len(above) and above[c] is tc):
                        texts.append("")
                    else:
                        texts.append(row.cells[c].text)
                    seen.append(tc)
                    cols.append(c)
                above = tcs
                g.add(texts, line, cols, table=index)
    return g


# ---------------------------------------------------------------- pdf

def _pdf_grid(path: str) -> Grid:
    import logging
    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    return _pdf_tables(path)


def _pdf_tables(path: str) -> Grid:
    """Ruled tables are read as tables (cells keep their columns, a merged cell stands
    once), the text around them as lines; a PDF without ruled tables reads as its lines."""
    import pdfplumber

    g = Grid(kind="pdf", columns=True)
    line = 0
    any_text = False
    last_kind, last_table = None, 0
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            # a table that runs over a page break has no rule above its first row on the
            # new page: close it with the vertical rules' own top and bottom
            verticals = [r for r in page.rects + page.lines if abs(r["x1"] - r["x0"]) < 2]
            explicit = sorted({round(v["top"], 1) for v in verticals} |
                              {round(v["bottom"], 1) for v in verticals})
            settings = {"explicit_horizontal_lines": [explicit[0], explicit[-1]]} \
                if explicit else {}
            tables = page.find_tables(settings)
            boxes = [t.bbox for t in tables]
            items = []        # (top, kind, payload)
            for t in tables:
                items.append((t.bbox[1], "table", t))
            words_page = page
            if boxes:
                words_page = page.filter(lambda o: not any(
                    b[0] - 1 <= o.get("x0", -1) and o.get("x1", 1e9) <= b[2] + 1 and
                    b[1] - 1 <= o.get("top", -1) and o.get("bottom", 1e9) <= b[3] + 1
                    for b in boxes))
            for tl in words_page.extract_text_lines(x_tolerance=1.5) if hasattr(
                    words_page, "extract_text_lines") else []:
                items.append((tl["top"], "line", tl["text"]))
            first = True
            for _, kind, payload in sorted(items, key=lambda x: x[0]):
                continued = first and kind == "table" and last_kind == "table"
                first = False
                last_kind = kind
                if kind == "line":
                    line += 1
                    if payload.strip():
                        any_text = True
                        g.add(_split_line(payload), line, table=-1)
                    continue
                index = last_table if continued else g.next_table()
                last_table = index
                for row in payload.extract(x_tolerance=1.5):
                    line += 1
                    # a PDF cell's line breaks are where the text wrapped, not paragraphs
                    texts = ["" if c is None else join_wrapped(c.split("\n")) for c in row]
                    if any(t.strip() for t in texts):
                        any_text = True
                    g.add(texts, line, table=index)
    if not any_text:
        raise GridError(1, "the PDF has no text layer (a scan); run OCR first or import the "
                           "publisher's Word or Excel file")
    if not any(True for _ in g.rows) or all(len(r.cells) <= 1 for r in g.rows):
        g.columns = False
    return g


# ---------------------------------------------------------------- dispatch

def csv_grid(text: str) -> Grid:
    """A sheet saved as CSV (commas, semicolons or tabs; quoted cells may hold line
    breaks): rows and columns as the sheet had them, each row at its first line."""
    import csv
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    g = Grid(kind="csv", columns=True)
    reader = csv.reader(io.StringIO(text), dialect)
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            raise GridError(reader.line_num, f"not a CSV table: {e}") from None
        g.add(row, line)
    return g


def read_text(path: str) -> str:
    with open(path, "rb") as f:
        data = f.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            line = data.count(b"\n", 0, e.start) + 1
            raise GridError(line, f"not UTF-8 text (byte 0x{data[e.start]:02x} at offset "
                                  f"{e.start}); save the table as UTF-8") from None
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def read_grid(path: str) -> Grid:
    ext = os.path.splitext(path)[1].lower()
    try:
        if ext in (".html", ".htm"):
            with open(path, "rb") as f:
                return _html_grid(f.read())
        if ext == ".xlsx":
            return _xlsx_grid(path)
        if ext in (".xls", ".et"):
            return _old_sheet_grid(path, ext)
        if ext in (".csv", ".tsv"):
            return csv_grid(read_text(path))
        if ext == ".docx":
            return _docx_grid(path)
        if ext == ".pdf":
            return _pdf_grid(path)
        if ext in (".doc", ".wps"):
            raise GridError(1, f"{ext} is an old binary format: save it as .docx and import that")
    except GridError:
        raise
    except OSError:
        raise
    except Exception as e:  # a library's own error on a broken file
        raise GridError(1, f"cannot read this {ext[1:]} file: {type(e).__name__}: {e}") from None
    return text_grid(read_text(path))
