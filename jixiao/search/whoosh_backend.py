"""The whoosh implementation of ``SearchBackend``.

Layout under the output directory (never served: the server refuses any path
segment that starts with a dot)::

    <out>/.search/CURRENT          names the live generation, replaced atomically
    <out>/.search/g-<digest>/      a whoosh index (16 segments) + segments.json + meta.json +
                                   units.json, written once, never changed; named by a hash
                                   of what it holds

``index`` writes a new generation into a temporary directory, renames it, then
points CURRENT at it with ``os.replace``; readers see the old or the new
generation, never a half-written one.  Generations older than the previous
one are removed (the previous one is kept for readers that read CURRENT just
before the swap).

``search`` opens the generation CURRENT names once per process and keeps only
meta.json as bitsets (one per facet value) and the unit list in memory, one whoosh
searcher per thread, and a small cache of matched queries; stored documents are
read for the page's hits only.  It stats CURRENT on every call (one syscall) and
reopens only when the name changes.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
import zlib
from collections import OrderedDict
from decimal import Decimal
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.analysis import Token as WhooshToken
from whoosh.analysis import Tokenizer
from whoosh.fields import ID, STORED, TEXT, Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC
from whoosh.matching import NullMatcher, WrappingMatcher
from whoosh.query.spans import Span, SpanNear2

from .analysis import ParsedQuery, fold, matches, parse_query, tokens
from .documents import FIELDS, documents, field_texts, unit_docs
from .params import FACETS, SearchParams
from .results import matched_indicators, snippets

SEARCH_DIR = ".search"
INDEX_VERSION = 3          # bump when the analyzer or the schema changes: forces a new index
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
    # filters and facets come from meta.json (bitsets), not from the index; the stored
    # document (zlib-compressed JSON) is read only for the hits on the page
    return Schema(id=ID(stored=True, unique=True), doc=STORED, **text)


# ── index ────────────────────────────────────────────────────────────────────

BUCKETS = 16               # documents are split by a hash of their id into this many segments
                           # (measured at 10k, docs/PERFORMANCE.md: 64 → index 4.2 s for one
                           # record but /api/search 84 req/s, index 338 MB; 256 → 3.4 s but
                           # 1 req/s, 624 MB, and a file descriptor per segment and thread
                           # beyond select()'s 1024 in waitress)
PARALLEL_FROM = 400        # documents from which the segments are written by two processes


def _bucket(doc_id: str) -> int:
    return int(hashlib.sha1(doc_id.encode("utf-8")).hexdigest()[:8], 16) % BUCKETS


_STORED_KEYS = ("id", "title", "url", "year", "unit", "annual_yuan", "department", "nature",
                "category", "goals", "sections", "indicators")


def _pack(doc: dict) -> bytes:
    """What a result needs of a project, as compressed JSON (read for the page's hits only)."""
    return zlib.compress(json.dumps({k: doc[k] for k in _STORED_KEYS}, ensure_ascii=False,
                                    separators=(",", ":")).encode("utf-8"), 6)


def _unpack(data: bytes) -> dict:
    return json.loads(zlib.decompress(data).decode("utf-8"))


def _add(writer, doc: dict) -> None:
    writer.add_document(id=doc["id"], doc=_pack(doc), **field_texts(doc))


def _meta_row(doc: dict) -> list:
    """docnum → what facets, filters and sorting need (meta.json, loaded once per generation)."""
    return [doc["order"], str(doc["year"]), doc["unit"]["id"], doc["unit"]["name"],
            doc["department"]["id"], doc["department"]["name"], doc["categories"], doc["annual_yuan"]]


def _segment_part(doc: dict) -> dict:
    """What of a document goes into its segment (everything but its site position)."""
    return {k: v for k, v in doc.items() if k != "order"}


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
    # a bucket's hash is what its segment holds: ``order`` (the site position) lives in
    # meta.json only, so a project added or removed elsewhere keeps the other segments
    hashes = [hashlib.sha256(json.dumps([INDEX_VERSION, [_segment_part(d) for d in b]],
                                        ensure_ascii=False, sort_keys=True).encode("utf-8")
                             ).hexdigest()
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
        segments, kept, seg_buckets = [], {}, []
        jobs = []
        for k, (bucket, h) in enumerate(zip(buckets, hashes)):
            if not bucket:
                continue
            if h in reuse:
                seg, files = reuse[h]
                for f in files:
                    os.link(f, tmp / f.name)
                segments.append(seg)
                seg_buckets.append(k)
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
            if len(segs) != 1:                 # docnums are bucket order: one segment a bucket
                raise RuntimeError(f"bucket {k} made {len(segs)} segments")
            for seg in segs:
                for f in Path(sub).iterdir():
                    if f.name.startswith(seg.segment_id() + "."):
                        os.replace(f, tmp / f.name)
                segments.append(seg)
                seg_buckets.append(k)
                kept[h] = seg.segid
            shutil.rmtree(sub)
        for f in tmp.glob("_MAIN_*.toc"):
            f.unlink()
        TOC(schema(), segments, 1).write(storage, "MAIN")
        (tmp / "segments.json").write_text(json.dumps(kept), "utf-8")
        # docnums run through the segments in TOC order, each bucket's documents in order
        meta = [_meta_row(doc) for k in seg_buckets for doc in buckets[k]]
        (tmp / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, separators=(",", ":")),
                                       "utf-8")
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
    by_segment: dict[str, list] = {}
    for f in os.listdir(gen):          # once: BUCKETS segments × their files
        by_segment.setdefault(f.partition(".")[0], []).append(gen / f)
    out = {}
    for h, segid in kept.items():
        seg = by_id.get(segid)
        if seg is None or seg.deleted_count():
            continue
        files = by_segment.get(seg.segment_id(), [])
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
#
# Sets of projects are Python ints used as bitsets, bit i = the project at site position i
# (``order``): a filter is an OR of value masks, a facet count is ``(m & mask).bit_count()``,
# and the first set bits of a mask are the first projects in site order.

CACHE_SIZE = 128           # matched queries kept per generation (a few tens of KB each)
RESULT_CACHE_SIZE = 2000   # shaped project results (snippets, indicators) kept per generation


def _mask(positions) -> int:
    return int.from_bytes(_bytes(positions), "little") if positions else 0


def _bytes(positions, nbytes: int | None = None) -> bytearray:
    out = bytearray(nbytes if nbytes is not None else (max(positions) >> 3) + 1 if positions else 0)
    for p in positions:
        out[p >> 3] |= 1 << (p & 7)
    return out


_BITS = [tuple(b for b in range(8) if v >> b & 1) for v in range(256)]


def _positions(mask: int, skip: int, take: int) -> list[int]:
    """Positions of the set bits of ``mask``, lowest first, after skipping ``skip`` of them."""
    out: list[int] = []
    if take <= 0 or not mask:
        return out
    data = mask.to_bytes((mask.bit_length() + 7) >> 3, "little")
    for i, byte in enumerate(data):
        if not byte:
            continue
        bits = _BITS[byte]
        if skip >= len(bits):
            skip -= len(bits)
            continue
        for b in bits[skip:]:
            out.append(i * 8 + b)
            if len(out) == take:
                return out
        skip = 0
    return out


class _Generation:
    """One generation, opened once per process: compact per-project arrays and value masks.

    Searchers are per thread (a whoosh searcher is not safe for concurrent use, and
    opening one over an immutable generation is cheap); match results are cached per
    query in a small LRU that goes with the generation.
    """

    def __init__(self, name: str, path: Path):
        self.name, self.path = name, path
        # no mmap: a mapped segment counts in the resident set of every thread that reads it
        self.ix = FileStorage(str(path), supports_mmap=False).open_index()
        try:
            rows = json.loads((path / "meta.json").read_text("utf-8"))
        except FileNotFoundError:
            raise NoIndex(f"{path} was written by an older version; rebuild the site") from None
        self.units = json.loads((path / "units.json").read_text("utf-8"))
        for u in self.units:
            u["folded"] = fold(u["name"])
        with self.ix.reader() as reader:
            if reader.doc_count_all() != len(rows):
                raise NoIndex(f"{path}: meta.json does not match the index; rebuild the site")
        n = len(rows)
        self.n = n
        self.nbytes = (n + 7) >> 3
        self.pos = [r[0] for r in rows]                     # docnum → site position
        self.docnum = [0] * n                               # site position → docnum
        for d, p in enumerate(self.pos):
            self.docnum[p] = d
        self.all = (1 << n) - 1
        values: dict[str, dict[str, list[int]]] = {f: {} for f in FACETS}
        self.labels: dict[str, dict[str, str]] = {"unit": {}, "department": {}}
        for order, year, unit, unit_name, dept, dept_name, cats, _ in rows:
            values["year"].setdefault(year, []).append(order)
            values["unit"].setdefault(unit, []).append(order)
            values["department"].setdefault(dept, []).append(order)
            for c in cats:
                values["category"].setdefault(c, []).append(order)
            self.labels["unit"].setdefault(unit, unit_name)
            self.labels["department"].setdefault(dept, dept_name)
        self.masks = {f: {v: _mask(ps) for v, ps in vs.items()} for f, vs in values.items()}
        self.by_amount = [r[0] for r in sorted(rows, key=lambda r: (-Decimal(r[7]), r[0]))]
        self._local = threading.local()
        self._cache: OrderedDict = OrderedDict()
        self._cache_lock = threading.Lock()
        self._pending: dict = {}
        self._results: OrderedDict = OrderedDict()

    def searcher(self):
        s = getattr(self._local, "searcher", None)
        if s is None:
            s = self._local.searcher = self.ix.searcher()
        return s

    def stored(self, position: int) -> dict:
        return _unpack(self.searcher().stored_fields(self.docnum[position])["doc"])

    def match(self, query: ParsedQuery):
        """(matched mask, site positions in relevance order) for a non-empty query, cached.

        A query being matched by one thread is waited for by the others (one whoosh pass
        per query, not one per client that asks at the same time).
        """
        key = query.slots
        with self._cache_lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
            else:
                pending = self._pending.get(key)
                if pending is None:
                    self._pending[key] = threading.Event()
        if hit is not None:
            return hit
        if pending is not None:
            pending.wait()
            return self.match(query)
        try:
            hit = self._match(query)
            with self._cache_lock:
                self._cache[key] = hit
                while len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)
        finally:
            with self._cache_lock:
                self._pending.pop(key).set()
        return hit

    def _match(self, query: ParsedQuery):
        from array import array
        searcher = self.searcher()
        pos = self.pos
        hits = searcher.search(_all_parts(query, FIELDS), limit=None)
        scores = {h.docnum: h.score for h in hits}
        in_name = set(searcher.docs_for_query(_all_parts(query, {"name": 1.0})))
        in_unit = set(searcher.docs_for_query(_all_parts(query, {"name": 1.0, "unit": 1.0})))
        ranked = sorted(scores, key=lambda d: (0 if d in in_name else 1 if d in in_unit else 2,
                                               -scores[d], pos[d]))
        positions = array("i", (pos[d] for d in ranked))
        units = [u for u in self.units
                 if all(matches(u["folded"], s, p) for p, s in zip(query.parts, query.slots))
                 or (u["code"] and query.parts == (u["code"],))]
        return _mask(positions), positions, units

    def result(self, position: int, query: ParsedQuery, categories: tuple) -> dict:
        """The result entry of one project for a query (cached; callers must not change it)."""
        key = (position, query.slots, query.parts, categories, query.text)
        with self._cache_lock:
            entry = self._results.get(key)
            if entry is not None:
                self._results.move_to_end(key)
                return entry
        d = self.stored(position)
        entry = {
            "type": "project", "id": d["id"], "title": d["title"], "url": d["url"],
            "year": d["year"], "unit": dict(d["unit"]), "annual_yuan": d["annual_yuan"],
            "snippets": snippets(d, query),
            "indicators": matched_indicators(d, query, categories),
        }
        with self._cache_lock:
            self._results[key] = entry
            while len(self._results) > RESULT_CACHE_SIZE:
                self._results.popitem(last=False)
        return entry


class _RunMatcher(SpanNear2.SpanNear2Matcher):
    """whoosh's phrase matcher (SpanNear2: slop 1, ordered, mindist 1), with the spans of a
    document computed from sets of positions instead of span objects.

    A phrase of terms t0 … tk matches at p when t_i stands at p + i for every i; the spans
    are ``Span(p, p + k)`` for those p, in order — what SpanNear2 finds, at a fraction of
    the cost (span matching was most of the time of a phrase query matching thousands of
    documents).  Scores are the intersection's, as before.
    """

    def _get_spans(self):
        ms = self.ms
        starts = set(ms[0].value_as("positions"))
        for i in range(1, len(ms)):
            if not starts:
                return []
            starts.intersection_update([p - i for p in ms[i].value_as("positions")])
        if not starts:
            return []
        k = len(ms) - 1
        return [Span(p, p + k) for p in sorted(starts)]


class _Run(wq.Phrase):
    """``Phrase`` whose matcher is ``_RunMatcher`` (same documents, spans and scores)."""

    def matcher(self, searcher, context=None):
        if self.slop != 1 or len(self.words) < 2:
            return super().matcher(searcher, context)
        fieldname = self.fieldname
        if fieldname not in searcher.schema:
            return NullMatcher()
        field = searcher.schema[fieldname]
        if not field.format or not field.format.supports("positions") \
                or field.format.supports("characters"):
            return super().matcher(searcher, context)
        reader = searcher.reader()
        terms = []
        for word in self.words:
            try:
                word = field.to_bytes(word)
            except ValueError:
                return NullMatcher()
            if (fieldname, word) not in reader:
                return NullMatcher()
            terms.append(wq.Term(fieldname, word))
        ms = [t.matcher(searcher, context) for t in terms]
        if not all(m.is_leaf() for m in ms):
            return super().matcher(searcher, context)
        m = _RunMatcher(ms, slop=1, ordered=True, mindist=1)
        if self.boost != 1.0:
            m = WrappingMatcher(m, boost=self.boost)
        return m


def _phrase(field: str, slots: tuple[str, ...]) -> wq.Query:
    if len(slots) == 1:
        return wq.Term(field, slots[0])
    return _Run(field, list(slots))


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
        if query.empty:
            matched, ranked, units = gen.all, None, []
        else:
            matched, ranked, units = gen.match(query)
        return _shape(gen, params, query, matched, ranked, units)

    # internals
    def _current(self) -> _Generation:
        try:
            st = os.stat(self.root / CURRENT)
        except FileNotFoundError:
            raise NoIndex(f"no search index in {self.root}; build the site first "
                          f"(python build.py build --out {self.out})") from None
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        gen = self._gen
        if stamp == self._stamp and gen is not None:
            return gen
        with self._lock:
            name = _read_current(self.root)
            if name is None:
                raise NoIndex(f"{self.root / CURRENT} does not name an index generation")
            if self._gen is None or self._gen.name != name:
                self._gen = _Generation(name, self.root / name)   # the old one (its searchers,
            self._stamp = stamp                                    # its cache) goes with it
            return self._gen


def _shape(gen: _Generation, params: SearchParams, query: ParsedQuery,
           matched: int, ranked, units: list) -> dict:
    from ..derive import CATEGORY_LABELS, CATEGORY_ORDER
    filters = params.filters
    wanted = {}
    for f, values in filters.items():
        m = 0
        for v in values:
            m |= gen.masks[f].get(v, 0)
        wanted[f] = m
    kept = matched
    for m in wanted.values():
        kept &= m

    facets = {}
    for facet in FACETS:
        base = matched
        for f, m in wanted.items():
            if f != facet:
                base &= m
        counts: dict[str, int] = {}
        if base:
            for v, m in gen.masks[facet].items():
                c = (base & m).bit_count()
                if c:
                    counts[v] = c
        labels = {v: (CATEGORY_LABELS.get(v, v) if facet == "category"
                      else gen.labels[facet][v] if facet in gen.labels else v) for v in counts}
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

    total = kept.bit_count()
    first = (params.page - 1) * params.page_size
    take = min(params.page_size, max(0, total - first))
    if take <= 0:
        page = []
    elif params.sort == "amount" or ranked is not None:
        order = gen.by_amount if params.sort == "amount" else ranked
        if kept == gen.all:
            page = list(order[first:first + take])
        else:
            bits = kept.to_bytes(gen.nbytes, "little")
            page, seen = [], 0
            for p in order:
                if bits[p >> 3] >> (p & 7) & 1:
                    if seen >= first:
                        page.append(p)
                        if len(page) == take:
                            break
                    seen += 1
    else:                                   # empty query, by relevance: site order
        page = _positions(kept, first, take)

    results = []
    if params.page == 1 and not query.empty:
        results += _unit_results(units, filters)
    results += [gen.result(p, query, params.category) for p in page]
    return {"query": params.q, "total": total, "page": params.page,
            "page_size": params.page_size, "results": results, "facets": facets}


def _unit_results(units: list, filters: dict) -> list[dict]:
    """Units whose name holds every part of the query (or whose code is the query).

    Shown only when few units match: a query that names a unit, not one that
    every unit name holds (such as 上海市).  ``units`` are the query's matching units
    (``_Generation._match``), filtered here.
    """
    found = [u for u in units
             if not ("unit" in filters and u["id"] not in filters["unit"])
             and not ("department" in filters and u["department"] not in filters["department"])]
    if not found or len(found) > MAX_UNIT_RESULTS:
        return []
    found.sort(key=lambda u: (len(u["name"]), u["id"]))
    return [{"type": "unit", "id": u["id"], "title": u["name"], "url": u["url"]} for u in found]
