"""What the previous build into an output folder made, so that the next one renders only
what changed (``render.Renderer``).  ``Memory`` is all of it as the build sees it:
``Memory.load`` before the records are read, ``commit`` once the site is written.

* ``<out>/.build-cache/records.sqlite``: the records read, by file (``record_cache``).

* ``<out>/.build-state.json``: output path → key of its inputs.  Together with the write
  manifest (path → digest of the bytes on disk) it says which outputs need no rendering.
* ``<out>/.build-cache/render.json``: where each project's piece lies in the data files
  (``/data/projects.json``, ``projects.csv``, ``indicators.csv``), with the identity of
  each file as written (``write.identity``), so that a rebuild copies the pieces of unchanged projects from
  the files on disk instead of making them again or keeping a second copy of 190 MB; the
  indicator pages' aggregate, by the key of what it is made of; which templates each
  template references; and what each output read of the content (``reads``).

Both are JSON: whoever can write the output folder (a restored CI cache) can change what
the next build copies, but cannot run code through them (compiled templates only under an
HMAC: ``Bytecode``).  A data file is reused only when it is the very file written: same
inode, size, mtime and ctime (not size and mtime alone, which ``cp -p`` or a restore keep
while the bytes differ); and nothing the journal of an unfinished write lists
(``write.unfinished``) is reused.

Written after the site is written; a build that fails leaves both as they were.
"""
from __future__ import annotations

import base64
import hmac
import json
import mmap
import os
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import jinja2

from .outputs import Parts, Span
from .write import identity, replace_file, unfinished

if TYPE_CHECKING:
    from .record_cache import RecordCache

# caches of earlier versions of the build, removed when seen
LEGACY = (".build-cache/fragments.pickle", ".build-cache/projects-json.pickle",
          ".build-cache/records.pickle", ".build-cache/render.pickle")
DATA_FILES = ("data/projects.json", "data/projects.csv", "data/indicators.csv")


class Memory:
    """What the previous build into ``out`` left for this one, and what this one leaves
    for the next: the records it read (``records``, a RecordCache) and the keys of what it
    rendered (``state``, a BuildState).  A full build (``incremental`` False) reuses
    nothing and leaves no keys."""
    CACHE_DIR = ".build-cache"             # <out>/.build-cache/records.sqlite, render.json

    def __init__(self, out: Path, records: "RecordCache | None", state: "BuildState | None"):
        self.out, self.records, self.state = out, records, state

    @classmethod
    def load(cls, out: Path, code: str, incremental: bool) -> "Memory":
        from .record_cache import RecordCache
        if not incremental:
            return cls(out, None, None)
        return cls(out, RecordCache(out / cls.CACHE_DIR, code), BuildState(out, code))

    def commit(self, written: dict[str, str]) -> None:
        """Saved once the site is written (``write_site``'s journal goes only after this):
        ``written``, the manifest of the files as written."""
        if self.state is None:
            (self.out / BuildState.FILE).unlink(missing_ok=True)   # a full build's keys are unknown
            return
        self.state.save(written)
        self.records.save()


class BuildState:
    FILE = ".build-state.json"
    CACHE = ".build-cache/render.json"
    VERSION = 6

    def __init__(self, out: Path, code: str = ""):
        self.out = Path(out)
        self.code = code
        self.keys: dict[str, str] = {}
        self.previous: dict[str, str] = {}
        self.manifest: dict[str, str] = {}
        # data file → {project id: (key, start, end)}: pieces of the files written now …
        self.pieces: dict[str, dict] = {}
        # … and the pieces themselves (bytes, or views of the file on disk), for the files
        # made of some projects' pieces (a unit's or a year's CSV)
        self.made: dict[str, dict] = {}
        # … and of the files on disk, with their identity when written
        self.old_pieces: dict[str, tuple] = {}
        self.indicators: tuple | None = None        # (key, aggregate with project ids)
        self.old_indicators: tuple | None = None
        # template → (hash of it and what it references, [(each of them, source hash)])
        self.closures: dict[str, tuple] = {}
        self.old_closures: dict[str, tuple] = {}
        # output → what it read of the content when made (``reads``)
        self.reads: dict[str, list[str]] = {}
        self.old_reads: dict[str, list[str]] = {}
        # read → what it was worth (``reads.Values.saved``)
        self.values: dict[str, object] = {}
        self.old_values: dict[str, object] = {}
        # project id → [hash of its record, of its summary, of its totals] (``Values``)
        self.projects: dict[str, list] = {}
        self.old_projects: dict[str, list] = {}
        # compiled templates: jinja's bucket key → [base64 code, its HMAC] (``Bytecode``)
        self.bytecode: dict[str, list] = {}
        self.old_bytecode: dict[str, list] = {}
        self._tables: dict[str, dict] = {}
        self._identities: dict[str, str | None] = {}
        try:
            saved = json.loads((self.out / self.FILE).read_text("utf-8"))
            if saved.get("version") == self.VERSION and saved.get("code") == code:
                self.previous = dict(saved["keys"])
            self.manifest = dict(json.loads((self.out / ".manifest.json").read_text("utf-8")))
        except (OSError, ValueError, KeyError, TypeError):
            self.previous, self.manifest = {}, {}
        pending = unfinished(self.out)          # a write that did not finish
        self.previous = {p: k for p, k in self.previous.items() if p not in pending}
        if self.previous:
            try:
                cached = json.loads((self.out / self.CACHE).read_text("utf-8"))
                self.old_pieces = {name: (digest, {pid: tuple(piece)
                                                   for pid, piece in table.items()})
                                   for name, (digest, table) in cached["pieces"].items()
                                   if name not in pending}
                indicators = cached["indicators"]
                self.old_indicators = tuple(indicators) if indicators else None
                self.old_closures = {name: (closure, [tuple(m) for m in members])
                                     for name, (closure, members) in cached["closures"].items()}
                self.old_bytecode = cached.get("bytecode", {}).get(jinja2.__version__, {})
                self.old_reads, self.old_values = cached["reads"], cached["values"]
                self.old_projects = cached["projects"]
            except Exception:       # missing or unreadable: every piece made anew
                self.old_pieces, self.old_indicators, self.old_closures = {}, None, {}
                self.old_reads, self.old_values, self.old_projects = {}, {}, {}

    def reusable(self, path: str, key: str) -> str | None:
        """The digest of the file on disk when it was made from the same inputs."""
        if self.previous.get(path) != key or path not in self.manifest:
            return None
        if path in DATA_FILES:          # the files other builds or tools are likeliest to touch
            return self.manifest[path] if self._identity(path) == self.manifest[path] else None
        # os.path, not pathlib: this runs once per output (20,000 at 10k projects)
        return self.manifest[path] if os.path.isfile(os.path.join(self.out, path)) else None

    # ------------------------------------------------------------ data file pieces

    def _old_table(self, name: str) -> dict:
        """project id → (key, start, end) of data file ``name`` on disk; empty when it is
        not the file the previous build wrote any more (missing, or other bytes)."""
        if name not in self._tables:
            saved, self._tables[name] = self.old_pieces.get(name), {}
            if saved is not None and self._identity(name) == saved[0]:
                self._tables[name] = saved[1]
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
        on disk was made with is copied from it — runs of such pieces, with the separators
        between them, as one ``Span`` the kernel copies — the others are ``make()``."""
        table = self._old_table(name)
        source, view = _mapped(self.out / name) if table else (None, None)
        parts, pieces, pos = [head], {}, len(head)
        made = self.made[name] = {}
        run: list[int] | None = None         # start, end of the old file's bytes being copied

        def close_run():
            nonlocal run
            if run is not None:
                parts.append(Span(source, run[0], run[1]))
                run = None
        for n, (pid, key, make) in enumerate(items):
            s = sep if n else b""
            was = table.get(pid)
            if was is not None and was[0] == key:
                piece = made[pid] = view[was[1]:was[2]]
                if run is not None and run[1] + len(s) == was[1] and view[run[1]:was[1]] == s:
                    run[1] = was[2]          # the next piece on disk, after the same separator
                else:
                    close_run()
                    parts.append(s)
                    run = [was[1], was[2]]
            else:
                close_run()
                piece = made[pid] = make()
                parts.extend((s, piece))
            pieces[pid] = (key, pos + len(s), pos + len(s) + len(piece))
            pos += len(s) + len(piece)
        close_run()
        parts.append(tail)
        self.pieces[name] = pieces
        return Parts(parts)

    def _identity(self, name: str) -> str | None:
        """Data file ``name`` as on disk now (``write.identity``), once per build."""
        if name not in self._identities:
            self._identities[name] = identity(self.out / name)
        return self._identities[name]

    # ------------------------------------------------------------ save

    def save(self, written: dict[str, str]) -> None:
        """``written``: the manifest (path → digest, or a data file's identity) as written."""
        replace_file(self.out / self.FILE, json.dumps(
            {"version": self.VERSION, "code": self.code, "keys": self.keys},
            sort_keys=True).encode("utf-8"))
        pieces = {}
        for name in DATA_FILES:
            if name in self.pieces and name in written:     # assembled this time
                pieces[name] = (written[name], self.pieces[name])
            elif name in self.old_pieces and written.get(name) == self.old_pieces[name][0]:
                pieces[name] = self.old_pieces[name]        # kept as it was
        target = self.out / self.CACHE
        target.parent.mkdir(parents=True, exist_ok=True)
        replace_file(target, json.dumps(
            {"pieces": pieces, "indicators": self.indicators or self.old_indicators,
             "closures": self.closures, "bytecode": {jinja2.__version__: self.bytecode},
             "reads": self.reads, "values": self.values, "projects": self.projects},
            ensure_ascii=False).encode("utf-8"))
        for name in LEGACY:
            (self.out / name).unlink(missing_ok=True)


def _mapped(path: Path) -> tuple[BinaryIO, memoryview]:
    """The file, open (for ``Span``s of it), and its bytes without reading them into memory
    first (slices copy nothing)."""
    fh = open(path, "rb")
    if os.fstat(fh.fileno()).st_size == 0:
        return fh, memoryview(b"")
    return fh, memoryview(mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ))


class Bytecode(jinja2.BytecodeCache):
    """Compiled templates, kept with the build state so that a rebuild does not compile
    the templates it renders again.  Compiled code is code: each is kept with an HMAC under
    a key that never lives in the output folder (``signing_key``), and one whose HMAC does
    not match is compiled anew, so a restored or planted cache cannot make the build run
    code.  Without a key (no writable cache folder) nothing is kept."""

    def __init__(self, state: BuildState):
        self.state = state
        self.key = signing_key()

    def _mac(self, name: str, code: bytes) -> str:
        return hmac.new(self.key, name.encode("utf-8") + b"\0" + code, "sha256").hexdigest()

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        kept = self.state.old_bytecode.get(bucket.key)
        if self.key is None or not isinstance(kept, list) or len(kept) != 2:
            return
        try:
            code = base64.b64decode(kept[0], validate=True)
        except (ValueError, TypeError):
            return
        if hmac.compare_digest(self._mac(bucket.key, code), str(kept[1])):
            bucket.bytecode_from_string(code)        # and jinja checks the source's checksum
            if bucket.code is not None:
                self.state.bytecode[bucket.key] = kept

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if self.key is not None:
            code = bucket.bytecode_to_string()
            self.state.bytecode[bucket.key] = [base64.b64encode(code).decode("ascii"),
                                               self._mac(bucket.key, code)]


def signing_key() -> bytes | None:
    """This user's key for compiled templates: ``$XDG_CACHE_HOME/jixiao/build.key`` (or
    ``~/.cache/…``), 32 random bytes made on first use, readable by the user alone."""
    folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "jixiao"
    path = folder / "build.key"
    try:
        data = path.read_bytes()
        if len(data) == 32:
            return data
    except FileNotFoundError:
        pass
    except OSError:
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        replace_file(path, os.urandom(32), mode=0o600)
        return path.read_bytes()
    except OSError:
        return None
