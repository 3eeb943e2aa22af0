"""The set of files a build writes: one owner per output path (MkDocs' ``File`` rule)."""
from __future__ import annotations

import os
from typing import BinaryIO, NamedTuple

from .problems import Problem


class Span(NamedTuple):
    """Bytes ``start:end`` of an open file (the data file the previous build wrote):
    copied file to file by the kernel when written, never read into this process."""
    source: BinaryIO
    start: int
    end: int


class Parts(tuple):
    """A file's bytes as pieces (a data file assembled from the file on disk and the
    pieces made now): bytes, and ``Span``s of the file on disk, written piece by piece,
    never joined into one more copy (190 MB at 10,000 projects)."""


class Staged(NamedTuple):
    """An output's bytes as a worker wrote them to the spill (``Outputs.stage``)."""
    file: str
    digest: str | None


class Output(NamedTuple):         # (a tuple: 21,000 are made per build, kept or not)
    path: str          # relative to the output directory, e.g. "projects/x/index.html"
    data: bytes | Parts | None
    source: str        # what produced it: a content file or a template, for messages
    digest: str | None = None   # set (and data None) for a file an incremental build keeps
    staged: str | None = None   # data None: the file it was written to (``write.Spill``)


class Outputs:
    """``spill`` (``write.Spill``): where each output's bytes go as soon as it is made, so
    that a build holds paths and digests, not the site (else they stay in memory)."""

    def __init__(self, spill=None):
        self.files: dict[str, Output] = {}
        self.problems: list[Problem] = []
        self.spill = spill
        self._sorted: list[Output] | None = None    # ``__iter__``'s, until the next ``add``

    def add(self, path: str, data: bytes | str | None, source: str,
            digest: str | None = None) -> None:
        """``data`` None with a ``digest``: the file on disk is already right (incremental)."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        key = path.lower()               # case-insensitive file systems collide too
        if key in self.files:
            first = self.files[key]
            self.problems.append(Problem(source, 1, 1, "url",
                                         f"/{path} is also written by {first.source}"))
            return
        data = self.stage(data)
        self._sorted = None
        if isinstance(data, Staged):
            self.files[key] = Output(path, None, source, data.digest, data.file)
        else:
            self.files[key] = Output(path, data, source, digest)

    def keep(self, path: str, source: str, digest: str) -> None:
        """``add`` of a file an incremental build keeps as it is on disk (200,000 of them
        in a one-record rebuild at 100,000 projects)."""
        key = path.lower()
        if key in self.files:
            return self.add(path, None, source, digest)          # the clash, reported
        self._sorted = None
        self.files[key] = Output(path, None, source, digest)

    def stage(self, data: bytes | Parts | None) -> bytes | Parts | Staged | None:
        """``data`` in the spill, when there is one."""
        if data is None or self.spill is None or isinstance(data, Staged):
            return data
        return Staged(*self.spill(data))

    def read(self, path: str, out) -> bytes:
        """The bytes of output ``path``: made now (in memory or spilled) or kept on disk."""
        o = self.files[path.lower()]
        if o.data is not None:
            return o.data
        with open(o.staged or os.path.join(out, o.path), "rb") as f:
            return f.read()

    def same_as(self, path: str, out) -> bytes | Parts | Staged:
        """The bytes of output ``path`` for another output: with a spill, the file it was
        made into (or kept as) under a second name, hard-linked rather than copied (the
        latest year's data files again under /data/: 185 MB at 100,000 projects)."""
        o = self.files[path.lower()]
        if self.spill is None or o.data is not None:
            return self.read(path, out)
        return Staged(self.spill.link(o.staged or os.path.join(out, o.path)), o.digest)

    def __iter__(self):
        """In path order (sorted once for the sitemap, the write and the log: 0.1 s a time
        at 216,855 outputs)."""
        if self._sorted is None:
            self._sorted = sorted(self.files.values(), key=lambda o: o.path)
        return iter(self._sorted)

    def __len__(self):
        return len(self.files)
