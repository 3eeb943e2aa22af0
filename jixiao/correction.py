"""A correction: records edited in place, nothing else changed; rebuilt by visiting only
what the edit touches.

Through the whole pipeline a one-record rebuild at 100,000 projects visits every project
and every output in Python (the catalog's 100,000 summaries, the keep decision of each of
216,855 outputs: 7–8 s).  When the content walk finds only project records changed (none
came or went, no unit changed, nor any template, page, setting, source, the base URL or
the day: ``inputs``; the code is the build state's own key), and each changed record
reads as a valid record whose summary is the one cached (what lists, totals, the search
facets and the indicator pages' aggregate read of it: ``SUMMARY_COLUMNS``, its target key
aside unless the indicator pages sample it), then what can have changed is known
without looking at anything else:

* the outputs whose saved reads hold the record ("r\\t<id>"): its page and its JSON,
  which are all a correction may touch (else it is not one);
* the data files made of its pieces: its year's three, the latest year's again under
  /data/ when it is of that year, its unit's two CSVs;
* its search document (``search.prepare(…, changed)``).

They are made by the renderer as a whole build makes them, from a catalog that holds the
changed records, their units and their units' projects (what a project page reads: its
unit and its other years); a page that comes to read anything else is not a correction
(``NotACorrection``: the whole build runs instead, nothing written).  Every other output,
key and read stays the previous build's.  ``tests/test_correction.py`` compares each
result with a clean build's, byte for byte, and the next whole build's with it.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import orjson

from . import export
from .build_state import BuildState, Memory
from .catalog import Catalog
from .model import Project, Unit
from .outputs import Outputs, Parts
from .reads import _short, digest, split
from .record_cache import WARNED, _columns
from .render import Renderer, _piece, latest_data_file, pieces_key, unit_data_files
from .settings import build_date, read_settings
from .stored import StoredProject
from .validate import _read_one, _read_pages
from .write import unfinished

MAX_RECORDS = 20        # more records changed at once: the whole build (its workers)


class NotACorrection(Exception):
    """Found while making a correction's outputs: the change is more than that."""


def inputs(content: Path, templates: Path) -> str:
    """A digest of what a build reads besides the records and the units: the templates
    (with their static files), the free pages, the published sources, site.yaml and
    synonyms.yaml by name, size, mtime and mode (any write changes mtime_ns, as the record
    cache trusts); the base URL from the environment and the day of the build."""
    parts: list = [os.environ.get("JIXIAO_BASE_URL"), build_date().isoformat()]
    content = Path(content)
    for top in (Path(templates), content / "pages", content / "sources"):
        for folder, dirs, files in os.walk(top):
            dirs.sort()
            for name in sorted(files):
                st = os.lstat(os.path.join(folder, name))
                parts.append((folder, name, st.st_size, st.st_mtime_ns, st.st_mode))
    for name in ("site.yaml", "synonyms.yaml"):
        try:
            st = os.lstat(content / name)
            parts.append((name, st.st_size, st.st_mtime_ns, st.st_mode))
        except FileNotFoundError:
            parts.append((name, None))
    return digest(parts)


@dataclass
class Correction:
    catalog: Catalog             # the changed records, their units, their units' projects
    changed: list[Project]       # the records as they read now
    count: int                   # projects in the site
    latest: int                  # the latest year (its data files are under /data/ too)
    index_catalog: Catalog       # what the index update reads (``search.correctable``)
    reads: bytes                 # the reads file of the previous build (``old_reads``)

    @property
    def ids(self) -> list[str]:
        return [p.id for p in self.changed]

    def render(self, templates: Path, state: BuildState, spill) -> Outputs:
        """The outputs the correction can have changed (``write_site(…, others=True)``
        leaves every other file as it is); what the next build reads is the previous
        build's with theirs."""
        r = Renderer(self.catalog, templates, state=state, spill=spill)
        try:
            for p in self.changed:
                r.project(p, self.catalog.origins[("project", p.id)], changed=True)
            r.start()
            r.flush()
            for path in state.reads:
                _check_reads(path, split(state.reads[path]), self.catalog)
            self._data_files(r, state)
        finally:
            for making in r.making:
                making.close()
            r.reading.release()
        _carry_over(state, r, self.changed, self.reads)
        r.values = None
        if r.outputs.problems:
            raise NotACorrection(r.outputs.problems)
        r.outputs.rendered = r.rendered
        return r.outputs

    def _data_files(self, r: Renderer, state: BuildState) -> None:
        """The changed records' years' data files (and the latest's under /data/), assembled
        from the pieces on disk, and their units' CSVs, as ``render._all_outputs`` makes
        them, with the keys it gives them."""
        c, old_keys = self.catalog, state.old["keys"]
        for p in c.projects:                       # the pieces' keys: the JSON's
            if p.id not in r.piece_keys:
                r.piece_keys[p.id] = old_keys[f"projects/{p.id}.json"]
        made = {p.id: p for p in self.changed}
        for year in sorted({p.year for p in self.changed}, reverse=True):
            paths = export.year_paths(year)
            ids = state._old_table(paths[0]).ids()
            if not ids:
                raise NotACorrection(f"{paths[0]} is not the file written")
            keys = [r.piece_keys[pid] if pid in made else old_keys.get(f"projects/{pid}.json")
                    for pid in ids]
            parts = pieces_key(keys)
            for which, path in enumerate(paths):
                head, sep, tail = export.DATA[which][1:]
                items = [(pid, key, partial(_piece, r, c, made[pid], which) if pid in made
                          else _not_on_disk) for pid, key in zip(ids, keys)]
                r.data(path, partial(state.assemble, path, head, sep, tail, items),
                       f"site route /years/{year}/", parts)
                if year == self.latest:
                    latest_data_file(r, c, which, year, parts)
        for uid in sorted({p.unit for p in self.changed}):
            unit_data_files(r, c, c.units[uid],
                            pieces_key(r.piece_keys[p.id] for p in c.by_unit[uid]))


def _not_on_disk():
    raise NotACorrection("a data file does not hold the piece its project's key names")


_OWN_READS = ("site", "template", "plain", "setting", "page", "source")


def _check_reads(path: str, reads: list[str], c: Catalog) -> None:
    """Whether the catalog of a correction answers every read of an output it made as
    the whole catalog does: its own projects', their units', their other years'."""
    for token in reads:
        kind, _, rest = token.partition("\t")
        if kind in _OWN_READS or (kind in ("r", "p") and rest in c.project_by_id) \
                or (kind == "u" and rest in c.units) \
                or (kind in ("all", "len", "slice") and rest.startswith("other\t")
                    and rest.split("\t")[1] in c.project_by_id):
            continue
        raise NotACorrection(f"{path} reads {token!r}")


def _carry_over(state: BuildState, r: Renderer, changed: list[Project], saved: bytes) -> None:
    """What the next build reads, as what the correction changed of the previous build's
    state (``state.changes``, which ``BuildState.save`` keeps as a delta, or folds into
    the whole state): its outputs' keys, templates and compiled code, the worth of reads
    no output read before (a correction changes no read's worth but its records', which
    the projects' hashes hold), the changed records' hashes (their summaries and totals
    are the ones saved).  The reads file stays as it is when the outputs made read what
    they read before (``saved``)."""
    old, values, current = state.old, r.values, r.catalog.project_by_id
    state.changes = {
        "keys": state.keys, "closures": state.closures, "bytecode": state.bytecode,
        "outputs": [o.path for o in r.outputs],
        "records": {p.id: r.catalog.digests[("project", p.id)] for p in changed},
        "values": {t: _short(values(t)) for t in r.made_reads - old["values"].keys()
                   if not (t[1:2] == "\t" and t[0] in "rp" and t[2:] in current)}}
    if all(_saved_reads(saved, path) == reads for path, reads in state.reads.items()):
        state.reads_kept = True
    else:
        old["reads"].update(state.reads)
        state.reads = old["reads"]


def find(content: Path, strict: bool, memory: Memory, scan, warnings: bool = True
         ) -> Correction | None:
    """The correction the content is of the previous build into the same folder, or None
    (the whole build then: anything else changed, or a record has a problem, which the
    whole build reports with every other).  ``scan()``: the content walk's result
    (``validate.scan_result``), asked once the caches are read; ``warnings``: whether the
    build says the records' warnings (else they are not read)."""
    from . import search
    from .search import static_index
    state, cache = memory.state, memory.records
    if strict or state is None or not state.old["keys"] or state.old["inputs"] != state.inputs \
            or unfinished(state.out):         # (a write was stopped: what it replaced is unsure)
        return None
    cached = cache.stats()                    # (while the content is walked)
    unsafe, unit_paths, project_paths, _, stats = scan()
    if cached is None or stats is None or unsafe or len(stats) != len(cached):
        return None
    changed = sorted(path for path, _ in stats.items() - cached.items())
    if len(changed) > MAX_RECORDS or any(path not in cached for path in changed) \
            or len(unit_paths) + len(project_paths) != len(stats):
        return None
    units = {path.rsplit(os.sep, 2)[-2]: path for path in unit_paths}
    if not set(changed).isdisjoint(unit_paths):
        return None                           # a unit changed
    records = _read_changed(cache, changed, state)
    settings, problems = read_settings(content)
    pages, more = _read_pages(content)
    rewritten = search.correctable(state.out)
    if records is None or problems or more or rewritten is None or (
            settings.static_search and len(project_paths) < static_index.PARALLEL_FROM):
        return None     # (a small site's static index is made from every project's record)
    missing = state.missing()
    if missing is None or missing:
        return None
    saved = state.old_reads()
    for read in records:      # its page and its JSON read its record, and no other output
        pid = read.record.id
        own = (f"projects/{pid}/index.html", f"projects/{pid}.json")
        if not all(path in state.old["keys"] for path in own) \
                or saved.count(b"\\nr\\t" + pid.encode() + b"\\n") != len(own):
            return None
    if any(read.record.unit not in units for read in records):
        return None
    said = sorted([w for read in records for w in read.warnings] + [
        w for shown, row in cache.rows(WARNED).items() if shown not in changed
        for w in cache.entry(shown, row).warnings]) if warnings else []
    make = partial(_catalog, cache, records, units, pages, settings, content, said)
    rows = {}
    for uid in {read.record.unit for read in records}:       # their units' projects
        folder = units[uid][:-len("unit.yaml")]              # …/<unit>/: a range of paths
        rows.update(cache.rows("path > ? AND path < ?",
                               (folder, folder[:-1] + chr(ord(folder[-1]) + 1))))
    catalog = make(rows)
    index_catalog = make(_rows_in(cache, "id", rewritten)) if rewritten else catalog
    latest = max((int(name.split("/")[1]) for name in state.old["pieces"]), default=0)
    return Correction(catalog, [read.record for read in records], len(project_paths), latest,
                      index_catalog, saved)


def _saved_reads(saved: bytes, path: str) -> str | None:
    """What output ``path`` read as the reads file ``saved`` has it (found in its bytes,
    not parsed whole), or None."""
    at = saved.find(orjson.dumps(path) + b":")
    if at < 0:
        return None
    value = _JSON_STRING.match(saved, at + len(orjson.dumps(path)) + 1)
    return None if value is None else orjson.loads(value.group())


_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')


@dataclass
class _Read:
    record: Project
    shown: str
    digest: str
    warnings: list


def _read_changed(cache, changed: list[str], state: BuildState) -> list[_Read] | None:
    """The changed records as they read now, each put in the cache; None unless each is
    valid, cacheable and has the summary cached (its target key aside, unless the
    indicator pages sample it)."""
    rows = _rows_in(cache, "path", changed)
    sampled = (state.old["indicators"] or (None, None, {}))[2]
    out = []
    for path in changed:
        shown, key, value, problems = _read_one((path, path, Project))
        row = rows.get(path)
        if problems or value is None or value[1] is None or key is None or row is None:
            return None
        record, text, _, warns, record_digest, summary = value
        if key[0] == row[0] and key[2] == row[2]:        # the same bytes, written again
            cache.moved[shown] = key
            continue
        columns = _columns(summary)
        if columns[:-1] != row[5:-1] or sampled.get(record.id, columns[-1]) != columns[-1]:
            return None
        cache.put(shown, key, text.encode("utf-8"), warns, record_digest, summary)
        out.append(_Read(record, shown, record_digest, warns))
    return out


def _catalog(cache, records: list[_Read], units: dict[str, str], pages, settings,
             content: Path, warnings: list, rows: dict) -> Catalog:
    """The changed ``records`` and the projects of the cache's ``rows``, with their
    units."""
    projects, digests, origins = [], {}, {}
    for read in records:
        projects.append(read.record)
        digests[("project", read.record.id)] = read.digest
        origins[("project", read.record.id)] = read.shown
    for shown, row in rows.items():
        entry = cache.entry(shown, row)
        if entry.summary is None or ("project", entry.summary[0]) in digests:
            continue                          # a unit's own row, or a changed record
        p = StoredProject(entry.summary, entry.json)
        projects.append(p)
        digests[("project", p.id)] = entry.digest
        origins[("project", p.id)] = shown
    paths = [units[uid] for uid in sorted({p.unit for p in projects})]
    unit_list = []
    for shown, row in _rows_in(cache, "path", paths).items():
        entry = cache.entry(shown, row)
        unit = Unit.model_validate_json(entry.json())
        unit_list.append(unit)
        digests[("unit", unit.id)] = entry.digest
        origins[("unit", unit.id)] = shown
    catalog = Catalog(unit_list, projects, pages, sources=Path(content) / "sources",
                      origins=origins)
    catalog.digests, catalog.settings, catalog.warnings = digests, settings, warnings
    return catalog


def _rows_in(cache, column: str, values: list) -> dict:
    """The cache's rows whose ``column`` is one of ``values``."""
    if not values:
        return {}
    return cache.rows(f"{column} IN ({', '.join('?' * len(values))})", list(values)) or {}
