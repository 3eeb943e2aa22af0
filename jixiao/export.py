"""Open data: the model as JSON and CSV documents (DESIGN §4)."""
from __future__ import annotations

import csv
import io
import json

from .catalog import Catalog
from .model import Project


def _amount(value) -> str | None:
    return None if value is None else str(value)


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
                   "url": f"/sources/{p.source.document}" if p.source.document else None},
    }


def to_json(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=False) + "\n"


def projects_json(catalog: Catalog) -> str:
    return to_json([project_dict(catalog, p) for p in catalog.projects])


def _csv(header: list[str], rows) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return "\ufeff".encode("utf-8") + buf.getvalue().encode("utf-8")   # BOM: Excel reads UTF-8


def projects_csv(catalog: Catalog) -> bytes:
    header = ["id", "year", "name", "unit_id", "unit", "department", "nature", "category",
              "start", "end", "funds_unit", "annual", "annual_yuan", "total", "fiscal",
              "appropriation", "carryover", "other", "prior_year_budget", "prior_year_spent",
              "indicators", "url"]
    rows = []
    for p in catalog.projects:
        u = catalog.unit_of(p)
        f = p.funds
        rows.append([p.id, p.year, p.name, u.id, u.name, u.department or "", p.nature or "",
                     p.category or "", p.start or "", p.end or "", f.unit,
                     *[_amount(getattr(f, n)) or "" for n in ("annual",)], f.annual_yuan,
                     *[_amount(getattr(f, n)) or "" for n in f.AMOUNTS[1:]],
                     len(p.indicators), p.url])
    return _csv(header, rows)


def indicators_csv(catalog: Catalog) -> bytes:
    header = ["project_id", "year", "project", "unit", "level1", "level2", "name",
              "description", "target", "op", "value", "value_unit", "text", "category"]
    rows = []
    for p, i in catalog.indicators():
        t = i.parsed.as_dict()
        rows.append([p.id, p.year, p.name, catalog.unit_of(p).name, i.level1, i.level2, i.name,
                     i.description or "", i.target or "", t["op"] or "", t["value"] or "",
                     t["value_unit"] or "", t["text"] or "", i.category])
    return _csv(header, rows)
