"""What a query's first search spends reading posting lists in whoosh's format, and what
the same lists would cost as raw arrays (docs/SCALING.md, "A format for 100,000"): the
figures issue 20 asks for before the index leaves whoosh's format.  Nothing here is used
by the site.

  python bench/postings_format.py --out /tmp/jixiao-100k/site

1. Each query of ``search_bench.QUERIES`` is searched once by a fresh backend (so each is
   new to it), and every posting list the search reads (``whoosh_search._term``: one term
   of one field over all segments) is timed as it is read.
2. The same lists are written once, untimed, to one file as raw little-endian arrays: per
   term its document numbers (int32), weights (float64) and, where the search reads them,
   its encoded positions as one blob with uint32 offsets; a dict stands for one merged
   segment's term table.
3. Each query's lists are read again from that file (``os.pread`` + ``numpy.frombuffer``),
   to the same arrays ``_term`` returns; the positions as the list of per-document
   ``bytes`` the position check takes now, and as two arrays (offsets and the blob: what a
   position check done with numpy would take).

Both read files in the page cache: the figures are the decoding, not the disk.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from jixiao.search import open_backend, parse_params  # noqa: E402
from jixiao.search import whoosh_search  # noqa: E402
from search_bench import QUERIES, pct  # noqa: E402


def record_reads(out: Path) -> tuple[dict, dict]:
    """query → [(field, text, with values, seconds, what _term returned)], and query → the
    whole first search's seconds."""
    backend = open_backend(out)
    backend.search(parse_params({"q": ["预热"]}))          # the generation opened
    real, reads, whole = whoosh_search._term, {}, {}
    current: list = []

    def timed(leaves, field, text, values=True):
        start = time.perf_counter()
        got = real(leaves, field, text, values)
        current.append((field, text, values, time.perf_counter() - start, got))
        return got
    whoosh_search._term = timed
    try:
        for q in QUERIES:
            current = reads[q] = []
            start = time.perf_counter()
            backend.search(parse_params({"q": [q]}))
            whole[q] = time.perf_counter() - start
    finally:
        whoosh_search._term = real
    return reads, whole


def write_raw(reads: dict, path: Path) -> dict:
    """Every list read, once, as raw arrays in ``path``: (field, text) → where they lie."""
    table, at = {}, 0
    with open(path, "wb") as f:
        for lists in reads.values():
            for field, text, _, _, (ids, weights, values) in lists:
                if (field, text) in table:
                    continue
                parts = [ids.astype("<i4").tobytes(), weights.astype("<f8").tobytes()]
                if values:
                    ends = np.cumsum([len(v) for v in values], dtype=np.uint32)
                    parts += [np.concatenate(([0], ends)).astype("<u4").tobytes(),
                              b"".join(values)]
                table[(field, text)] = (at, len(ids), [len(p) for p in parts])
                for p in parts:
                    f.write(p)
                    at += len(p)
    return table


def read_raw(fd: int, table: dict, field: str, text: str, values: bool,
             lists: bool = True) -> tuple:
    """What ``_term`` returns, from the raw file; ``lists`` False: the positions as the
    offsets array and the blob (what a position check done with numpy would take)."""
    where = table.get((field, text))
    if where is None:
        return np.empty(0, np.int64), np.empty(0, np.float64), []
    at, n, sizes = where
    ids = np.frombuffer(os.pread(fd, sizes[0], at), dtype="<i4").astype(np.int64)
    at += sizes[0]
    weights = np.frombuffer(os.pread(fd, sizes[1], at), dtype="<f8")
    at += sizes[1]
    vs: list = []
    if values and len(sizes) > 2:
        offsets = np.frombuffer(os.pread(fd, sizes[2], at), dtype="<u4")
        blob = os.pread(fd, sizes[3], at + sizes[2])
        if not lists:
            return ids, weights, (offsets, blob)
        offsets = offsets.tolist()
        vs = [blob[a:b] for a, b in zip(offsets, offsets[1:])]
    return ids, weights, vs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="a built site (its index beside it)")
    args = ap.parse_args(argv)
    reads, whole = record_reads(args.out)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "raw-postings.bin"
        table = write_raw(reads, path)
        fd = os.open(path, os.O_RDONLY)
        try:
            raw, arrays = {}, {}
            for q, lists in reads.items():
                start = time.perf_counter()
                for field, text, values, _, got in lists:
                    again = read_raw(fd, table, field, text, values)
                    assert np.array_equal(again[0], got[0]) and len(again[2]) == len(got[2])
                raw[q] = time.perf_counter() - start
                start = time.perf_counter()
                for field, text, values, _, got in lists:
                    read_raw(fd, table, field, text, values, lists=False)
                arrays[q] = time.perf_counter() - start
        finally:
            os.close(fd)
        size = path.stat().st_size
    ms = lambda s: f"{s * 1000:.1f}"
    print("| query | lists read | postings | whoosh's format, ms | raw, as lists, ms | raw, "
          "arrays only, ms | first search now, ms |")
    print("|---|---|---|---|---|---|---|")
    now, fmt_w, fmt_r, fmt_a = [], [], [], []
    for q, lists in reads.items():
        w = sum(s for _, _, _, s, _ in lists)
        now.append(whole[q]), fmt_w.append(w), fmt_r.append(raw[q]), fmt_a.append(arrays[q])
        print(f"| {q} | {len(lists)} | {sum(len(g[0]) for *_, g in lists)} | {ms(w)} | "
              f"{ms(raw[q])} | {ms(arrays[q])} | {ms(whole[q])} |")
    print()
    print(f"{len(reads)} queries; raw file {size / 1e6:.1f} MB for the "
          f"{len(table)} lists read")
    rest = [n - w for n, w in zip(now, fmt_w)]
    for name, xs in (("reading posting lists, whoosh's format", fmt_w),
                     ("… raw arrays, positions as a list per document", fmt_r),
                     ("… raw arrays, positions as arrays", fmt_a),
                     ("first search, now", now),
                     ("first search less its posting reads (ranking, position check, facets, "
                      "results)", rest)):
        print(f"  {name}: p50 {ms(pct(xs, 50))} ms, p95 {ms(pct(xs, 95))} ms, "
              f"max {ms(max(xs))} ms, total {sum(xs):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
