"""What each page shows: small functions of the catalog (as ``reads.Reading`` shows it
while a page renders) returning the context its template lays out, and the paging of
long lists."""
from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from . import downloads, export
from .catalog import Catalog, Department, total, year_groups
from .filters import FUND_LABELS, markdown, prior_change
from .model import Project, Unit

def free_page_view(page) -> dict:
    return {"page": page, "body": markdown(page.body)}


PAGE_SIZE = 200             # projects per list page (≈70 KB of HTML)
UNITS_PER_PAGE = 200        # units per page of /units/ (≈140 KB)
LIST_LIMIT = 100            # rows of an overview (home, a year, a department) before it
                            # shows the largest and links the full list: a page < 300 KB
INDICATOR_NAMES_SHOWN = 40  # names per 二级指标 with their samples on a category page (the
                            # others as a list of links): a page stays under ~300 KB




def page_paths(url: str, n: int, size: int) -> list[str]:
    """The output paths of a list of ``n`` in pages of ``size`` (one page when empty)."""
    return [url.lstrip("/") + ("" if k == 1 else f"page-{k}/") + "index.html"
            for k in range(1, max(1, -(-n // size)) + 1)]


def list_page(url: str, projects, k: int) -> dict:
    """Page ``k`` of a list of projects: its pager and its projects by year."""
    n = len(projects)
    return {"pager": pager(url, k, max(1, -(-n // PAGE_SIZE)), n, PAGE_SIZE),
            "page_groups": year_groups(projects[(k - 1) * PAGE_SIZE:k * PAGE_SIZE])}


def page_numbers(number: int, count: int) -> list[int]:
    """The pages a pager links from page ``number`` of ``count``: the first, the last and
    two either side (the search page's pager too)."""
    return sorted({1, count, *range(max(1, number - 2), min(count, number + 2) + 1)})


def pager(url: str, number: int, count: int, total: int, size: int) -> dict:
    """Page ``number`` of ``count``: its links (``page_numbers``)."""
    href = lambda k: url if k == 1 else f"{url}page-{k}/"
    shown = page_numbers(number, count)
    return {"number": number, "count": count, "total": total,
            "first": (number - 1) * size + 1, "last": min(total, number * size),
            "prev": href(number - 1) if number > 1 else None,
            "next": href(number + 1) if number < count else None,
            "links": [{"number": k, "href": href(k), "current": k == number,
                       "gap_before": i > 0 and k - shown[i - 1] > 1}
                      for i, k in enumerate(shown)]}


LIST_SORTS = (("amount", "年度资金从多到少"), ("amount_asc", "年度资金从少到多"),
              ("name", "项目名称"), ("year_asc", "年度从早到晚"))


def list_sorts(sort_filter) -> list[dict]:
    """Links to the same projects in other orders (the search server's ``sort``)."""
    from urllib.parse import urlencode
    base = [sort_filter] if sort_filter else []
    return [{"label": label, "href": "/search/?" + urlencode(base + [("sort", s)])}
            for s, label in LIST_SORTS]


def home_view(c: Catalog, indicator_summary: list[dict]) -> dict:
    units = unit_rows(c)
    return {"years": year_groups(c.projects), "total": c.total_yuan,
            "units": units, "departments": c.departments,
            "units_shown": most(units, lambda row: len(row["projects"])),
            "departments_shown": most(c.departments, lambda d: len(d.projects)),
            "indicator_groups": indicator_summary, "coverage": coverage(c)}


def most(rows: list, size) -> list:
    """``rows``, or the ``LIST_LIMIT`` largest by ``size`` when there are more (ties in
    their order)."""
    if len(rows) <= LIST_LIMIT:
        return rows
    return sorted(rows, key=size, reverse=True)[:LIST_LIMIT]


def top_region(region: str | None) -> str:
    """上海市青浦区 → 上海市: the level totals are grouped at."""
    m = re.match(r"^(北京市|天津市|上海市|重庆市|.+?(?:省|自治区|特别行政区)|[^省]+?市)", region or "")
    return m.group(1) if m else (region or "未注明地区")


def coverage(c: Catalog) -> dict:
    """What the site holds, so that no total is read as “the budget”: regions with their
    units, the years present and the years missing in between, and per year and region
    the units, projects and money (totals never mix years or regions)."""
    regions: dict[str, list] = {}
    for u in c.units.values():
        regions.setdefault(top_region(u.region), []).append(u)
    years = sorted({p.year for p in c.projects})
    missing = [y for y in range(years[0], years[-1] + 1) if y not in years] if years else []
    rows: dict[tuple[int, str], list[Project]] = {}
    for p in c.projects:
        rows.setdefault((p.year, top_region(c.unit_of(p).region)), []).append(p)
    by_year_region = [{"year": y, "region": r, "projects": ps, "total": total(ps),
                       "units": len({p.unit for p in ps})}
                      for (y, r), ps in sorted(rows.items(), key=lambda kv: (-kv[0][0], kv[0][1]))]
    return {"regions": [{"name": r, "units": len(us)} for r, us in
                        sorted(regions.items(), key=lambda kv: (-len(kv[1]), kv[0]))],
            "years": years, "missing": missing, "by_year_region": by_year_region}


def unit_pages(c: Catalog) -> list[tuple]:
    """(path, a function of the catalog returning its context) of each page of /units/,
    like the project lists in pages of a bounded size."""
    return [(path, lambda c, k=k: units_page(c, k))
            for k, path in enumerate(page_paths("/units/", len(c.units), UNITS_PER_PAGE), 1)]


def units_page(c: Catalog, k: int) -> dict:
    units = list(c.units.values())
    return {"units": unit_rows(c, units[(k - 1) * UNITS_PER_PAGE:k * UNITS_PER_PAGE]),
            "unit_count": len(units),
            "pager": pager("/units/", k, max(1, -(-len(units) // UNITS_PER_PAGE)), len(units),
                           UNITS_PER_PAGE)}


def unit_rows(c: Catalog, units=None) -> list[dict]:
    rows = []
    for u in (c.units.values() if units is None else units):
        years = sorted({p.year for p in c.by_unit[u.id]}, reverse=True)
        rows.append({"unit": u, "department": u.department or None,
                     "department_url": c.department_url(u.department),
                     "projects": c.by_unit[u.id], "total": total(c.by_unit[u.id]),
                     "years": years, "year_spans": year_spans(years)})
    return rows


def year_spans(years) -> list[tuple[int, int]]:
    """{2016, 2017, 2018, 2020} → [(2016, 2018), (2020, 2020)]: years as runs, for a list
    where every year would be a link (the year pages are one click away anyway)."""
    spans: list[list[int]] = []
    for y in sorted(years):
        if spans and y == spans[-1][1] + 1:
            spans[-1][1] = y
        else:
            spans.append([y, y])
    return [(a, b) for a, b in spans]


def unit_view(c: Catalog, u: Unit) -> dict:
    return {"unit": u, "department_url": c.department_url(u.department),
            "years": year_groups(c.by_unit[u.id]), "total": total(c.by_unit[u.id])}


def department_view(c: Catalog, d: Department) -> dict:
    units = c.unit_groups(d.projects)
    return {"department": d, "units": units, "units_shown": most(units, _funds),
            "all_units": d.units,
            "idle_units": [u for u in d.units if not c.by_unit[u.id]],
            "years": year_groups(d.projects), "total": total(d.projects)}


def year_view(c: Catalog, year: int, projects: list[Project]) -> dict:
    units, departments = c.unit_groups(projects), c.department_groups(projects)
    return {"year": year, "projects": projects, "total": total(projects),
            "units": units, "departments": departments,
            "units_shown": most(units, _funds), "departments_shown": most(departments, _funds)}


def _funds(group) -> Decimal:
    return group.total


def project_view(c: Catalog, p: Project, sources: dict[str, Path]) -> dict:
    unit = c.unit_of(p)
    # where the year's money comes from, when the table says (at least two sources)
    parts = [(label, p.funds.yuan(name)) for name, label in
             (("appropriation", "当年财政拨款"), ("carryover", "上年结转资金"), ("other", "其他资金"))
             if getattr(p.funds, name)]
    if len(parts) < 2 and p.funds.fiscal and p.funds.other:
        parts = [("财政资金", p.funds.yuan("fiscal")), ("其他资金", p.funds.yuan("other"))]
    return {"project": p, "unit": unit, "department": c.department_of(p),
            "prior_change": prior_change(p.funds), "other_years": c.other_years(p),
            "sources_of_money": parts if len(parts) >= 2 else [],
            "department_url": c.department_url(unit.department),
            "funds": [(label, getattr(p.funds, name), p.funds.yuan(name)) for name, label in FUND_LABELS
                      if getattr(p.funds, name) is not None],
            "has_descriptions": any(i.description for i in p.indicators),
            "source_url": (f"/sources/{p.source.document}"
                           if p.source.document in sources else None)}


def data_view(c: Catalog) -> dict:
    years = export.data_years(c)
    return {"files": export.FILES, "project_columns": export.PROJECT_COLUMNS,
            "indicator_columns": export.INDICATOR_COLUMNS, "json_fields": export.JSON_FIELDS,
            "result_columns": downloads.RESULT_COLUMNS,
            "result_indicator_columns": downloads.RESULT_INDICATOR_COLUMNS,
            "indicator_count": sum(y["indicators"] for y in years), "years": years}


def available_sources(c: Catalog) -> dict[str, Path]:
    """Published documents under content/sources/, copied to /sources/<name>."""
    if not (c.sources and c.sources.is_dir()):
        return {}
    # the published files as the publisher saved them; never .html, which the site's own
    # origin would serve as a page
    return {p.name: p for p in sorted(c.sources.iterdir())
            if p.suffix.lower() in (".txt", ".pdf", ".xlsx", ".xls", ".docx") and p.is_file()}

