"""What the previous build into an output folder made, so that the next one renders only
what changed (``render.Renderer``).

* ``<out>/.build-state.json``: output path → key of its inputs.  Together with the write
  manifest (path → digest of the bytes on disk) it says which outputs need no rendering.
* ``<out>/.build-cache/render.pickle``: where each project's piece lies in the data files
  (``/data/projects.json``, ``projects.csv``, ``indicators.csv``), so that a rebuild
  copies the pieces of unchanged projects from the files on disk instead of making them
  again or keeping a second copy of 190 MB; the indicator pages' aggregate, by the key
  of what it is made of; which templates each template references; and the templates
  compiled.

Written after the site is written; a build that fails leaves both as they were.
"""
from __future__ import annotations

import json
import mmap
import os
import pickle
from pathlib import Path

import jinja2

from .outputs import Parts

# caches of earlier versions of the build, removed when seen
LEGACY = (".build-cache/fragments.pickle", ".build-cache/projects-json.pickle",
          ".build-cache/records.pickle")
DATA_FILES = ("data/projects.json", "data/projects.csv", "data/indicators.csv")


class BuildState:
    FILE = ".build-state.json"
    CACHE = ".build-cache/render.pickle"
    VERSION = 2

    def __init__(self, out: Path, code: str = ""):
        self.out = Path(out)
        self.code = code
        self.keys: dict[str, str] = {}
        self.previous: dict[str, str] = {}
        self.manifest: dict[str, str] = {}
        # data file → {project id: (key, start, end)}: pieces of the files written now …
        self.pieces: dict[str, dict] = {}
        # … and of the files on disk, with their (size, mtime_ns) when written
        self.old_pieces: dict[str, tuple] = {}
        self.indicators: tuple | None = None        # (key, aggregate with project ids)
        self.old_indicators: tuple | None = None
        # template → (hash of it and what it references, [(each of them, source hash)])
        self.closures: dict[str, tuple] = {}
        self.old_closures: dict[str, tuple] = {}
        # compiled templates (jinja's bucket key → bytecode; ``Bytecode``)
        self.bytecode: dict[str, bytes] = {}
        self.old_bytecode: dict[str, bytes] = {}
        self._tables: dict[str, dict] = {}
        try:
            saved = json.loads((self.out / self.FILE).read_text("utf-8"))
            if saved.get("version") == self.VERSION and saved.get("code") == code:
                self.previous = saved["keys"]
            self.manifest = json.loads((self.out / ".manifest.json").read_text("utf-8"))
        except (OSError, ValueError, KeyError, TypeError):
            self.previous, self.manifest = {}, {}
        if self.previous:
            try:
                with open(self.out / self.CACHE, "rb") as fh:
                    cached = pickle.load(fh)
                self.old_pieces, self.old_indicators, self.old_closures = \
                    cached["pieces"], cached["indicators"], cached["closures"]
                self.old_bytecode = cached["bytecode"].get(jinja2.__version__, {})
            except Exception:       # missing or unreadable: every piece made anew
                self.old_pieces, self.old_indicators, self.old_closures = {}, None, {}

    def reusable(self, path: str, key: str) -> str | None:
        """The digest of the file on disk when it was made from the same inputs."""
        if self.previous.get(path) != key or path not in self.manifest:
            return None
        # os.path, not pathlib: this runs once per output (20,000 at 10k projects)
        return self.manifest[path] if os.path.isfile(os.path.join(self.out, path)) else None

    # ------------------------------------------------------------ data file pieces

    def _old_table(self, name: str) -> dict:
        """project id → (key, start, end) of data file ``name`` on disk; empty when it is
        not the file the previous build wrote any more (missing, or another size or
        mtime)."""
        if name not in self._tables:
            saved, self._tables[name] = self.old_pieces.get(name), {}
            try:
                st = os.stat(self.out / name)
            except OSError:
                st = None
            if saved is not None and st is not None and saved[:2] == (st.st_size,
                                                                      st.st_mtime_ns):
                self._tables[name] = saved[2]
        return self._tables[name]

    def has_pieces(self, project_id: str, key: str) -> bool:
        """Whether every data file on disk holds this project's piece made from ``key``."""
        for name in DATA_FILES:
            piece = self._old_table(name).get(project_id)
            if piece is None or piece[0] != key:
                return False
        return True

    def assemble(self, name: str, head: bytes, sep: bytes, tail: bytes, items) -> Parts:
        """Data file ``name``: ``head``, the pieces of ``items`` — (project id, key, make)
        in order — joined by ``sep``, and ``tail``.  A piece whose key is the one the file
        on disk was made with is copied from it; the others are ``make()``."""
        table = self._old_table(name)
        view = _mapped(self.out / name) if table else None
        parts, pieces, pos = [head], {}, len(head)
        for n, (pid, key, make) in enumerate(items):
            if n:
                parts.append(sep)
                pos += len(sep)
            was = table.get(pid)
            piece = view[was[1]:was[2]] if was is not None and was[0] == key else make()
            pieces[pid] = (key, pos, pos + len(piece))
            pos += len(piece)
            parts.append(piece)
        parts.append(tail)
        self.pieces[name] = pieces
        return Parts(parts)

    # ------------------------------------------------------------ save

    def save(self) -> None:
        tmp = self.out / f".{self.FILE}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps({"version": self.VERSION, "code": self.code,
                                   "keys": self.keys}, sort_keys=True), "utf-8")
        os.replace(tmp, self.out / self.FILE)
        pieces = {}
        for name in DATA_FILES:
            try:
                st = os.stat(self.out / name)
            except OSError:
                continue
            if name in self.pieces:                 # assembled this time, now on disk
                pieces[name] = (st.st_size, st.st_mtime_ns, self.pieces[name])
            elif self._old_table(name):            # kept as it was
                pieces[name] = self.old_pieces[name]
        target = self.out / self.CACHE
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            pickle.dump({"pieces": pieces, "indicators": self.indicators or self.old_indicators,
                         "closures": self.closures,
                         "bytecode": {jinja2.__version__: self.bytecode}},
                        fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, target)
        for name in LEGACY:
            (self.out / name).unlink(missing_ok=True)


def _mapped(path: Path) -> memoryview:
    """The file's bytes without reading them into memory first (slices copy nothing)."""
    with open(path, "rb") as fh:
        if os.fstat(fh.fileno()).st_size == 0:
            return memoryview(b"")
        return memoryview(mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ))


class Bytecode(jinja2.BytecodeCache):
    """Compiled templates kept in the build cache (compiling the pages a one-record
    rebuild renders again took 0.13 s), by jinja's key (template name and file) and
    checked against the source's checksum by jinja; written with the state, so a build
    that fails writes none.  Only those this build used are kept."""

    def __init__(self, state: BuildState):
        self.state = state

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        data = self.state.old_bytecode.get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)
            if bucket.code is not None:
                self.state.bytecode[bucket.key] = data

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.state.bytecode[bucket.key] = bucket.bytecode_to_string()
