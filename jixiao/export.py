"""Open data: the model as JSON and CSV documents (DESIGN §4)."""
from __future__ import annotations

import csv
import functools
import io
import json

import orjson

from .catalog import Catalog
from .model import Project


def _amount(value) -> str | None:
    return None if value is None else str(value)


def _date(value) -> str:
    return value.isoformat() if value else ""


def project_dict(catalog: Catalog, p: Project) -> dict:
    unit = catalog.unit_of(p)
    funds = {name: _amount(getattr(p.funds, name)) for name in p.funds.AMOUNTS}
    return {
        "id": p.id,
        "name": p.name,
        "year": p.year,
        "url": p.url,
        "unit": {"id": unit.id, "name": unit.name, "code": unit.code},
        "department": unit.department,
        "region": unit.region,
        "nature": p.nature,
        "category": p.category,
        "start": p.start.isoformat() if p.start else None,
        "end": p.end.isoformat() if p.end else None,
        "funds": {"unit": p.funds.unit, **funds, "annual_yuan": str(p.funds.annual_yuan)},
        "goals": {"overall": p.goals.overall, "annual": p.goals.annual},
        "sections": [{"title": s.title, "text": s.text} for s in p.sections],
        "indicators": [
            {"level1": i.level1, "level2": i.level2, "name": i.name,
             "description": i.description, "target": i.target,
             **i.parsed.as_dict(), "category": i.category}
            for i in p.indicators
        ],
        "source": {"title": p.source.title, "document": p.source.document,
                   "url": f"/sources/{p.source.document}" if p.source.document else None,
                   **({"official_url": p.source.url, "publisher": p.source.publisher,
                       "published": p.source.published.isoformat() if p.source.published
                       else None} if (p.source.url or p.source.publisher or p.source.published)
                      else {})},
    }


def json_line(value) -> bytes:
    """Compact JSON on one line, UTF-8, as ``json.dumps(value, ensure_ascii=False,
    separators=(",", ":"))`` writes it, by orjson (a fifth of the time); json itself for
    what orjson refuses (an integer past 64 bits, a lone surrogate)."""
    try:
        return orjson.dumps(value) + b"\n"
    except orjson.JSONEncodeError:
        return (json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n"
                ).encode("utf-8")


# What the /data/ page says about each file and column; the CSV headers are these names,
# so a column cannot exist without its description (tests/test_site.py checks both ways).
FILES = [
    ("/data/projects.json", "JSON", "最新年度全部项目的完整记录：表头、资金、目标、其他内容、全部绩效指标及其解析结果、来源。其他年度见下方“各年度的文件”。"),
    ("/data/projects.csv", "CSV（UTF-8，带 BOM）", "最新年度的项目，每个项目一行：表头字段与资金（公布数和折合元）。"),
    ("/data/indicators.csv", "CSV（UTF-8，带 BOM）", "最新年度的绩效指标，每条指标一行，附所属项目、单位与指标值的解析结果。"),
    ("/years/<年度>/<年度>-projects.json、…-projects.csv、…-indicators.csv", "JSON、CSV", "一个年度的全部项目与指标，格式与上面三个文件相同；在年度页面和下方“各年度的文件”中下载。"),
    ("/data/index.json", "JSON", "各年度文件的清单：年度、项目数、指标数和三个文件的地址，供程序取得全部年度的数据。"),
    ("/units/<单位编号>/<单位编号>-projects.csv、…-indicators.csv", "CSV", "一个单位各年度的项目与指标，列与上面的 CSV 相同；在单位页面下载。"),
    ("/projects/<id>.json", "JSON", "单个项目的完整记录，与 projects.json 中的一项相同；每个项目页面都有链接。"),
    ("/api/search?…&format=csv 或 format=xlsx", "CSV / Excel", "任意搜索结果（含筛选与排序）的全部项目，最多 5000 个；需要检索服务。Excel 文件中文表头，每格均为文字。"),
]

PROJECT_COLUMNS = [
    ("id", "项目编号（本站固定链接 /projects/<id>/ 的一部分）"),
    ("year", "年度"),
    ("name", "项目名称"),
    ("unit_id", "单位编号"),
    ("unit", "实施单位（预算单位）名称"),
    ("department", "主管部门（未公布时为空）"),
    ("nature", "项目性质"),
    ("category", "项目类别"),
    ("start", "计划开始日期（YYYY-MM-DD）"),
    ("end", "计划完成日期（YYYY-MM-DD）"),
    ("funds_unit", "原表金额单位：元 或 万元"),
    ("annual", "年度资金申请总额（原表数，单位见 funds_unit）"),
    ("annual_yuan", "年度资金申请总额，折合为元（精确到分）"),
    ("total", "项目资金总额（原表数）"),
    ("fiscal", "其中：财政资金（原表数）"),
    ("appropriation", "当年财政拨款（原表数）"),
    ("carryover", "上年结转资金（原表数）"),
    ("other", "其他资金（原表数）"),
    ("prior_year_budget", "同名项目上年预算额（原表数）"),
    ("prior_year_spent", "同名项目上年预算执行数（原表数）"),
    ("indicators", "绩效指标个数"),
    ("url", "本站项目页面的路径"),
]

INDICATOR_COLUMNS = [
    ("project_id", "所属项目编号"),
    ("year", "年度"),
    ("project", "所属项目名称"),
    ("unit_id", "单位编号"),
    ("unit", "实施单位名称"),
    ("department", "主管部门（未公布时为空）"),
    ("level1", "一级指标（原表）"),
    ("level2", "二级指标（原表）"),
    ("name", "三级指标（原表）"),
    ("description", "绩效指标描述（原表有此栏时）"),
    ("target", "指标值，与原表一致"),
    ("op", "解析出的比较符：≥ ≤ = > <；定性指标为空"),
    ("value", "解析出的数值"),
    ("value_unit", "解析出的计量单位，如 %、家次、万元"),
    ("text", "定性内容（如 及时、合格），或数值前的文字"),
    ("category", "指标类别：input 投入与管理、output 产出、cost 成本、benefit 效益、"
                 "satisfaction 满意度、other 其他"),
]

JSON_FIELDS = [
    ("id, name, year, url", "项目编号、名称、年度、本站路径"),
    ("unit", "{id, name, code}：实施单位及其预算代码"),
    ("department, region", "主管部门、地区"),
    ("nature, category, start, end", "项目性质、项目类别、计划起止日期"),
    ("funds", "原表金额（字符串形式的精确小数）及单位 unit；annual_yuan 为年度金额折合元"),
    ("goals", "{overall, annual}：项目总目标、年度总体目标，原文保留换行"),
    ("sections", "[{title, text}]：原表中的其他栏目，按原顺序"),
    ("indicators", "[{level1, level2, name, description, target, op, value, value_unit, text, "
                   "category}]：按原表顺序"),
    ("source", "{title, document, url}：原始公开文件（url 为本站保存的文本）；记录注明时另有 "
               "official_url（官方公开页面）、publisher（发布单位）、published（发布日期）"),
]


BOM = "\ufeff".encode("utf-8")      # Excel reads UTF-8 with it


def csv_rows(rows) -> bytes:
    """Rows as CSV lines (``\r\n``), values verbatim: code reads these (the .xlsx of a
    search result is for spreadsheets)."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return buf.getvalue().encode("utf-8")


def csv_head(columns) -> bytes:
    """The BOM and the header line of a CSV with these ``(name, description)`` columns."""
    return BOM + csv_rows([[name for name, _ in columns]])


def project_row(unit, p: Project) -> list:
    """``p``'s row of projects.csv (``PROJECT_COLUMNS``)."""
    f = p.funds
    return [p.id, p.year, p.name, unit.id, unit.name, unit.department or "", p.nature or "",
            p.category or "", _date(p.start), _date(p.end), f.unit,
            _amount(f.annual) or "", f.annual_yuan,
            *[_amount(getattr(f, n)) or "" for n in f.AMOUNTS[1:]],
            p.indicator_count, p.url]


def indicator_rows(unit, p: Project) -> list[list]:
    """``p``'s rows of indicators.csv (``INDICATOR_COLUMNS``), in published order."""
    rows = []
    for i in p.indicators:
        t = i.parsed.as_dict()
        rows.append([p.id, p.year, p.name, unit.id, unit.name, unit.department or "",
                     i.level1, i.level2, i.name,
                     i.description or "", i.target or "", t["op"] or "", t["value"] or "",
                     t["value_unit"] or "", t["text"] or "", i.category])
    return rows


# The data files, each of some projects (a year's, a unit's): (name, head, separator,
# tail), which = 0, 1, 2.  A file is its head, its projects' pieces (``piece``) joined
# by the separator, and its tail: an incremental build assembles it from the pieces.
DATA = (("projects.json", b"[\n", b",\n", b"\n]\n"),     # one project per line (line tools)
        ("projects.csv", csv_head(PROJECT_COLUMNS), b"", b""),
        ("indicators.csv", csv_head(INDICATOR_COLUMNS), b"", b""))


def data_path(folder: str, name: str, which: int) -> str:
    """Where data file ``which`` of a year or a unit is: ``years/2025/2025-projects.json``."""
    return f"{folder}{name}-{DATA[which][0]}"


@functools.cache
def year_paths(year: int) -> tuple[str, ...]:
    """A year's data files, in ``DATA``'s order (asked once per project by a rebuild)."""
    return tuple(data_path(f"years/{year}/", str(year), w) for w in range(len(DATA)))


def piece(catalog: Catalog, p: Project, which: int) -> bytes:
    """``p``'s piece of data file ``which``: its JSON document (what ``/projects/<id>.json``
    holds, on one line), its row of projects.csv, or its rows of indicators.csv."""
    if which == 0:
        return json_line(project_dict(catalog, p))[:-1]
    unit = catalog.unit_of(p)
    return csv_rows([project_row(unit, p)] if which == 1 else indicator_rows(unit, p))


def joined(which: int, pieces) -> list[bytes]:
    """Data file ``which`` made of these pieces, as its parts."""
    _, head, sep, tail = DATA[which]
    parts = [head]
    for n, one in enumerate(pieces):
        parts += (sep, one) if n else (one,)
    return parts + [tail]


def data_file(catalog: Catalog, which: int, projects) -> bytes:
    """Data file ``which`` of ``projects``, made whole."""
    return b"".join(joined(which, (piece(catalog, p, which) for p in projects)))


def data_years(catalog: Catalog) -> list[dict]:
    """Each year's data files, newest year first, with what they hold (``/data/index.json``
    and the /data/ page)."""
    return [{"year": year, "projects": len(projects),
             "indicators": sum(p.indicator_count for p in projects),
             "files": {name: "/" + path for (name, *_), path in zip(DATA, year_paths(year))}}
            for year in catalog.years for projects in [catalog.by_year[year]]]


def data_index(catalog: Catalog) -> bytes:
    """``/data/index.json``: every year's files; ``/data/projects.json`` and the two CSVs
    under /data/ are the latest year's (``latest``)."""
    years = data_years(catalog)
    return (json.dumps({"latest": years[0]["year"] if years else None, "years": years},
                       ensure_ascii=False, indent=2) + "\n").encode("utf-8")
