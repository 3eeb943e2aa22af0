"""Sets of projects as Python ints (bit *i* = the project at site position *i*) and as
numpy flags (one bool per position): the two forms search moves between."""
from __future__ import annotations


def to_mask(flags) -> int:
    """The mask of a numpy bool array (or the positions set in one)."""
    import numpy as np
    return int.from_bytes(np.packbits(flags, bitorder="little").tobytes(), "little")


def to_flags(mask: int, size: int):
    """``mask`` as ``size`` numpy bools (``size`` at least its bit length)."""
    import numpy as np
    data = np.frombuffer(mask.to_bytes((size + 7) >> 3, "little"), dtype=np.uint8)
    return np.unpackbits(data, count=size, bitorder="little").view(bool)
