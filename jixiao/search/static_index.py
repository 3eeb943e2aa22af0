"""The search index as static files, for a site served without the search server.

``templates/static/search-engine.js`` answers ``/search/?q=…`` in the browser from these
files with the server's semantics (``engine.py``: the same tiers, ranking, highlights,
facets, filters and paging); ``tests/test_static_search.py`` holds the two to the same
answers.  The files are an export of the whoosh generation just published: its stored
documents indexed again with the same fields and analyzer (``documents.field_texts``,
``analysis.term_positions``), so the two agree on every term, and a rebuild reads no
record for it.

    search/index/current.json           {"generation": "<hash>"}    (no-cache)
    search/index/<hash>/meta.json       sizes, units, departments, synonyms, fold table
    search/index/<hash>/projects.bin    per project: year, categories, field length bytes, unit
    search/index/<hash>/names.txt       folded project names, one per line (relaxed tier)
    search/index/<hash>/sort.json       name/unit orders (pinyin), amounts, amount order
    search/index/<hash>/p/<xx>.bin      postings, bucketed by a hash of the term
    search/index/<hash>/d/<n>.json      the stored document of the project at position n

A query fetches ``current.json`` and ``meta.json`` and ``projects.bin`` once, one bucket
per distinct term it needs, and the documents of the page's hits; ``names.txt`` when it
reaches the relaxed tier or a suggestion, ``sort.json`` for another order or an amount
range, and the homophone table (``homophones.txt``) only for a suggestion.
Everything under ``<hash>/`` never changes once written (cache it for a year); a new
build writes a new folder, points ``current.json`` at it and removes the one before the
previous.

Postings (varints, 7 bits a byte, low first): for each term and field in a bucket,
``len(term) term field ndocs nbytes`` and ``nbytes`` of: per document ``Δposition tf``
and, for terms that are not shingles, ``tf`` Δ-coded positions.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from decimal import Decimal
from pathlib import Path

from ..derive import CATEGORY_LABELS, CATEGORY_ORDER
from .analysis import SHINGLE, _t2s, fold, term_positions
from .documents import FIELDS, field_texts
from .homophones import TABLE as HOMOPHONES, pinyin_key

FOLDER = Path("search") / "index"
VERSION = 1
BUCKET_BYTES = 16_384          # aimed average size of a postings bucket


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


def _length_byte(length: int) -> int:
    """The field length as whoosh keeps it, one byte per document and field (BM25 reads
    ``byte_to_length`` of it: ``meta.length_table``)."""
    from whoosh.util.numeric import length_to_byte
    return length_to_byte(length) if length else 0


def build_files(gen) -> dict[str, bytes]:
    """relative path (inside the generation folder) → bytes, for a whoosh generation
    (``whoosh_search.Generation``): its stored documents, in site order, are indexed again
    with the same fields and analyzer, so no record is read."""
    docs = [gen.stored(p) for p in range(gen.n)]
    n = len(docs)
    units = [{k: v for k, v in u.items() if k != "folded"} for u in gen.units]
    unit_index = {u["id"]: k for k, u in enumerate(units)}
    departments = {}
    for d in docs:
        departments.setdefault(d["department"]["id"], d["department"]["name"])
    years = sorted({str(d["year"]) for d in docs}, reverse=True)
    year_index = {y: k for k, y in enumerate(years)}
    fields = list(FIELDS)

    postings: dict[str, dict[int, list]] = {}       # term → field → [(position, positions)]
    lengths = [[0] * n for _ in fields]
    for pos, d in enumerate(docs):
        for f, text in field_texts(d).items():
            if not text:
                continue
            k = fields.index(f)
            terms = term_positions(fold(text))
            lengths[k][pos] = _length_byte(sum(map(len, terms.values())))
            for term, positions in terms.items():
                postings.setdefault(term, {}).setdefault(k, []).append((pos, positions))

    columns = bytearray()
    columns += bytes(year_index[str(d["year"])] for d in docs)
    columns += bytes(sum(1 << CATEGORY_ORDER.index(c) for c in d["categories"]) for d in docs)
    for f in range(len(fields)):
        columns += bytes(lengths[f])
    columns += b"".join(unit_index[d["unit"]["id"]].to_bytes(2, "little") for d in docs)

    encoded: dict[str, bytes] = {}
    for term, by_field in postings.items():
        out = bytearray()
        raw = term.encode("utf-8")
        for k, rows in sorted(by_field.items()):
            body = bytearray()
            last = 0
            shingled = SHINGLE in term
            for pos, positions in rows:
                _varints((pos - last, len(positions)), body)
                last = pos
                if not shingled:
                    prev = 0
                    for p in positions:
                        _varints((p - prev,), body)
                        prev = p
            _varints((len(raw),), out)
            out += raw
            _varints((k, len(rows), len(body)), out)
            out += body
        encoded[term] = bytes(out)
    total = sum(map(len, encoded.values()))
    buckets = 16
    while total / buckets > BUCKET_BYTES:
        buckets *= 2
    grouped: dict[int, list[bytes]] = {}
    for term in sorted(encoded):
        grouped.setdefault(fnv1a(term.encode("utf-8")) % buckets, []).append(encoded[term])

    files: dict[str, bytes] = {f"p/{b:x}.bin": b"".join(grouped.get(b, ())) for b in range(buckets)}
    from ..render import amount_html          # the amount as the server's page shows it
    for pos, d in enumerate(docs):
        files[f"d/{pos}.json"] = _json({**{k: d[k] for k in _STORED},
                                        "amount_html": str(amount_html(Decimal(d["annual_yuan"])))})
    from whoosh.util.numeric import byte_to_length
    table = [byte_to_length(b) if b else 0 for b in range(256)]
    averages = [(sum(table[b] for b in ls) / n if n else 0.0) or 1.0 for ls in lengths]
    meta = {
        "version": VERSION, "n": n, "buckets": buckets, "fields": fields,
        "boosts": list(FIELDS.values()), "average": averages, "years": years,
        "units": units, "departments": departments,
        "categories": CATEGORY_ORDER, "category_labels": CATEGORY_LABELS,
        "synonyms": [list(g) for g in gen.synonyms],
        "length_table": table, "fold": _fold_table(),
    }
    files["meta.json"] = _json(meta)
    files["projects.bin"] = bytes(columns)
    files["homophones.txt"] = HOMOPHONES.read_bytes()
    files["names.txt"] = "\n".join(fold(d["title"]) for d in docs).encode("utf-8")
    by_amount = sorted(range(n), key=lambda p: (-Decimal(docs[p]["annual_yuan"]), p))
    unit_name = {u["id"]: u["name"] for u in units}
    files["sort.json"] = _json({
        "name": sorted(range(n), key=lambda p: (pinyin_key(fold(docs[p]["title"])), p)),
        "unit": sorted(range(n), key=lambda p: (pinyin_key(unit_name[docs[p]["unit"]["id"]]), p)),
        "amount": by_amount,
        "yuan": [docs[p]["annual_yuan"] for p in by_amount],
    })
    return files


_STORED = ("id", "title", "url", "year", "unit", "annual_yuan", "department", "nature",
           "category", "goals", "sections", "indicators")


def _fold_table() -> str:
    """Traditional → simplified pairs for the script's folding (the rest of folding, NFKC
    and lower case, the browser has): one string, two characters per pair."""
    return "".join(t + s for t, s in sorted(_t2s().items()) if len(s) == 1 and t != s)


def _json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def write(out: Path) -> str:
    """Write the static index of the site's search index into ``out/search/index/`` as a new generation
    and point ``current.json`` at it; keep the previous generation (pages open in a browser
    may still read it) and remove older ones.  Returns the generation's name."""
    from . import open_backend
    files = build_files(open_backend(out).generation())
    h = hashlib.sha256()
    for path in sorted(files):
        h.update(path.encode() + b"\0" + hashlib.sha256(files[path]).digest())
    name = h.hexdigest()[:16]
    root = Path(out) / FOLDER
    folder = root / name
    if not folder.is_dir():
        tmp = root / f".tmp-{name}-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        for path, data in files.items():
            target = tmp / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
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
