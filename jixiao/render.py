"""Render the catalog into pages and data files with Jinja2 (autoescape, StrictUndefined)."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import jinja2
from markdown_it import MarkdownIt

from . import export
from .catalog import Catalog
from .outputs import Outputs

SITE_NAME = "财政项目支出绩效目标公开平台"


def money(value: Decimal | None, places: int = 2) -> str:
    """1234567.8 → 1,234,567.80 (exact: Decimal formatting, no floats)."""
    if value is None:
        return "—"
    return f"{value:,.{places}f}"


def markdown(text: str) -> str:
    """Markdown with raw HTML off; markdown-it refuses javascript:/vbscript:/data: links."""
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    return md.render(text)


def environment(templates: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["money"] = money
    env.globals["site_name"] = SITE_NAME
    env.globals["indicator_rows"] = indicator_rows
    return env


class Renderer:
    def __init__(self, catalog: Catalog, templates: Path):
        self.catalog = catalog
        self.templates = Path(templates)
        self.env = environment(self.templates)
        self.env.globals["catalog"] = catalog
        self.outputs = Outputs()

    def page(self, path: str, template: str, source: str, **context) -> None:
        html = self.env.get_template(template).render(page_path="/" + path, **context)
        self.outputs.add(path, html, source)

    def data(self, path: str, data: bytes | str, source: str) -> None:
        self.outputs.add(path, data, source)


def render_site(catalog: Catalog, templates: Path) -> Outputs:
    r = Renderer(catalog, templates)
    c = catalog
    r.page("index.html", "home.html", "home")
    for p in c.projects:
        origin = c.origins.get(("project", p.id), p.id)
        r.page(f"projects/{p.id}/index.html", "project.html", origin,
               project=p, unit=c.unit_of(p), department=c.department_of(p))
        r.data(f"projects/{p.id}.json", export.to_json(export.project_dict(c, p)), origin)
    r.data("data/projects.json", export.projects_json(c), "data")
    r.data("data/projects.csv", export.projects_csv(c), "data")
    r.data("data/indicators.csv", export.indicators_csv(c), "data")
    if c.sources and c.sources.is_dir():
        for src in sorted(c.sources.glob("*.txt")):
            r.data(f"sources/{src.name}", src.read_bytes(), str(src))
    for static in sorted((r.templates / "static").rglob("*")):
        if static.is_file():
            r.data(f"static/{static.relative_to(r.templates / 'static').as_posix()}",
                   static.read_bytes(), str(static))
    return r.outputs


def indicator_rows(indicators) -> list[dict]:
    """Rows of the indicator table with the rowspans of merged level1/level2 cells.

    Consecutive rows with the same level1 (and level2) merge, as on the form;
    the published order is kept.
    """
    rows = [{"ind": ind, "l1_span": 0, "l2_span": 0} for ind in indicators]
    start1 = start2 = 0
    for i, row in enumerate(rows):
        ind = row["ind"]
        if i == 0 or ind.level1 != rows[i - 1]["ind"].level1:
            start1 = start2 = i
            row["l1_span"] = row["l2_span"] = 1
            continue
        rows[start1]["l1_span"] += 1
        if ind.level2 != rows[i - 1]["ind"].level2:
            start2 = i
            row["l2_span"] = 1
        else:
            rows[start2]["l2_span"] += 1
    return rows
