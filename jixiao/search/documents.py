"""What search knows of a project: one plain dict per project, built from the model.

The same dict is stored in the index (for results), gives the text of the
indexed fields, and is what the judged tests compute substring truth over.
"""
from __future__ import annotations

from ..catalog import Catalog, department_slug
from ..derive import level_label
from ..model import Project
from .analysis import SEPARATOR

# indexed field → boost; names and unit names rank above mentions in long text
# (goals, sections, indicators, nature and category share one field: same boost, and
# whoosh's cost is per distinct (field, term))
FIELDS = {"name": 8.0, "unit": 4.0, "department": 2.0, "text": 1.0}


def project_doc(catalog: Catalog, p: Project, order: int) -> dict:
    unit = catalog.unit_of(p)
    dept = catalog.department_of(p)
    published_dept = unit.department or ""
    return {
        "id": p.id,
        "title": p.name,
        "url": p.url,
        "year": p.year,
        "unit": {"id": unit.id, "name": unit.name},
        "unit_code": unit.code or "",
        "department": {"id": department_slug(dept), "name": dept, "published": published_dept},
        "annual_yuan": str(p.funds.annual_yuan),
        "order": order,
        "nature": p.nature or "",
        "category": p.category or "",
        "goals": {"overall": p.goals.overall or "", "annual": p.goals.annual or ""},
        "sections": [[s.title, s.text or ""] for s in p.sections],
        "indicators": [[i.name, i.description or "", i.target or "", i.category] for i in p.indicators],
        "categories": list(p.categories),
        "levels": levels(p),
    }


def levels(p: Project) -> list[str]:
    """The project's distinct 一级/二级指标 labels, in published order: category words
    such as 社会效益 or 满意度 find the projects that report under them."""
    seen: dict[str, None] = {}
    for i in p.indicators:
        for label in (i.level1, i.level2):
            if label:
                seen.setdefault(level_label(label))
    return list(seen)


def unit_docs(catalog: Catalog) -> list[dict]:
    return [{"id": u.id, "name": u.name, "code": u.code or "", "url": u.url,
             "department": department_slug(u.department or "未公布主管部门")}
            for u in catalog.units.values()]


def field_texts(doc: dict) -> dict[str, str]:
    """The text of each indexed field; values of one field are SEPARATOR-joined."""
    join = SEPARATOR.join
    return {
        "name": doc["title"],
        "unit": join(v for v in (doc["unit"]["name"], doc["unit_code"]) if v),
        "department": doc["department"]["published"],
        "text": join(v for v in (
            doc["nature"], doc["category"], doc["goals"]["overall"], doc["goals"]["annual"],
            *(v for s in doc["sections"] for v in s),
            *(v for ind in doc["indicators"] for v in ind[:3]),
            *doc.get("levels", ())) if v),
    }


def documents(catalog: Catalog) -> list[dict]:
    return [project_doc(catalog, p, n) for n, p in enumerate(catalog.projects)]
