"""The whoosh implementation of ``SearchBackend``.

Layout under the output directory (never served: the server refuses any path
segment that starts with a dot)::

    <out>/.search/CURRENT          names the live generation, replaced atomically
    <out>/.search/g-<digest>/      a whoosh index + units.json, written once, never changed;
                                   named by a hash of what it holds

``index`` writes a new generation into a temporary directory, renames it, then
points CURRENT at it with ``os.replace``; readers see the old or the new
generation, never a half-written one.  Generations older than the previous
one are removed (the previous one is kept for readers that read CURRENT just
before the swap).

``search`` opens the generation CURRENT names once per process and keeps the
searcher, the stored documents and the unit list in memory; it stats CURRENT
on every call (one syscall) and reopens only when the name changes.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.analysis import Token as WhooshToken
from whoosh.analysis import Tokenizer
from whoosh.fields import ID, KEYWORD, STORED, TEXT, Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC

from .analysis import ParsedQuery, fold, matches, parse_query, tokens
from .documents import FIELDS, documents, field_texts, unit_docs
from .params import FACETS, SearchParams
from .results import matched_indicators, snippets

SEARCH_DIR = ".search"
INDEX_VERSION = 2          # bump when the analyzer or the schema changes: forces a new index
CURRENT = "CURRENT"
MAX_UNIT_RESULTS = 3


class NoIndex(RuntimeError):
    """No index has been built in this output directory."""


class BigramTokenizer(Tokenizer):
    """whoosh face of ``analysis.tokens``: folded CJK bigrams + unigrams, words, symbols."""

    def __eq__(self, other):
        return type(other) is type(self)

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        t = WhooshToken(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:          # whoosh asks for the value as one token (e.g. for a term)
            t.original = t.text = fold(value)
            t.boost, t.stopped = 1.0, False
            if positions:
                t.pos = start_pos
            if chars:
                t.startchar, t.endchar = start_char, start_char + len(value)
            yield t
            return
        for tok in tokens(fold(value)):
            t.text = tok.text
            t.boost, t.stopped = 1.0, False
            if keeporiginal:
                t.original = tok.text
            if positions:
                t.pos = start_pos + tok.pos
            if chars:            # offsets in folded text; only the shaping code uses offsets
                t.startchar, t.endchar = start_char + tok.start, start_char + tok.end
            yield t


def schema() -> Schema:
    analyzer = BigramTokenizer()
    text = {name: TEXT(analyzer=analyzer, phrase=True, stored=False) for name in FIELDS}
    return Schema(id=ID(stored=True, unique=True), year=ID, unit_id=ID, department_id=ID,
                  category=KEYWORD(commas=True), doc=STORED, **text)


# ── index ────────────────────────────────────────────────────────────────────

BUCKETS = 16               # documents are split by a hash of their id into this many segments
PARALLEL_FROM = 400        # documents from which the segments are written by two processes


def _bucket(doc_id: str) -> int:
    return int(hashlib.sha1(doc_id.encode("utf-8")).hexdigest()[:8], 16) % BUCKETS


def _add(writer, doc: dict) -> None:
    writer.add_document(id=doc["id"], year=str(doc["year"]), unit_id=doc["unit"]["id"],
                        department_id=doc["department"]["id"],
                        category=",".join(doc["categories"]), doc=doc, **field_texts(doc))


def _write_bucket(job) -> list:
    """Index one bucket's documents into its own directory: one whoosh segment."""
    dirname, docs = job
    ix = whoosh_index.create_in(dirname, schema())
    writer = ix.writer()
    for doc in docs:
        _add(writer, doc)
    writer.commit()
    segments = ix._segments()
    ix.close()
    return segments


def build_index(catalog, out: Path) -> Path:
    """Write a new generation for ``catalog`` under ``out/.search`` and make it current.

    The documents are split into ``BUCKETS`` buckets by a hash of the project id; each
    bucket is one segment.  A bucket whose documents are those of the live generation
    keeps its segment (hard-linked: segment files are never changed once written), so a
    corrected record re-indexes one bucket.  Because a clean build makes exactly the same
    segments, term statistics — and so scores and result order — are the same as a clean
    build's.  Changed buckets are written by two processes when there are many documents.
    """
    root = Path(out) / SEARCH_DIR
    root.mkdir(parents=True, exist_ok=True)
    docs, units = documents(catalog), unit_docs(catalog)
    buckets: list[list[dict]] = [[] for _ in range(BUCKETS)]
    for doc in docs:
        buckets[_bucket(doc["id"])].append(doc)
    hashes = [hashlib.sha256(json.dumps([INDEX_VERSION, b], ensure_ascii=False,
                                        sort_keys=True).encode("utf-8")).hexdigest()
              for b in buckets]
    # generations are named by what they hold: an unchanged catalog (a template edit,
    # a rebuild) keeps its index, and a revert swaps back to the previous one
    digest = hashlib.sha256(json.dumps([INDEX_VERSION, BUCKETS, hashes, units],
                                       ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest()
    name = f"g-{digest[:20]}"
    previous = _read_current(root)
    if (root / name / "units.json").is_file():
        if previous != name:
            _point(root, name)
            _remove_old(root, keep={name, previous})
        return root / name
    reuse = _reusable_segments(root / previous) if previous else {}
    tmp = Path(tempfile.mkdtemp(prefix="tmp-", dir=root))
    os.chmod(tmp, 0o755)           # mkdtemp makes 0700; a server may run as another user
    try:
        whoosh_index.create_in(str(tmp), schema()).close()
        storage = FileStorage(str(tmp))
        segments, kept = [], {}
        jobs = []
        for k, (bucket, h) in enumerate(zip(buckets, hashes)):
            if not bucket:
                continue
            if h in reuse:
                seg, files = reuse[h]
                for f in files:
                    os.link(f, tmp / f.name)
                segments.append(seg)
                kept[h] = seg.segid
                continue
            sub = tmp / f"b{k}"
            sub.mkdir()
            jobs.append((k, h, str(sub), bucket))
        n_docs = sum(len(j[3]) for j in jobs)
        if n_docs >= PARALLEL_FROM and len(jobs) > 1 and (os.cpu_count() or 1) > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor
            ctx = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=min(2, os.cpu_count() or 1), mp_context=ctx) as pool:
                made = list(pool.map(_write_bucket, [(d, b) for _, _, d, b in jobs]))
        else:
            made = [_write_bucket((d, b)) for _, _, d, b in jobs]
        for (k, h, sub, _), segs in zip(jobs, made):
            for seg in segs:
                for f in Path(sub).iterdir():
                    if f.name.startswith(seg.segment_id() + "."):
                        os.replace(f, tmp / f.name)
                segments.append(seg)
                kept[h] = seg.segid
            shutil.rmtree(sub)
        for f in tmp.glob("_MAIN_*.toc"):
            f.unlink()
        TOC(schema(), segments, 1).write(storage, "MAIN")
        (tmp / "segments.json").write_text(json.dumps(kept), "utf-8")
        (tmp / "units.json").write_text(json.dumps(units, ensure_ascii=False), "utf-8")
        shutil.rmtree(root / name, ignore_errors=True)     # a half-made one without units.json
        os.rename(tmp, root / name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _point(root, name)
    _remove_old(root, keep={name, previous})
    return root / name


def _reusable_segments(gen: Path) -> dict:
    """bucket hash → (segment, its files) of a previous generation, when readable."""
    try:
        kept = json.loads((gen / "segments.json").read_text("utf-8"))
        toc = TOC.read(FileStorage(str(gen)), "MAIN")
    except Exception:          # an older layout, a half-removed generation: rebuild all
        return {}
    by_id = {seg.segid: seg for seg in toc.segments}
    out = {}
    for h, segid in kept.items():
        seg = by_id.get(segid)
        if seg is None or seg.deleted_count():
            continue
        files = [gen / f for f in os.listdir(gen) if f.startswith(seg.segment_id() + ".")]
        if files:
            out[h] = (seg, files)
    return out


def _point(root: Path, name: str) -> None:
    """Make ``name`` the live generation: write CURRENT beside, then ``os.replace``."""
    pointer = root / f".{CURRENT}.{os.getpid()}.{threading.get_ident()}.tmp"
    pointer.write_text(name + "\n", "utf-8")
    os.replace(pointer, root / CURRENT)


def _read_current(root: Path) -> str | None:
    try:
        name = (root / CURRENT).read_text("utf-8").strip()
    except FileNotFoundError:
        return None
    return name if name.startswith("g-") and "/" not in name and "\\" not in name else None


def _remove_old(root: Path, keep: set) -> None:
    stale_before = time.time() - 3600
    for child in root.iterdir():
        if child.name in keep or not child.is_dir():
            continue
        if child.name.startswith("g-") or (child.name.startswith("tmp-")
                                          and child.stat().st_mtime < stale_before):
            shutil.rmtree(child, ignore_errors=True)


# ── search ───────────────────────────────────────────────────────────────────

@dataclass
class _Generation:
    name: str
    searcher: object
    docs: list            # docnum → stored doc
    units: list
    lock: threading.Lock


def _phrase(field: str, slots: tuple[str, ...]) -> wq.Query:
    if len(slots) == 1:
        return wq.Term(field, slots[0])
    return wq.Phrase(field, list(slots))


def _part(slots, fields: dict[str, float]) -> wq.Query:
    return wq.Or([_phrase(f, slots).with_boost(b) if b != 1.0 else _phrase(f, slots)
                  for f, b in fields.items()])


def _all_parts(query: ParsedQuery, fields: dict[str, float]) -> wq.Query:
    return wq.And([_part(s, fields) for s in query.slots])


class WhooshBackend:
    """``SearchBackend`` over a whoosh index in ``<out>/.search``."""

    def __init__(self, out: Path):
        self.out = Path(out)
        self.root = self.out / SEARCH_DIR
        self._lock = threading.Lock()
        self._stamp = None
        self._gen: _Generation | None = None

    # the SearchBackend interface
    def index(self, catalog) -> None:
        build_index(catalog, self.out)

    def search(self, params: SearchParams) -> dict:
        gen = self._current()
        query = parse_query(params.q)
        docnums, scores, tiers = self._match(gen, query)
        return _shape(gen, params, query, docnums, scores, tiers)

    # internals
    def _current(self) -> _Generation:
        try:
            st = os.stat(self.root / CURRENT)
        except FileNotFoundError:
            raise NoIndex(f"no search index in {self.root}; build the site first "
                          f"(python build.py build --out {self.out})") from None
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        if stamp == self._stamp and self._gen is not None:
            return self._gen
        with self._lock:
            name = _read_current(self.root)
            if name is None:
                raise NoIndex(f"{self.root / CURRENT} does not name an index generation")
            if self._gen is None or self._gen.name != name:
                self._gen = self._open(name)
            self._stamp = stamp
            return self._gen

    def _open(self, name: str) -> _Generation:
        path = self.root / name
        ix = whoosh_index.open_dir(str(path))
        searcher = ix.searcher()
        reader = searcher.reader()
        docs = [None] * reader.doc_count_all()
        for docnum, stored in reader.iter_docs():
            docs[docnum] = stored["doc"]
        units = json.loads((path / "units.json").read_text("utf-8"))
        return _Generation(name, searcher, docs, units, threading.Lock())

    def _match(self, gen: _Generation, query: ParsedQuery):
        """Matching docnums with their scores and tiers (0 name, 1 name/unit, 2 elsewhere)."""
        if query.empty:
            live = [n for n, d in enumerate(gen.docs) if d is not None]
            return live, {}, {}
        if not query.slots:
            return [], {}, {}
        names = {"name": 1.0}
        name_or_unit = {"name": 1.0, "unit": 1.0}
        with gen.lock:          # a whoosh searcher is not safe for concurrent use
            hits = gen.searcher.search(_all_parts(query, FIELDS), limit=None)
            scores = {h.docnum: h.score for h in hits}
            in_name = set(gen.searcher.docs_for_query(_all_parts(query, names)))
            in_unit = set(gen.searcher.docs_for_query(_all_parts(query, name_or_unit)))
        tiers = {n: 0 if n in in_name else 1 if n in in_unit else 2 for n in scores}
        return list(scores), scores, tiers


def _facet_values(doc: dict, facet: str) -> list[str]:
    if facet == "year":
        return [str(doc["year"])]
    if facet == "unit":
        return [doc["unit"]["id"]]
    if facet == "department":
        return [doc["department"]["id"]]
    return doc["categories"]


def _facet_label(doc: dict, facet: str, value: str) -> str:
    from ..derive import CATEGORY_LABELS
    if facet == "unit":
        return doc["unit"]["name"]
    if facet == "department":
        return doc["department"]["name"]
    if facet == "category":
        return CATEGORY_LABELS.get(value, value)
    return value


def _shape(gen: _Generation, params: SearchParams, query: ParsedQuery,
           docnums: list[int], scores: dict, tiers: dict) -> dict:
    from ..derive import CATEGORY_LABELS, CATEGORY_ORDER
    from decimal import Decimal
    filters = params.filters

    def passes(doc, skip=None) -> bool:
        return all(any(v in wanted for v in _facet_values(doc, f))
                   for f, wanted in filters.items() if f != skip)

    docs = [(n, gen.docs[n]) for n in docnums]
    kept = [(n, d) for n, d in docs if passes(d)]
    if params.sort == "amount":
        kept.sort(key=lambda nd: (-Decimal(nd[1]["annual_yuan"]), nd[1]["order"]))
    else:
        kept.sort(key=lambda nd: (tiers.get(nd[0], 2), -scores.get(nd[0], 0.0), nd[1]["order"]))

    facets = {}
    for facet in FACETS:
        counts: dict[str, int] = {}
        labels: dict[str, str] = {}
        for _, d in docs:
            if not passes(d, skip=facet):
                continue
            for v in _facet_values(d, facet):
                counts[v] = counts.get(v, 0) + 1
                labels.setdefault(v, _facet_label(d, facet, v))
        selected = getattr(params, facet)
        for v in selected:
            counts.setdefault(v, 0)
            labels.setdefault(v, CATEGORY_LABELS.get(v, v) if facet == "category" else v)
        if facet == "year":
            order = sorted(counts, key=lambda v: v, reverse=True)
        elif facet == "category":
            order = sorted(counts, key=lambda v: (CATEGORY_ORDER.index(v) if v in CATEGORY_ORDER else 99, v))
        else:
            order = sorted(counts, key=lambda v: (-counts[v], labels[v], v))
        facets[facet] = [{"value": v, "label": labels[v], "count": counts[v], "selected": v in selected}
                         for v in order]

    first = (params.page - 1) * params.page_size
    page = kept[first:first + params.page_size]
    results = []
    if params.page == 1 and not query.empty:
        results += _unit_results(gen, query, filters)
    for _, d in page:
        results.append({
            "type": "project", "id": d["id"], "title": d["title"], "url": d["url"],
            "year": d["year"], "unit": dict(d["unit"]), "annual_yuan": d["annual_yuan"],
            "snippets": snippets(d, query),
            "indicators": matched_indicators(d, query, params.category),
        })
    return {"query": params.q, "total": len(kept), "page": params.page,
            "page_size": params.page_size, "results": results, "facets": facets}


def _unit_results(gen: _Generation, query: ParsedQuery, filters: dict) -> list[dict]:
    """Units whose name holds every part of the query (or whose code is the query).

    Shown only when few units match: a query that names a unit, not one that
    every unit name holds (such as 上海市).
    """
    found = []
    for u in gen.units:
        if "unit" in filters and u["id"] not in filters["unit"]:
            continue
        if "department" in filters and u["department"] not in filters["department"]:
            continue
        name = fold(u["name"])
        if all(matches(name, s, p) for p, s in zip(query.parts, query.slots)) or (u["code"] and query.parts == (u["code"],)):
            found.append(u)
    if not found or len(found) > MAX_UNIT_RESULTS:
        return []
    found.sort(key=lambda u: (len(u["name"]), u["id"]))
    return [{"type": "unit", "id": u["id"], "title": u["name"], "url": u["url"]} for u in found]
