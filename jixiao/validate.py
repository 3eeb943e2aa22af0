"""Turn the files of ``content/`` into a typed, checked catalog — or every problem at once.

Each file is loaded with marks (``load``), validated by the pydantic models
(``model``), and the pydantic errors are mapped back to ``path:line:col``.
Then the checks that span files: duplicate ids, a project whose unit does
not exist, a file placed under the wrong unit or year, two sources for one URL.
"""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from pydantic import ValidationError

from .catalog import Catalog, Page
from .consistency import warnings as consistency_warnings
from .load import Loaded, field_name, load_yaml
from .model import Project, Unit
from .problems import ContentError, Problem

def _describe(value) -> str:
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:40] + "…")
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    if value is None:
        return "nothing"
    return repr(str(value))


def _message(error: dict) -> str:
    """Pydantic's error, in words a publisher reads."""
    kind, value = error["type"], error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return "unknown key"
    if kind.startswith("decimal") or kind in ("float_parsing", "float_type"):
        return f"expected a number, got {_describe(value)}"
    if kind == "finite_number":
        return f"expected a finite number, got {_describe(value)}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"expected a whole number, got {_describe(value)}"
    if kind in ("greater_than_equal",) and isinstance(value, (int, Decimal)):
        if ctx.get("ge") == 0:
            return f"must not be negative, got {value}"
        return f"must be at least {ctx.get('ge')}, got {value}"
    if kind == "less_than_equal":
        return f"must be at most {ctx.get('le')}, got {value}"
    if kind.startswith("date"):
        return f"expected a date YYYY-MM-DD, got {_describe(value)}"
    if kind == "string_type":
        return f"expected text, got {_describe(value)}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_pattern_mismatch":
        return (f"expected an ASCII id (lower-case letters, digits, single hyphens), "
                f"got {_describe(value)}")
    if kind == "literal_error":
        return f"expected one of {ctx.get('expected')}, got {_describe(value)}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping, got {_describe(value)}"
    if kind == "list_type":
        return f"expected a list, got {_describe(value)}"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return error["msg"]


def _validate(model, loaded: Loaded) -> tuple[object | None, list[Problem]]:
    if not isinstance(loaded.data, dict):
        line, col = loaded.marks.get((), (1, 1))
        return None, [Problem(loaded.path, line, col, "",
                              f"expected a mapping of fields, got {_describe(loaded.data)}")]
    try:
        return model.model_validate(loaded.data), []
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            if error["type"] == "missing" or error["type"] == "extra_forbidden":
                line, col = loaded.mark(loc)
            elif error["type"] == "value_error" and not loc:
                loc = ("end",)        # the one model-level rule: end before start
                line, col = loaded.value_mark(loc)
            else:
                line, col = loaded.value_mark(loc)
            problems.append(Problem(loaded.path, line, col, field_name(loc), _message(error)))
        return None, problems


class _Records:
    """What was read, keyed by id, with where each record came from."""

    def __init__(self, root: Path):
        self.root = root
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.units: dict[str, Unit] = {}
        self.projects: dict[str, Project] = {}
        self.where: dict[tuple[str, str], tuple[Loaded, Path]] = {}

    def shown(self, path: Path) -> str:
        return str(path)

    def read(self, path: Path, model):
        loaded, problems = load_yaml(path, self.shown(path))
        self.problems += problems
        if loaded is None:
            return None, None
        record, problems = _validate(model, loaded)
        self.problems += problems
        return record, loaded

    def add(self, kind: str, record, loaded: Loaded, path: Path) -> bool:
        table = self.units if kind == "unit" else self.projects
        if record.id in table:
            first, _ = self.where[(kind, record.id)]
            fl, fc = first.value_mark(("id",))
            line, col = loaded.value_mark(("id",))
            self.problems.append(Problem(
                loaded.path, line, col, "id",
                f"duplicate {kind} id {record.id!r}, also in {first.path}:{fl}:{fc}"))
            return False
        table[record.id] = record
        self.where[(kind, record.id)] = (loaded, path)
        return True


def _placement(records: _Records, project: Project, loaded: Loaded, path: Path) -> None:
    """A project lives at content/<unit-id>/<year>/<project-id>.yaml."""
    rel = path.relative_to(records.root).parts
    expected = (project.unit, str(project.year), f"{project.id}.yaml")
    for (field, actual, wanted) in zip(("unit", "year", "id"), rel, expected):
        if actual != wanted:
            line, col = loaded.value_mark((field,))
            records.problems.append(Problem(
                loaded.path, line, col, field,
                f"file is at {'/'.join(rel)} but the record says {'/'.join(expected)}; "
                "move the file or correct the field"))
            return


def load_content(root: Path, strict: bool = False) -> Catalog:
    """Read and check everything under ``root``; raise ContentError with all problems.

    Consistency warnings travel on ``catalog.warnings``; ``strict`` makes them errors.
    """
    root = Path(root)
    records = _Records(root)
    if not root.is_dir():
        raise ContentError([Problem(str(root), 1, 1, "", "content directory does not exist")])

    for path in sorted(root.glob("*/unit.yaml")):
        unit, loaded = records.read(path, Unit)
        if unit is None:
            continue
        if unit.id != path.parent.name:
            line, col = loaded.value_mark(("id",))
            records.problems.append(Problem(
                loaded.path, line, col, "id",
                f"unit id {unit.id!r} differs from its folder {path.parent.name!r}"))
        records.add("unit", unit, loaded, path)

    for path in sorted(root.glob("*/*/*.yaml")):
        project, loaded = records.read(path, Project)
        if project is None:
            continue
        _placement(records, project, loaded, path)
        for loc, message in consistency_warnings(project):
            line, col = loaded.value_mark(loc)
            records.warnings.append(Problem(loaded.path, line, col, field_name(loc), message,
                                            severity="warning"))
        if project.unit not in records.units and not (root / project.unit / "unit.yaml").is_file():
            line, col = loaded.value_mark(("unit",))
            records.problems.append(Problem(
                loaded.path, line, col, "unit",
                f"unit {project.unit!r} does not exist (no {root / project.unit / 'unit.yaml'})"))
        records.add("project", project, loaded, path)

    pages = []
    for path in sorted((root / "pages").glob("*.md")):
        page, problems = Page.read(path)
        records.problems += problems
        if page:
            pages.append(page)

    if strict:
        records.problems += [replace(w, severity="error") for w in records.warnings]
    if records.problems:
        raise ContentError(records.problems)
    catalog = Catalog(list(records.units.values()), list(records.projects.values()), pages,
                      sources=root / "sources",
                      origins={key: str(path) for key, (_, path) in records.where.items()})
    catalog.warnings = sorted(records.warnings)
    return catalog
