"""The whole site's content after validation, with the aggregates pages need."""
from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from pathlib import Path

from .derive import CATEGORY_ORDER, level_label, natural_key
from .model import Indicator, Project, Unit
from .problems import Problem
from .settings import Settings

UNPUBLISHED = "未公布主管部门"
INDICATOR_SAMPLE = 3        # projects linked per indicator name on /indicators/<category>/

# Top-level folders the site's own routes write (render.py) or the server answers
# (serve.py: /api/search, /search/).  A free page content/pages/<slug>.md becomes
# /<slug>/, so these names are refused for pages, by check and build alike.
# tests/test_hostile.py fails when render writes a folder that is not listed here.
SITE_ROUTES = frozenset({"api", "data", "departments", "indicators", "projects", "search",
                         "sources", "static", "units", "years"})


@dataclass(frozen=True)
class Page:
    """A free page: ``content/pages/<slug>.md`` → ``/<slug>/``."""
    slug: str
    title: str
    body: str
    path: str

    @property
    def url(self) -> str:
        return f"/{self.slug}/"

    @classmethod
    def read(cls, path: Path) -> tuple[Page | None, list[Problem]]:
        shown = str(path)
        if not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", path.stem):
            return None, [Problem(shown, 1, 1, "", "page file names are ASCII slugs "
                                  "(lower-case letters, digits, hyphens), e.g. about.md")]
        if path.stem in SITE_ROUTES:
            return None, [Problem(shown, 1, 1, "url", f"/{path.stem}/ is a route of the site; "
                                  "rename the page")]
        try:
            body = path.read_bytes().decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError:
            return None, [Problem(shown, 1, 1, "", "file is not UTF-8; save it as UTF-8")]
        match = re.search(r"^#\s+(.+)$", body, re.M)
        if not match:
            return None, [Problem(shown, 1, 1, "", "a page needs a title: a first line '# 标题'")]
        return cls(path.stem, match.group(1).strip(), body, shown), []


@dataclass
class Department:
    name: str
    units: list[Unit]
    projects: list[Project]

    @property
    def slug(self) -> str:
        return department_slug(self.name)

    @property
    def url(self) -> str:
        return f"/departments/{self.slug}/"


def department_slug(name: str) -> str:
    """Department names have no published id; a short stable hash of the name serves."""
    return "d-" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]


def same_name(name: str) -> str:
    """A project's name as compared across years: without any whitespace (a space the
    publisher typed one year and not the next, a full-width space, a line break)."""
    return "".join(name.split())


def total(projects) -> Decimal:
    return sum((p.funds.annual_yuan for p in projects), Decimal("0.00"))


@dataclass
class Group:
    """Projects gathered under a label (a unit, a department, a year) with their total."""
    label: str
    url: str | None
    projects: list[Project]

    @property
    def count(self) -> int:
        return len(self.projects)

    @property
    def total(self) -> Decimal:
        return total(self.projects)

    @property
    def units(self) -> int:
        return len({p.unit for p in self.projects})


def year_groups(projects) -> list[Group]:
    """Projects by year, newest first, each year with its total."""
    out: dict[int, list[Project]] = defaultdict(list)
    for p in projects:
        out[p.year].append(p)
    return [Group(f"{year}年度", f"/years/{year}/", ps)
            for year, ps in sorted(out.items(), reverse=True)]


@dataclass
class Catalog:
    units_list: list[Unit]
    projects_list: list[Project]
    pages: list[Page]
    sources: Path | None = None
    origins: dict = field(default_factory=dict)   # (kind, id) → content file
    warnings: list[Problem] = field(default_factory=list)
    digests: dict = field(default_factory=dict)   # (kind, id) → sha1 of model_dump_json
    synonyms: tuple = ()                          # search synonym groups (content/synonyms.yaml)
    settings: Settings = field(default_factory=Settings)   # content/site.yaml

    def __post_init__(self):
        self.units = {u.id: u for u in sorted(self.units_list, key=lambda u: u.id)}
        # newest year first, then unit and published order (ids end in the order number)
        self.projects = sorted(self.projects_list, key=lambda p: (-p.year, p.unit, p.id))
        self.project_by_id = {p.id: p for p in self.projects}

    def unit_of(self, project: Project) -> Unit:
        return self.units[project.unit]

    def department_of(self, project: Project) -> str:
        return self.units[project.unit].department or UNPUBLISHED

    def digest(self, kind: str, record: Project | Unit) -> str:
        """sha1 of the record's ``model_dump_json`` (kept from load time when known)."""
        return (self.digests.get((kind, record.id))
                or hashlib.sha1(record.model_dump_json().encode()).hexdigest())

    @cached_property
    def by_unit(self) -> dict[str, list[Project]]:
        out = defaultdict(list)
        for p in self.projects:
            out[p.unit].append(p)
        return {uid: out.get(uid, []) for uid in self.units}

    @cached_property
    def by_year(self) -> dict[int, list[Project]]:
        out = defaultdict(list)
        for p in self.projects:
            out[p.year].append(p)
        return dict(sorted(out.items(), reverse=True))

    @cached_property
    def departments(self) -> list[Department]:
        units = defaultdict(list)
        for u in self.units.values():
            units[u.department or UNPUBLISHED].append(u)
        return [Department(name, us, [p for u in us for p in self.by_unit[u.id]])
                for name, us in sorted(units.items())]

    @cached_property
    def years(self) -> list[int]:
        return list(self.by_year)

    @cached_property
    def by_same_name(self) -> dict[tuple[str, str], list[Project]]:
        """(unit id, ``same_name``) → its projects, oldest year first: made once per build,
        so that a project page finds its other years without scanning every project."""
        out: dict[tuple[str, str], list[Project]] = defaultdict(list)
        for p in sorted(self.projects, key=lambda p: (p.year, p.id)):
            out[(p.unit, same_name(p.name))].append(p)
        return dict(out)

    def other_years(self, project: Project) -> list[Project]:
        """The same unit's projects of the same name (``same_name``), but this one,
        oldest year first: the project page links them."""
        return [p for p in self.by_same_name.get((project.unit, same_name(project.name)), ())
                if p.id != project.id]

    def indicators(self):
        """Every (project, indicator), in site order."""
        for p in self.projects:
            for ind in p.indicators:
                yield p, ind

    @cached_property
    def indicator_groups(self) -> list[tuple[str, list[tuple[str, list[tuple[Project, Indicator]]]]]]:
        """category → level2 → [(project, indicator)], in a stable order."""
        tree: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
        for p, ind in self.indicators():
            tree[ind.category][ind.level2].append((p, ind))
        return [(cat, sorted(tree[cat].items(), key=lambda kv: (-len(kv[1]), kv[0])))
                for cat in CATEGORY_ORDER if cat in tree]

    @cached_property
    def indicator_summary(self) -> list[dict]:
        """What the indicator pages show, bounded whatever the number of projects:
        category → level2 (rows, projects) → each distinct indicator name with its count
        and the first ``INDICATOR_SAMPLE`` projects (site order) that publish it, with the
        target (指标值, as published) each of them gives it (``targets``, in step with
        ``projects``), so that a reader compares the targets of one indicator.  Only the
        sampled projects' targets are shown: the incremental build updates them without
        reading every record (render.py ``_indicator_summary``)."""
        tree: dict[str, dict[str, dict[str, list]]] = defaultdict(lambda: defaultdict(dict))
        for p in self.projects:
            for ind in p.indicators:
                names = tree[ind.category][level_label(ind.level2)]     # 数量 = 数量指标
                entry = names.get(ind.name)
                if entry is None:
                    names[ind.name] = entry = [0, {}]
                entry[0] += 1
                if p.id not in entry[1]:        # its first indicator of that name
                    entry[1][p.id] = (p, ind.target)
        out = []
        for cat in CATEGORY_ORDER:
            if cat not in tree:
                continue
            level2s = []
            for level2, names in tree[cat].items():
                rows = []
                for name, (n, ps) in names.items():
                    sample = list(ps.values())[:INDICATOR_SAMPLE]
                    rows.append({"name": name, "count": n, "project_count": len(ps),
                                 "projects": [p for p, _ in sample],
                                 "targets": [t for _, t in sample]})
                rows.sort(key=lambda r: (-r["count"], natural_key(r["name"])))
                level2s.append({"level2": level2, "count": sum(r["count"] for r in rows),
                                "project_count": len({pid for _, ps in names.values()
                                                      for pid in ps}),
                                "names": rows})
            level2s.sort(key=lambda g: (-g["count"], g["level2"]))
            out.append({"category": cat, "count": sum(g["count"] for g in level2s),
                        "level2s": level2s})
        return out

    def department_url(self, name: str | None) -> str:
        return f"/departments/{department_slug(name or UNPUBLISHED)}/"

    def unit_groups(self, projects) -> list[Group]:
        """``projects`` by unit, in unit order, units without projects left out."""
        by: dict[str, list[Project]] = defaultdict(list)
        for p in projects:
            by[p.unit].append(p)
        return [Group(u.name, u.url, by[u.id]) for u in self.units.values() if by[u.id]]

    def department_groups(self, projects) -> list[Group]:
        """``projects`` by 主管部门, in department order."""
        by: dict[str, list[Project]] = defaultdict(list)
        for p in projects:
            by[self.department_of(p)].append(p)
        return [Group(d.name, d.url, by[d.name]) for d in self.departments if by[d.name]]

    @property
    def total_yuan(self) -> Decimal:
        return total(self.projects)
