"""Postings of a new segment, collected per term and written a block at a time.

whoosh's ``SegmentWriter`` puts every posting as a tuple into a pool, sorts the pool
at commit, and hands the postings one by one to ``W3PostingsWriter.add_posting``
(type checks, statistics and appends per posting).  At 10,000 projects that is
~10 M postings and most of the index step.  Documents are added in docnum order, so
collecting each term's postings in lists keeps them sorted; ``write`` then writes
each term's blocks exactly as ``W3PostingsWriter`` does (same bytes: a test compares
the files when ``PROTOCOL`` is whoosh's 2), with the per-block work done on slices.

Block data is pickled with protocol 5, not whoosh's 2: protocol 2 writes each
position array (``bytes``) as a call that makes it from a latin-1 string.  Readers
unpickle any protocol.  At 2,500 projects per segment: 46 → 28 MB on disk, 12.6 →
~10 CPU s to write, and less to decompress and unpickle per query.
"""
from __future__ import annotations

import zlib
from pickle import dumps

from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3TermInfo
from whoosh.system import pack_ushort
from whoosh.util.numeric import length_to_byte

from .whoosh_arrays import LONG

PROTOCOL = 5               # of the pickled block data (whoosh writes 2; see above)
# Blocks of 1,024 postings, not compressed (whoosh's W3Codec writes 128, zlib level 3;
# its reader takes any size and level, each block says its own).  A first search reads
# whole posting lists: at 100,000 projects zlib was half of decoding them (the lists of
# 11 common bigrams: 192 ms as whoosh writes them, 101 ms without zlib, 81 ms in blocks of
# 1,024 as well), for twice the postings on disk (11.7 → 22.5 MB for those lists).
BLOCK_LIMIT = 1024
COMPRESSION = 0


class Postings:
    """Stands in for whoosh's ``PostingPool``: (field, term) → one flat list of docnum,
    weight, value, docnum, weight, value… (one ``+=`` per posting, not three appends:
    a quarter less time to collect them)."""

    def __init__(self):
        self.terms: dict[str, dict[bytes | str, list]] = {}

    def add(self, item) -> None:
        """One posting, as whoosh's writer hands it to its pool."""
        fieldname, btext, docnum, weight, value = item
        self._field(fieldname).setdefault(btext, []).extend((docnum, weight, value))

    def add_positions(self, fieldname: str, docnum: int, positions: dict, format_) -> int:
        """A document's postings in one field of a positions format, from term (``str``:
        UTF-8 keeps their order) → positions (no tuple per posting: ~2.6 M postings per
        2,500 projects); returns the field's length (the sum of frequencies)."""
        field = self._field(fieldname)
        get, encode, boost = field.get, format_.encode, format_.field_boost
        for term, poses in positions.items():
            lists = get(term)
            if lists is None:
                field[term] = [docnum, len(poses) * boost, encode(poses)]
            else:
                lists += (docnum, len(poses) * boost, encode(poses))
        return sum(map(len, positions.values()))

    def _field(self, fieldname: str) -> dict:
        return self.terms.setdefault(fieldname, {})

    def cleanup(self) -> None:
        self.terms.clear()


def write(fieldwriter, schema, postings: Postings, lengths: dict, arrays=None) -> None:
    """Write every term of ``postings`` with ``fieldwriter`` (a ``W3FieldWriter``), fields
    and terms in sorted order; ``lengths``: field → docnum → length as whoosh stores it
    (documents of length 0 left out).  The long lists of ``arrays.fields`` go to
    ``arrays`` too (a ``whoosh_arrays.ArraysWriter``), when given."""
    blocklimit, compression = BLOCK_LIMIT, COMPRESSION
    postfile = fieldwriter._postfile
    for fieldname in sorted(postings.terms):
        fieldwriter.start_field(fieldname, schema[fieldname])
        prefix = pack_ushort(fieldwriter._fieldid)
        terms = postings.terms[fieldname]
        copy = arrays is not None and fieldname in arrays.fields
        for term in sorted(terms):          # str and UTF-8 bytes sort alike
            flat = terms[term]
            ids, weights, values = flat[0::3], flat[1::3], flat[2::3]
            btext = term.encode("utf-8") if isinstance(term, str) else term
            info = _write_term(postfile, schema[fieldname].format, ids, weights,
                               values, lengths.get(fieldname, {}), blocklimit, compression)
            fieldwriter._tindex.add(prefix + btext, info.to_bytes())
            if copy and len(ids) >= LONG:
                arrays.add(fieldname, btext.decode("utf-8"), ids, weights, values)
        fieldwriter.finish_field()


def _write_term(postfile, format_, ids, weights, values, lengths: dict, blocklimit,
                compression):
    """One term's posting list: what ``W3PostingsWriter`` writes between ``start_postings``
    and ``finish_postings`` (blocks of ``blocklimit``, each compressed)."""
    info = W3TermInfo()
    fixedsize = format_.fixed_value_size()
    start = postfile.tell()
    postfile.write(WHOOSH3_HEADER_MAGIC)
    n = len(ids)
    for k in range(0, n, blocklimit):
        bids = ids[k:k + blocklimit]
        bweights = weights[k:k + blocklimit]
        blens = [length for length in map(lengths.get, bids) if length]
        minlength = min(blens) if blens else None
        maxlength = max(blens) if blens else 0
        maxweight = max(0, *bweights)
        # the term's statistics (W3TermInfo.add_block)
        info._weight += sum(bweights)
        info._df += len(bids)
        if info._minlength is None:
            info._minlength = minlength
        else:
            info._minlength = min(info._minlength, minlength)
        info._maxlength = max(info._maxlength, maxlength)
        info._maxweight = max(info._maxweight, maxweight)
        if info._minid is None:
            info._minid = bids[0]
        info._maxid = bids[-1]
        # the block (W3PostingsWriter._write_block and its _mini_* methods)
        first, count = bweights[0], len(bweights)
        if bweights.count(1.0) == count:            # all(w == 1.0 …), in C
            mini_weights = None
        elif bweights.count(first) == count:
            mini_weights = first
        else:
            mini_weights = tuple(bweights)
        deltas = tuple(b - a for a, b in zip([0, *bids], bids))
        bvalues = [v for v in values[k:k + blocklimit] if v]     # whoosh keeps non-empty ones
        if fixedsize is None or fixedsize < 0:
            mini_values = tuple(bvalues)
        elif fixedsize == 0:
            mini_values = None
        else:
            mini_values = b"".join(bvalues)
        data = dumps((deltas, mini_weights, mini_values), PROTOCOL)
        if compression:
            data = zlib.compress(data, compression)
        head = dumps((len(bids), bids[-1], maxweight, compression,
                      length_to_byte(minlength), length_to_byte(maxlength)), 2)
        size = len(head) + len(data)
        postfile.write_int(-size if k + blocklimit >= n else size)
        postfile.write(head)
        postfile.write(data)
    info.set_extent(start, postfile.tell() - start)
    return info
