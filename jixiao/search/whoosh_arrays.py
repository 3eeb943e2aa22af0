"""A segment's long posting lists again as raw arrays, in a file of the segment (``.arr``).

whoosh's posting blocks pickle each posting's positions as a bytes object of its own: a
first search over 100,000 projects spends most of its time unpickling and joining
hundreds of thousands of them (a common bigram is in 70,000-97,000 documents' text).
This file holds, for each term whose list in the segment is long (``LONG`` postings or
more, in a field of ``ArrayPositions``), the same postings as three little-endian arrays
that numpy reads as they lie: docnums (uint32), each posting's number of positions
(uint16: its weight, as whoosh counts it in these fields) and all the positions (uint16,
each posting's ascending).

whoosh stays the index: the term table, the stored documents, the lengths and every
posting list in its own format are written as before, and whoosh's own reader never
opens this file.  It is a copy of what the blocks say, for ``whoosh_search`` to read
instead of them; a segment without it (written before, or small) is read from its
blocks.  The file goes into the segment's compound file with the others.

Layout: the entries one after the other (each starts at a multiple of 8), then a JSON
directory ``{field: {term: [offset, postings, positions]}}``, then its offset (uint64)
and ``MAGIC``.
"""
from __future__ import annotations

import struct

import numpy as np
import orjson

EXT = ".arr"
MAGIC = b"JXARR\x001\n"
LONG = 256                 # postings in one segment's list (of 2,500 documents at most)
_TRAILER = struct.Struct("<Q8s")
_H = ord("H")


def decoded(values: list[bytes]) -> tuple:
    """(positions per posting, every posting's positions one after the other: a numpy
    array, uint16 when every value is ``H``-encoded) of ``whoosh_index.ArrayPositions``
    encodings (a typecode byte, then little-endian ``H`` items, or ``I`` for a field of
    more than 65,535 tokens)."""
    n = len(values)
    if not n:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.uint16)
    sizes = np.fromiter(map(len, values), dtype=np.int64, count=n)
    blob = np.frombuffer(b"".join(values), dtype=np.uint8)
    starts = np.cumsum(sizes) - sizes
    if (blob[starts] == _H).all():
        keep = np.ones(len(blob), dtype=bool)
        keep[starts] = False                              # the typecodes out: the positions
        return (sizes - 1) >> 1, blob[keep].view("<u2")
    parts = [np.frombuffer(v, dtype="<u2" if v[0] == _H else "<u4", offset=1) for v in values]
    return (np.fromiter(map(len, parts), dtype=np.int64, count=n),
            np.concatenate(parts).astype(np.uint32))


class ArraysWriter:
    """Collects the long lists of one segment's ``fields`` (of ``ArrayPositions``) as
    ``whoosh_postings.write`` goes; ``save`` writes the file."""

    def __init__(self, fields: set[str]):
        self.fields = fields
        self.parts: list[bytes] = []
        self.size = 0
        self.directory: dict[str, dict[str, list[int]]] = {}

    def add(self, field: str, term: str, ids: list[int], weights: list[float],
            values: list[bytes]) -> None:
        """One term's postings (``values``: ``ArrayPositions`` encodings); a list with a
        position past 65,535 (``I``-encoded), or a weight other than its count of
        positions (a field boost), stays in the blocks only."""
        counts, positions = decoded(values)
        if (positions.dtype != np.uint16 or not np.array_equal(counts, weights)
                or counts.max() > 0xFFFF):
            return
        chunk = b"".join((np.asarray(ids, dtype="<u4").tobytes(),
                          counts.astype("<u2").tobytes(),
                          positions.astype("<u2").tobytes()))
        self.directory.setdefault(field, {})[term] = [self.size, len(ids), len(positions)]
        pad = -len(chunk) % 8
        self.parts.append(chunk + b"\0" * pad)
        self.size += len(chunk) + pad

    def save(self, dbfile) -> None:
        """Write the file to ``dbfile`` (a whoosh ``StructFile``) and close it."""
        for part in self.parts:
            dbfile.write(part)
        dbfile.write(orjson.dumps(self.directory))
        dbfile.write(_TRAILER.pack(self.size, MAGIC))
        dbfile.close()


class Arrays:
    """The directory of one segment's file (read once per segment and process), and its
    entries read on demand through a reader's own file object."""

    def __init__(self, directory: dict[str, dict[str, list[int]]]):
        self.directory = directory

    @classmethod
    def of(cls, storage, segment) -> "Arrays":
        """The segment's directory; an empty one when it has no file."""
        name = segment.make_filename(EXT)
        if not storage.file_exists(name):
            return cls({})
        f = storage.open_file(name)
        try:
            length = storage.file_length(name)
            at, magic = _TRAILER.unpack(f.get(length - _TRAILER.size, _TRAILER.size))
            if magic != MAGIC:
                raise ValueError(f"{name}: not a postings arrays file")
            return cls(orjson.loads(f.get(at, length - _TRAILER.size - at)))
        finally:
            f.close()

    def entry(self, field: str, term: str) -> list[int] | None:
        terms = self.directory.get(field)
        return None if terms is None else terms.get(term)

    @staticmethod
    def read(dbfile, entry: list[int], positions: bool = True) -> tuple:
        """(docnums, weights, positions per posting, the positions) of one entry (the last
        two None when ``positions`` is false), read with one ``get`` of ``dbfile``."""
        at, n, npos = entry
        raw = dbfile.get(at, 6 * n + (2 * npos if positions else 0))
        ids = np.frombuffer(raw, dtype="<u4", count=n).astype(np.int64)
        counts = np.frombuffer(raw, dtype="<u2", count=n, offset=4 * n).astype(np.int64)
        weights = counts.astype(np.float64)
        if not positions:
            return ids, weights, None, None
        return ids, weights, counts, np.frombuffer(raw, dtype="<u2", count=npos, offset=6 * n)
