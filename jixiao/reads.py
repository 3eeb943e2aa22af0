"""What an output read of the content while it was made, and what that is worth now.

Lektor's way, not hand-kept keys: a page's view and its templates see the catalog only
through a ``Reading``, which notes every read as a plain string, and Jinja's attribute
lookups note the projects a template reads (``render._Recording``).  The reads are kept
with the build; the next build asks ``Values`` what each of them is worth in its own
catalog, and an output whose reads are all worth what they were is not made again.

A read is a string, its parts apart by tabs (ids are slugs; the 95,000 reads of a
10,000-project site save and load as JSON in a third of the time lists of parts take):

  p id                           a project's summary (``SUMMARY``: what lists show)
  r id                           a project's whole record
  u id                           a unit
  units, departments, years      the site's units, departments, years
  all|len kind arg               a list of projects, whole (what totals read of each:
                                 ``TOTALS``) or its length …
  slice kind arg a b             … or its projects a..b: kind "projects" (arg empty),
                                 "unit" (arg: the unit), "year", "department" (its
                                 slug), "other" (the same unit's same-named projects of
                                 other years than project arg)
  page slug, source hash-of-name, indicator_counts, indicator_group category
  setting name                   one of the site settings (content/site.yaml)
  site, template name, plain hash  (the renderer's own: the code and the footer, a
                                 template with what it references, plain values given)

A project got from a list is read for its totals (years, units, amounts, counts); code
or a template that reads more of it (its name, its goals) notes so (``Noted``).
"""
from __future__ import annotations

import hashlib
import itertools
import operator

from .catalog import Catalog, Department, total
from .model import Project
from .stored import StoredProject

# What a list shows of a project: a read of any other field is a read of the record.
SUMMARY = ("id", "name", "year", "unit", "category", "nature", "indicator_count", "funds",
           "url")
# … of which totals and counts read (a list read whole is read for these: renaming a
# project leaves the pages that count and total it alone)
TOTALS = ("id", "year", "unit", "indicator_count", "funds", "url")
_summary_fields = operator.attrgetter(*SUMMARY[:-2])     # (funds as JSON, url from the id)
_totals_fields = operator.attrgetter(*TOTALS[:-2])


def _noted_field(name: str) -> property:
    """A summary field outside ``TOTALS``, read as a read of the project's summary."""
    def read(self):
        self._reading.note("p\t" + self.id)
        return getattr(self._p, name)
    return property(read)


class Noted:
    """A project as code reads it from a ``Seq``: what totals read as it is (read with
    the list), the rest of its summary noted as a read of its summary, any other field
    as a read of its whole record."""
    __slots__ = TOTALS + ("_p", "_reading")
    name, category, nature = (_noted_field(f) for f in ("name", "category", "nature"))

    def __init__(self, p, reading: "Reading"):
        (self.id, self.year, self.unit, self.indicator_count, self.funds,
         self.url) = _whole_totals(p)
        self._p, self._reading = p, reading

    def __getattr__(self, name: str):
        self._reading.note("r\t" + self.id)
        return getattr(self._p, name)

    def __repr__(self) -> str:
        return f"Noted({self.id!r})"


_whole_totals = operator.attrgetter(*TOTALS)
PROJECTS = (Project, StoredProject, Noted)


def digest(*parts) -> str:
    """A short stable hash of parts (strings, numbers, None, lists and tuples of them):
    their ``repr``, which is deterministic for these and twice as fast as JSON."""
    return hashlib.sha1(repr(parts).encode("utf-8")).hexdigest()


def joined(reads: list[str]) -> str:
    """An output's reads as the build state saves them: one string, each read between
    newlines (``"\nsite\ntemplate\tunit.html\n…\n"``).  At 100,000 projects the 1.7 M
    reads of 207,000 outputs load in 0.13 s so, 0.70 s as lists, and a rebuild asks of most
    outputs only whether a few changed reads are among theirs (``Changed``)."""
    return "\n" + "\n".join(reads) + "\n"


def split(saved: str) -> list[str]:
    """The reads ``joined`` saved."""
    return saved[1:-1].split("\n")


class Changed:
    """The reads of the previous build worth something else now, and whether an output's
    saved reads (``joined``) hold any of them: a substring test per changed read when
    they are few (a rebuild after a correction: a handful), else the reads split."""
    FEW = 24

    def __init__(self, reads: set):
        self.reads = reads
        self._between = ["\n" + t + "\n" for t in reads] if len(reads) <= self.FEW else None

    def __len__(self) -> int:
        return len(self.reads)

    def any_in(self, saved: str) -> bool:
        if self._between is None:
            return not self.reads.isdisjoint(saved.split("\n"))
        for t in self._between:
            if t in saved:
                return True
        return False


class Seq:
    """A list of projects that notes how it is read: iterated (every summary), its
    length, or a slice (a list page's projects)."""
    __slots__ = ("_items", "_name", "_reads")

    def __init__(self, name: str, items: list, reads: "Reading"):
        self._name, self._items, self._reads = name, items, reads

    def __iter__(self):
        self._reads.note("all\t" + self._name)
        return map(self._reads.noted, self._items)

    def __len__(self) -> int:
        self._reads.note("len\t" + self._name)
        return len(self._items)

    def __bool__(self) -> bool:
        return len(self) > 0

    def __getitem__(self, i):
        if isinstance(i, slice):
            a, b, _ = i.indices(len(self._items))
        else:
            a = i if i >= 0 else len(self._items) + i
            b = a + 1
        self._reads.note(f"slice\t{self._name}\t{a}\t{b}")
        if isinstance(i, slice):
            return [self._reads.noted(p) for p in self._items[i]]
        return self._reads.noted(self._items[i])


class _Lists:
    """``catalog.by_unit`` / ``by_year`` as ``Seq``s."""
    __slots__ = ("_kind", "_lists", "_reads")

    def __init__(self, kind: str, lists: dict, reads):
        self._kind, self._lists, self._reads = kind, lists, reads

    def __getitem__(self, key) -> Seq:
        return Seq(f"{self._kind}\t{key}", self._lists[key], self._reads)


class _Documents:
    """The published documents under content/sources/ (name → path), noting which names
    are looked up."""
    __slots__ = ("_docs", "_reads")

    def __init__(self, docs: dict, reads):
        self._docs, self._reads = docs, reads

    def __contains__(self, name) -> bool:
        self._reads.note("source\t" + digest(name)[:16])
        return name in self._docs


class _Page:
    """A free page as the footer reads it: its slug, title and URL (in every output's
    key), anything else noted as a read of the page."""
    __slots__ = ("slug", "title", "url", "_page", "_reading")

    def __init__(self, page, reading: "Reading"):
        self.slug, self.title, self.url = page.slug, page.title, page.url
        self._page, self._reading = page, reading

    def __getattr__(self, name: str):
        self._reading.note("page\t" + self.slug)
        return getattr(self._page, name)


class _Settings:
    """The site settings, noting which of them are read (every footer reads the licence
    and the contact; only the search page reads ``static_search``)."""
    __slots__ = ("_settings", "_reading")

    def __init__(self, settings, reading: "Reading"):
        self._settings, self._reading = settings, reading

    def __getattr__(self, name: str):
        self._reading.note("setting\t" + name)
        return getattr(self._settings, name)


class Reading:
    """The catalog as views and templates see it while an output is made, each read
    noted in ``reads`` (a set, while recording; ``render._Recording`` shares it).  It has
    only what the pages read: anything else is an error, not an unrecorded read."""

    def __init__(self, catalog: Catalog, documents: dict, indicators):
        """``indicators``: a function returning the indicator pages' aggregate."""
        self._c = catalog
        self.reads: set | None = None
        self.documents = _Documents(documents, self)
        self._indicators = indicators
        self._noted: dict[str, Noted] = {}
        self.pages = [_Page(page, self) for page in catalog.pages]     # the footer's links
        self.settings = _Settings(catalog.settings, self)

    def noted(self, p) -> Noted:
        """``p`` as code reads it from a list (one ``Noted`` per project)."""
        n = self._noted.get(p.id)
        if n is None or n._p is not p:
            n = self._noted[p.id] = Noted(p, self)
        return n

    def note(self, token: str) -> None:
        if self.reads is not None:
            self.reads.add(token)

    def release(self) -> None:
        """Let go of the catalog once the site is rendered (Jinja's environment, which
        holds this among its globals, is freed by the cycle collector only)."""
        self._c = self._indicators = None
        self._noted = {}

    @property
    def projects(self) -> Seq:
        return Seq("projects\t", self._c.projects, self)

    @property
    def by_unit(self) -> _Lists:
        return _Lists("unit", self._c.by_unit, self)

    @property
    def by_year(self) -> _Lists:
        return _Lists("year", self._c.by_year, self)

    @property
    def units(self) -> dict:
        self.note("units")
        return self._c.units

    def unit(self, uid: str):
        self.note("u\t" + uid)
        return self._c.units[uid]

    def unit_of(self, p):
        return self.unit(p.unit)

    def department_of(self, p) -> str:
        self.note("u\t" + p.unit)
        return self._c.department_of(p)

    def department_url(self, name: str | None) -> str:
        return Catalog.department_url(self, name)

    @property
    def departments(self) -> list[Department]:
        self.note("departments")
        return [Department(d.name, d.units, Seq("department\t" + d.slug, d.projects, self))
                for d in self._c.departments]

    def department(self, name: str) -> Department:
        return next(d for d in self.departments if d.name == name)

    @property
    def years(self) -> list[int]:
        self.note("years")
        return self._c.years

    def other_years(self, p) -> Seq:
        return Seq("other\t" + p.id, self._c.other_years(p), self)

    def page(self, slug: str):
        self.note("page\t" + slug)
        return next(p for p in self._c.pages if p.slug == slug)

    @property
    def total_yuan(self):
        return total(self.projects)

    def unit_groups(self, projects):
        return Catalog.unit_groups(self, projects)

    def department_groups(self, projects):
        return Catalog.department_groups(self, projects)

    @property
    def indicator_counts(self) -> list[dict]:
        """The indicator aggregate's categories and 二级指标 with their counts (not the
        names with their samples, which only the category pages show)."""
        self.note("indicator_counts")
        return indicator_counts(self._indicators())

    def indicator_group(self, category: str) -> dict:
        self.note("indicator_group\t" + category)
        return next(g for g in self._indicators() if g["category"] == category)


def indicator_counts(summary: list[dict]) -> list[dict]:
    return [{**group, "level2s": [{**l2, "names": None} for l2 in group["level2s"]]}
            for group in summary]


class Values:
    """What each read is worth in this build's catalog (each worked out once)."""

    def __init__(self, catalog: Catalog, documents: dict, indicators, site: str,
                 closure, old_projects: dict | None = None):
        self._c, self._documents, self._indicators = catalog, documents, indicators
        self._site, self._closure = site, closure        # closure: template → its hash or None
        self._memo: dict[str, object] = {}
        # project id → (its summary's hash, its totals'), and as the previous build had
        # them with its record's hash (``projects``): an unchanged record's are not hashed
        self._projects: dict[str, tuple] = {}
        self._old = OldProjects(old_projects)
        self._departments: dict | None = None
        self._documents_by_digest: set | None = None

    def __call__(self, token: str):
        try:
            return self._memo[token]
        except KeyError:
            value = self._memo[token] = self._value(token)
            return value

    def key(self, reads) -> list:
        memo = self._memo
        return [memo[t] if t in memo else self(t) for t in reads]

    def changed(self, old: dict) -> set:
        """The reads in ``old`` (``saved`` by the previous build) worth something else now.

        Not every read is valued again (322,847 distinct reads at 100,000 projects took
        12 s): a read of a project whose record is the one the previous build had is worth
        what it was, and so are the reads of lists of projects when no project came or
        went or changed what lists show (``SUMMARY``: lists are in site order, by year,
        unit and id, and a department's are its units') and no unit changed."""
        differ = self._other_records()
        out, lists, units = self._projects_changed(differ), [], set()
        for t, v in old.items():
            if t[:4] in ("all\t", "len\t") or t[:6] == "slice\t":
                lists.append((t, v))
                continue
            elif t[:2] == "u\t":
                units.add(t[2:])
            if _short(self(t)) != v:
                out.add(t)
        if lists and not self._lists_as_they_were(differ, out, units):
            out.update(t for t, v in lists if _short(self(t)) != v)
        return out

    def _projects_changed(self, differ: list) -> set:
        """The reads of a project's record ("r") and summary ("p") worth something else
        now, of the previous build's projects (``saved`` leaves them out: the previous
        build's ``projects`` has their worth): those whose record is not the same."""
        out = set()
        for pid in differ:
            out.add("r\t" + pid)
            p = self._c.project_by_id.get(pid)
            if p is None or self._hashes(p)[0] != self._old.get(pid)[1]:
                out.add("p\t" + pid)
        return out

    def _other_records(self) -> list:
        """The previous build's projects whose record is not the one it had (or is gone):
        compared as columns, 100,000 at a time."""
        old = self._old
        now = self._record_digests(old.ids)
        return list(itertools.compress(old.ids, map(operator.ne, now, old.records)))

    def _record_digests(self, ids: list[str]):
        """The digest of each project's record now (None for a project gone), in order."""
        return map(self._c.digests.get, zip(itertools.repeat("project"), ids))

    def _lists_as_they_were(self, differ: list, changed: set, units_read: set) -> bool:
        """No project came or went or changed its summary, every unit was read last time
        and none changed."""
        c, old = self._c, self._old
        if len(c.projects) != len(old.ids) or c.project_by_id.keys() != set(old.ids):
            return False                     # a project came or went
        if any(self._hashes(c.project_by_id[pid])[0] != old.get(pid)[1] for pid in differ):
            return False                     # a project's summary changed
        return (all(uid in units_read for uid in c.units)
                and not any(t[:2] == "u\t" or t in ("units", "departments") for t in changed))

    def saved(self, made: set, old: dict, every: set | None = None) -> dict:
        """What the reads are worth, as the next build compares them (``changed``): those
        of the previous build's (``old``) and those of the outputs made now (``made``); or,
        given ``every`` output's reads, those alone (the reads no output reads any more
        go).  A read this build valued is saved as it is worth now, any other as it was
        (a rebuild values few of them).  Not the reads of a project's record or summary:
        ``projects`` has what they are worth (200,000 of 322,847 reads at 100,000
        projects; a gone project's are kept, as None)."""
        current, memo = self._c.project_by_id, self._memo
        out = {}
        for t in (old.keys() | made) if every is None else every:
            if t[1:2] == "\t" and t[0] in "rp" and t[2:] in current:
                continue
            out[t] = (_short(memo[t]) if t in memo else old[t] if t in old
                      else _short(self(t)))
        return out

    def projects(self) -> dict:
        """Every project's record hash, summary hash and totals hash, for the next build
        (``OldProjects``): the previous build's where the projects are the same, in the same
        order, with the same records."""
        c, old = self._c, self._old
        ids = [p.id for p in c.projects]
        records = [d or "" for d in self._record_digests(ids)]
        if ids == old.ids:
            summaries, totals = list(old.summaries), list(old.totals)
            for i in itertools.compress(range(len(ids)), map(operator.ne, records, old.records)):
                summaries[i], totals[i] = self._hashes(c.projects[i])
        else:
            hashes = [self._hashes(p) for p in c.projects]
            summaries, totals = [h[0] for h in hashes], [h[1] for h in hashes]
        return {"ids": "\n".join(ids), "records": "\n".join(records),
                "summaries": "\n".join(summaries), "totals": "\n".join(totals)}

    def _hashes(self, p) -> tuple:
        h = self._projects.get(p.id)
        if h is None:
            record, old = self._c.digests.get(("project", p.id)), self._old.get(p.id)
            h = self._projects[p.id] = (
                old[1:] if old is not None and record is not None and old[0] == record
                else (digest(_summary_fields(p), p.funds_json),
                      digest(_totals_fields(p), p.funds_json)))
        return h

    def _summary_of(self, p) -> str:
        return self._hashes(p)[0]

    def _totals_of(self, projects) -> str:
        """What totals read of ``projects``, in order (each project's worked out when a
        list of it is valued: a rebuild values the lists of the projects it changed)."""
        hashes = self._hashes
        return "\n".join([hashes(p)[1] for p in projects])     # (not hashed: keys hash them)

    def _list(self, kind: str, arg: str) -> list:
        c = self._c
        if kind == "projects":
            return c.projects
        if kind == "unit":
            return c.by_unit.get(arg, [])
        if kind == "year":
            return c.by_year.get(int(arg), [])
        if kind == "department":
            if self._departments is None:
                self._departments = {d.slug: d.projects for d in c.departments}
            return self._departments.get(arg, [])
        p = c.project_by_id.get(arg)                 # "other"
        return c.other_years(p) if p is not None else []

    def _value(self, token: str):
        c = self._c
        if token[:2] == "r\t":                   # the commonest: a record, by its digest
            d = c.digests.get(("project", token[2:]))
            if d is not None:
                return d
        kind, *args = token.split("\t")
        if kind in ("p", "r"):
            p = c.project_by_id.get(args[0])
            return (None if p is None else self._summary_of(p) if kind == "p"
                    else c.digest("project", p))
        if kind == "u":
            u = c.units.get(args[0])
            return None if u is None else c.digest("unit", u)
        if kind == "all":
            return self._totals_of(self._list(*args))
        if kind == "len":
            return len(self._list(*args))
        if kind == "slice":
            return self._totals_of(self._list(*args[:2])[int(args[2]):int(args[3])])
        if kind == "units":
            return digest([(uid, c.digest("unit", u)) for uid, u in c.units.items()])
        if kind == "departments":
            return digest([(d.name, [self("u\t" + u.id) for u in d.units])
                           for d in c.departments])
        if kind == "years":
            return c.years
        if kind == "site":
            return self._site
        if kind == "template":
            return self._closure(args[0])
        if kind == "plain":
            return args[0]
        if kind == "setting":
            return getattr(c.settings, args[0])
        if kind == "page":
            return next(((p.title, p.body, p.path) for p in c.pages if p.slug == args[0]), None)
        if kind == "source":
            if self._documents_by_digest is None:
                self._documents_by_digest = {digest(name)[:16] for name in self._documents}
            return args[0] in self._documents_by_digest
        if kind == "indicator_counts":
            return indicator_key(indicator_counts(self._indicators()))
        if kind == "indicator_group":
            return indicator_key([g for g in self._indicators() if g["category"] == args[0]])
        raise ValueError(f"unknown read {token!r}")


class OldProjects:
    """The previous build's projects' hashes (``Values.projects``), saved as four columns,
    one string each: ids, records, summaries, totals (100,000 lists of three took 0.22 s of
    a rebuild to load, and comparing them one by one 0.3 s)."""

    def __init__(self, saved: dict | None):
        column = lambda name: saved[name].split("\n") if saved and saved[name] else []
        self.ids, self.records = column("ids"), column("records")
        self.summaries, self.totals = column("summaries"), column("totals")
        self._at: dict[str, int] | None = None

    def get(self, pid: str) -> tuple | None:
        """(record hash or None, summary hash, totals hash), or None."""
        if self._at is None:
            self._at = dict(zip(self.ids, range(len(self.ids))))
        i = self._at.get(pid)
        return None if i is None else (self.records[i] or None, self.summaries[i],
                                       self.totals[i])


def _short(value):
    """A value as saved: as it is when short (a hash, a number), else a hash of it."""
    if value is None or type(value) in (int, bool) or (type(value) is str and len(value) <= 40):
        return value
    return "#" + digest(value)


def indicator_key(summary) -> str:
    """A hash of the indicator aggregate with its sample projects by id (what a template
    reads of them is a read of its own)."""
    def plain(x):
        if isinstance(x, dict):
            return [[k, plain(v)] for k, v in x.items()]
        if isinstance(x, list):
            return [plain(v) for v in x]
        if isinstance(x, PROJECTS):
            return x.id
        return x
    return digest(plain(summary))
