"""Turn the files of ``content/`` into a typed, checked catalog — or every problem at once.

Each file is loaded with marks (``load``), validated by the pydantic models
(``model``), and the pydantic errors are mapped back to ``path:line:col``.
Then the checks that span files: duplicate ids, a project whose unit does
not exist, a file placed under the wrong unit or year, two sources for one URL.
"""
from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from pydantic import ValidationError

from .background import Background, BackgroundError
from .catalog import Catalog, Page
from .consistency import warnings as consistency_warnings
from .load import Loaded, field_name, load_yaml
from .model import Project, Unit
from .parallel import forked_pool
from .settings import read_settings
from .synonyms import read_synonyms
from .problems import ContentError, Problem
from .record_cache import RecordCache
from .stored import StoredProject, summary_of
from .walk import FILE, LINK, OTHER, Listing, walk

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
            if error["type"] == "value_error" and not loc:
                loc = ("end",)        # the one model-level rule: end before start
            # a missing or unknown field is shown at its key (or its parent), others at the value
            at = loaded.mark if error["type"] in ("missing", "extra_forbidden") else loaded.value_mark
            problems.append(Problem(loaded.path, *at(loc), field_name(loc), _message(error)))
        return None, problems


def read_record(path: Path, shown: str, model, raw: bytes | None = None):
    """One file → (record, loaded, problems, warnings).  ``warnings``: the consistency
    warnings of a valid project (each record's own; the cross-file checks are not here)."""
    loaded, problems = load_yaml(path, shown, raw)
    if loaded is None:
        return None, None, problems, []
    record, problems = _validate(model, loaded)
    if record is None:
        return None, loaded, problems, []
    warns = []
    if model is Project:
        for loc, message in consistency_warnings(record):
            line, col = loaded.value_mark(loc)
            warns.append(Problem(loaded.path, line, col, field_name(loc), message,
                                 severity="warning"))
    return record, loaded, problems, warns


def _read_one(job, in_worker: bool = False):
    """(path, shown, model) → (shown, cache key, value, problems).  ``value``: (record,
    its JSON, loaded, warnings, digest, summary) for a valid record, else None.

    The cache keeps a record as its ``model_dump_json`` (validating that JSON again is
    ~4× faster than unpickling the model), and only when that JSON gives back the same
    record (same JSON again); a worker sends the JSON instead of the model, for the same
    reason."""
    path, shown, model = job
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError:
        raw = None
    key = RecordCache.key(path, raw) if raw is not None else None
    record, loaded, problems, warns = read_record(path, shown, model, raw)
    if problems or record is None:
        return shown, None, None, problems
    text = record.model_dump_json()
    digest = hashlib.sha1(text.encode()).hexdigest()
    if model.model_validate_json(text).model_dump_json() != text:
        text = None                      # not exactly representable: never cached
    summary = summary_of(record) if model is Project else None
    if in_worker:
        loaded = Loaded(loaded.path)     # its marks are read again if ever needed (``_at``)
        if text is not None:
            record = None                # made again from ``text`` by the caller
    return shown, key, (record, text, loaded, warns, digest, summary), []


def _read_chunk(jobs):
    _prefetch(path for path, _, _ in jobs)
    return [_read_one(job, in_worker=True) for job in jobs]


def _prefetch(paths) -> None:
    """Ask the OS to start reading these files now: many reads in flight instead of one at
    a time, for records no longer in the page cache."""
    advise = getattr(os, "posix_fadvise", None)
    if advise is None:
        return
    for path in paths:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue                  # _read_one reports it
        try:
            advise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
        except OSError:
            pass
        finally:
            os.close(fd)


PARALLEL_MIN = 500       # fewer files than this are read in this process


def _read_all(jobs: list, cache: RecordCache, stats: dict | None = None) -> dict:
    """shown → (record, loaded, warnings, digest) or None, filling ``cache``; problems by
    file.  A project of an unchanged file comes from the cache as a ``StoredProject``.
    ``stats``: shown → (size, mtime_ns) of the files, when taken already (``scan_ahead``)."""
    results: dict = {}
    problems: dict = {}
    todo = []
    models = {}
    for path, shown, model in jobs:
        models[shown] = model
        if not cache.old:          # nothing cached (a clean build): read in the workers
            todo.append((path, shown, model))
            continue
        try:
            hit = cache.get_by_stat(shown, path, stats and stats.get(shown))
            if hit is None:        # changed size or mtime: the content hash decides
                file = Path(path)
                hit = cache.get(shown, RecordCache.key(file, file.read_bytes()))
        except OSError:
            todo.append((path, shown, model))
            continue
        if hit is None:
            todo.append((path, shown, model))
            continue
        record = (StoredProject(hit.summary, hit.json) if hit.summary is not None
                  else model.model_validate_json(hit.json()))
        results[shown] = (record, hit.loaded, hit.warnings, hit.digest)
    for shown, key, value, probs in _read_todo(todo):
        if value is None:
            problems[shown] = probs
            results[shown] = None
            continue
        record, text, loaded, warns, digest, summary = value
        data = None if text is None else text.encode("utf-8")
        if record is None:          # read by a worker: kept as its JSON (``stored``)
            record = (StoredProject(summary, lambda data=data: data) if summary is not None
                      else models[shown].model_validate_json(data))
        results[shown] = (record, loaded, warns, digest)
        if key is not None and data is not None:
            cache.put(shown, key, data, warns, digest, summary)
    return results, problems


def _read_todo(todo: list):
    """``_read_one`` of each job, in order: in a pool of processes when there are many
    (the caller handles each chunk as it comes, while the workers read the next ones)."""
    pool, chunks = forked_pool(todo, PARALLEL_MIN)
    if pool is None:
        yield from (_read_one(job) for job in todo)
        return
    with pool:
        for chunk in pool.map(_read_chunk, chunks):
            yield from chunk


def _at(loaded: Loaded, field: str, message: str) -> Problem:
    """A problem with the value of ``field`` in ``loaded``."""
    return Problem(loaded.path, *_marked(loaded).value_mark((field,)), field, message)


def _marked(loaded: Loaded) -> Loaded:
    """``loaded`` with its marks: read again from its file when it came without them (a
    record from the cache or from a worker: the file is the one read)."""
    if loaded.marks:
        return loaded
    again, _ = load_yaml(Path(loaded.path))
    return again or loaded


class _Records:
    """What was read, keyed by id, with where each record came from."""

    def __init__(self):
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.units: dict[str, Unit] = {}
        self.projects: dict[str, Project] = {}
        self.where: dict[tuple[str, str], tuple[Loaded, Path | str]] = {}

    def add(self, kind: str, record, loaded: Loaded, path: Path | str) -> bool:
        table = self.units if kind == "unit" else self.projects
        if record.id in table:
            first, _ = self.where[(kind, record.id)]
            fl, fc = _marked(first).value_mark(("id",))
            self.problems.append(_at(loaded, "id", f"duplicate {kind} id {record.id!r}, "
                                                   f"also in {first.path}:{fl}:{fc}"))
            return False
        table[record.id] = record
        self.where[(kind, record.id)] = (loaded, path)
        return True


def _placement(records: _Records, project: Project, loaded: Loaded, path: str) -> None:
    """A project lives at content/<unit-id>/<year>/<project-id>.yaml."""
    rel = tuple(str(path).rsplit(os.sep, 3)[1:])    # <root>/*/*/*.yaml (not pathlib: 100,000)
    expected = (project.unit, str(project.year), f"{project.id}.yaml")
    for (field, actual, wanted) in zip(("unit", "year", "id"), rel, expected):
        if actual != wanted:
            records.problems.append(_at(
                loaded, field, f"file is at {'/'.join(rel)} but the record says "
                               f"{'/'.join(expected)}; move the file or correct the field"))
            return


def _read_pages(root: Path) -> tuple[list[Page], list[Problem]]:
    pages, problems = [], []
    for path in sorted((Path(root) / "pages").glob("*.md")):
        page, found = Page.read(path)
        problems += found
        if page:
            pages.append(page)
    return pages, problems


class Pages(list):
    """The free pages, with the site settings they are shown with (``settings``)."""
    settings = None


def load_pages(root: Path) -> Pages:
    """The free pages (``content/pages/*.md``) and the site settings alone: what a search
    server needs of the content (the footer of ``/search/``), without reading the records."""
    pages, problems = _read_pages(root)
    settings, more = read_settings(root)
    if problems or more:
        raise ContentError(problems + more)
    out = Pages(pages)
    out.settings = settings
    return out


def special_files(root: Path) -> list[Problem]:
    """Symbolic links and special files anywhere under ``root``, which a build must never
    read: a link in content/sources/ would publish whatever it points at (/proc/self/environ,
    /etc/passwd), a link to /dev/zero would be read without end.  Links are not followed,
    so nothing outside ``root`` is even looked at."""
    return _scan(root)[0]


def _scan(root: Path, before: Listing | None = None
          ) -> tuple[list[Problem], list[str], list[str], Listing | None]:
    """(``special_files``, ``*/unit.yaml``, ``*/*/*.yaml`` under ``root`` in glob's order,
    hidden names left out as ``glob`` leaves them, the folders' ``walk.Listing``), from
    the directory entries (no stat per file); the folders unchanged since ``before`` are
    not listed again."""
    root = Path(root)
    if root.is_symlink():
        return ([Problem(str(root), 1, 1, "", "is a symbolic link; give the real folder")],
                [], [], None)
    if before is not None and before.unchanged(str(root)) and _as_found(before, str(root)):
        before.reused = True              # no folder changed: what the last walk found
        return [], before.found[0], before.found[1], before
    problems: list[Problem] = []
    found: tuple[list, list] = ([], [])          # depth 1 (unit.yaml), depth 2 (records)
    listing = walk(str(root), before)
    top = len(str(root).split(os.sep))
    for folder, (_, entries) in listing.folders.items():
        parts = folder.split(os.sep)
        depth = len(parts) - top                     # the folder's: root 0, a unit 1
        hidden = any(part.startswith(".") for part in parts[top:])
        for entry in entries:
            kind, name = entry[0], entry[1:]
            path = os.path.join(folder, name)
            if kind == LINK:
                problems.append(Problem(path, 1, 1, "", "a symbolic link is not read "
                                        "(it could publish any file the build can read); "
                                        "put the file itself here"))
            elif kind == OTHER:
                problems.append(Problem(path, 1, 1, "", "not a regular file (a device, "
                                        "pipe or socket); remove it"))
            elif (kind == FILE and not hidden and name.endswith(".yaml")
                  and not name.startswith(".")
                  and (depth == 2 or (depth == 1 and name == "unit.yaml"))):
                found[depth - 1].append(path)
    by_parts = lambda path: path.replace(os.sep, "\0")    # the order of sorted(Path …)
    units, projects = sorted(found[0], key=by_parts), sorted(found[1], key=by_parts)
    listing.found = None if problems else [units, projects]
    return sorted(problems), units, projects, listing


def _as_found(listing: Listing, root: str) -> bool:
    """Whether the files ``listing`` says the last walk found could be what this walk
    finds: unit files and records at their depth in folders listed, nothing hidden (the
    listing is in the output folder, which a restored CI cache can change; each file is
    then ``lstat``-ed and must be a regular file)."""
    found = listing.found
    if not (isinstance(found, list) and len(found) == 2
            and all(isinstance(paths, list) and all(isinstance(p, str) for p in paths)
                    for paths in found)):
        return False
    top, sep = re.escape(root.rstrip(os.sep) + os.sep), re.escape(os.sep)
    plain = r"[^.\0%s][^\0%s]*" % (sep, sep)              # a name, not hidden
    for paths, shape in ((found[0], f"{top}{plain}{sep}unit\\.yaml"),
                         (found[1], f"{top}{plain}{sep}{plain}{sep}{plain}\\.yaml")):
        if not re.fullmatch(f"(?:{shape}\0)*", "".join(p + "\0" for p in paths)):
            return False
        if not {p.rpartition(os.sep)[0] for p in paths} <= listing.folders.keys():
            return False
    return True


def scan_ahead(root: Path, listed: Path | None = None) -> Background:
    """``_scan`` of ``root`` and the size and mtime of each file found, in a child process
    while the build reads its caches (walking and stat-ing 100,000 record files took
    1.7 s of a rebuild): what ``load_content`` takes as ``scanned``.  ``listed``: where
    the previous build saved its ``walk.Listing`` of ``root``."""
    return Background(_scan_and_stat, Path(root), listed)


def _scan_and_stat(root: Path, listed: Path | None = None) -> tuple:
    before = Listing.read(listed) if listed else None
    unsafe, unit_paths, project_paths, listing = _scan(root, before)
    stats = {}
    for path in (*unit_paths, *project_paths):
        try:
            st = os.lstat(path)
        except OSError:
            continue                  # _read_all reports it
        if not stat.S_ISREG(st.st_mode):     # (a listing taken over that is not the folder's)
            return _scan_and_stat(root) if before is not None else (*_scan(root), None)
        stats[str(path)] = (st.st_size, st.st_mtime_ns)
    # (the listing goes back only when it is new: 41,092 folders took 0.6 s through the pipe)
    kept = listing is not None and listing.reused
    return unsafe, unit_paths, project_paths, None if kept else listing, stats


def scan_result(root: Path, scanned: Background | tuple | None) -> tuple:
    """What ``scan_ahead`` found (``scanned``, or what this returned already), or (when
    it was not asked or failed) ``_scan`` now: (special files, unit files, record files,
    the folders' ``walk.Listing``, the size and mtime of each file, or None)."""
    if isinstance(scanned, tuple):
        return scanned
    if scanned is not None:
        try:
            return scanned.result()
        except BackgroundError:
            pass
    return (*_scan(root), None)


def load_content(root: Path, strict: bool = False, cache: RecordCache | None = None,
                 scanned: Background | tuple | None = None) -> Catalog:
    """Read and check everything under ``root``; raise ContentError with all problems.

    Consistency warnings travel on ``catalog.warnings``; ``strict`` makes them errors.
    ``cache``: records of unchanged files are taken from it (and it is filled; the build
    saves it once the site is written, so a failed build leaves the output folder alone);
    the checks that span files run every time.  ``scanned``: ``scan_ahead(root)`` (or
    its ``scan_result``).
    """
    root = Path(root)
    records = _Records()
    if not root.is_dir():
        raise ContentError([Problem(str(root), 1, 1, "", "content directory does not exist")])
    unsafe, unit_paths, project_paths, _, stats = scan_result(root, scanned)
    if unsafe:
        raise ContentError(unsafe)       # before any file is read
    cache = cache or RecordCache(None)
    # (the records' paths as strings: a Path each for 100,000 files took 0.3 s of a rebuild)
    unit_paths = [Path(p) for p in unit_paths]
    jobs = [(p, str(p), Unit) for p in unit_paths] + [(p, p, Project) for p in project_paths]
    results, problems = _read_all(jobs, cache, stats)      # the caller saves the cache
    for shown in sorted(problems):
        records.problems += problems[shown]
    digests: dict[tuple[str, str], str] = {}   # sha1 of each record's model_dump_json

    for path in unit_paths:
        value = results[str(path)]
        if value is None:
            continue
        unit, loaded, _, digest = value
        digests[("unit", unit.id)] = digest
        if unit.id != path.parent.name:
            records.problems.append(_at(loaded, "id", f"unit id {unit.id!r} differs from "
                                                      f"its folder {path.parent.name!r}"))
        records.add("unit", unit, loaded, path)

    for path in project_paths:
        value = results[path]
        if value is None:
            continue
        project, loaded, warns, digest = value
        digests[("project", project.id)] = digest
        _placement(records, project, loaded, path)
        records.warnings += warns
        if project.unit not in records.units and not (root / project.unit / "unit.yaml").is_file():
            records.problems.append(_at(loaded, "unit", f"unit {project.unit!r} does not exist "
                                        f"(no {root / project.unit / 'unit.yaml'})"))
        records.add("project", project, loaded, path)

    pages, problems = _read_pages(root)
    records.problems += problems
    synonyms, problems = read_synonyms(root)
    records.problems += problems
    settings, problems = read_settings(root)
    records.problems += problems

    if strict:
        records.problems += [replace(w, severity="error") for w in records.warnings]
    if records.problems:
        raise ContentError(records.problems)
    catalog = Catalog(list(records.units.values()), list(records.projects.values()), pages,
                      sources=root / "sources",
                      origins={key: str(path) for key, (_, path) in records.where.items()})
    catalog.warnings = sorted(records.warnings)
    catalog.digests = digests
    catalog.synonyms = synonyms
    catalog.settings = settings
    return catalog
