"""The search index as static files, for a site served without the search server.

``templates/static/search-engine.js`` answers ``/search/?q=…`` in the browser from these
files with the server's semantics (``engine.py``: the same tiers, ranking, highlights,
facets, filters and paging); ``tests/test_static_search.py`` holds the two to the same
answers.  The files are an export of the whoosh generation just published — its postings,
field lengths and stored documents — so the two agree on every term, and a rebuild reads
no record and tokenizes no text for it.

    search/index/current.json           {"generation": "<hash>"}    (no-cache)
    search/index/<hash>/meta.json       sizes, units, departments, synonyms
    search/index/<hash>/projects.bin    per project: year, categories, field length bytes, unit
    search/index/<hash>/p/<b>.bin       postings: per term and field, projects and frequencies
    search/index/<hash>/q/<b>.bin       … and the positions (read for multi-token parts only)
    search/index/<hash>/t/<b>.bin       runs of three Chinese characters as terms (``p/``
    search/index/<hash>/r/<b>.bin       and ``q/`` layouts): a phrase reads these, not pairs
    search/index/<hash>/n/<b>.bin       characters of the project names and where they stand
                                        (the relaxed tier: characters in order in a name)
    search/index/<hash>/d/<n>.json      the stored document of the project at position n
    search/index/<hash>/f/<block>.txt   traditional → simplified pairs, by code point >> 8
                                        (the query's characters; a document carries its own)
    search/index/<hash>/names.txt       folded names, one per line (suggestions only)
    search/index/<hash>/homophones.txt  the homophone table, the names' characters (suggestions)
    search/index/<hash>/h/<block>.txt   the readings of every character, by code point >> 8
    search/index/<hash>/sort.json       name/unit orders (pinyin), amounts, amount order

Every file under ``<hash>/`` is gzip-compressed (the script inflates it with the browser's
``DecompressionStream``), as Pagefind does: the bytes on the wire do not depend on whether
the host compresses.  A query fetches ``current.json``, ``meta.json`` and ``projects.bin``
once, one ``p/`` bucket per term it needs (and the ``q/`` bucket where a part is several
tokens), ``n/`` buckets for a relaxed part, and the documents of the page's hits.
Everything under ``<hash>/`` never changes once written (cache it for a year); a new
build writes a new folder, points ``current.json`` at it and removes the one before the
previous.

Binary layouts (little-endian; ``v`` is a varint, 7 bits a byte, low first; entries follow
each other; a term's bucket is FNV-1a of its UTF-8 bytes modulo ``meta.buckets``):

    p/: v len(term), term, v field, v ndocs, then per document: v Δsite position, v frequency
    q/: v len(term), term, v field, v nbytes, then each document's positions (frequency of
        them, v Δposition from 0), in the order of ``p/``
    n/: v len(char), char, v ndocs, then per document: v Δposition, v count, count × v offset
        (offsets in code points of the folded name)
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
from decimal import Decimal
from pathlib import Path

from ..derive import CATEGORY_LABELS, CATEGORY_ORDER
from .analysis import SHINGLE, _is_cjk, _t2s
from .documents import FIELDS
from .params import FACET_LIMIT
from .homophones import TABLE as HOMOPHONES, _table as _homophone_table, pinyin_key

FOLDER = Path("search") / "index"
VERSION = 3
PER_BUCKET = 2.5               # projects per postings bucket (~16 KB before gzip at 10,000)
NAMES_PER_BUCKET = 40          # projects per bucket of name characters
PARALLEL_FROM = 400            # projects from which half the postings are written in a child


def fnv1a(data: bytes) -> int:
    """32-bit FNV-1a: which bucket holds a term (the script computes the same)."""
    h = 0x811C9DC5
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def _varints(values, out: bytearray) -> None:
    for v in values:
        while v >= 0x80:
            out.append((v & 0x7F) | 0x80)
            v >>= 7
        out.append(v)


def _bucket_count(items: int, per_bucket: float) -> int:
    """A power of two, at least 16, of about ``items / per_bucket``: a property of the live
    documents only, so an incremental build and a clean one split the same way."""
    count = 16
    while count * per_bucket < items:
        count *= 2
    return count


def _gz(folder: Path, path: str, data: bytes, digests: dict) -> None:
    """Write ``data`` gzip-compressed (the same bytes for the same data) and note its digest."""
    (folder / path).write_bytes(gzip.compress(data, compresslevel=6, mtime=0))
    digests[path] = hashlib.sha256(data).hexdigest()


def _terms(gen) -> dict[str, list[int]]:
    """Every term of the index → the fields (their index in FIELDS) that hold it."""
    fields = list(FIELDS)
    terms: dict[str, set[int]] = {}
    for reader, _ in gen.searcher().reader().leaf_readers():
        for field, btext in reader.all_terms():
            if field in FIELDS:
                terms.setdefault(btext.decode("utf-8"), set()).add(fields.index(field))
    return {t: sorted(ks) for t, ks in terms.items()}


def _varint_sizes(v):
    """How many bytes ``_varints`` writes for each value of a numpy array (1–5)."""
    import numpy as np
    return 1 + sum((v >= (1 << (7 * k))).astype(np.int64) for k in range(1, 5))


def _head(term: str) -> bytearray:
    """What every entry of a bucket starts with: the term's length and its UTF-8 bytes."""
    raw = term.encode("utf-8")
    out = bytearray()
    _varints((len(raw),), out)
    return out + raw


def _varint_array(values) -> bytes:
    """``_varints`` of a numpy array of non-negative integers, vectorized (a short one in
    plain Python: numpy's cost per call is larger there)."""
    import numpy as np
    if len(values) < 64:
        out = bytearray()
        _varints(map(int, values), out)
        return bytes(out)
    v = np.asarray(values, dtype=np.uint64)
    n = _varint_sizes(v)
    out = np.empty(int(n.sum()), dtype=np.uint8)
    starts = np.cumsum(n) - n
    for k in range(5):
        sel = n > k
        if not sel.any():
            break
        more = (n[sel] > k + 1).astype(np.uint64) << np.uint64(7)
        out[starts[sel] + k] = ((v[sel] >> np.uint64(7 * k)) & np.uint64(0x7F)) | more
    return out.tobytes()


def _whoosh_postings(gen):
    """``(term) → [(field, documents, frequencies, positions)]`` read from whoosh's postings
    (``whoosh_search._term``), in site order, deleted documents left out; numpy arrays,
    positions flat."""
    import numpy as np
    from .whoosh_search import _term, take
    leaves = gen.leaves()
    fields = list(FIELDS)

    def read(term: str, ks: list[int]) -> list[tuple]:
        out = []
        for k in ks:
            docs, _, positions = _term(leaves, fields[k], term)
            site = gen.site_order[docs]
            live = np.flatnonzero(site >= 0)
            if not len(live):
                continue
            order = live[np.argsort(site[live], kind="stable")]
            counts, flat = take(positions, order)
            out.append((k, site[order].astype(np.int64), counts, flat.astype(np.int64)))
        return out
    return read


def _token_postings(catalog):
    """The same as ``_whoosh_postings``, made from the catalog's documents with the analyzer
    that made the whoosh index (``documents.field_texts``, ``analysis.term_positions``):
    quicker for a small site, whose many terms each cost a whoosh lookup; lists."""
    from .analysis import fold, term_positions
    from .documents import documents, field_texts
    fields = list(FIELDS)
    post: dict[str, dict[int, tuple[list, list, list]]] = {}
    for pos, d in enumerate(documents(catalog)):
        for f, text in field_texts(d).items():
            if not text:
                continue
            k = fields.index(f)
            for term, ps in term_positions(fold(text)).items():
                lists = post.setdefault(term, {}).get(k)
                if lists is None:
                    lists = post[term][k] = ([], [], [])
                lists[0].append(pos)
                lists[1].append(len(ps))
                lists[2].extend(ps)
    return lambda term, ks: [(k, *post[term][k]) for k in ks if k in post.get(term, {})]


def _entries(term: str, rows: list[tuple], bigrams: list | None = None) -> tuple[bytes, bytes]:
    """A term's ``p/`` and ``q/`` entries from its ``(field, documents, frequencies,
    positions)`` rows, Δ-coded (with numpy for long rows).  For a pair of Chinese
    characters, (field, documents, positions) are added to ``bigrams`` (``_trigrams``)."""
    import numpy as np
    head = _head(term)
    p_entry, q_entry = bytearray(), bytearray()
    for k, docs, tfs, positions in rows:
        p_entry += head
        _varints((k, len(docs)), p_entry)
        if len(positions) < 256:                     # plain Python: numpy costs more here
            docs, tfs, positions = list(map(int, docs)), list(map(int, tfs)), list(map(int, positions))
            last = 0
            for d, tf in zip(docs, tfs):
                _varints((d - last, tf), p_entry)
                last = d
            deltas, at = [], 0
            for tf in tfs:
                prev = 0
                for p in positions[at:at + tf]:
                    deltas.append(p - prev)
                    prev = p
                at += tf
            data = bytearray()
            _varints(deltas, data)
            data = bytes(data)
        else:
            docs, tfs, positions = (np.asarray(x, dtype=np.int64) for x in (docs, tfs, positions))
            body = np.empty(2 * len(docs), dtype=np.int64)
            body[0::2] = np.diff(docs, prepend=0)
            body[1::2] = tfs
            p_entry += _varint_array(body)
            deltas = np.diff(positions, prepend=0)
            firsts = np.cumsum(tfs) - tfs                   # each document starts from 0
            deltas[firsts] = positions[firsts]
            data = _varint_array(deltas)
        if SHINGLE not in term:
            q_entry += head
            _varints((k, len(data)), q_entry)
            q_entry += data
        if bigrams is not None:
            bigrams.append((k, docs, tfs, positions))
    return bytes(p_entry), bytes(q_entry)


def _is_pair(term: str) -> bool:
    return len(term) == 2 and _is_cjk(term[0]) and _is_cjk(term[1])


def _write_postings(read, terms: dict, buckets: int, folder: Path, part: int, parts: int):
    """The ``p/`` and ``q/`` buckets ``b`` with ``b % parts == part``, from ``read(term,
    fields)``; returns their digests and the positions of the Chinese pairs among their
    terms: (field, pair number in ``sorted(terms)``, document, position) arrays for
    ``_trigrams``."""
    import numpy as np
    p_files: dict[int, list[bytes]] = {}
    q_files: dict[int, list[bytes]] = {}
    found: list[tuple] = []
    small: tuple[list, list, list, list] = ([], [], [], [])
    for number, term in enumerate(sorted(terms)):
        b = fnv1a(term.encode("utf-8")) % buckets
        if b % parts != part:
            continue
        pairs: list | None = [] if _is_pair(term) else None
        p_entry, q_entry = _entries(term, read(term, terms[term]), pairs)
        p_files.setdefault(b, []).append(p_entry)
        q_files.setdefault(b, []).append(q_entry)
        for k, docs, tfs, positions in pairs or ():
            if isinstance(docs, list):                  # short rows: Python lists
                small[0].extend([k] * len(positions))
                small[1].extend([number] * len(positions))
                for d, tf in zip(docs, tfs):
                    small[2].extend([d] * tf)
                small[3].extend(positions)
            else:
                found.append((np.full(len(positions), k), np.full(len(positions), number),
                              np.repeat(docs, tfs), positions))
    digests: dict[str, str] = {}
    for b in range(part, buckets, parts):
        _gz(folder, f"p/{b:x}.bin", b"".join(p_files.get(b, ())), digests)
        _gz(folder, f"q/{b:x}.bin", b"".join(q_files.get(b, ())), digests)
    found.append(tuple(np.array(x, dtype=np.int64) for x in small))
    return digests, tuple(np.concatenate([f[i] for f in found]).astype(np.int32) for i in range(4))


def _trigrams(terms: dict, columns: list[tuple], buckets: int, folder: Path) -> dict:
    """The ``t/`` and ``r/`` buckets: every run of three Chinese characters, as a term of
    its own (``p/`` and ``q/`` layouts), made from the pairs' positions — a pair at p and
    one at p + 1 are the same run (each character of a run has one position, and a run's
    last character starts no pair).  An exact run of n ≥ 3 characters is then n − 2
    three-character terms at consecutive positions instead of n − 1 pairs: the pairs of
    everyday words (管理, 项目) stand tens of thousands of times, their threes seldom."""
    import numpy as np
    names = sorted(terms)
    k, term, doc, pos = (np.concatenate([c[i] for c in columns]).astype(np.int64) for i in range(4))
    order = np.lexsort((pos, doc, k))
    k, term, doc, pos = k[order], term[order], doc[order], pos[order]
    nxt = np.flatnonzero((k[1:] == k[:-1]) & (doc[1:] == doc[:-1]) & (pos[1:] == pos[:-1] + 1))
    t_files: dict[int, list[bytes]] = {}
    r_files: dict[int, list[bytes]] = {}
    if len(nxt):
        _three_entries(names, term[nxt] * len(names) + term[nxt + 1], k[nxt], doc[nxt], pos[nxt],
                       buckets, t_files, r_files)
    digests: dict[str, str] = {}
    for b in range(buckets):
        _gz(folder, f"t/{b:x}.bin", b"".join(t_files.get(b, ())), digests)
        _gz(folder, f"r/{b:x}.bin", b"".join(r_files.get(b, ())), digests)
    return digests


def _three_entries(names: list[str], key, k, doc, pos, buckets: int, t_files: dict,
                   r_files: dict) -> None:
    """The ``t/`` and ``r/`` entries of the runs of three (``key``: first pair number ×
    len(names) + second pair number, at field ``k``, document ``doc``, position ``pos``),
    vectorized but for one loop over (three, field) that slices the encoded bytes."""
    import numpy as np
    order = np.lexsort((pos, doc, k, key))
    key, k, doc, pos = key[order], k[order], doc[order], pos[order]
    # rows: one per (three, field, document); groups: one per (three, field)
    row_start = np.flatnonzero(np.r_[True, (key[1:] != key[:-1]) | (k[1:] != k[:-1]) | (doc[1:] != doc[:-1])])
    tfs = np.diff(np.r_[row_start, len(key)])
    rkey, rk, rdoc = key[row_start], k[row_start], doc[row_start]
    group_start = np.flatnonzero(np.r_[True, (rkey[1:] != rkey[:-1]) | (rk[1:] != rk[:-1])])
    ndocs = np.diff(np.r_[group_start, len(rkey)])
    # p/ bodies: Δdocument (from 0 in each group) and frequency, interleaved
    ddoc = np.diff(rdoc, prepend=0)
    ddoc[group_start] = rdoc[group_start]
    p_numbers = np.empty(2 * len(rdoc), dtype=np.int64)
    p_numbers[0::2], p_numbers[1::2] = ddoc, tfs
    p_bytes, p_ends = _varint_chunks(p_numbers, np.cumsum(2 * ndocs))
    # q/ bodies: Δposition (from 0 in each document)
    dpos = np.diff(pos, prepend=0)
    dpos[row_start] = pos[row_start]
    rows_per_group_end = np.cumsum(ndocs)
    positions_end = np.r_[row_start, len(pos)][rows_per_group_end]
    q_bytes, q_ends = _varint_chunks(dpos, positions_end)
    p_from = q_from = 0
    heads: dict[int, tuple[bytearray, int]] = {}          # a three's head and bucket, once
    for g, start in enumerate(group_start.tolist()):
        three = int(rkey[start])
        if three not in heads:
            a, b = divmod(three, len(names))
            text = names[a] + names[b][1]
            heads[three] = _head(text), fnv1a(text.encode("utf-8")) % buckets
        head, bucket = heads[three]
        field = int(rk[start])
        p_to, q_to = int(p_ends[g]), int(q_ends[g])
        entry = bytearray(head)
        _varints((field, int(ndocs[g])), entry)
        t_files.setdefault(bucket, []).append(bytes(entry) + p_bytes[p_from:p_to])
        entry = bytearray(head)
        _varints((field, q_to - q_from), entry)
        r_files.setdefault(bucket, []).append(bytes(entry) + q_bytes[q_from:q_to])
        p_from, q_from = p_to, q_to


def _varint_chunks(numbers, ends) -> tuple[bytes, "np.ndarray"]:
    """``_varint_array(numbers)`` and, for each ``ends[i]`` (a count of numbers), the byte
    offset where that many numbers end."""
    import numpy as np
    v = np.asarray(numbers, dtype=np.uint64)
    offsets = np.r_[0, np.cumsum(_varint_sizes(v))]
    return _varint_array(v), offsets[np.asarray(ends, dtype=np.int64)]


def _positions(mask: int) -> list[int]:
    """The set bits of a facet mask (bit p: the project at site position p)."""
    import numpy as np
    data = np.frombuffer(mask.to_bytes((mask.bit_length() + 7) // 8, "little"), dtype=np.uint8)
    return np.flatnonzero(np.unpackbits(data, bitorder="little")).tolist()


def _name_chars(names: list[str], buckets: int) -> dict[int, bytes]:
    """The ``n/`` buckets: each CJK character of the folded names → the projects whose name
    holds it, and where."""
    where: dict[str, list[tuple[int, list[int]]]] = {}
    for pos, name in enumerate(names):
        at: dict[str, list[int]] = {}
        for i, ch in enumerate(name):
            if _is_cjk(ch):
                at.setdefault(ch, []).append(i)
        for ch, offsets in at.items():
            where.setdefault(ch, []).append((pos, offsets))
    grouped: dict[int, bytearray] = {b: bytearray() for b in range(buckets)}
    for ch in sorted(where):
        rows = where[ch]
        entry = grouped[fnv1a(ch.encode("utf-8")) % buckets]
        entry += _head(ch)
        _varints((len(rows),), entry)
        last = 0
        for pos, offsets in rows:
            _varints((pos - last, len(offsets), *offsets), entry)
            last = pos
    return {b: bytes(data) for b, data in grouped.items()}


def _write_rest(gen, buckets: int, folder: Path) -> dict:
    """Everything but the postings: meta.json, projects.bin, n/, d/, names, sort orders."""
    from whoosh.util.numeric import byte_to_length, length_to_byte
    from ..filters import amount_html         # the amount as the server's page shows it
    digests: dict[str, str] = {}
    n = gen.n
    docs = [gen.stored(p) for p in range(n)]
    t2s = _t2s()
    for pos, d in enumerate(docs):
        stored = dict(d)
        text = json.dumps(stored, ensure_ascii=False)
        _gz(folder, f"d/{pos}.json", _json({**stored, "amount_html": str(amount_html(
            Decimal(d["annual_yuan"]))), "fold": _pairs(t2s, text)}), digests)
    units = [dict(u) for u in gen.units]          # with their folded names
    unit_index = {u["id"]: k for k, u in enumerate(units)}
    years = sorted(gen.masks["year"], reverse=True)
    year_index = {y: k for k, y in enumerate(years)}
    fields = list(FIELDS)
    columns = bytearray(year_index[gen.year_of[p]] for p in range(n))
    categories = bytearray(n)                   # a bit per category, from the facet masks
    for c, mask in gen.masks["category"].items():
        for p in _positions(mask):
            categories[p] |= 1 << CATEGORY_ORDER.index(c)
    columns += categories
    for f in fields:                            # whoosh's length byte of each field
        by_doc = gen.lengths[f]
        columns += bytes(length_to_byte(int(by_doc[gen.docnum[p]])) if by_doc[gen.docnum[p]]
                         else 0 for p in range(n))
    columns += b"".join(unit_index[gen.unit_of[p]].to_bytes(2, "little") for p in range(n))
    _gz(folder, "projects.bin", bytes(columns), digests)
    name_buckets = _bucket_count(n, NAMES_PER_BUCKET)
    for b, data in _name_chars(gen.names, name_buckets).items():
        _gz(folder, f"n/{b:x}.bin", data, digests)
    meta = {
        "version": VERSION, "n": n, "buckets": buckets, "name_buckets": name_buckets,
        "fields": fields, "boosts": list(FIELDS.values()),
        "average": [gen.average[f] for f in fields], "years": years,
        "units": units, "departments": {d["department"]["id"]: d["department"]["name"] for d in docs},
        "categories": CATEGORY_ORDER, "category_labels": CATEGORY_LABELS,
        "facet_limit": FACET_LIMIT,
        "synonyms": [list(g) for g in gen.synonyms],
        "length_table": [byte_to_length(b) if b else 0 for b in range(256)],
        "fold_blocks": sorted({ord(t) >> 8 for t in _fold_pairs(t2s)}),
        "reading_blocks": sorted({ord(ch) >> 8 for ch in _homophone_table()[1]}),
    }
    _gz(folder, "meta.json", _json(meta), digests)
    blocks: dict[int, str] = {}
    for t, simple in _fold_pairs(t2s).items():
        blocks[ord(t) >> 8] = blocks.get(ord(t) >> 8, "") + t + simple
    for block, pairs in blocks.items():
        _gz(folder, f"f/{block:x}.txt", pairs.encode("utf-8"), digests)
    _write_homophones(gen, folder, digests)
    _gz(folder, "names.txt", gen.names_text.encode("utf-8"), digests)
    unit_name = {u["id"]: u["name"] for u in units}
    _gz(folder, "sort.json", _json({
        "name": sorted(range(n), key=lambda p: (pinyin_key(gen.names[p]), p)),
        "unit": sorted(range(n), key=lambda p: (pinyin_key(unit_name[gen.unit_of[p]]), p)),
        "amount": gen.by_amount,
        "yuan": [str(a) for a in gen.amounts_desc],
    }), digests)
    return digests


def _write_homophones(gen, folder: Path, digests: dict) -> None:
    """The homophone table as a suggestion reads it: ``homophones.txt`` keeps every reading
    but only the characters of the names (a corrected word must be made of the names'
    pairs: another character never survives, engine.suggest), and ``h/<block>.txt`` the
    readings of every character (``ch r1,r2``), fetched for the query's own characters."""
    by_reading, by_char = _homophone_table()
    names = set(gen.names_text) | {ch for u in gen.units for ch in u["folded"]}
    lines = []
    for line in HOMOPHONES.read_text("utf-8").splitlines():
        reading, chars = line.split(" ", 1)
        lines.append(reading + " " + "".join(ch for ch in chars if ch in names or ch == "|"))
    _gz(folder, "homophones.txt", ("\n".join(lines) + "\n").encode("utf-8"), digests)
    blocks: dict[int, list[str]] = {}
    for ch in sorted(by_char):
        blocks.setdefault(ord(ch) >> 8, []).append(ch + " " + ",".join(by_char[ch]))
    for block, rows in blocks.items():
        _gz(folder, f"h/{block:x}.txt", ("\n".join(rows) + "\n").encode("utf-8"), digests)


def _fold_pairs(t2s: dict) -> dict[str, str]:
    """Traditional → simplified, for the script's folding (the rest of folding, NFKC and
    lower case, the browser has): every pair is one character to one."""
    return {t: s for t, s in sorted(t2s.items()) if len(s) == 1 and t != s}


def _pairs(t2s: dict, text: str) -> str:
    """The pairs of the characters of ``text`` (a document carries those it needs)."""
    return "".join(ch + t2s[ch] for ch in sorted(set(text)) if ch in t2s and t2s[ch] != ch)


def _json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def write(out: Path, catalog=None) -> str:
    """Write the static index of the site's search index into ``out/search/index/`` as a
    new generation and point ``current.json`` at it; keep the previous generation (pages
    open in a browser may still read it) and remove older ones.  Returns its name.

    The postings are whoosh's (``_whoosh_postings``); for a small site, given its
    ``catalog``, they are made again from its documents (``_token_postings``: the same
    terms, and quicker where the terms far outnumber the projects).  From PARALLEL_FROM
    projects, half of the buckets are written by a forked child meanwhile (the build's
    other steps are done: both cores are free)."""
    from ..background import Background
    from . import open_backend
    gen = open_backend(out).generation()
    root = Path(out) / FOLDER
    tmp = root / f".tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    for sub in ("p", "q", "t", "r", "n", "d", "f", "h"):
        (tmp / sub).mkdir(parents=True)
    terms = _terms(gen)
    buckets = _bucket_count(gen.n, PER_BUCKET)
    parts = 2 if gen.n >= PARALLEL_FROM and hasattr(os, "fork") else 1
    read = _whoosh_postings(gen) if catalog is None or gen.n >= PARALLEL_FROM \
        else _token_postings(catalog)
    child = Background(_write_postings, read, terms, buckets, tmp, 1, 2) if parts == 2 else None
    try:
        digests, pairs = _write_postings(read, terms, buckets, tmp, 0, parts)
        digests.update(_write_rest(gen, buckets, tmp))
        columns = [pairs]
        if child is not None:
            theirs, their_pairs = child.result()
            digests.update(theirs)
            columns.append(their_pairs)
        digests.update(_trigrams(terms, columns, buckets, tmp))
    except BaseException:
        if child is not None:
            child.cancel()
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    name = hashlib.sha256(json.dumps(sorted(digests.items())).encode()).hexdigest()[:16]
    folder = root / name
    if folder.is_dir():
        shutil.rmtree(tmp)
    else:
        os.replace(tmp, folder)
    previous = _current(root)
    pointer = root / "current.json"
    tmp_pointer = root / f".current-{os.getpid()}.json"
    tmp_pointer.write_text(json.dumps({"generation": name}), "utf-8")
    os.replace(tmp_pointer, pointer)
    for entry in root.iterdir():
        if entry.is_dir() and entry.name not in (name, previous):
            shutil.rmtree(entry, ignore_errors=True)
    return name


def remove(out: Path) -> None:
    """No static index (the setting was turned off): the search page says to browse."""
    shutil.rmtree(Path(out) / FOLDER, ignore_errors=True)


def _current(root: Path) -> str | None:
    try:
        return json.loads((root / "current.json").read_text("utf-8"))["generation"]
    except (OSError, ValueError, KeyError):
        return None
