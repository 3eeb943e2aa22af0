"""Downloads of a search result (``/api/search?…&format=csv`` or ``xlsx``): the matching
projects in the result's order, from what the index stores of each.

CSV cells are verbatim (code reads them; a target such as ``=100(%)`` stays as published).
The workbook is for spreadsheets: every cell is written as text (``write_string``), so a
spreadsheet evaluates nothing a table published, and amounts stay the exact decimals.
"""
from __future__ import annotations

import io

from .export import csv_head, csv_rows

MAX_ROWS = 5000                 # projects in one download; the full data is on /data/
MAX_INDICATOR_ROWS = 50_000     # rows of the workbook's indicator sheet

RESULT_COLUMNS = [
    ("id", "项目编号"), ("year", "年度"), ("name", "项目名称"), ("unit_id", "单位编号"),
    ("unit", "实施单位"), ("unit_code", "单位代码"), ("department", "主管部门"),
    ("nature", "项目性质"), ("category", "项目类别"), ("annual_yuan", "年度资金（元）"),
    ("indicators", "绩效指标个数"), ("url", "本站页面"),
]
RESULT_INDICATOR_COLUMNS = [
    ("project_id", "项目编号"), ("project", "项目名称"), ("name", "三级指标"),
    ("description", "指标描述"), ("target", "指标值"), ("category", "指标类别"),
]


def project_rows(docs: list[dict]) -> list[list[str]]:
    return [[d["id"], str(d["year"]), d["title"], d["unit"]["id"], d["unit"]["name"],
             d.get("unit_code", ""), d["department"]["published"], d.get("nature", ""),
             d.get("category", ""), d["annual_yuan"], str(len(d.get("indicators", ()))),
             d["url"]] for d in docs]


def indicator_rows(docs: list[dict]) -> list[list[str]]:
    from .derive import CATEGORY_LABELS
    return [[d["id"], d["title"], *ind[:3], CATEGORY_LABELS.get(ind[3], ind[3])]
            for d in docs for ind in d.get("indicators", ())]


def results_csv(docs: list[dict]) -> bytes:
    """One row per project; UTF-8 with a BOM (Excel reads it), values verbatim."""
    return csv_head(RESULT_COLUMNS) + csv_rows(project_rows(docs))


def results_xlsx(docs: list[dict], title: str) -> bytes:
    """A workbook: 项目 (one row per project) and 绩效指标 (one row per indicator), with
    Chinese headers and a first line saying what the result is."""
    import xlsxwriter
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_numbers": False,
                                     "strings_to_formulas": False, "strings_to_urls": False})
    indicators = indicator_rows(docs)
    sheets = [("项目", RESULT_COLUMNS, project_rows(docs))]
    if len(indicators) <= MAX_INDICATOR_ROWS:
        sheets.append(("绩效指标", RESULT_INDICATOR_COLUMNS, indicators))
    bold = book.add_format({"bold": True})
    for name, columns, rows in sheets:
        sheet = book.add_worksheet(name)
        sheet.write_string(0, 0, title)
        for c, (_, label) in enumerate(columns):
            sheet.write_string(1, c, label, bold)
        for r, row in enumerate(rows, 2):
            for c, value in enumerate(row):
                if value:
                    sheet.write_string(r, c, value)
        sheet.freeze_panes(2, 0)
    book.close()
    return out.getvalue()
