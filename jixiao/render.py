"""Render the catalog into pages and data files with Jinja2 (autoescape, StrictUndefined).

``render_site`` lists every kind of output, top to bottom.  Each page gets its
context from a small ``*_view`` function of the catalog as ``reads.Reading`` shows it
(what the view and the templates read is recorded, and keys the output); the templates
only lay it out.  Nothing here is written to disk: ``write`` does that once everything
rendered.
"""
from __future__ import annotations

import re
import traceback

import os
from collections import Counter
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

import jinja2
from markupsafe import Markup

from . import downloads, export
from .catalog import INDICATOR_SAMPLE, Catalog, Department, total, year_groups
from .derive import CATEGORY_LABELS, level_label
from .model import Project, Unit
from .build_state import DATA_FILES, BuildState, Bytecode
from .reads import SUMMARY, Reading, Values, digest
from .stored import StoredProject
from .outputs import Outputs, Parts
from .problems import ContentError, Problem
from .settings import build_date
from .targets import parse_target

SITE_NAME = "财政项目支出绩效目标公开平台"
# Absolute URLs (sitemap.xml, robots.txt) start with this; set JIXIAO_BASE_URL when deploying.
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
# Top-level paths the site or the search server own; a free page may not take them.

OP_WORDS = {"≥": "不低于", "≤": "不高于", "=": "等于", ">": "高于", "<": "低于"}
FUND_LABELS = [
    ("annual", "年度资金申请总额"), ("total", "项目资金总额"), ("fiscal", "其中：财政资金"),
    ("appropriation", "当年财政拨款"), ("carryover", "上年结转资金"), ("other", "其他资金"),
    ("prior_year_budget", "同名项目上年预算额"), ("prior_year_spent", "同名项目上年预算执行数"),
]


def money(value: Decimal | int | None, places: int | None = None) -> str:
    """1234567.8 → 1,234,567.80 (exact: Decimal formatting, no floats).

    At least two places, more when the amount was published with more
    (29.3856 万元 stays 29.3856): an amount is never rounded for display.
    """
    if value is None:
        return "—"
    value = Decimal(value)
    if places is None:
        places = max(2, -value.as_tuple().exponent) if value.is_finite() else 2
    return f"{value:,.{places}f}"


_WAN, _YI = Decimal(10000), Decimal(100000000)


def readable(value: Decimal | int | None) -> str:
    """An amount in yuan as people read it: 3.6 万元, 13.91 亿元, 800 元.  Rounded to two
    places of its unit, marked 约 when that lost something; the exact yuan are one step
    away (the ``amount`` filter's title, the project page, the data files)."""
    if value is None:
        return "—"
    value = Decimal(value)
    unit, scale = ("亿元", _YI) if abs(value) >= _YI else ("万元", _WAN) if abs(value) >= _WAN \
        else ("元", Decimal(1))
    scaled = value / scale
    shown = scaled.quantize(Decimal("0.01"))
    text = f"{shown:,.2f}".rstrip("0").rstrip(".")
    return f"{'' if shown == scaled else '约 '}{text} {unit}"


def amount_html(value) -> Markup:
    """An amount as people read it (万元/亿元), the exact yuan in its title: a filter, not
    a macro (tens of thousands of list rows; a Jinja macro call costs ~10× a filter).
    Both texts are digits, commas and fixed words: nothing to escape."""
    return Markup(f'<span class="num" title="{money(value)} 元">{readable(value)}</span>')


def prior_change(funds) -> dict | None:
    """The year's money against the same-named project's prior-year budget (同名项目上年预算额),
    when the table publishes it: ``{"word": 增加/减少/持平, "amount": |difference| in yuan,
    "percent": "+8.5%" or None when the prior budget was 0}``.  Exact: Decimal throughout,
    the percentage rounded half up to one place."""
    prior = funds.yuan("prior_year_budget")
    if prior is None:
        return None
    diff = funds.annual_yuan - prior
    word = "增加" if diff > 0 else "减少" if diff < 0 else "持平"
    percent = None
    if prior:
        shown = (abs(diff) * 100 / prior).quantize(Decimal("0.1"), ROUND_HALF_UP)
        percent = f"{'+' if diff > 0 else '-' if diff < 0 else '±'}{shown}%"
    return {"word": word, "amount": abs(diff), "percent": percent, "prior": prior}


@lru_cache(maxsize=1)
def _markdown_it():
    """CommonMark with raw HTML off (made, and markdown-it imported, the first time a page
    needs it: a rebuild that renders no free page does not pay for the import).  A link to
    a refused scheme (javascript:, vbscript:, file:, data: other than images) keeps its
    text and loses its URL entirely — markdown-it alone would leave the whole
    ``[text](javascript:…)`` source visible on the page."""
    from markdown_it import MarkdownIt
    from markdown_it.token import Token
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    safe = md.validateLink                       # markdown-it's own scheme check
    md.validateLink = lambda url: True           # parse every link; judge it below

    def drop_unsafe(state):
        for block in state.tokens:
            for i, tok in enumerate(block.children or []):
                if tok.type == "link_open" and not safe(tok.attrGet("href") or ""):
                    depth, j = 0, i
                    while j < len(block.children):
                        t = block.children[j]
                        depth += t.nesting if t.type.startswith("link_") else 0
                        if t.type.startswith("link_") and depth == 0:
                            break
                        j += 1
                    # an autolink's text is the URL itself: drop it with the tags
                    drop = range(i, j + 1) if tok.markup == "autolink" else (i, j)
                    for k in drop:
                        block.children[k] = Token("text", "", 0, content="")
                elif tok.type == "image" and not safe(tok.attrGet("src") or ""):
                    block.children[i] = Token("text", "", 0, content=tok.content)

    md.core.ruler.push("drop_unsafe_links", drop_unsafe)
    return md


def markdown(text: str) -> str:
    """Markdown with raw HTML off; javascript:/vbscript:/file:/data: links are refused."""
    return _markdown_it().render(text)


def target_note(ind) -> dict | None:
    """The parsed target as a short annotation: ``≥ 192 家次``, titled ``定量目标：不低于192家次``.

    None when nothing was published.  Qualitative targets (及时, 合格) show their text
    and have no title.  The title holds no free text (only the operator in words, the
    number and the short unit), so published text never lands in an attribute.
    """
    return _note(ind.target)


@lru_cache(maxsize=1 << 16)
def _note(published: str | None) -> dict | None:
    """``target_note`` by the published text (templates only read the result)."""
    t = parse_target(published)
    if t.value is not None:
        short = " ".join(x for x in (t.op, str(t.value), t.unit) if x)
        title = f"定量目标：{OP_WORDS.get(t.op, '') if t.op else ''}{t.value}{t.unit or ''}"
        if t.text:
            short = f"{short}（{t.text}）"
        return {"kind": "quantitative", "short": short, "title": title}
    if t.text:
        short = f"{t.op} {t.text}" if t.op else t.text
        return {"kind": "qualitative", "short": f"定性：{short}", "title": None}
    return None


def target_units(targets) -> list[str]:
    """The measure units the published targets name (``≥90%`` → %, ``≥192家次`` → 家次),
    each once, in order: what the indicator pages say a name is counted in."""
    out: list[str] = []
    for published in targets:
        unit = parse_target(published).unit
        if unit and unit not in out:
            out.append(unit)
    return out


class _Recording(jinja2.Environment):
    """Jinja's environment, noting (while ``reads`` is a set: ``reads.Reading``) each
    project a template reads: its summary (``SUMMARY``) or, for any other field
    (``p.goals``, ``p['source']``, what ``map``, ``sort`` or ``groupby`` read through
    ``getitem``), its whole record.  A project read from a list (``reads.Noted``) notes
    a read of its record itself; its summary was read with the list."""
    reads: set | None = None

    def getattr(self, obj, attribute):      # jinja2.Environment.getattr, inline (hot)
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


def environment(templates: Path) -> jinja2.Environment:
    env = _Recording(
        loader=jinja2.FileSystemLoader(str(templates)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["money"] = money
    env.filters["readable"] = readable
    env.filters["amount"] = amount_html
    env.globals["site_name"] = SITE_NAME
    env.globals["indicator_rows"] = indicator_rows
    env.globals["target_note"] = target_note
    env.globals["target_units"] = target_units
    env.globals["fund_labels"] = FUND_LABELS
    env.globals["category_labels"] = CATEGORY_LABELS
    return env


class Renderer:
    def __init__(self, catalog: Catalog, templates: Path, base_url: str | None = None,
                 state: "BuildState | None" = None):
        self.catalog = catalog
        self.templates = Path(templates)
        self.base_url = (base_url or os.environ.get("JIXIAO_BASE_URL")
                         or catalog.settings.base_url or DEFAULT_BASE_URL).rstrip("/")
        self.env = environment(self.templates)
        self.env.globals["settings"] = catalog.settings
        if state is not None:
            self.env.bytecode_cache = Bytecode(state)
        self.state = state
        self.documents = available_sources(catalog)
        self.indicators = indicators = _indicator_summary(state, catalog)
        self.reading = Reading(catalog, self.documents, indicators)
        self.env.globals["catalog"] = self.reading
        self.outputs = Outputs()
        self.rendered = 0              # outputs produced this time (the others were kept)
        self.deferred: list[tuple] = []   # (path, source, kind, project id): see ``flush``
        if state is not None:
            self.values = Values(catalog, self.documents, indicators)
            # what every output reads: the code, the base URL, the settings, the footer
            self.site_key = digest(state.code, self.base_url, catalog.settings.key(),
                                   [(p.slug, p.title) for p in catalog.pages])
            self.piece_keys: dict[str, str] = {}     # project id → key of its data pieces
            self.rows: dict[str, tuple] = {}         # project id → CSV rows made now

    # An output's key is a hash of everything it is made of: the templates it uses (with
    # what they extend, include and import), the site-wide inputs, the plain values it
    # was given and what it read (``reads``), each as it is worth in this build.  An output
    # whose reads last time are worth what they were, with its file still on disk as the
    # manifest says, is kept unrendered.
    def _key(self, template: str | None, reads: list, plain=()) -> str:
        """(Keys are compared path by path: the path itself need not be in them.)"""
        return digest(self.site_key, self._closure(template) if template else "", plain,
                      self.values.key(reads))

    def _kept(self, path: str, source: str, template: str | None, plain=()) -> bool:
        reads = None if self.state is None else self.state.old_reads.get(path)
        if reads is None:
            return False
        key = self._key(template, reads, plain)
        if not self._keep(path, source, key):
            return False
        self.state.reads[path] = reads
        return True

    def _keep(self, path: str, source: str, key: str) -> bool:
        self.state.keys[path] = key
        digest_ = self.state.reusable(path, key)
        if digest_ is not None:
            self.outputs.add(path, None, source, digest_)
        return digest_ is not None

    def _made(self, path: str, template: str | None, reads: list, plain=()) -> str | None:
        """Note what ``path`` read as made now, and return its key."""
        if self.state is None:
            return None
        self.state.reads[path] = reads
        key = self.state.keys[path] = self._key(template, reads, plain)
        return key

    def _closure(self, name: str) -> str:
        """Hash of a template and every template it references, transitively: the
        previous build's when the source of each of them is the same (finding what a
        template references means parsing it)."""
        if name not in self.state.closures:
            source = lambda n: self.env.loader.get_source(self.env, n)[0]
            cached = self.state.old_closures.get(name)
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

    def page(self, path: str, template: str, source: str, view=None, **context) -> None:
        """``view``: a function of the catalog (``Reading``) returning more of the context,
        called unless kept; ``context``: plain values, which the key holds as they are."""
        plain = _plain(context)
        if self._kept(path, source, template, plain):
            return
        html, reads = _recorded(self, lambda: self.env.get_template(template).render(
            page_path="/" + path, **context, **(view(self.reading) if view else {})))
        self._made(path, template, reads, plain)
        self.outputs.add(path, html, source)
        self.rendered += 1

    def project(self, p: Project, origin: str) -> None:
        """A project's page, and its data (its JSON and its rows of the data files: one
        job, which reads the same), unless kept: made later, by ``flush``."""
        page, data = f"projects/{p.id}/index.html", f"projects/{p.id}.json"
        if not self._kept(page, origin, "project.html"):
            self.deferred.append((page, origin, "page", p.id))
        if self.state is None:          # no data file is made of pieces: its JSON alone
            self.deferred.append((data, origin, "json", p.id))
            return
        reads = self.state.old_reads.get(data)
        key = None if reads is None else self._key(None, reads)
        if key is not None and self.state.has_pieces(p.id, key) and self._keep(data, origin, key):
            self.piece_keys[p.id], self.state.reads[data] = key, reads
        else:
            self.deferred.append((data, origin, "data", p.id))

    def flush(self) -> None:
        """Make the deferred outputs: in this process, or, when there are many, in a pool
        of processes (fork: the workers share the catalog as it is) by chunks.  The
        outputs are the same bytes either way, added in the same order."""
        jobs, self.deferred = self.deferred, []
        global _WORK
        _WORK = (self, os.getpid())
        try:
            workers = min(os.cpu_count() or 1, 8)
            if len(jobs) >= PARALLEL_MIN and workers > 1:
                import multiprocessing
                from concurrent.futures import ProcessPoolExecutor
                size = max(50, len(jobs) // (workers * 8))
                chunks = [[(kind, pid) for _, _, kind, pid in jobs[i:i + size]]
                          for i in range(0, len(jobs), size)]
                ctx = multiprocessing.get_context("fork")
                with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
                    parts = list(pool.map(_make_chunk, chunks))
                failed = [x.problem for x in parts if isinstance(x, _Failed)]
                if failed:
                    raise ContentError(failed[:1])
                made = [d for chunk in parts for d in chunk]
            else:
                made = _make_chunk([(kind, pid) for _, _, kind, pid in jobs])
        finally:
            _WORK = None
        for (path, origin, kind, pid), (data, reads) in zip(jobs, made):
            key = self._made(path, "project.html" if kind == "page" else None, reads)
            if kind == "data":         # its JSON, and its rows of the two CSVs
                data, self.rows[pid] = data
                self.piece_keys[pid] = key
            self.outputs.add(path, data, origin)
            self.rendered += 1

    def text(self, path: str, template: str, source: str, **context) -> None:
        self.outputs.add(path, self.env.get_template(template).render(**context), source)

    def data(self, path: str, data, source: str, parts=None) -> None:
        """``data``: bytes or text, or a function making it (called unless kept);
        ``parts``: the keys of what it is made of (when it is made of outputs or pieces
        that have keys), or None (made every time)."""
        if parts is not None and self.state is not None and self._keep(
                path, source, digest(self.site_key, path, parts)):
            return
        if callable(data):             # made here (copies of files are not counted)
            self.rendered += 1
            data = data()
        self.outputs.add(path, data, source)


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
_WORK = None                # (renderer, pid) while ``Renderer.flush`` runs


def _make_chunk(jobs) -> list:
    """Made in a worker: a template error travels back as its Problem (its traceback,
    which locates it, stays here)."""
    try:
        return _make(jobs)
    except jinja2.TemplateError as exc:
        if _WORK[1] == os.getpid():
            raise                       # made in the build's own process: as it was
        return _Failed(template_problem(exc, _WORK[0].templates))


def template_problem(exc: jinja2.TemplateError, templates: Path) -> Problem:
    """A template error as ``templates/x.html:line:1: message`` (the innermost template frame)."""
    name, line = getattr(exc, "filename", None), getattr(exc, "lineno", None)
    if not line:
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            if frame.filename.startswith(str(templates)):
                name, line = frame.filename, frame.lineno
                break
    return Problem(name or str(templates), line or 1, 1, "template", exc.message or str(exc))


class _Failed:
    def __init__(self, problem):
        self.problem = problem


def _make(jobs) -> list:
    """(bytes, or a project's JSON and its rows of the two CSVs; what making it read)
    of each job."""
    r = _WORK[0]
    c, out = r.reading, []
    for kind, pid in jobs:
        p = r.catalog.project_by_id[pid]
        if kind == "page":
            make = lambda: r.env.get_template("project.html").render(
                page_path=f"/projects/{p.id}/index.html", **project_view(c, p, c.documents)
            ).encode("utf-8")
        elif kind == "json":
            make = lambda: export.to_json(export.project_dict(c, p)).encode("utf-8")
        else:
            make = lambda: (export.to_json(export.project_dict(c, p)).encode("utf-8"),
                            _csv_pieces(c, p))
        out.append(_recorded(r, make, own=p.id))    # each is made of its project's record
    return out


def _csv_pieces(c: Catalog, p) -> tuple[bytes, bytes]:
    """``p``'s rows of projects.csv and of indicators.csv."""
    unit = c.unit_of(p)
    return (export.csv_rows([export.project_row(unit, p)]),
            export.csv_rows(export.indicator_rows(unit, p)))


def render_site(catalog: Catalog, templates: Path, base_url: str | None = None,
                state: BuildState | None = None) -> Outputs:
    """Every output of the site.  With ``state`` (an incremental build), an output whose
    inputs are those of the previous build is not rendered: it comes back as kept (data
    None, the digest of the file on disk), and ``write`` leaves the file alone.  A template
    error, or two outputs at one path, is a ContentError (``path:line``)."""
    r = Renderer(catalog, templates, base_url, state)
    try:
        outputs = _all_outputs(r)
    except jinja2.TemplateError as exc:
        raise ContentError([template_problem(exc, templates)]) from exc
    finally:
        r.reading.release()
    if outputs.problems:
        raise ContentError(outputs.problems)
    return outputs


def _all_outputs(r: Renderer) -> Outputs:
    c = r.catalog
    updated = build_date()              # 数据更新于: the home page and /data/ say it
    r.page("index.html", "home.html", "site route /",
           view=lambda c: home_view(c, c.indicator_counts), updated=updated)

    for path, view in unit_pages(c):
        r.page(path, "units.html", "site route /units/", view=view)
    for u in c.units.values():
        list_pages(r, u.url, lambda c, u=u.id: c.by_unit[u], len(c.by_unit[u.id]), "unit.html",
                   c.origins.get(("unit", u.id), u.id), lambda c, u=u.id: unit_view(c, c.unit(u)),
                   heading=u.name, show_unit=False, sort_filter=("unit", u.id))

    r.page("departments/index.html", "departments.html", "site route /departments/",
           view=lambda c: {"departments": c.departments})
    for d in c.departments:
        list_pages(r, d.url, lambda c, d=d.name: c.department(d).projects, len(d.projects),
                   "department.html", f"site route {d.url}",
                   lambda c, d=d.name: department_view(c, c.department(d)), heading=d.name,
                   sort_filter=("department", d.slug))

    r.page("years/index.html", "years.html", "site route /years/",
           view=lambda c: {"years": year_groups(c.projects)})
    for year, projects in c.by_year.items():
        list_pages(r, f"/years/{year}/", lambda c, y=year: c.by_year[y], len(projects),
                   "year.html", f"site route /years/{year}/",
                   lambda c, y=year: year_view(c, y, c.by_year[y]), heading=f"{year}年度",
                   sort_filter=("year", str(year)))

    list_pages(r, "/projects/", lambda c: c.projects, len(c.projects), "projects.html",
               "site route /projects/", lambda c: {}, heading="全部项目", sort_filter=None)
    for p in c.projects:
        r.project(p, c.origins.get(("project", p.id), p.id))
    r.flush()                        # before projects.json and the sitemap, which read them

    # the indicator pages show aggregates bounded by the vocabulary, not by N
    r.page("indicators/index.html", "indicators.html", "site route /indicators/",
           view=lambda c: {"summary": c.indicator_counts})
    for group in r.indicators:
        category = group["category"]
        r.page(f"indicators/{category}/index.html", "indicator_category.html",
               f"site route /indicators/{category}/",
               view=lambda c, cat=category: {"level2s": c.indicator_group(cat)["level2s"]},
               category=category, sample=INDICATOR_SAMPLE, shown=INDICATOR_NAMES_SHOWN)

    r.page("data/index.html", "data.html", "site route /data/", view=data_view,
           updated=updated)
    # a data file is made of its projects' data, in order: its key is their keys (one per
    # project: its JSON and its CSV rows are made together)
    parts = lambda projects: r.state and [r.piece_keys[p.id] for p in projects]
    r.data("data/projects.json", lambda: _projects_json(r, c), "site route /data/",
           parts(c.projects))
    r.data("data/projects.csv", lambda: _csv_file(r, c, 0), "site route /data/",
           parts(c.projects))
    r.data("data/indicators.csv", lambda: _csv_file(r, c, 1), "site route /data/",
           parts(c.projects))
    # the same rows for each unit and each year (after the site's files: their pieces)
    for base, name, projects in ([(u.url, u.id, c.by_unit[u.id]) for u in c.units.values()]
                                 + [(f"/years/{y}/", str(y), ps) for y, ps in c.by_year.items()]):
        for which, what in enumerate(("projects", "indicators")):
            r.data(f"{base.lstrip('/')}{name}-{what}.csv",
                   lambda which=which, projects=projects: _csv_subset(r, c, which, projects),
                   f"site route {base}", parts(projects))

    for page in c.pages:                          # after the routes: a clash names the page
        r.page(f"{page.slug}/index.html", "page.html", page.path,
               view=lambda c, slug=page.slug: _free_page(c.page(slug)))

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


def _free_page(page) -> dict:
    return {"page": page, "body": markdown(page.body)}


PAGE_SIZE = 200             # projects per list page (≈70 KB of HTML)
UNITS_PER_PAGE = 200        # units per page of /units/ (≈140 KB)
INDICATOR_NAMES_SHOWN = 40  # names per 二级指标 with their samples on a category page (the
                            # others as a list of links): a page stays under ~300 KB


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
    for k, path in enumerate(page_paths(url, n, PAGE_SIZE), 1):
        page = lambda c, k=k: list_page(url, projects_of(c), k)
        if k == 1:
            r.page(path, template, source, view=lambda c: {**view(c), **page(c)}, **plain)
        else:
            r.page(path, "list_page.html", source, view=page, **plain)


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


_CSV = ((export.projects_csv, export.PROJECT_COLUMNS),          # which = 0
        (export.indicators_csv, export.INDICATOR_COLUMNS))      # which = 1


def _csv_file(r: Renderer, c: Catalog, which: int) -> bytes | Parts:
    """``export.projects_csv`` (0) or ``indicators_csv`` (1); in an incremental build,
    assembled from each project's rows (copied from the file on disk when unchanged)."""
    make, columns = _CSV[which]
    if r.state is None:
        return make(c)
    return r.state.assemble(DATA_FILES[1 + which], export.csv_head(columns), b"", b"",
                            ((p.id, r.piece_keys[p.id], lambda p=p: r.rows[p.id][which])
                             for p in c.projects))


def _csv_subset(r: Renderer, c: Catalog, which: int, projects) -> bytes | Parts:
    """``export.projects_csv`` (0) or ``indicators_csv`` (1) of some projects: the site's
    file's header and these projects' pieces of it (as assembled this time), or made."""
    make, columns = _CSV[which]
    if r.state is None:
        return make(c, projects)
    made = r.state.made.get(DATA_FILES[1 + which], {})
    return Parts([export.csv_head(columns)] + [
        made[p.id] if p.id in made else _csv_pieces(c, p)[which] for p in projects])


def _projects_json(r: Renderer, c: Catalog) -> bytes | Parts:
    """``export.projects_json``, assembled from the per-project documents (the same bytes
    ``to_json`` made): those of unchanged projects copied from the file on disk, the
    others as rendered this time (or read from disk when kept)."""
    if r.state is None or not c.projects:
        return export.projects_json(c)

    def piece(p) -> bytes:
        o = r.outputs.files[f"projects/{p.id}.json".lower()]
        data = o.data if o.data is not None else (r.state.out / o.path).read_bytes()
        return data.rstrip(b"\n")
    return r.state.assemble(DATA_FILES[0], b"[\n", b",\n", b"\n]\n",
                            ((p.id, r.piece_keys[p.id], lambda p=p: piece(p))
                             for p in c.projects))


def _indicator_summary(state: BuildState | None, c: Catalog) -> list[dict]:
    """``catalog.indicator_summary``; in an incremental build, the previous build's when
    what it is made of is the same (each project's id, year and indicator key):
    computing it reads the 328k indicators of a 10k-project site, and a correction to an
    amount leaves it as it was.  A corrected target changes only the targets shown for
    the projects sampled: those whose ``target_key`` is not the one kept with the
    aggregate are read again (they alone), and their targets replaced."""
    if state is None:
        return c.indicator_summary
    key = digest([[p.id, p.year, p.indicator_key] for p in c.projects])    # not the names: the
    # samples are projects by id, whose current name the pages show (and are keyed by)
    old = state.old_indicators
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


# ---------------------------------------------------------------- views


def home_view(c: Catalog, indicator_summary: list[dict]) -> dict:
    return {"years": year_groups(c.projects), "total": c.total_yuan,
            "units": unit_rows(c), "departments": c.departments,
            "indicator_groups": indicator_summary, "coverage": coverage(c)}


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
    return {"department": d, "units": c.unit_groups(d.projects), "all_units": d.units,
            "idle_units": [u for u in d.units if not c.by_unit[u.id]],
            "years": year_groups(d.projects), "total": total(d.projects)}


def year_view(c: Catalog, year: int, projects: list[Project]) -> dict:
    return {"year": year, "projects": projects, "total": total(projects),
            "units": c.unit_groups(projects), "departments": c.department_groups(projects)}


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
    return {"files": export.FILES, "project_columns": export.PROJECT_COLUMNS,
            "indicator_columns": export.INDICATOR_COLUMNS, "json_fields": export.JSON_FIELDS,
            "result_columns": downloads.RESULT_COLUMNS,
            "result_indicator_columns": downloads.RESULT_INDICATOR_COLUMNS,
            "indicator_count": sum(p.indicator_count for p in c.projects)}


def available_sources(c: Catalog) -> dict[str, Path]:
    """Published documents under content/sources/, copied to /sources/<name>."""
    if not (c.sources and c.sources.is_dir()):
        return {}
    # the published files as the publisher saved them; never .html, which the site's own
    # origin would serve as a page
    return {p.name: p for p in sorted(c.sources.iterdir())
            if p.suffix.lower() in (".txt", ".pdf", ".xlsx", ".xls", ".docx") and p.is_file()}


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


def page_counts(outputs: Outputs) -> dict[str, Counter]:
    """How many pages and files of each kind a build produced (for the build log)."""
    pages, files = Counter(), Counter()
    for o in outputs:
        top = o.path.split("/")[0]
        if o.path.endswith(".html"):
            special = {"index.html": "home", "404.html": "404"}
            pages[special.get(o.path, top if top in PAGE_KINDS else "free")] += 1
        else:
            kind = {"data": "data", "projects": "data", "sources": "sources",
                    "static": "static", "units": "unit CSV", "years": "year CSV"}.get(top, o.path)
            files[kind] += 1
    return {"pages": pages, "files": files}


def describe_counts(outputs: Outputs) -> str:
    """``pages 12 (1 home, 2 units, …); files 9 (4 data, …)``"""
    parts = []
    for what, counts in page_counts(outputs).items():
        detail = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
        parts.append(f"{what} {sum(counts.values())} ({detail})")
    return "; ".join(parts)


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
