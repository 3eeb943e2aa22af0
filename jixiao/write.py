"""Write the outputs into the site directory, atomically.

Two phases (Pelican): everything is rendered before anything is written, so a
content or template error leaves the previous site exactly as it was (outputs wait in
a folder beside the site as they are made: ``Spill``).  Then
every changed file is first staged as a hidden temporary file next to its
target; only when all are staged is each moved into place with ``os.replace``
(Lektor), and files the new build no longer produces are removed.  A server
reading the directory meanwhile sees either the old or the new file, never a
half-written one.  A manifest of content hashes lets unchanged files be skipped.

A build can still be killed between two replacements (Ctrl-C on ``serve``, an OOM kill,
a cancelled CI job).  So before the first file is staged, a journal
(``.write-journal.json``) lists every path the write may touch; it is removed only once
the manifest and the build state (``then``) say what is on disk.  While a journal is
there, the manifest's digests and the build state's keys of the paths it lists are not
trusted: the next build writes them again and removes the leftover temporary files.
"""
from __future__ import annotations

import errno
import hashlib
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import orjson

from .outputs import Outputs, Parts, Span

MANIFEST = ".manifest.json"
JOURNAL = ".write-journal.json"
TMP = ".jixiao.tmp"         # suffix of a staged file: .<name>.jixiao.tmp beside its target


@dataclass
class WriteStats:
    written: int = 0
    unchanged: int = 0
    removed: int = 0
    manifest: dict[str, str] = field(default_factory=dict)   # path → digest, as written


class _Everything:
    """What an unreadable journal lists: every path."""

    def __contains__(self, path) -> bool:
        return True

    def __iter__(self):
        return iter(())


def unfinished(out: Path) -> set[str] | _Everything:
    """The paths a build that did not finish may have replaced or left half-staged."""
    try:
        return set(orjson.loads((Path(out) / JOURNAL).read_bytes()))
    except FileNotFoundError:
        return set()
    except (OSError, ValueError, TypeError):
        return _Everything()


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def identity(path: Path) -> str | None:
    """The file as this build wrote it: inode, size, mtime and ctime.  Any write, copy,
    restore or replacement changes it (ctime cannot be set back by a user, as ``cp -p`` or
    ``touch -d`` set mtime), so a file with the same identity holds the same bytes."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return f"file:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"


def read_manifest(out: Path) -> dict[str, str]:
    try:
        manifest = orjson.loads((out / MANIFEST).read_bytes())
        return manifest if isinstance(manifest, dict) else {}
    except (OSError, ValueError):
        return {}


def _tmp(target: Path) -> Path:
    return target.with_name(f".{target.name}{TMP}")


def _stage(target: Path, data: bytes | Parts, made: set | None = None,
           mode: int = 0o644) -> Path:
    """``data`` in a hidden temporary file beside ``target`` (one name per target: one
    build at a time writes a folder, ``pipeline._build_lock``); ``made``: folders known
    to exist (one mkdir per folder, not per file)."""
    _folder(target.parent, made)
    tmp = _tmp(target)
    _write_file(tmp, data, mode)
    return tmp


def _folder(folder: Path, made: set | None) -> None:
    if made is None or folder not in made:
        folder.mkdir(parents=True, exist_ok=True)
        if made is not None:
            made.add(folder)


def _write_file(path, data: bytes | Parts, mode: int = 0o644) -> None:
    """``data`` as the file ``path`` (``Span``s copied by the kernel), with permissions
    ``mode`` whatever the umask (a server may run as another user)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
    with os.fdopen(fd, "wb") as fh:
        os.fchmod(fd, mode)           # (by descriptor: no second look-up of the path)
        for part in data if isinstance(data, Parts) else (data,):
            if isinstance(part, Span):
                fh.flush()
                _copy_span(part, fd)
            else:
                fh.write(part)


class Spill:
    """A folder beside the site (``.<site>.staging``) that holds each output from the
    moment it is made until ``write_site`` moves it into place: a build's memory then
    holds paths and digests, not the site's bytes.  Nothing in it is published, and
    each build starts it empty (a killed build's leftovers go)."""

    def __init__(self, out: Path):
        out = Path(out).resolve()
        self.folder = out.parent / f".{out.name}.staging"
        self.remove()
        self.folder.mkdir(parents=True)
        self.count = 0

    def __call__(self, data: bytes | Parts) -> tuple[str, str | None]:
        """(where ``data`` now is, its digest: None for a data file made of pieces)."""
        path = self._next()
        _write_file(path, data)
        return path, None if isinstance(data, Parts) else _digest(data)

    def _next(self) -> str:
        self.count += 1              # (workers count apart: their pid in the name)
        return os.path.join(self.folder, f"{os.getpid()}-{self.count}")

    def link(self, source: str) -> str:
        """A second name for the file ``source`` (a spilled output, or a file of the site),
        where ``__call__`` would put a copy of it: the same bytes, not written again (a
        copy where the file system has no hard links)."""
        path = self._next()
        try:
            os.link(source, path, follow_symlinks=False)
        except OSError:
            shutil.copyfile(source, path, follow_symlinks=False)
            os.chmod(path, 0o644)
        return path

    def remove(self) -> None:
        if self.folder.is_symlink() or self.folder.is_file():     # not ours to walk into
            self.folder.unlink()
        shutil.rmtree(self.folder, ignore_errors=True)


def _move(staged: str, target: Path, made: set) -> Path:
    """A spilled output next to its target, ready to replace it (renamed when the site's
    folder is on the same file system as the spill, else copied)."""
    _folder(target.parent, made)
    tmp = _tmp(target)
    try:
        os.replace(staged, tmp)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        shutil.copyfile(staged, tmp)
        os.chmod(tmp, 0o644)
    return tmp


def _copy_span(span: Span, to: int) -> None:
    """Append ``span`` to the file open at ``to``: by the kernel (``copy_file_range``, no
    bytes through this process), else read and written in blocks."""
    src, pos, end = span.source.fileno(), span.start, span.end
    while pos < end:
        try:
            n = os.copy_file_range(src, to, end - pos, pos)
        except (AttributeError, OSError):        # not Linux, or not between these files
            n = os.write(to, os.pread(src, min(end - pos, 1 << 20), pos))
        if n == 0:
            raise OSError(f"{span.source.name} ends before byte {end}")
        pos += n


def replace_file(target: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``target`` all at once or not at all."""
    os.replace(_stage(target, data, mode=mode), target)


def _clean_leftovers(out: Path, pending) -> None:
    """Temporary files a killed build left: those of the paths its journal lists, or every
    one when the journal cannot be read."""
    if isinstance(pending, _Everything):
        for folder, _, files in os.walk(out):
            for name in files:
                if name.startswith(".") and name.endswith(TMP):
                    os.unlink(os.path.join(folder, name))
        return
    for path in pending:
        _tmp(out / path).unlink(missing_ok=True)


def write_site(outputs: Outputs, out: Path,
               then: Callable[[WriteStats], None] | None = None,
               manifest: dict[str, str] | None = None, others: bool = False) -> WriteStats:
    """Write what changed; ``then(stats)``: what must be saved before the journal goes
    (the build state, whose keys say which outputs are current).  ``manifest``: the
    manifest as this build read it already (22 MB at 100,000 projects), else read here.
    ``others``: ``outputs`` are the outputs that may have changed, and every other file of
    the manifest stays as it is (a correction), instead of every output; the manifest
    file is then left to ``then`` (``BuildState.save`` keeps a correction's entries
    beside it)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    old = read_manifest(out) if manifest is None else manifest
    pending = unfinished(out)
    _clean_leftovers(out, pending)
    # a data file assembled from pieces (Parts, 190 MB at 10,000 projects) is not hashed:
    # it is always written, and recorded by the identity of the file written (``identity``)
    new = {o.path: o.digest if o.data is None else
           None if isinstance(o.data, Parts) else _digest(o.data) for o in outputs}
    if others:
        new = {**old, **new}
    stats = WriteStats(manifest=new)
    changed = []
    for o in outputs:
        if o.data is None and o.staged is None:          # kept by an incremental render
            stats.unchanged += 1
        elif (new[o.path] is not None and old.get(o.path) == new[o.path]
              and o.path not in pending and os.path.isfile(out / o.path)):
            stats.unchanged += 1             # the same bytes as on disk (a data file made
                                             # again is written: it is not trusted by name)
        else:
            changed.append(o)
    gone = [] if others else sorted(set(old) - set(new))
    if others:
        stats.unchanged += len(new) - len(outputs)
    replace_file(out / JOURNAL, orjson.dumps(sorted(
        set(pending) | {o.path for o in changed} | set(gone) | {MANIFEST})))
    staged: list[tuple[Path, Path]] = []
    made: set[Path] = set()
    try:
        for o in changed:
            target = out / o.path
            staged.append((_move(o.staged, target, made) if o.staged else
                           _stage(target, o.data, made), target))
    except BaseException:                    # disk full, …: nothing replaced yet
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    for tmp, target in staged:
        os.replace(tmp, target)
    for o in changed:
        if new[o.path] is None:
            new[o.path] = identity(out / o.path)
    stats.written = len(staged)
    for path in gone:
        stale = out / path
        if stale.is_file():
            stale.unlink()
            stats.removed += 1
            _prune(stale.parent, out)
    if not others:      # (a correction's entries are saved with the build state's delta)
        replace_file(out / MANIFEST, orjson.dumps(new, option=orjson.OPT_SORT_KEYS))
    if then is not None:
        then(stats)
    (out / JOURNAL).unlink()
    return stats


def _prune(folder: Path, top: Path) -> None:
    while folder != top and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent
