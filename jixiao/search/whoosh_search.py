"""Answering queries from the whoosh index: one generation open per process.

``search`` opens the generation CURRENT names once per process and keeps only
meta.json as bitsets and value indexes (``masks``, ``codes``), each document's field
lengths and the unit list in memory, one whoosh searcher per thread, and a small cache of
matched queries; stored documents are read for the page's hits only.

Matching and scoring read a term's whole posting list at once and parse its blocks in
memory (``_term``, ``_blocks``) instead of going through whoosh's matcher tree, which
costs a Python call per document per query node, and works on numpy arrays of docnums:
a query part is a term, or a run of terms at consecutive positions
(an exact run of characters), in each field; a project matches when every part
matches in some field.  Scores are BM25 with statistics over the live documents
(document frequency = matching live documents, average field length over live
documents), so they depend on the documents only, not on how the segments split
them: an incrementally updated index ranks exactly as a clean build's.
"""
from __future__ import annotations

import io
import json
import math
import os
import pickle
import struct
import threading
import zlib
from array import array
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Mapping
from decimal import Decimal
from itertools import accumulate
from pathlib import Path

import numpy as np
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile
from whoosh.reading import TermNotFound

from .analysis import ParsedQuery, fold, matches, shingle
from .bitsets import to_mask
from .documents import FIELDS
from .params import FACETS
from .results import matched_indicators, snippets
from .whoosh_arrays import EXT as ARRAYS_EXT, Arrays, decoded
from .whoosh_index import NoIndex, unpack

# ── search ───────────────────────────────────────────────────────────────────
#
# Sets of projects are Python ints used as bitsets, bit i = the project at site position i
# (``order``): a filter is an OR of value masks, and the first set bits of a mask are the
# first projects in site order; facets are counted over the value index (engine._counts).

CACHE_SIZE = 128           # matched queries kept per generation (a few tens of KB each)
WARM = 32                  # of them matched again by a new generation before clients ask
RESULT_CACHE_SIZE = 2000   # shaped project results (snippets, indicators) kept per generation


def _mask(positions) -> int:
    return int.from_bytes(_bytes(positions), "little") if positions else 0


class _Masks(Mapping):
    """value → mask of the projects with that value, for a facet a project has one value
    of: made from the value index when a filter asks for it (a few are kept)."""

    KEPT = 256

    def __init__(self, values: list, codes: "np.ndarray"):
        self._index = {v: i for i, v in enumerate(values)}
        self._codes = codes
        self._kept: dict = {}

    def __getitem__(self, value) -> int:
        mask = self._kept.get(value)
        if mask is None:
            mask = to_mask(self._codes == self._index[value])
            if len(self._kept) >= self.KEPT:
                self._kept.clear()
            self._kept[value] = mask
        return mask

    def __iter__(self):
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)


def _line_starts(lines: list[str]) -> list[int]:
    """Where each of ``lines`` starts in ``"\n".join(lines)`` (to find a match's line by
    bisection)."""
    return list(accumulate((len(x) + 1 for x in lines[:-1]), initial=0))


def _bytes(positions) -> bytearray:
    out = bytearray((max(positions) >> 3) + 1 if positions else 0)
    for p in positions:
        out[p >> 3] |= 1 << (p & 7)
    return out


class _SharedStorage(FileStorage):
    """A generation whose segment files are opened once per process and read with
    ``pread`` where a query needs them: the server's memory does not grow with the index
    (what queries read is the OS's page cache, shared, and given back under pressure; a
    map of the files counted every page a query touched in the server's RSS: 295 MB at
    100,000 projects after 74 queries).  Segment files never change once written and a
    rebuild hard-links the unchanged ones, so the open files are kept per inode and shared
    by every generation that links them; only a new segment is opened.  (It must not be
    rewritten in place while served: a deploy copies new files beside and renames them,
    as ``rsync`` without ``--inplace`` and the build itself do; DEPLOY.md.)"""

    def __init__(self, path: Path, cache: dict):
        super().__init__(str(path), supports_mmap=False, readonly=True)
        self.cache = cache          # _file_key → open file, kept by the backend

    def open_file(self, name, **kwargs):
        if not name.endswith(".seg"):
            return super().open_file(name, **kwargs)
        fpath = self._fpath(name)
        key = _file_key(os.stat(fpath))
        shared = self.cache.get(key)
        if shared is None:             # two threads may both open it: one file stays
            shared = self.cache.setdefault(key, open(fpath, "rb", buffering=0))
        return StructFile(_Reader(shared, key[2]), name=name, **kwargs)


class _Reader(io.RawIOBase):
    """A shared open file with a position of its own (each reader of a segment); it is
    closed when the last reader and the backend's cache let go of it."""

    def __init__(self, shared, size: int):
        self.shared, self.fd, self.size, self.pos = shared, shared.fileno(), size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        end = self.size if n is None or n < 0 else min(self.pos + n, self.size)
        out = os.pread(self.fd, end - self.pos, self.pos) if end > self.pos else b""
        self.pos += len(out)
        return out

    def readinto(self, b) -> int:
        chunk = self.read(len(b))
        b[:len(chunk)] = chunk
        return len(chunk)

    def seek(self, offset: int, whence: int = 0) -> int:
        self.pos = offset if whence == 0 else self.pos + offset if whence == 1 \
            else self.size + offset
        return self.pos

    def tell(self) -> int:
        return self.pos


def folder_identity(folder: Path) -> frozenset:
    """What tells a generation's folder from another of the same name (the site removed and
    built again): its file names, which hold whoosh's random segment ids (its inode may be
    reused at once)."""
    return frozenset(os.listdir(folder))


def _file_key(st: os.stat_result) -> tuple:
    """A segment file's bytes are the same for the same inode, size and mtime: hard links
    share all three; a new file that gets a removed file's inode (the filesystem reuses
    them at once) differs in mtime or size."""
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def segment_keys(folder: Path) -> set:
    """``_file_key`` of each segment file of a generation."""
    return {_file_key(os.stat(os.path.join(folder, f)))
            for f in os.listdir(folder) if f.endswith(".seg")}


class Generation:
    """One generation, opened once per process: compact per-project arrays and value masks.

    Searchers are per thread (a whoosh searcher is not safe for concurrent use, and
    opening one over an immutable generation is cheap); match results are cached per
    query in a small LRU that goes with the generation.
    """

    def __init__(self, name: str, path: Path, segment_files: dict):
        self.name, self.path = name, path
        self.where = folder_identity(path)
        self.ix = _SharedStorage(path, segment_files).open_index()
        try:
            rows = json.loads((path / "meta.json").read_text("utf-8"))
        except FileNotFoundError:
            raise NoIndex(f"{path} was written by an older version; rebuild the site") from None
        self.units = json.loads((path / "units.json").read_text("utf-8"))
        for u in self.units:
            u["folded"] = fold(u["name"])
        # the folded unit names one per line, where a query's units are looked for
        self.units_text = "\n".join(u["folded"] for u in self.units)
        self.units_starts = _line_starts([u["folded"] for u in self.units])
        try:
            groups = json.loads((path / "synonyms.json").read_text("utf-8"))
        except FileNotFoundError:
            groups = []
        self.synonyms = tuple(tuple(fold(w) for w in g) for g in groups)
        with self.ix.reader() as reader:
            if reader.doc_count_all() != len(rows):
                raise NoIndex(f"{path}: meta.json does not match the index; rebuild the site")
            # each live document's length per field, and the averages BM25 needs
            self.lengths = {f: np.fromiter(((reader.doc_field_length(d, f) or 0) if r else 0
                                            for d, r in enumerate(rows)),
                                           dtype=np.float64, count=len(rows)) for f in FIELDS}
            # segment id → its arrays' directory, read before the first query needs it
            self._arrays = {r._segment.segment_id(): Arrays.of(r._storage, r._segment)
                            for r, _ in reader.leaf_readers()}
        live = [r for r in rows if r is not None]
        n = len(live)
        self.n = n                                          # live documents
        self.average = {f: (float(ls.sum()) / n if n else 0.0) or 1.0
                        for f, ls in self.lengths.items()}
        self.nbytes = (n + 7) >> 3
        self.pos = array("i", (r[0] if r else -1 for r in rows))  # docnum → site position
        self.site_order = np.frombuffer(self.pos, dtype=np.int32)  # the same, for numpy
        self.live = self.site_order >= 0                    # docnum → not deleted
        self.docnum = [0] * n                               # site position → docnum
        for d, p in enumerate(self.pos):
            if p >= 0:
                self.docnum[p] = d
        self.all = (1 << n) - 1
        values: dict[str, dict[str, list[int]]] = {f: {} for f in FACETS}
        self.labels: dict[str, dict[str, str]] = {"unit": {}, "department": {}}
        names = [""] * n
        self.unit_of = [""] * n                             # site position → unit id
        self.year_of = [""] * n                             # … → year
        for order, year, unit, unit_name, dept, dept_name, cats, _, name in live:
            names[order] = fold(name)
            self.unit_of[order], self.year_of[order] = unit, year
            values["year"].setdefault(year, []).append(order)
            values["unit"].setdefault(unit, []).append(order)
            values["department"].setdefault(dept, []).append(order)
            for c in cats:
                values["category"].setdefault(c, []).append(order)
            self.labels["unit"].setdefault(unit, unit_name)
            self.labels["department"].setdefault(dept, dept_name)
        # a project has one year, unit and department: each facet's value index by site
        # position, which counts a facet with one numpy pass (5,000 units' masks ANDed
        # one by one cost 15 ms a query at 100,000 projects); values in (label, value)
        # order, so that most projects first, then label, is a stable sort by count
        self.codes = {}
        for f in ("year", "unit", "department"):
            named = self.labels.get(f, {})
            order = sorted(values[f], key=lambda v: (named.get(v, v), v))
            codes = np.zeros(n, dtype=np.int32)
            for i, v in enumerate(order):
                codes[values[f][v]] = i
            self.codes[f] = (order, codes)
        self.masks = {f: {v: _mask(ps) for v, ps in values[f].items()}
                      for f in ("year", "category")}
        self.masks.update({f: _Masks(*self.codes[f])       # (made as filters ask: all of
                           for f in ("unit", "department")})  # them held 64 MB at 100,000)
        # project names in site order, one line each, for the relaxed tier (engine.py)
        self.names_text = "\n".join(names)
        self.names_starts = np.asarray(_line_starts(names), dtype=np.int64)
        self.names = names
        by_amount = sorted(((Decimal(r[7]), r[0]) for r in live), key=lambda a: (-a[0], a[1]))
        self.by_amount = [p for _, p in by_amount]          # largest first, then site order
        self.amounts_desc = [a for a, _ in by_amount]
        self._local = threading.local()
        self._cache: OrderedDict = OrderedDict()   # slots → ((mask, ranked, units), query)
        self.warmed = threading.Event()
        self._cache_lock = threading.Lock()
        self._pending: dict = {}
        self._results: OrderedDict = OrderedDict()

    def searcher(self):
        s = getattr(self._local, "searcher", None)
        if s is None:
            s = self._local.searcher = self.ix.searcher()
        return s

    def leaves(self) -> list["Leaf"]:
        """This thread's segments, each with its arrays."""
        leaves = getattr(self._local, "leaves", None)
        if leaves is None:
            leaves = self._local.leaves = [
                Leaf(reader, base, self._arrays[reader._segment.segment_id()])
                for reader, base in self.searcher().reader().leaf_readers()]
        return leaves

    def stored(self, position: int) -> dict:
        return unpack(self.searcher().stored_fields(self.docnum[position])["doc"])

    def match(self, query: ParsedQuery):
        """(matched mask, site positions in relevance order, units whose name holds the
        query, mask of the projects that hold it in name, unit or department) for a
        non-empty query, cached.

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
            return hit[0]
        if pending is not None:
            pending.wait()
            return self.match(query)
        try:
            hit = self._match(query)
            with self._cache_lock:
                self._cache[key] = (hit, query)
                while len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)
        finally:
            with self._cache_lock:
                self._pending.pop(key).set()
        return hit

    def recent(self, n: int) -> list[ParsedQuery]:
        """The ``n`` queries matched most recently (to warm the next generation with)."""
        with self._cache_lock:
            return [query for _, query in list(self._cache.values())[-n:]]

    def warm(self, queries: list[ParsedQuery]) -> None:
        """Match ``queries`` ahead of the clients (a thread started when this generation
        replaces another): a rebuild does not make the popular queries slow again."""
        try:
            for query in reversed(queries):          # the most recent first
                self.match(query)
        finally:
            self.warmed.set()

    def _match(self, query: ParsedQuery):
        """Every part must match in some field; name matches first, then unit matches, then
        by score (BM25 over live documents), then site order.  Sets of documents are numpy
        flags by docnum."""
        leaves = self.leaves()
        size = len(self.pos)
        scores = np.zeros(size)
        matched = in_name = in_unit = in_header = None
        for slots in query.slots:
            anywhere, part_name = np.zeros(size, bool), np.zeros(size, bool)
            part_unit = np.zeros(size, bool)        # in the name or in the unit
            part_header = np.zeros(size, bool)      # … or in the department
            for field, boost in FIELDS.items():
                docs, tf = _run_hits(leaves, field, slots)
                live = self.live[docs]
                docs, tf = docs[live], tf[live]
                if not len(docs):
                    continue
                self._score(scores, field, boost, docs, tf)
                anywhere[docs] = True
                if field == "name":
                    part_name[docs] = True
                if field in ("name", "unit"):
                    part_unit[docs] = True
                if field != "text":
                    part_header[docs] = True
            matched = anywhere if matched is None else matched & anywhere
            in_name = part_name if in_name is None else in_name & part_name
            in_unit = part_unit if in_unit is None else in_unit & part_unit
            in_header = part_header if in_header is None else in_header & part_header
            if not matched.any():
                break
        docs = np.flatnonzero(matched)
        tier = np.full(len(docs), 2, dtype=np.int8)
        tier[in_unit[docs]] = 1
        tier[in_name[docs]] = 0
        site = self.site_order[docs]
        ranked = docs[np.lexsort((site, -scores[docs], tier))]   # the last key sorts first
        at = self.site_order[ranked]
        flags = np.zeros(self.n, dtype=bool)
        flags[at] = True
        mask = to_mask(flags)
        positions = array("i", at.tobytes())
        flags[:] = False
        flags[self.site_order[np.flatnonzero(in_header)]] = True
        header = to_mask(flags)
        return mask, positions, self._units_holding(query), header

    def _units_holding(self, query: ParsedQuery) -> list[dict]:
        """The units whose name holds every part of the query, or whose code is the query:
        looked for only among the names that hold each part's first slot (a name that
        holds a part holds its slots)."""
        text, starts = self.units_text, self.units_starts
        candidates = None
        for slots in query.slots:
            found, i = set(), text.find(slots[0])
            while i >= 0:
                found.add(bisect_right(starts, i) - 1)
                i = text.find(slots[0], i + 1)
            candidates = found if candidates is None else candidates & found
        return [u for k, u in enumerate(self.units)
                if (k in candidates and all(matches(u["folded"], s, p)
                                            for p, s in zip(query.parts, query.slots)))
                or (u["code"] and query.parts == (u["code"],))]

    def _score(self, scores, field: str, boost: float, docs, tf) -> None:
        """Add each hit's BM25 score for one part in one field (``tf``: runs in the field)
        to ``scores`` (by docnum)."""
        df = len(docs)
        idf = math.log(1.0 + (self.n - df + 0.5) / (df + 0.5))
        w = boost * idf * (K1 + 1)
        a, b = K1 * (1 - B), K1 * B / self.average[field]
        scores[docs] += w * tf / (tf + a + b * self.lengths[field][docs])

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




# ── postings ─────────────────────────────────────────────────────────────────

K1, B = 1.2, 0.75          # BM25's usual constants (whoosh's BM25F defaults)


def take(positions: tuple, idx: "np.ndarray") -> tuple:
    """The ``positions`` (per posting, all: as ``decoded``) of the postings ``idx``."""
    counts, flat = positions
    starts = np.cumsum(counts) - counts
    chosen = counts[idx]
    ends = np.cumsum(chosen)
    total = int(ends[-1]) if len(ends) else 0
    return chosen, flat[np.repeat(starts[idx] - (ends - chosen), chosen) + np.arange(total)]


_BLOCK_SIZE = struct.Struct("!i")          # whoosh's ``write_int``


def _blocks(raw: bytes):
    """Each block's data tuple (delta-coded ids, weights, values) of a term's posting list
    as whoosh3 writes it (``W3PostingsWriter``): a magic, then per block its size (negative
    for the last), a pickled info tuple (its fourth item the zlib level) and the data.

    The list is read in one piece and its blocks parsed in memory: whoosh's matcher reads
    each block's info with ``pickle.load`` from its file object, some 20 small reads
    through three Python layers per block (at 100,000 projects, ~600,000 reads and most
    of a first search)."""
    if raw[:4] != WHOOSH3_HEADER_MAGIC:
        raise ValueError("not a whoosh3 posting list")
    stream, at = io.BytesIO(raw), 4
    while True:
        size, = _BLOCK_SIZE.unpack_from(raw, at)
        stream.seek(at + 4)
        info = pickle.load(stream)
        end = at + 4 + abs(size)
        data = raw[stream.tell():end]
        yield pickle.loads(zlib.decompress(data) if info[3] else data)
        if size < 0:
            return
        at = end


def _bulk(terms, field: str, btext: bytes, with_values: bool = True) -> tuple:
    """(segment docnums, weights: numpy arrays; encoded values: a list) of a term's
    postings in one segment (``terms``: its ``W3TermsReader``); small terms are kept
    inline in their term info."""
    info = terms.term_info(field, btext)
    if info.is_inlined():
        ids, weights, values = info.inlined_postings()
        return (np.asarray(ids, dtype=np.int64), np.asarray(weights, dtype=np.float64),
                list(values) if with_values else [])
    deltas: list = []
    sizes: list = []
    weights: list = []
    values: list = []
    offset, length = info.extent()
    if isinstance(length, tuple):     # W3TermInfo.from_bytes leaves it a 1-tuple
        length, = length
    for ds, ws, vs in _blocks(terms._postfile.get(offset, length)):
        deltas += ds
        sizes.append(len(ds))
        weights += [1.0 if ws is None else ws] * len(ds) if ws is None or type(ws) is float else ws
        if with_values:
            values += vs if vs is not None else [None] * len(ds)
    # each block's first id is absolute, the others deltas: one running sum, less what it
    # had reached at the end of the block before
    sums = np.cumsum(np.asarray(deltas, dtype=np.int64))
    ends = np.cumsum(sizes)
    ids = sums - np.repeat(np.concatenate(([0], sums[ends[:-1] - 1])), sizes)
    return ids, np.asarray(weights, dtype=np.float64), values


_NONE = (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64))


class Leaf:
    """One segment as a thread's queries read it: its whoosh reader, the docnum of its
    first document in the generation, and its long lists as arrays (``whoosh_arrays``)."""

    __slots__ = ("reader", "base", "arrays", "_file")

    def __init__(self, reader, base: int, arrays: Arrays):
        self.reader, self.base, self.arrays, self._file = reader, base, arrays, None

    def file(self):
        """The segment's arrays file, opened once by this thread."""
        if self._file is None:
            self._file = self.reader._storage.open_file(
                self.reader._segment.make_filename(ARRAYS_EXT))
        return self._file


def _term(leaves: list[Leaf], field: str, text: str, values: bool = True) -> tuple:
    """(docnums ascending, weights, positions: as ``decoded``, or None without
    ``values``) of one term in one field, over all segments (deleted documents included:
    the caller drops them).  A long list is read from the segment's arrays, the others
    from whoosh's blocks."""
    btext = text.encode("utf-8")
    ids, weights, counts, flats = [], [], [], []
    for leaf in leaves:                          # in docnum order
        entry = leaf.arrays.entry(field, text)
        if entry is not None:
            i, w, c, f = Arrays.read(leaf.file(), entry, values)
        else:
            try:
                i, w, vs = _bulk(leaf.reader._terms, field, btext, values)
            except TermNotFound:
                continue
            c, f = decoded(vs) if values else (None, None)
        ids.append(i + leaf.base)
        weights.append(w)
        counts.append(c)
        flats.append(f)
    if not ids:
        return (*_NONE, decoded([]) if values else None)
    positions = (np.concatenate(counts), np.concatenate(flats)) if values else None
    return np.concatenate(ids), np.concatenate(weights), positions


def _present(leaves: list[Leaf], field: str, text: str) -> bool:
    """Whether some segment holds the term (a look in its term tables, no postings read)."""
    key = (field, text.encode("utf-8"))
    return any(leaf.arrays.entry(field, text) is not None or key in leaf.reader._terms
               for leaf in leaves)


def _run_hits(leaves: list[Leaf], field: str, slots: tuple[str, ...]) -> tuple:
    """(docnums, how often ``slots`` stand at consecutive positions in ``field`` in each)."""
    if len(slots) == 1:
        return _term(leaves, field, slots[0], values=False)[:2]
    term = shingle(slots)                   # =100%, ≥90%: one term, no position check
    if term is not None:
        return _term(leaves, field, term, values=False)[:2]
    if not all(_present(leaves, field, slot) for slot in slots):
        return _NONE                        # (服务对象 in names: 务对 is in none)
    postings = []
    for slot in slots:
        docs, _, positions = _term(leaves, field, slot)
        if not len(docs):
            return _NONE
        postings.append((docs, positions))
    return _runs(postings)


def _runs(postings: list[tuple]) -> tuple:
    """(docnums, runs) of the documents where slot i stands at start + i for every slot,
    with how often (``postings[i]``: slot i's docnums, ascending, and positions as
    ``decoded``).  Each position of slot i becomes the key (document << 32) + position −
    i; the slots' keys are intersected, fewest first, and what is left counted per
    document."""
    order = sorted(range(len(postings)), key=lambda i: len(postings[i][0]))
    candidates = postings[order[0]][0]              # the rarest slot's documents …
    for i in order[1:]:                             # … that hold every other slot
        candidates = _in_sorted(candidates, postings[i][0])
    if not len(candidates):
        return _NONE
    # each slot's positions in the candidates only, unless they are most of its documents
    # (then all of them: the keys' intersection drops the rest)
    slots = []
    for i, (docs, positions) in enumerate(postings):
        if 2 * len(candidates) < len(docs):
            docs, positions = candidates, take(positions, np.searchsorted(docs, candidates))
        counts, flat = positions
        slots.append((np.repeat(docs, counts) << 32) + flat.astype(np.int64) - i)
    slots.sort(key=len)
    common = slots[0]
    for keys in slots[1:]:
        common = _in_sorted(common, keys)
        if not len(common):
            return _NONE
    owner = common >> 32
    firsts = np.flatnonzero(np.concatenate(([True], owner[1:] != owner[:-1])))
    runs = np.diff(np.append(firsts, len(owner))).astype(np.float64)
    return owner[firsts], runs


def _in_sorted(a: "np.ndarray", b: "np.ndarray") -> "np.ndarray":
    """The items of ``a`` that are in ``b`` (both ascending, without repeats): the two
    merged (a stable sort of two sorted runs is a merge), or, when ``a`` is much the
    smaller, each looked for in ``b``."""
    if not len(b):
        return b
    if 16 * len(a) < len(b):
        where = np.searchsorted(b, a)
        where[where == len(b)] = 0
        return a[b[where] == a]
    both = np.concatenate((a, b))
    both.sort(kind="stable")
    return both[:-1][both[1:] == both[:-1]]
