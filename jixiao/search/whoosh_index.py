"""Writing the whoosh index: one generation per catalog, updated document by document.

Layout beside the output directory, not in it (``index_dir``: for ``site/``,
``.site.search/``): whoosh reads its files with pickle, so they must never travel with the
published folder, and whoever can write them can run code in the server::

    .<out>.search/CURRENT          names the live generation, replaced atomically
    .<out>.search/g-<digest>/      a whoosh index + ids.json + meta.json + units.json,
                                   written once, never changed; named by a hash of what
                                   it holds

A full build writes the projects in segments of at most ``SEGMENT_DOCS`` (two
processes when there are many).  A later build starts from the live generation:
its segment files are hard-linked (never changed once written), the projects
whose document changed are marked deleted where they were and written into one
new small segment, together with the projects of earlier small segments once
there are ``MAX_SMALL_SEGMENTS`` of them.  Which project a document is, and
whether it changed, is in ``ids.json`` (each segment's project ids in docnum
order, each project's document key).

Scores do not depend on how the documents are split into segments (the query
side computes its statistics over live documents), so an updated index answers
exactly as a clean build's does (tests/test_incremental.py).

``build_index`` writes the new generation into a temporary directory, renames
it, then points CURRENT at it with ``os.replace``; readers see the old or the
new generation, never a half-written one.  Generations older than the previous
one are removed.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
import sys
import time
import zlib
from array import array
from pathlib import Path

import orjson
from whoosh import index as whoosh_index
from whoosh.analysis import Token as WhooshToken
from whoosh.analysis import Tokenizer
from whoosh.fields import ID, STORED, TEXT, Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.formats import Positions
from whoosh.index import TOC
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import SegmentWriter

from ..catalog import department_slug
from . import whoosh_postings
from .whoosh_arrays import EXT as ARRAYS_EXT, ArraysWriter
from .analysis import fold, term_positions, tokens
from .documents import FIELDS, field_texts, project_doc, unit_docs



def index_dir(out: Path) -> Path:
    """Where the index of the site in ``out`` lives: ``.<name>.search`` beside it."""
    out = Path(out).absolute()
    return out.parent / f".{out.name}.search"
INDEX_VERSION = 8          # bump when the analyzer or the schema changes: forces a new index
CURRENT = "CURRENT"

SEGMENT_DOCS = 2500        # a full build's segments hold at most this many projects
PARALLEL_FROM = 400        # projects from which a full build writes segments in two processes
SMALL_DOCS = 200           # a segment this small is rewritten with the next update …
MAX_SMALL_SEGMENTS = 4     # … once there are this many of them
REBUILD_SHARE = 0.2        # more changed or deleted documents than this share: a full build


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


_BIG_ENDIAN = sys.byteorder == "big"
# the encoding of a single position below 4096, the most common posting
_ONE = tuple(b"H" + p.to_bytes(2, "little") for p in range(4096))


class ArrayPositions(Positions):
    """whoosh's ``Positions`` format with a posting's positions stored as a machine array
    (a typecode byte, then little-endian ``H`` or ``I`` items) instead of a pickled list
    of deltas: a query reads them with ``memoryview.cast``, in C."""

    def encode(self, poslist):
        if len(poslist) == 1 and poslist[0] < 4096:
            return _ONE[poslist[0]]
        if poslist[-1] < 65536 and not _BIG_ENDIAN:
            return b"H" + array("H", poslist).tobytes()
        code = "H" if poslist[-1] < 65536 else "I"
        a = array(code, poslist)
        if _BIG_ENDIAN:
            a.byteswap()
        return code.encode() + a.tobytes()

    def decode_positions(self, valuestring):
        a = array(chr(valuestring[0]), valuestring[1:])
        if _BIG_ENDIAN:
            a.byteswap()
        return a.tolist()

    def decode_frequency(self, valuestring):
        return (len(valuestring) - 1) // (2 if valuestring[:1] == b"H" else 4)

    def decode_weight(self, valuestring):
        return self.decode_frequency(valuestring) * self.field_boost

    def decode_position_boosts(self, valuestring):
        return [(pos, 1) for pos in self.decode_positions(valuestring)]


class RunText(TEXT):
    """A TEXT field with ``BigramTokenizer`` and ``ArrayPositions`` whose postings are made
    by ``analysis.term_positions``: the same tokens without a token object per token (most
    of the indexing time)."""

    def __init__(self):
        super().__init__(analyzer=BigramTokenizer(), phrase=True, stored=False)
        self.format = ArrayPositions(field_boost=self.format.field_boost)

    def index(self, value, **kwargs):
        for term, n, weight, encoded in self.postings(value):
            yield term.encode("utf-8"), n, weight, encoded

    def postings(self, value):
        """(term, frequency, weight, encoded positions) for each term of ``value``."""
        boost = self.format.field_boost
        encode = self.format.encode
        return [(term, len(poses), len(poses) * boost, encode(poses))
                for term, poses in term_positions(fold(value)).items()]


def schema() -> Schema:
    # filters and facets come from meta.json (bitsets), not from the index; the stored
    # document (zlib-compressed JSON) is read only for the hits on the page
    return Schema(id=ID(stored=True, unique=True), doc=STORED, **{f: RunText() for f in FIELDS})


class _Writer(SegmentWriter):
    """whoosh's segment writer for ``add_document`` only, with the postings collected per
    term and written in bulk (``whoosh_postings``) instead of pooled, sorted and written
    one by one, and the field lengths kept in memory for them."""

    def __init__(self, ix, **kwargs):
        super().__init__(ix, **kwargs)
        self.pool.cleanup()
        self.pool = whoosh_postings.Postings()
        self._lengths: dict = {}
        add_field = self.perdocwriter.add_field

        def remember(fieldname, fieldobj, value, length):
            if length:
                self._lengths.setdefault(fieldname, {})[self.docnum] = \
                    byte_to_length(length_to_byte(length))
            add_field(fieldname, fieldobj, value, length)

        self.perdocwriter.add_field = remember

    def add_document(self, **fields):
        """``SegmentWriter.add_document`` for this schema (no boosts, vectors, spelling or
        columns), with each ``RunText`` field's postings going straight to the collector."""
        self._check_state()
        docnum, schema, perdoc = self.docnum, self.schema, self.perdocwriter
        names = sorted(fields)
        self._check_fields(schema, names)
        perdoc.start_doc(docnum)
        for name in names:
            value, field = fields[name], schema[name]
            if value is None:
                continue
            if field.vector or field.column_type or field.separate_spelling():
                raise NotImplementedError(f"field {name}: vectors, columns, spelling")
            length = 0
            if isinstance(field, RunText):
                length = self.pool.add_positions(name, docnum, term_positions(fold(value)),
                                                 field.format)
            elif field.indexed:
                for btext, freq, weight, encoded in field.index(value):
                    self.pool.add((name, btext, docnum, weight, encoded))
                    length += freq if field.scorable else 0
            perdoc.add_field(name, field, value if field.stored else None, length)
        perdoc.finish_doc()
        self._added = True
        self.docnum += 1

    def add_reader(self, reader):            # merging would bypass the postings kept above
        raise NotImplementedError("segments are rewritten from documents, not merged")

    def _flush_segment(self):
        self.perdocwriter.close()
        arrays = ArraysWriter({name for name, field in self.schema.items()
                               if isinstance(field, RunText)})
        whoosh_postings.write(self.fieldwriter, self.schema, self.pool, self._lengths, arrays)
        self.fieldwriter.close()
        arrays.save(self.newsegment.create_file(self.storage, ARRAYS_EXT))


# ── documents ────────────────────────────────────────────────────────────────

_STORED_KEYS = ("id", "title", "url", "year", "unit", "annual_yuan", "department", "nature",
                "category", "goals", "sections", "indicators")


def pack(doc: dict) -> bytes:
    """What a result needs of a project, as compressed JSON (read for the page's hits only)."""
    return zlib.compress(orjson.dumps({k: doc[k] for k in _STORED_KEYS}), 6)


def unpack(data: bytes) -> dict:
    return orjson.loads(zlib.decompress(data))


def add_document(writer, doc: dict) -> None:
    writer.add_document(id=doc["id"], doc=pack(doc), **field_texts(doc))


def doc_keys(catalog, ids: list[str] | None = None) -> dict[str, str]:
    """project id → a key of everything its search document is made of (the project and
    its unit; the unit's department is part of the unit): of every project, or of ``ids``."""
    unit_digest = {u.id: catalog.digest("unit", u) for u in catalog.units.values()}
    sha1, digest = hashlib.sha1, catalog.digest
    projects = catalog.projects if ids is None else map(catalog.project_by_id.__getitem__, ids)
    return {p.id: sha1(f"{INDEX_VERSION}:{digest('project', p)}:{unit_digest[p.unit]}"
                       .encode()).hexdigest() for p in projects}


def meta_row(catalog, p, order: int) -> list:
    """docnum → what facets, filters and sorting need (meta.json, loaded once per generation)."""
    unit, dept = catalog.unit_of(p), catalog.department_of(p)
    return [order, str(p.year), unit.id, unit.name, department_slug(dept), dept,
            list(p.categories), str(p.funds.annual_yuan), p.name]


# ── generations ──────────────────────────────────────────────────────────────

_CATALOG = None            # the catalog whose segments ``_write_segments`` writes


def _write_segment(job) -> object:
    """Index the projects ``ids`` into their own directory: one whoosh segment (each
    document made here, in the process that writes it, and let go once added)."""
    dirname, ids = job
    ix = whoosh_index.create_in(dirname, schema())
    writer = _Writer(ix)
    for pid in ids:
        add_document(writer, project_doc(_CATALOG, _CATALOG.project_by_id[pid], 0))
    writer.commit()
    (segment,) = ix._segments()
    ix.close()
    return segment


def _write_segments(tmp: Path, catalog, chunks: list[list[str]]) -> list:
    """Write the projects of each chunk of ids as one segment into ``tmp`` (two processes
    for many: fork, they share the catalog)."""
    global _CATALOG
    jobs = []
    for k, ids in enumerate(chunks):
        sub = tmp / f"part{k}"
        sub.mkdir()
        jobs.append((str(sub), ids))
    _CATALOG = catalog
    try:
        if sum(map(len, chunks)) >= PARALLEL_FROM and len(jobs) > 1 and (os.cpu_count() or 1) > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor
            ctx = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
                made = list(pool.map(_write_segment, jobs))
        else:
            made = [_write_segment(job) for job in jobs]
    finally:
        _CATALOG = None
    for (sub, _), seg in zip(jobs, made):
        for f in Path(sub).iterdir():
            if f.name.startswith(seg.segment_id() + "."):
                os.replace(f, tmp / f.name)
        shutil.rmtree(sub)
    return made


class _Previous:
    """The live generation as the starting point of an update (None when unusable)."""

    def __init__(self, path: Path):
        state = orjson.loads((path / "ids.json").read_bytes())
        if state.get("version") != INDEX_VERSION:
            raise ValueError("another index version")
        self.path = path
        self.keys: dict[str, str] = state["keys"]
        self.segments = TOC.read(FileStorage(str(path)), "MAIN").segments
        self.ids: dict[str, list[str]] = state["segments"]
        if set(self.ids) != {s.segid for s in self.segments}:
            raise ValueError("ids.json does not match the index")
        self.files: dict[str, list[Path]] = {}
        for f in os.listdir(path):
            self.files.setdefault(f.partition(".")[0], []).append(path / f)

    def corrected(self, catalog, changed: list[str]) -> tuple[dict, list, list]:
        """(keys, units, synonyms) of this generation with the keys of the ``changed``
        projects as ``catalog`` has them now (in site order: a correction moves none)."""
        keys = dict(self.keys)
        keys.update(doc_keys(catalog, changed))
        units = orjson.loads((self.path / "units.json").read_bytes())
        return keys, units, orjson.loads((self.path / "synonyms.json").read_bytes())

    def rewritten(self) -> list[str]:
        """The projects an update writes again besides the changed ones: those of the small
        segments, once there are ``MAX_SMALL_SEGMENTS`` of them (``_update``)."""
        small = [s for s in self.segments if s.doc_count_all() <= SMALL_DOCS]
        if len(small) < MAX_SMALL_SEGMENTS:
            return []
        return [pid for seg in small for d, pid in enumerate(self.ids[seg.segid])
                if not seg.is_deleted(d)]

    def rows(self) -> dict[str, list]:
        """Each segment's rows of meta.json (``meta_row``), by segment: what an update keeps
        of the documents it keeps (100,000 rows made again took 1.5 s of a one-record
        rebuild's index)."""
        rows, at = orjson.loads((self.path / "meta.json").read_bytes()), 0
        out = {}
        for seg in self.segments:
            out[seg.segid] = rows[at:at + seg.doc_count_all()]
            at += seg.doc_count_all()
        return out

    @classmethod
    def open(cls, root: Path, name: str | None):
        if not name:
            return None
        try:
            return cls(root / name)
        except Exception:       # an older layout, a half-removed generation: a full build
            return None


def build_index(catalog, out: Path) -> Path:
    """Make the live generation of ``index_dir(out)`` hold ``catalog``; returns its path."""
    return publish(out, prepare(catalog, out))


def prepare(catalog, out: Path, changed: list[str] | None = None) -> str:
    """Write the generation that holds ``catalog`` beside the live one, as a temporary
    directory that readers never open; returns what ``publish`` takes (the directory's
    name, or the generation's when it exists already).  Safe to run in another process
    while the site is rendered and written; if that process is stopped, ``remove_stale``
    removes what it left.

    ``changed``: the only projects whose records changed since the live generation (a
    correction: nothing else changed); ``catalog`` then holds those, their units and the
    projects ``rewritten`` names, not every project."""
    root = index_dir(out)
    root.mkdir(parents=True, exist_ok=True)
    prev = _Previous.open(root, read_current(root))
    if changed is None:
        keys = doc_keys(catalog)
        units = unit_docs(catalog)
        synonyms = [list(g) for g in getattr(catalog, "synonyms", ())]
    else:                   # the live generation's, with the changed records' keys
        keys, units, synonyms = prev.corrected(catalog, changed)
    order = list(keys)                                # site order
    position = dict(zip(order, range(len(order))))
    digest = hashlib.sha256(orjson.dumps([INDEX_VERSION, order, list(map(keys.get, order)),
                                          units, synonyms])).hexdigest()
    name = f"g-{digest[:20]}"
    if (root / name / "units.json").is_file():
        # an unchanged catalog (a template edit, a rebuild) keeps its index, and a revert
        # swaps back to the previous one
        return name
    tmp = Path(tempfile.mkdtemp(prefix=f"tmp-{os.getpid()}-{name}-", dir=root))  # _parts
    os.chmod(tmp, 0o755)           # mkdtemp makes 0700; a server may run as another user
    try:
        whoosh_index.create_in(str(tmp), schema()).close()
        for f in tmp.glob("_MAIN_*.toc"):
            f.unlink()
        plan = _update(prev, catalog, keys, position, tmp)
        segments, ids = plan if plan is not None else _full(catalog, order, tmp)
        TOC(schema(), segments, 1).write(FileStorage(str(tmp)), "MAIN")
        was = prev.rows() if plan is not None else {}
        rows = []
        for seg in segments:
            old = was.get(seg.segid, ())
            for d, pid in enumerate(ids[seg.segid]):
                if seg.is_deleted(d):
                    rows.append(None)
                elif d < len(old) and old[d] is not None and old[d][0] == position[pid]:
                    rows.append(old[d])    # the same document at the same place in site order
                else:
                    rows.append(meta_row(catalog, catalog.project_by_id[pid], position[pid]))
        (tmp / "ids.json").write_bytes(orjson.dumps({"version": INDEX_VERSION, "keys": keys,
                                                     "segments": ids}))
        (tmp / "meta.json").write_bytes(orjson.dumps(rows))
        # (UTF-8 as json.dumps(ensure_ascii=False) wrote them, without its spaces: 0.14 s
        # less of a one-record rebuild's index child at 100,000 projects)
        (tmp / "synonyms.json").write_bytes(orjson.dumps(synonyms))
        (tmp / "units.json").write_bytes(orjson.dumps(units))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return tmp.name


def correctable(out: Path) -> list[str] | None:
    """What ``prepare(…, changed)`` needs in its catalog besides the changed projects (the
    projects it writes again), or None when there is no live generation to update."""
    root = index_dir(out)
    prev = _Previous.open(root, read_current(root))
    return None if prev is None else prev.rewritten()


def publish(out: Path, prepared: str) -> Path:
    """Make the generation ``prepare`` returned the live one (atomically), and remove the
    generations older than the one it replaces."""
    root = index_dir(out)
    name = prepared
    if prepared.startswith("tmp-"):
        name = _parts(prepared)[1]
        shutil.rmtree(root / name, ignore_errors=True)     # a half-made one without units.json
        os.rename(root / prepared, root / name)
    previous = read_current(root)
    if previous != name:
        _point(root, name)
        remove_stale(out, keep={name, previous})
    return root / name


def _full(catalog, order: list[str], tmp: Path):
    """Every project, in site order, in segments of at most SEGMENT_DOCS."""
    n = max(1, -(-len(order) // SEGMENT_DOCS))
    size = -(-len(order) // n) if order else 0
    chunks = [order[k:k + size] for k in range(0, len(order), size)] if order else []
    segments = _write_segments(tmp, catalog, chunks)
    return segments, {seg.segid: c for seg, c in zip(segments, chunks)}


def _update(prev: _Previous | None, catalog, keys: dict, position: dict, tmp: Path):
    """The previous generation's segments with changed projects deleted, plus one segment
    of the changed ones; None when a full build is the better way."""
    if prev is None:
        return None
    changed = [pid for pid in keys if prev.keys.get(pid) != keys[pid]]
    gone = {pid for pid in prev.keys if pid not in keys} | set(changed)
    if len(gone) > REBUILD_SHARE * max(len(keys), 1):
        return None
    small = [s for s in prev.segments if s.doc_count_all() <= SMALL_DOCS]
    rewrite = {s.segid for s in small} if len(small) >= MAX_SMALL_SEGMENTS else set()
    kept, add = [], list(changed)
    for seg in prev.segments:
        seg_ids = prev.ids[seg.segid]
        if seg.segid in rewrite:
            add += [pid for d, pid in enumerate(seg_ids)
                    if not seg.is_deleted(d) and pid in keys and pid not in gone]
            continue
        for d, pid in enumerate(seg_ids):
            if pid in gone and not seg.is_deleted(d):
                seg.delete_document(d)
        kept.append(seg)
    deleted = sum(s.deleted_count() for s in kept)
    if deleted > REBUILD_SHARE * max(len(keys), 1):
        return None
    for seg in kept:
        for f in prev.files.get(seg.segment_id(), []):
            os.link(f, tmp / f.name)
    ids = {seg.segid: prev.ids[seg.segid] for seg in kept}
    if add:
        add.sort(key=position.__getitem__)
        (seg,) = _write_segments(tmp, catalog, [add])
        kept.append(seg)
        ids[seg.segid] = add
    return kept, ids


def _point(root: Path, name: str) -> None:
    """Make ``name`` the live generation: write CURRENT beside, then ``os.replace``."""
    pointer = root / f".{CURRENT}.{os.getpid()}.{threading.get_ident()}.tmp"
    pointer.write_text(name + "\n", "utf-8")
    os.replace(pointer, root / CURRENT)


def read_current(root: Path) -> str | None:
    try:
        name = (root / CURRENT).read_text("utf-8").strip()
    except FileNotFoundError:
        return None
    return name if name.startswith("g-") and "/" not in name and "\\" not in name else None



def remove_stale(out: Path, keep: set = frozenset()) -> None:
    """Remove the temporary directories of builds that no longer run, and, when ``keep``
    is given, every generation not in it."""
    root = index_dir(out)
    if not root.is_dir():
        return
    stale_before = time.time() - 3600
    for child in root.iterdir():
        if child.name in keep or not child.is_dir():
            continue
        if child.name.startswith("g-") and keep:
            shutil.rmtree(child, ignore_errors=True)
        elif child.name.startswith("tmp-") and not _running(child, stale_before):
            shutil.rmtree(child, ignore_errors=True)


def _parts(tmp_name: str) -> tuple[str | None, str | None]:
    """(pid, generation) of a temporary directory ``tmp-<pid>-g-<digest>-<random>`` made
    by ``prepare``; (None, None) for another name."""
    parts = tmp_name.split("-")
    if len(parts) >= 5 and parts[1].isdigit() and parts[2] == "g":
        return parts[1], f"g-{parts[3]}"
    return None, None


def _running(path: Path, stale_before: float) -> bool:
    """Whether the build that is making the temporary directory ``path`` may still run:
    its process exists (one whose pid cannot be read: it is less than an hour old)."""
    pid, _ = _parts(path.name)
    if pid is None:
        return path.stat().st_mtime >= stale_before
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:         # another user's process
        pass
    return True
