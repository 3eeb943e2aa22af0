"""Render the catalog into pages and data files with Jinja2 (autoescape, StrictUndefined).

``render_site`` lists every kind of output, top to bottom.  Each page gets its
context from a small function of the catalog as ``reads.Reading`` shows it (``views``;
what the view and the templates read is recorded, and keys the output); the templates
only lay it out, with ``filters``.  Nothing here is written to disk: ``write`` does that once everything
rendered.
"""
from __future__ import annotations

import functools
import itertools
import operator
import os
import traceback
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

import jinja2

from . import export, views
from .build_state import BuildState, Bytecode
from .catalog import INDICATOR_SAMPLE, Catalog, year_groups
from .derive import level_label
from .filters import FILTERS, GLOBALS
from .model import Project
from .outputs import Outputs, Parts, Staged
from .parallel import forked_pool
from .problems import ContentError, Problem
from .reads import SUMMARY, Changed, Reading, Values, digest, joined, split
from .settings import build_date
from .stored import StoredProject
from .views import (INDICATOR_NAMES_SHOWN, available_sources, data_view,
                    department_view, free_page_view, home_view, list_page, list_sorts,
                    page_paths, project_view, unit_pages, unit_view, year_view)

# Absolute URLs (sitemap.xml, robots.txt) start with this; set JIXIAO_BASE_URL when deploying.
DEFAULT_BASE_URL = "http://127.0.0.1:8000"


class _Recording(jinja2.Environment):
    """Jinja's environment, noting (while ``reads`` is a set: ``reads.Reading``) each
    project a template reads: its summary (``SUMMARY``) or, for any other field
    (``p.goals``, ``p['source']``, what ``map``, ``sort`` or ``groupby`` read through
    ``getitem``), its whole record.  A project read from a list (``reads.Noted``) notes
    a read of its record itself; its summary was read with the list."""
    reads: set | None = None

    def getattr(self, obj, attribute):      # jinja2.Environment.getattr, inline (hot)
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            # what jinja's getattr does for a view's dict (a plain dict has no attribute but
            # its class's), without raising and catching an AttributeError first: 3.6 → 0.4
            # µs, half the lookups of a page
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        if self.reads is not None and type(obj) in _RAW:
            self.reads.add(("p\t" if attribute in _SUMMARY else "r\t") + obj.id)
        try:
            return getattr(obj, attribute)
        except AttributeError:
            pass
        try:
            return obj[attribute]
        except (TypeError, LookupError, AttributeError):
            return self.undefined(obj=obj, name=attribute)

    def getitem(self, obj, argument):
        if self.reads is not None and type(obj) in _RAW:
            self.reads.add(("p\t" if argument in _SUMMARY else "r\t") + obj.id)
        return super().getitem(obj, argument)


_SUMMARY = frozenset(SUMMARY)
_RAW = frozenset((Project, StoredProject))
_DICT_ATTRIBUTES = frozenset(dir(dict))


def _recorded(r: "Renderer", make, own: str | None = None) -> tuple[object, list]:
    """What ``make()`` returns, and what it read (sorted; ``own``: the project whose
    record it is made of)."""
    reads = r.env.reads = r.reading.reads = set()
    try:
        made = make()
    finally:
        r.env.reads = r.reading.reads = None
    if own is not None:
        reads.add("r\t" + own)
        reads.discard("p\t" + own)           # in its record
    # a list read whole: its length and its pages too
    whole = {t[4:] for t in reads if t.startswith("all\t")}
    return made, sorted(t for t in reads if not t.startswith(("len\t", "slice\t"))
                        or "\t".join(t.split("\t")[1:3]) not in whole)


def environment(templates: Path, auto_reload: bool = True) -> jinja2.Environment:
    """``auto_reload=False``: a template is read once (a build: the templates do not change
    while it renders; jinja otherwise looks at the file's mtime at each ``get_template``)."""
    env = _Recording(
        loader=jinja2.FileSystemLoader(str(templates)),
        auto_reload=auto_reload,
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    env.globals.update(GLOBALS)
    return env


class Renderer:
    def __init__(self, catalog: Catalog, templates: Path, base_url: str | None = None,
                 state: "BuildState | None" = None, spill=None):
        self.catalog = catalog
        self.templates = Path(templates)
        self.base_url = (base_url or os.environ.get("JIXIAO_BASE_URL")
                         or catalog.settings.base_url or DEFAULT_BASE_URL).rstrip("/")
        self.env = environment(self.templates, auto_reload=False)
        if state is not None:
            self.env.bytecode_cache = Bytecode(state)
        self.state = state
        self.out = None if state is None else state.out     # where kept outputs are
        self.documents = available_sources(catalog)
        # the indicator pages' aggregate, worked out when first read (once the workers run)
        indicators = self.indicators = functools.cache(lambda: _indicator_summary(state, catalog))
        self.reading = Reading(catalog, self.documents, indicators)
        self.env.globals.update(catalog=self.reading, settings=self.reading.settings)
        self.outputs = Outputs(spill)
        self.rendered = 0              # outputs produced this time (the others were kept)
        self.deferred: list[tuple] = []   # (path, source, kind, what, reuse): ``flush``
        self.specs: list[tuple] = []      # a list page's (path, template, view, context, plain)
        self.making: list[_Making] = []   # what ``start`` started, batch by batch
        self.started = 0                  # deferred outputs started so far
        if state is not None:
            # what every output reads: the code, and the footer's links to the free pages
            site = digest(state.code, [(p.slug, p.title) for p in catalog.pages])
            self.values = Values(catalog, self.documents, indicators, site,
                                 self._template_hash, state.old["projects"])
            self.site_key = site
            self._changed: set | None = None
            self.piece_keys: dict[str, str] = {}     # project id → key of its data pieces
            self.rows: dict[str, tuple] = {}         # project id → CSV rows made now
            self.made_reads: set[str] = set()        # what the outputs made now read

    # What an output is made of is what it read (``reads``), with three reads of its own:
    # "site" (the code, the footer), its template (with what it extends, includes and
    # imports) and the plain values it was given.  Its key is a hash of what they are worth
    # now.  An output none of whose reads last time is worth something else now (the
    # ``changed`` reads), with its file still on disk as the manifest says, is kept
    # unrendered, under the key it had.
    @staticmethod
    def _own(template: str | None, plain) -> list[str]:
        return (["site"] + (["template\t" + template] if template else [])
                + (["plain\t" + digest(plain)] if plain else []))

    @property
    def changed(self) -> Changed:
        """The reads of the previous build that are worth something else now."""
        if self._changed is None:
            self._changed = Changed(self.values.changed(self.state.old["values"]))
        return self._changed

    def _holds(self, path: str, plain=()) -> str | None:
        """What ``path`` read last time (``joined``), when none of it changed (and its
        plain values are the same), or None."""
        reads = self.state.old["reads"].get(path)
        if reads is None or (plain and f"\nplain\t{digest(plain)}\n" not in reads) \
                or self.changed.any_in(reads):
            return None
        return reads

    def _kept(self, path: str, source: str, plain=()) -> bool:
        """Whether ``path`` is kept as it is on disk (and added so): ``_reuse``."""
        reuse = self._reuse(path, plain)
        if reuse is not None:
            self._add_kept(path, source, reuse)
        return reuse is not None

    def _add_kept(self, path: str, source: str, reuse: tuple) -> None:
        key, found, self.state.reads[path] = reuse
        self.state.keys[path] = key
        self.outputs.keep(path, source, found)

    def _made(self, path: str, template: str | None, reads: list, plain=()) -> str | None:
        """Note what ``path`` read as made now, and return its key."""
        if self.state is None:
            return None
        reads = self._own(template, plain) + reads
        self.state.reads[path] = joined(reads)
        self.made_reads.update(reads)
        key = self.state.keys[path] = digest(self.values.key(reads))
        return key

    def _template_hash(self, name: str) -> str | None:
        """``_closure``, or None for a template that is gone (what an old read may name)."""
        try:
            return self._closure(name)
        except jinja2.TemplateNotFound:
            return None

    def _closure(self, name: str) -> str:
        """Hash of a template and every template it references, transitively: the
        previous build's when the source of each of them is the same (finding what a
        template references means parsing it)."""
        if name not in self.state.closures:
            source = lambda n: self.env.loader.get_source(self.env, n)[0]
            cached = self.state.old["closures"].get(name)
            if cached is not None and all(digest(source(n)) == d for n, d in cached[1]):
                closure, members = cached
            else:
                from jinja2 import meta
                seen, todo, parts = set(), [name], []
                while todo:
                    n = todo.pop()
                    if n in seen:
                        continue
                    seen.add(n)
                    parts.append((n, source(n)))
                    todo += [r for r in meta.find_referenced_templates(self.env.parse(parts[-1][1]))
                             if r is not None]
                closure, members = digest(sorted(parts)), [(n, digest(text)) for n, text in parts]
            self.state.closures[name] = (closure, members)
        return self.state.closures[name][0]

    def page(self, path: str, template: str, source: str, view=None, later: bool = False,
             **context) -> None:
        """``view``: a function of the catalog (``Reading``) returning more of the context,
        called unless kept; ``context``: plain values, which the key holds as they are;
        ``later``: made with the projects' outputs (``start``) and added with them."""
        plain = _plain(context)
        if later:
            self.specs.append((path, template, view, context, plain))
            self.deferred.append((path, source, "list", len(self.specs) - 1,
                                  self._reuse(path, plain)))
            return
        if self._kept(path, source, plain):
            return
        html, reads = _recorded(self, lambda: _page_html(self, path, template, view, context))
        self._made(path, template, reads, plain)
        self.outputs.add(path, html, source)
        self.rendered += 1

    def project(self, p: Project, origin: str, changed: bool = False) -> None:
        """A project's page, and its data (its JSON and its rows of the data files: one
        job, which reads the same): kept, or made by the workers ``start`` starts.
        ``flush`` adds them, in this order.  ``changed``: made, without asking (its record
        changed: a correction's)."""
        page, data = f"projects/{p.id}/index.html", f"projects/{p.id}.json"
        self.deferred.append((page, origin, "page", p.id, None if changed else self._reuse(page)))
        if self.state is None:          # no data file is made of pieces: its JSON alone
            self.deferred.append((data, origin, "json", p.id, None))
            return
        reuse = None if changed else self._reuse(data)
        if reuse is not None and not self.state.has_pieces(p.id, reuse[0],
                                                           export.year_paths(p.year)):
            reuse = None
        self.deferred.append((data, origin, "data", p.id, reuse))

    def _reuse(self, path: str, plain=()) -> tuple | None:
        """(key, digest, reads) of an output made from what it was made of last time, with
        its file on disk as written; else None."""
        reads = None if self.state is None else self._holds(path, plain)
        key = None if reads is None else self.state.old["keys"].get(path)
        found = None if key is None else self.state.reusable(path, key)
        return None if found is None else (key, found, reads)

    def start(self) -> None:
        """Start making the deferred outputs not started yet that are not kept: in worker
        processes when there are many, which make them while this process goes on."""
        self.making.append(_Making(self, [(kind, what) for _, _, kind, what, reuse
                                          in self.deferred[self.started:] if reuse is None]))
        self.started = len(self.deferred)

    def flush(self) -> None:
        """Add the deferred outputs in their order: kept, or as made (``start``)."""
        jobs, self.deferred, self.started = self.deferred, [], 0
        made = itertools.chain.from_iterable(self.making)
        for path, origin, kind, what, reuse in jobs:
            if reuse is not None:
                self._add_kept(path, origin, reuse)
                key = reuse[0]
            else:
                data, reads = next(made)
                if kind == "list":
                    _, template, _, _, plain = self.specs[what]
                    key = self._made(path, template, reads, plain)
                else:
                    key = self._made(path, "project.html" if kind == "page" else None, reads)
                if kind == "data":         # its JSON, and its rows of the two CSVs
                    data, self.rows[what] = data
                self.outputs.add(path, data, origin)
                self.rendered += 1
            if kind == "data":
                self.piece_keys[what] = key
        self.specs = []

    def text(self, path: str, template: str, source: str, **context) -> None:
        self.outputs.add(path, self.env.get_template(template).render(**context), source)

    def data(self, path: str, data, source: str, parts=None) -> None:
        """``data``: bytes or text, or a function making it (called unless kept);
        ``parts``: the keys of what it is made of (when it is made of outputs or pieces
        that have keys), or None (made every time)."""
        if parts is not None and self.state is not None:
            key = self.state.keys[path] = digest(self.site_key, path, parts)
            found = self.state.reusable(path, key)
            if found is not None:
                return self.outputs.add(path, None, source, found)
        if callable(data):             # made here (copies of files are not counted)
            self.rendered += 1
            data = data()
        self.outputs.add(path, data, source)


def _page_html(r: Renderer, path: str, template: str, view, context: dict) -> str:
    return r.env.get_template(template).render(
        page_path="/" + path, **context, **(view(r.reading) if view else {}))


def _plain(context: dict) -> tuple:
    """The context an output is given as it is (sorted), for its key: plain values only
    (anything read from the catalog is read through a view, and recorded)."""
    def check(x):
        if isinstance(x, (list, tuple)):
            for v in x:
                check(v)
        elif isinstance(x, dict):
            for v in x.values():
                check(v)
        elif x is not None and not isinstance(x, (str, int, Decimal, date)):
            raise TypeError(f"{type(x).__name__} given to a page as it is: read it in a view")
    check(context)
    return tuple(sorted(context.items()))


PARALLEL_MIN = 500          # fewer deferred outputs than this are made in this process
_WORK = None                # the renderer while ``_Making`` runs (what workers make with)


class _Making:
    """What ``_make`` returns for each job, in order: made by a pool of processes (fork:
    the workers share the catalog as it is) started at once, when there are many, each
    output written to the spill by the worker that made it; else here, when asked.  The
    same bytes either way."""

    def __init__(self, r: Renderer, jobs: list):
        global _WORK
        _WORK = r
        self.jobs = jobs
        self.pool, chunks = forked_pool(jobs, PARALLEL_MIN)
        self.futures = ([] if self.pool is None else
                        [self.pool.submit(_make_chunk, chunk) for chunk in chunks])

    def __iter__(self):
        if self.pool is None:
            yield from _make(self.jobs)
        for future in self.futures:
            chunk = future.result()
            if isinstance(chunk, Problem):
                raise ContentError([chunk])
            yield from chunk

    def close(self) -> None:
        global _WORK
        _WORK = None
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


def _make_chunk(jobs) -> list:
    """Made in a worker: a template error travels back as its Problem (its traceback,
    which locates it, stays here)."""
    try:
        return list(_make(jobs))
    except jinja2.TemplateError as exc:
        return template_problem(exc, _WORK.templates)


def template_problem(exc: jinja2.TemplateError, templates: Path) -> Problem:
    """A template error as ``templates/x.html:line:1: message`` (the innermost template frame)."""
    name, line = getattr(exc, "filename", None), getattr(exc, "lineno", None)
    if not line:
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            if frame.filename.startswith(str(templates)):
                name, line = frame.filename, frame.lineno
                break
    return Problem(name or str(templates), line or 1, 1, "template", exc.message or str(exc))


def _make(jobs):
    """(bytes, or a project's JSON and its rows of the two CSVs; what making it read) of
    each job, one by one, its bytes in the spill already (``Staged``) when there is one."""
    r = _WORK
    c, stage = r.reading, r.outputs.stage
    for kind, what in jobs:
        if kind == "list":
            path, template, view, context, _ = r.specs[what]
            yield _recorded(r, lambda: stage(_page_html(r, path, template, view, context)
                                             .encode("utf-8")))
            continue
        p = r.catalog.project_by_id[what]
        as_json = lambda: stage(export.json_line(export.project_dict(c, p)))
        if kind == "page":
            make = lambda: stage(r.env.get_template("project.html").render(
                page_path=f"/projects/{p.id}/index.html", **project_view(c, p, c.documents)
            ).encode("utf-8"))
        elif kind == "json":
            make = as_json
        else:
            make = lambda: (as_json(), (export.piece(c, p, 1), export.piece(c, p, 2)))
        yield _recorded(r, make, own=p.id)    # each is made of its project's record


def render_site(catalog: Catalog, templates: Path, base_url: str | None = None,
                state: BuildState | None = None, spill=None) -> Outputs:
    """Every output of the site.  With ``state`` (an incremental build), an output whose
    inputs are those of the previous build is not rendered: it comes back as kept (data
    None, the digest of the file on disk), and ``write`` leaves the file alone.  A template
    error, or two outputs at one path, is a ContentError (``path:line``)."""
    r = Renderer(catalog, templates, base_url, state, spill)
    try:
        outputs = _all_outputs(r)
    except jinja2.TemplateError as exc:
        raise ContentError([template_problem(exc, templates)]) from exc
    finally:
        for making in r.making:
            making.close()
        r.reading.release()
    if state is not None:                # what the reads are worth, for the next build
        state.values = r.values.saved(r.made_reads, state.old["values"], _every_read(r, state))
        state.projects = r.values.projects()
        r.values = None                  # (it holds the catalog, and the renderer)
    if outputs.problems:
        raise ContentError(outputs.problems)
    return outputs


def _every_read(r: Renderer, state: BuildState) -> set | None:
    """Every output's reads, when they are to be split anyway: many changed reads, or
    many outputs made (the reads no output reads any more then go; between such builds
    they stay, worth what they were, a few per rebuild at most)."""
    if r._changed is not None and len(r._changed) <= Changed.FEW \
            and r.rendered * 10 < len(r.outputs):
        return None
    return set(itertools.chain.from_iterable(map(split, state.reads.values())))


def _all_outputs(r: Renderer) -> Outputs:
    c = r.catalog
    # The lists, then the projects' own outputs: made by the workers ``start`` starts
    # (each list page is made of its own projects), added by ``flush`` in this order;
    # the lists' are started while the projects' are looked at.
    for path, view in unit_pages(c):
        r.page(path, "units.html", "site route /units/", view=view, later=True)
    for u in c.units.values():
        list_pages(r, u.url, lambda c, u=u.id: c.by_unit[u], len(c.by_unit[u.id]), "unit.html",
                   c.origins.get(("unit", u.id), u.id), lambda c, u=u.id: unit_view(c, c.unit(u)),
                   heading=u.name, show_unit=False, sort_filter=("unit", u.id))

    r.page("departments/index.html", "departments.html", "site route /departments/",
           view=lambda c: {"departments": c.departments}, later=True)
    for d in c.departments:
        list_pages(r, d.url, lambda c, d=d.name: c.department(d).projects, len(d.projects),
                   "department.html", f"site route {d.url}",
                   lambda c, d=d.name: department_view(c, c.department(d)), heading=d.name,
                   sort_filter=("department", d.slug))

    r.page("years/index.html", "years.html", "site route /years/",
           view=lambda c: {"years": year_groups(c.projects)}, later=True)
    for year, projects in c.by_year.items():
        list_pages(r, f"/years/{year}/", lambda c, y=year: c.by_year[y], len(projects),
                   "year.html", f"site route /years/{year}/",
                   lambda c, y=year: year_view(c, y, c.by_year[y]), heading=f"{year}年度",
                   sort_filter=("year", str(year)))

    list_pages(r, "/projects/", lambda c: c.projects, len(c.projects), "projects.html",
               "site route /projects/", lambda c: {}, heading="全部项目", sort_filter=None)
    r.start()
    for p in c.projects:
        r.project(p, c.origins.get(("project", p.id), p.id))
    r.start()
    updated = build_date()              # 数据更新于: the home page and /data/ say it
    # meanwhile, here: the home page works out the indicator pages' aggregate
    r.page("index.html", "home.html", "site route /",
           view=lambda c: home_view(c, c.indicator_counts), updated=updated)
    r.flush()            # before projects.json and the sitemap, which read the projects'

    # the indicator pages show aggregates bounded by the vocabulary, not by N
    r.page("indicators/index.html", "indicators.html", "site route /indicators/",
           view=lambda c: {"summary": c.indicator_counts})
    for group in r.indicators():
        category = group["category"]
        r.page(f"indicators/{category}/index.html", "indicator_category.html",
               f"site route /indicators/{category}/",
               view=lambda c, cat=category: {"level2s": c.indicator_group(cat)["level2s"]},
               category=category, sample=INDICATOR_SAMPLE, shown=INDICATOR_NAMES_SHOWN)

    r.page("data/index.html", "data.html", "site route /data/", view=data_view,
           updated=updated)
    # The data files (``export.DATA``): each year's (one change rewrites its year's
    # alone), the latest year's again at the /data/ URLs, an index of them, and each
    # unit's CSVs.  A data file is made of its projects' pieces, in order: its key is
    # their keys (one per project: its JSON and its CSV rows are made together).
    # (hashed once per list of projects, for its three files)
    keys = r.state and r.piece_keys.__getitem__
    parts = lambda projects: r.state and pieces_key(map(keys, map(_id, projects)))
    kinds = range(len(export.DATA))
    year_parts = {year: parts(projects) for year, projects in c.by_year.items()}
    for year, projects in c.by_year.items():
        for which in kinds:
            path = export.year_paths(year)[which]
            r.data(path, lambda w=which, ps=projects, path=path: _data_file(r, c, w, ps, path),
                   f"site route /years/{year}/", year_parts[year])
    for which in kinds:
        latest_data_file(r, c, which, c.years[0] if c.years else None,
                         c.years and year_parts[c.years[0]])
    r.data("data/index.json", export.data_index(c), "site route /data/")
    for u in c.units.values():
        unit_data_files(r, c, u, parts(c.by_unit[u.id]))

    for page in c.pages:                          # after the routes: a clash names the page
        r.page(f"{page.slug}/index.html", "page.html", page.path,
               view=lambda c, slug=page.slug: free_page_view(c.page(slug)))

    r.page("search/index.html", "search.html", "site route /search/", search=None)
    r.page("404.html", "404.html", "site route /404.html")
    for name, data in sorted(r.documents.items()):
        r.data(f"sources/{name}", data.read_bytes(), str(data))
    for static in sorted((r.templates / "static").rglob("*")):
        if static.is_file():
            r.data(f"static/{static.relative_to(r.templates / 'static').as_posix()}",
                   static.read_bytes(), str(static))
    r.text("robots.txt", "robots.txt", "site route /robots.txt", base_url=r.base_url)
    # last: the sitemap lists every HTML page rendered above
    for name, text in sitemaps(r.outputs, r.base_url).items():
        r.data(name, text, "site route /sitemap.xml")
    r.outputs.rendered = r.rendered
    return r.outputs


_id = operator.attrgetter("id")


def list_pages(r: "Renderer", url: str, projects_of, n: int, template: str, source: str,
               view, heading: str, show_unit: bool = True, sort_filter=None) -> None:
    """A list of projects (``projects_of(catalog)``, ``n`` of them; site order: newest
    year first) in pages of ``PAGE_SIZE``: the first is ``template`` at ``url`` (its
    ``view`` plus the first page of projects), the others ``list_page.html`` at
    ``url``page-2/ …; each reads its own projects only, so that renaming a project renders
    the pages that show it, not the whole list.  ``sort_filter``: the search filter
    (field, value) that lists the same projects, for the other orders (sorting needs the
    search server; the lists are in site order)."""
    plain = {"heading": heading, "show_unit": show_unit, "sorts": list_sorts(sort_filter)}
    for k, path in enumerate(page_paths(url, n, views.PAGE_SIZE), 1):
        page = lambda c, k=k: list_page(url, projects_of(c), k)
        if k == 1:
            r.page(path, template, source, view=lambda c, page=page: {**view(c), **page(c)},
                   later=True, **plain)
        else:
            r.page(path, "list_page.html", source, view=page, later=True, **plain)


def _data_file(r: Renderer, c: Catalog, which: int, projects, path: str) -> bytes | Parts:
    """Data file ``which`` of ``projects`` at ``path``: made whole in a full build; in an
    incremental one assembled from each project's piece, copied from the file on disk
    when unchanged (``BuildState.assemble``)."""
    if r.state is None:
        return export.data_file(c, which, projects)
    _, head, sep, tail = export.DATA[which]
    return r.state.assemble(path, head, sep, tail,
                            ((p.id, r.piece_keys[p.id], lambda p=p: _piece(r, c, p, which))
                             for p in projects))


def pieces_key(keys) -> str:
    """The key of a data file made of pieces with these ``keys``, in order."""
    return digest("\n".join(keys))


def latest_data_file(r: Renderer, c: Catalog, which: int, latest: int | None, parts) -> None:
    """The ``latest`` year's data file ``which`` again, at its documented /data/ URL: the
    same file under a second name (``Outputs.same_as``); in an incremental build recorded
    by its identity, so that the next checks the file on disk (as every data file: the
    files other tools are likeliest to touch).  ``parts``: the year's ``pieces_key``."""
    def make():
        data = (r.outputs.same_as(export.year_paths(latest)[which], r.out)
                if latest is not None else export.data_file(c, which, []))
        if r.state is None or isinstance(data, Parts):
            return data
        return Staged(data.file, None) if isinstance(data, Staged) else Parts([data])
    r.data(f"data/{export.DATA[which][0]}", make, "site route /data/", parts)


def unit_data_files(r: Renderer, c: Catalog, u, parts) -> None:
    """A unit's CSVs (its projects' pieces of their years' files); ``parts``: the unit's
    projects' ``pieces_key``."""
    for which in range(1, len(export.DATA)):
        r.data(export.data_path(u.url.lstrip("/"), u.id, which),
               lambda w=which, ps=c.by_unit[u.id]: _data_subset(r, c, w, ps),
               f"site route {u.url}", parts)


def _data_subset(r: Renderer, c: Catalog, which: int, projects) -> bytes | Parts:
    """Data file ``which`` of projects of several years (a unit's): each one's piece of its
    year's file, as assembled this time or on disk, else made."""
    if r.state is None:
        return export.data_file(c, which, projects)
    pieces = (r.state.piece(export.year_paths(p.year)[which], p.id, r.piece_keys[p.id])
              for p in projects)
    return Parts(export.joined(which, (
        _piece(r, c, p, which) if one is None else one for p, one in zip(projects, pieces))))


def _piece(r: Renderer, c: Catalog, p, which: int) -> bytes:
    """``p``'s piece of data file ``which``: its JSON as rendered this time (or on disk),
    its CSV rows as made this time, or made now."""
    if which == 0:
        return r.outputs.read(f"projects/{p.id}.json", r.out).rstrip(b"\n")
    rows = r.rows.get(p.id)
    return export.piece(c, p, which) if rows is None else rows[which - 1]


def _indicator_summary(state: BuildState | None, c: Catalog) -> list[dict]:
    """``catalog.indicator_summary``; in an incremental build, the previous build's when
    what it is made of is the same (each project's id, year and indicator key):
    computing it reads the 328k indicators of a 10k-project site, and a correction to an
    amount leaves it as it was.  A corrected target changes only the targets shown for
    the projects sampled: those whose ``target_key`` is not the one kept with the
    aggregate are read again (they alone), and their targets replaced."""
    if state is None:
        return c.indicator_summary
    key = digest("\n".join([f"{p.id}\t{p.year}\t{p.indicator_key}" for p in c.projects]))
    # (not the names: the samples are projects by id, whose current name the pages show and
    # are keyed by; one string, not 100,000 lists: a rebuild makes this key every time)
    old = state.old["indicators"]
    if old is not None and len(old) == 3 and old[0] == key:
        summary = _samples(old[1], c.project_by_id.__getitem__)
        changed = {pid for pid, tk in old[2].items() if c.project_by_id[pid].target_key != tk}
        if changed:
            _retarget(summary, changed)
    else:
        summary = c.indicator_summary
    sampled = {p.id for group in summary for l2 in group["level2s"] for row in l2["names"]
               for p in row["projects"]}
    state.indicators = (key, _samples(summary, lambda p: p.id),
                          {pid: c.project_by_id[pid].target_key for pid in sorted(sampled)})
    return summary


def _retarget(summary: list[dict], changed: set[str]) -> None:
    """The targets of the ``changed`` sampled projects, as their records give them now
    (each project's first indicator of the row's category, level2 label and name, as
    ``Catalog.indicator_summary`` takes it)."""
    firsts: dict[str, dict] = {}
    for group in summary:
        for l2 in group["level2s"]:
            for row in l2["names"]:
                for i, p in enumerate(row["projects"]):
                    if p.id not in changed:
                        continue
                    if p.id not in firsts:
                        mine: dict = {}
                        for ind in p.indicators:
                            mine.setdefault((ind.category, level_label(ind.level2), ind.name),
                                            ind.target)
                        firsts[p.id] = mine
                    row["targets"][i] = firsts[p.id][(group["category"], l2["level2"],
                                                      row["name"])]


def _samples(summary: list[dict], each) -> list[dict]:
    """The summary with ``each`` applied to every sample project (ids ↔ projects); new
    lists throughout, so that changing one summary's targets leaves the other's alone."""
    return [{**group, "level2s": [
        {**l2, "names": [{**row, "projects": [each(p) for p in row["projects"]],
                          "targets": list(row["targets"])}
                         for row in l2["names"]]}
        for l2 in group["level2s"]]} for group in summary]


# ---------------------------------------------------------------- helpers


def url_of(path: str) -> str:
    """Output path → the URL it is served at: ``units/x/index.html`` → ``/units/x/``."""
    return "/" + (path[: -len("index.html")] if path.endswith("index.html") else path)


SITEMAP_MAX = 50_000       # URLs in one sitemap file: the sitemap protocol's limit


def sitemaps(outputs: Outputs, base_url: str) -> dict[str, str]:
    """``sitemap.xml`` listing every page; past ``SITEMAP_MAX`` pages, a sitemap index
    naming ``sitemap-1.xml``, ``sitemap-2.xml`` … of at most ``SITEMAP_MAX`` each."""
    urls = sorted(url_of(o.path) for o in outputs
                  if o.path.endswith(".html") and o.path != "404.html")
    head = '<?xml version="1.0" encoding="UTF-8"?>'
    ns = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'

    def urlset(part: list[str]) -> str:
        return "\n".join([head, f"<urlset {ns}>"]
                         + [f"  <url><loc>{xml_escape(base_url + u)}</loc></url>" for u in part]
                         + ["</urlset>", ""])
    if len(urls) <= SITEMAP_MAX:
        return {"sitemap.xml": urlset(urls)}
    parts = {f"sitemap-{k}.xml": urlset(urls[i:i + SITEMAP_MAX])
             for k, i in enumerate(range(0, len(urls), SITEMAP_MAX), 1)}
    index = "\n".join([head, f"<sitemapindex {ns}>"]
                      + [f"  <sitemap><loc>{xml_escape(base_url + '/' + name)}</loc></sitemap>"
                         for name in parts] + ["</sitemapindex>", ""])
    return {"sitemap.xml": index, **parts}


PAGE_KINDS = ("units", "departments", "years", "projects", "indicators", "data", "search")
FILE_KINDS = {"data": "data", "projects": "data", "sources": "sources", "static": "static",
              "units": "unit CSV", "years": "year data"}


def describe_counts(outputs: Outputs) -> str:
    """What a build produced, for its log: ``pages 12 (1 home, 2 units, …); files 9 (4
    data, …)``."""
    counts = {"pages": Counter(), "files": Counter()}
    for o in outputs:
        top = o.path.split("/")[0]
        if o.path.endswith(".html"):
            special = {"index.html": "home", "404.html": "404"}
            counts["pages"][special.get(o.path, top if top in PAGE_KINDS else "free")] += 1
        else:
            counts["files"][FILE_KINDS.get(top, o.path)] += 1
    return "; ".join(f"{what} {sum(n.values())} ("
                     + ", ".join(f"{k} {kind}" for kind, k in sorted(n.items())) + ")"
                     for what, n in counts.items())
