"""What the previous build into an output folder made, so that the next one renders only
what changed (``render.Renderer``).  ``Memory`` is all of it as the build sees it:
``Memory.load`` before the records are read, ``commit`` once the site is written.

* ``<out>/.build-cache/records.sqlite``: the records read, by file (``record_cache``).
* ``<out>/.build-cache/render.json`` (``BuildState``): each output's key and what each
  read of the content was worth, with ``reads.json`` beside it (what each output read:
  ``old_reads``); together with the write manifest (path → digest of the bytes on disk)
  they say which outputs need no rendering.
  Also where each project's piece lies in each year's data files
  (``/years/2025/2025-projects.json``, ``…-projects.csv``, ``…-indicators.csv``: the
  files assembled from pieces, ``BuildState.assemble``) with the identity of each as written
  (``write.identity``; each table a JSON string of its own, parsed when a build asks it),
  so that a rebuild copies the pieces of unchanged projects from the
  files on disk instead of making them again; the indicator pages' aggregate, by the key
  of what it is made of; which templates each template references; compiled templates.

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
import mmap
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import jinja2
import orjson

from .background import Background, BackgroundError
from .outputs import Parts, Span
from .write import MANIFEST, identity, read_manifest, replace_file, unfinished

if TYPE_CHECKING:
    from .record_cache import RecordCache
    from .walk import Listing

# caches of earlier versions of the build, removed when seen
LEGACY = (".build-state.json", ".build-cache/fragments.pickle", ".build-cache/projects-json.pickle",
          ".build-cache/records.pickle", ".build-cache/render.pickle")


class Memory:
    """What the previous build into ``out`` left for this one, and what this one leaves
    for the next: the records it read (``records``, a RecordCache) and the keys of what it
    rendered (``state``, a BuildState).  A full build (``incremental`` False) reuses
    nothing and leaves no keys."""
    CACHE_DIR = ".build-cache"             # <out>/.build-cache/records.sqlite

    LISTING = ".build-cache/folders.json"   # the content folders as walked (``walk``)

    def __init__(self, out: Path, records: "RecordCache | None", state: "BuildState | None"):
        self.out, self.records, self.state = out, records, state
        self.listing: "Listing | None" = None      # this build's walk of the content

    @classmethod
    def listing_file(cls, out: Path) -> Path:
        return out / cls.LISTING

    def listed(self, scanned: tuple) -> tuple:
        """``validate.scan_result``'s answer, whose walk of the content this keeps for the
        next build (``commit``; None: the one saved is still true)."""
        self.listing = scanned[3]
        return scanned

    @classmethod
    def left(cls, out: Path) -> bool:
        """Whether a previous build into ``out`` left records to compare the content with."""
        from .record_cache import RecordCache
        return (out / cls.CACHE_DIR / RecordCache.FILE).is_file()

    @classmethod
    def load(cls, out: Path, code: str, incremental: bool) -> "Memory":
        from .record_cache import RecordCache
        if not incremental:
            return cls(out, None, None)
        return cls(out, RecordCache(out / cls.CACHE_DIR, code), BuildState(out, code))

    def cancel(self) -> None:
        """Stop what ``load`` started that is still running (a build that failed)."""
        if self.state is not None:
            self.state.cancel()

    def commit(self, written: dict[str, str], correction: bool = False) -> None:
        """Saved once the site is written (``write_site``'s journal goes only after this):
        ``written``, the manifest of the files as written; ``correction``: what changed is
        saved beside the state (``BuildState.save``), the manifest with it."""
        for name in LEGACY:
            (self.out / name).unlink(missing_ok=True)
        if self.state is None:
            for name in (BuildState.FILE, BuildState.DELTA, self.LISTING):   # a full build's
                (self.out / name).unlink(missing_ok=True)              # keys are unknown
            return
        self.state.save(written, correction)
        self.records.save()
        if self.listing is not None and not self.listing.reused:   # (else the saved one holds)
            self.listing.save(self.listing_file(self.out))


class BuildState:
    FILE = ".build-cache/render.json"
    READS = ".build-cache/reads.json"   # each output's reads, apart: ``old_reads``
    DELTA = ".build-cache/render.delta.json"   # what corrections changed since FILE
    DELTA_SHARE, DELTA_MIN = 4, 1 << 20   # a delta past 1/4 of FILE (and 1 MB): saved whole
    VERSION = 13

    def __init__(self, out: Path, code: str = ""):
        self.out, self.code = Path(out), code
        # What this build saves for the next (``save``) …
        self.keys: dict[str, str] = {}             # output → key of what it read
        self.reads: dict[str, str] = {}            # output → what it read (``reads.joined``)
        self.values: dict[str, object] = {}        # read → its worth (``reads.Values.saved``)
        self.projects: dict[str, str] = {}         # hashes of records, summaries, totals
        self.pieces: dict[str, Pieces] = {}        # data file → where each project's piece is
        self.indicators: tuple | None = None       # (key, aggregate with ids, target keys)
        self.closures: dict[str, tuple] = {}       # template → (hash, [(member, hash)])
        self.bytecode: dict[str, list] = {}        # jinja's bucket key → [code, HMAC]
        self.made: dict[str, dict] = {}            # data file → {id: its piece}, this build's
        self.inputs: str | None = None             # ``correction.inputs``: all but records
        self._views: dict[str, tuple] = {}         # data file → (open file, its bytes) on disk
        # … and what the previous one saved (``old``: the same names), with its manifest.
        self._tables: dict[str, Pieces] = {}
        self._identities: dict[str, str | None] = {}
        self.old, self.manifest = _nothing_saved(), {}
        # the write's manifest as the build found it (``write_site`` starts from it: one
        # build at a time writes into ``out``), and what this one reuses of it
        self.written = read_manifest(self.out)
        self.reads_kept = False          # the reads as saved (``save`` leaves their file)
        self._reads_id: str | None = None
        # a correction's changes (``correction._carry_over``), saved as a delta of FILE
        self.changes: dict | None = None
        self._id, self._delta, self._size = None, _empty_delta(), 0
        try:
            raw = (self.out / self.FILE).read_bytes()
            saved, self._size = orjson.loads(raw), len(raw)
            self._id = saved.get("id")
            self._delta = _read_delta(self.out, self._id)
            self.written.update(self._delta["manifest"])
            if saved["version"] == self.VERSION and saved["code"] == code:
                _apply(saved, self._delta)
                self.manifest = self.written
                self.old = _as_saved(saved, unfinished(self.out), self)
                self._reads_id = saved["reads"]
        except Exception:       # missing, unreadable or foreign: nothing is reused
            self.old, self.manifest = _nothing_saved(), {}
        # which of the files written last time are gone: looked at meanwhile (``_gone``)
        self._looking = (Background(_gone, str(self.out), self.manifest)
                         if len(self.manifest) >= LOOK_AHEAD_MIN else None)
        self._missing: set[str] | None = None

    def reusable(self, path: str, key: str) -> str | None:
        """The digest of the file on disk when it was made from the same inputs (once per
        output: 216,855 times at 100,000 projects)."""
        written = self.manifest.get(path)
        if written is None or self.old["keys"].get(path) != key:
            return None
        if written.startswith("file:"):                 # written as pieces: its identity
            return written if self._identity(path) == written else None
        if self._looking is not None:
            self._missing, self._looking = self._looked(), None
        if self._missing is not None:
            return None if path in self._missing else written
        # os.path, not pathlib: this runs once per output
        return written if os.path.isfile(os.path.join(self.out, path)) else None

    def old_reads(self) -> bytes:
        """The reads file the previous build saved with this state, as its bytes (JSON:
        ``{"id": …, "reads": {output: reads.joined(…)}}``; 55 % of what a build saves at
        100,000 projects: a correction looks for a record's reads in it without parsing
        it, ``old["reads"]`` parses it when first asked); empty when there is none."""
        try:
            data = (self.out / self.READS).read_bytes()
        except OSError:
            return b""
        head = orjson.dumps({"id": self._reads_id, "reads": {}})[:-2]
        return data if self._reads_id and data.startswith(head) else b""

    def missing(self) -> set[str] | None:
        """The files written last time that are not as written any more (gone, or a data
        file written again since), or None when too many are to say (``GONE_MAX``).
        (``reusable`` looks at a data file's identity itself.)"""
        if self._looking is not None:
            self._missing, self._looking = self._looked(), None
        elif self._missing is None:                       # a small site: looked at here
            gone = _gone(str(self.out), self.manifest)
            self._missing = None if gone is None else set(gone)
        return self._missing

    def _looked(self) -> set[str] | None:
        """What ``_gone`` found, or None (too much is gone, or it failed): then each
        file is looked at when asked."""
        try:
            gone = self._looking.result()
        except BackgroundError:
            return None
        return None if gone is None else set(gone)

    def cancel(self) -> None:
        if self._looking is not None:
            self._looking.cancel()
            self._looking = None

    # ------------------------------------------------------------ data file pieces

    def _old_table(self, name: str) -> "Pieces":
        """Where each project's piece lies in data file ``name`` on disk; empty when it is
        not the file the previous build wrote any more (missing, or other bytes)."""
        if name not in self._tables:
            saved, self._tables[name] = self.old["pieces"].get(name), Pieces()
            if saved is not None and self._identity(name) == saved[0]:
                self._tables[name] = Pieces(*orjson.loads(saved[1]))
        return self._tables[name]

    def _old_piece(self, name: str, project_id: str, key: str) -> list | None:
        """(key, start, end) of this project's piece in data file ``name`` on disk, when
        made from ``key``."""
        was = self._old_table(name).get(project_id)
        return was if was is not None and was[0] == key else None

    def has_pieces(self, project_id: str, key: str, names) -> bool:
        """Whether data files ``names`` on disk hold this project's piece made from ``key``
        (asked of every project a rebuild keeps)."""
        tables = self._tables
        for name in names:
            table = tables.get(name)
            if table is None:
                table = self._old_table(name)
            if not table.has(project_id, key):
                return False
        return True

    def piece(self, name: str, project_id: str, key: str):
        """This project's piece of data file ``name``: as assembled this time, else as on
        disk when made from ``key``; else None."""
        made = self.made.get(name)
        if made is not None and project_id in made:
            return made[project_id]
        was = self._old_piece(name, project_id, key)
        return None if was is None else self._view(name)[1][was[1]:was[2]]

    def _view(self, name: str) -> tuple[BinaryIO, memoryview]:
        if name not in self._views:
            self._views[name] = _mapped(self.out / name)
        return self._views[name]

    def assemble(self, name: str, head: bytes, sep: bytes, tail: bytes, items) -> Parts:
        """Data file ``name``: ``head``, the pieces of ``items`` — (project id, key, make)
        in order — joined by ``sep``, and ``tail``.  A piece whose key is the one the file
        on disk was made with is copied from it — runs of such pieces, with the separators
        between them, as one ``Span`` the kernel copies — the others are ``make()``."""
        table = self._old_table(name)
        source, view = self._view(name) if table else (None, None)
        parts, pieces, pos = [head], Pieces(), len(head)
        made = self.made[name] = {}
        run: list[int] | None = None         # start, end of the old file's bytes being copied

        def close_run():
            nonlocal run
            if run is not None:
                parts.append(Span(source, run[0], run[1]))
                run = None
        for n, (pid, key, make) in enumerate(items):
            s = sep if n else b""
            was = table.get(pid)            # (inline ``_old_piece``: once per project)
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
            pieces.append(pid, key, pos + len(s), pos + len(s) + len(piece))
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

    def save(self, written: dict[str, str], correction: bool = False) -> None:
        """``written``: the manifest (path → digest, or a data file's identity) as written.
        After a correction, what it changed (``changes``) joins what earlier corrections
        changed in the delta file beside the state, with the manifest's entries of the
        files it wrote (``write_site(…, others=True)`` leaves the manifest to this): at
        100,000 projects ~3 MB written instead of the state's 60 MB and the manifest's
        22 MB.  The whole state is saved, and the delta goes, after any other build or
        once the delta passes a ``DELTA_SHARE`` of the state."""
        pieces = {}
        for name in {*self.pieces, *self.old["pieces"]}:
            if name in self.pieces and name in written:     # assembled this time
                # (a table as a JSON string: read when a build asks it, kept as it is)
                pieces[name] = (written[name], orjson.dumps(self.pieces[name].columns())
                                .decode("utf-8"))
            elif name in self.old["pieces"] and written.get(name) == self.old["pieces"][name][0]:
                pieces[name] = self.old["pieces"][name]     # kept as it was
        target = self.out / self.FILE
        target.parent.mkdir(parents=True, exist_ok=True)
        reads = self._reads_id
        if not self.reads_kept:        # (first: a state never names reads not saved yet)
            reads = _new_id()
            replace_file(self.out / self.READS, orjson.dumps({"id": reads, "reads": self.reads}))
        if correction and self._saved_as_delta(written, pieces, reads):
            return
        if correction:                 # (the manifest is saved here, not by write_site)
            replace_file(self.out / MANIFEST, orjson.dumps(written, option=orjson.OPT_SORT_KEYS))
            self._fold(self.changes)
        (self.out / self.DELTA).unlink(missing_ok=True)
        replace_file(target, orjson.dumps(
            {"version": self.VERSION, "code": self.code, "id": _new_id(), "keys": self.keys,
             "reads": reads, "values": self.values, "projects": self.projects,
             "pieces": pieces, "indicators": self.indicators or self.old["indicators"],
             "closures": self.closures, "bytecode": {jinja2.__version__: self.bytecode},
             "inputs": self.inputs}))

    def _fold(self, changes: dict) -> None:
        """The whole state as a correction's ``changes`` leave the previous one."""
        old = self.old
        self.keys = {**old["keys"], **changes["keys"]}
        self.values = {**old["values"], **changes["values"]}
        self.closures = {**old["closures"], **changes["closures"]}
        self.bytecode = {**old["bytecode"], **changes["bytecode"]}
        self.projects = _with_records(old["projects"], changes["records"])

    def _saved_as_delta(self, written: dict, pieces: dict, reads: str) -> bool:
        """``save``'s delta after a correction, unless it is too large (or there is no
        state to be a delta of, or the correction changed what a delta does not hold)."""
        changes = self.changes
        if changes is None or not self._id or self.indicators is not None \
                or self.old["inputs"] != self.inputs:
            return False
        delta = self._delta
        delta["base"], delta["reads"] = self._id, reads
        for name in ("keys", "values", "records", "closures"):
            delta[name].update(changes[name])
        delta["bytecode"].setdefault(jinja2.__version__, {}).update(changes["bytecode"])
        delta["pieces"].update({name: pieces[name] for name in self.pieces if name in pieces})
        delta["manifest"].update({path: written[path] for path in changes["outputs"]})
        data = orjson.dumps(delta)
        if len(data) > max(self.DELTA_MIN, self._size // self.DELTA_SHARE):
            return False
        replace_file(self.out / self.DELTA, data)
        return True


class Pieces:
    """Where each project's piece lies in a data file: (key, start, end) by project id.
    Saved as columns (the ids and the keys each one string, the offsets two lists of
    numbers): at 100,000 projects the 30 files' 300,000 entries as small lists took 0.42 s
    of a rebuild to load; a table is indexed by id when first asked, and a rebuild asks
    of few of them."""
    __slots__ = ("_ids", "_keys", "starts", "ends", "_at")

    def __init__(self, ids: str | list = "", keys: str | list = "", starts=(), ends=()):
        self._ids, self._keys = ids, keys
        self.starts, self.ends = list(starts), list(ends)
        self._at: dict[str, int] | None = None

    def append(self, pid: str, key: str, start: int, end: int) -> None:
        self._lists()
        self._at[pid] = len(self.starts)
        self._ids.append(pid)
        self._keys.append(key)
        self.starts.append(start)
        self.ends.append(end)

    def get(self, pid: str) -> tuple[str, int, int] | None:
        if self._at is None:
            self._lists()
        i = self._at.get(pid)
        return None if i is None else (self._keys[i], self.starts[i], self.ends[i])

    def has(self, pid: str, key: str) -> bool:
        """Whether the piece of ``pid`` is here, made from ``key``."""
        if self._at is None:
            self._lists()
        i = self._at.get(pid)
        return i is not None and self._keys[i] == key

    def ids(self) -> list[str]:
        """The projects whose pieces the file holds, in its order."""
        self._lists()
        return list(self._ids)

    def _lists(self) -> None:
        if self._at is None:
            if isinstance(self._ids, str):
                self._ids = self._ids.split("\n") if self._ids else []
                self._keys = self._keys.split("\n") if self._keys else []
            self._at = {pid: i for i, pid in enumerate(self._ids)}

    def columns(self) -> list:
        ids, keys = self._ids, self._keys
        return [ids if isinstance(ids, str) else "\n".join(ids),
                keys if isinstance(keys, str) else "\n".join(keys), self.starts, self.ends]

    def __len__(self) -> int:
        return len(self.starts)


# From this many files written last time, whether each is still there is looked at by a
# child process while the records are read (a stat of each of 217,000 files at 100,000
# projects took 1.3 s of a rebuild), instead of when render asks.
LOOK_AHEAD_MIN = 5_000
GONE_MAX = 500             # past this many files gone, render looks at each itself


def _gone(out: str, manifest: dict[str, str]) -> list[str] | None:
    """The files of ``manifest`` that are no longer regular files in ``out``, and the data
    files written as pieces that are not the files written any more (``write.identity``);
    None past ``GONE_MAX`` of them (the answer stays small enough for the pipe)."""
    gone = []
    top = os.open(out, os.O_RDONLY | os.O_DIRECTORY)   # (paths from it: 20 % less time)
    try:
        for path, written in manifest.items():
            if not _is_file(path, top) if written[:5] != "file:" \
                    else identity(Path(out, path)) != written:
                gone.append(path)
                if len(gone) > GONE_MAX:
                    return None
    finally:
        os.close(top)
    return gone


def _is_file(path: str, top: int) -> bool:
    """``os.path.isfile`` of ``path`` under the folder open as ``top``."""
    try:
        return stat.S_ISREG(os.stat(path, dir_fd=top).st_mode)
    except (OSError, ValueError):
        return False


def current_manifest(out: Path) -> dict[str, str]:
    """The files of ``out`` as the builds wrote them: the manifest, with the entries of the
    corrections made since it was written (``BuildState.DELTA``)."""
    out = Path(out)
    manifest = read_manifest(out)
    try:
        base = orjson.loads((out / BuildState.FILE).read_bytes()).get("id")
    except (OSError, ValueError):
        return manifest
    manifest.update(_read_delta(out, base)["manifest"])
    return manifest


def _read_delta(out: Path, base: str | None) -> dict:
    """What corrections saved since the state ``base`` was (``BuildState.save``), or
    nothing when there is none or it is another state's."""
    try:
        delta = orjson.loads((Path(out) / BuildState.DELTA).read_bytes())
        if base and delta.get("base") == base and set(delta) == set(_empty_delta()):
            return delta
    except (OSError, ValueError):
        pass
    return _empty_delta()


def _new_id() -> str:
    return base64.b32encode(os.urandom(10)).decode("ascii")


def _empty_delta() -> dict:
    return {"base": None, "reads": None, "keys": {}, "values": {}, "records": {},
            "closures": {}, "bytecode": {}, "pieces": {}, "manifest": {}}


def _apply(saved: dict, delta: dict) -> None:
    """The state ``saved`` as the corrections of ``delta`` left it."""
    if delta["base"] is None:
        return
    saved["reads"] = delta["reads"]
    for name in ("keys", "values", "closures", "pieces"):
        saved[name].update(delta[name])
    for version, code in delta["bytecode"].items():
        saved["bytecode"].setdefault(version, {}).update(code)
    saved["projects"] = _with_records(saved["projects"], delta["records"])


def _with_records(projects: dict | None, records: dict[str, str]) -> dict | None:
    """The projects' hashes as saved (``reads.OldProjects``: columns joined by newlines)
    with these records' hashes, by project id."""
    if not records or not projects:
        return projects
    ids, column = projects["ids"].split("\n"), projects["records"].split("\n")
    at = dict(zip(ids, range(len(ids))))
    for pid, record in records.items():
        column[at[pid]] = record
    return {**projects, "records": "\n".join(column)}


def _nothing_saved() -> dict:
    return {"keys": {}, "reads": {}, "values": {}, "projects": None, "pieces": {},
            "indicators": None, "closures": {}, "bytecode": {}, "inputs": None}


class _Saved(dict):
    """What the previous build saved; its "reads" read from their file when first asked
    (``BuildState.old_reads``)."""
    state: BuildState

    def __missing__(self, name: str):
        if name != "reads":
            raise KeyError(name)
        data = self.state.old_reads()
        self["reads"] = orjson.loads(data)["reads"] if data else {}
        return self["reads"]


def _as_saved(saved: dict, pending, state: BuildState) -> dict:
    """What ``BuildState.save`` wrote (JSON's lists where it saved tuples), without what
    the journal of an unfinished write lists (``pending``)."""
    old = _Saved({name: saved[name] for name in _nothing_saved() if name != "reads"})
    old.state = state
    if pending:
        old["keys"] = {p: k for p, k in old["keys"].items() if p not in pending}
        old["pieces"] = {name: v for name, v in old["pieces"].items() if name not in pending}
    old["bytecode"] = old["bytecode"].get(jinja2.__version__, {})
    return old


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
        kept = self.state.old["bytecode"].get(bucket.key)
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
