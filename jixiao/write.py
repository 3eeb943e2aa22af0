"""Write the outputs into the site directory, atomically.

Two phases (Pelican): everything is rendered before anything is written, so a
content or template error leaves the previous site exactly as it was.  Then
every changed file is first staged as a hidden temporary file next to its
target; only when all are staged is each moved into place with ``os.replace``
(Lektor), and files the new build no longer produces are removed.  A server
reading the directory meanwhile sees either the old or the new file, never a
half-written one.  A manifest of content hashes lets unchanged files be skipped.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .outputs import Outputs, Parts

MANIFEST = ".manifest.json"


@dataclass
class WriteStats:
    written: int = 0
    unchanged: int = 0
    removed: int = 0


def _digest(data: bytes | Parts) -> str:
    h = hashlib.sha256()
    for part in data if isinstance(data, Parts) else (data,):
        h.update(part)
    return h.hexdigest()


def _read_manifest(out: Path) -> dict[str, str]:
    try:
        return json.loads((out / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return {}


def _stage(target: Path, data: bytes | Parts, made: set | None = None) -> Path:
    """``data`` in a hidden temporary file beside ``target``; ``made``: folders known to
    exist (one mkdir per folder, not per file)."""
    if made is None or target.parent not in made:
        target.parent.mkdir(parents=True, exist_ok=True)
        if made is not None:
            made.add(target.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    with os.fdopen(fd, "wb") as fh:
        if isinstance(data, Parts):
            fh.writelines(data)
        else:
            fh.write(data)
    os.chmod(tmp, 0o644)
    return Path(tmp)


def write_site(outputs: Outputs, out: Path) -> WriteStats:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    old = _read_manifest(out)
    new = {o.path: o.digest if o.data is None else _digest(o.data) for o in outputs}
    stats = WriteStats()
    staged: list[tuple[Path, Path]] = []
    made: set[Path] = set()
    try:
        for o in outputs:
            if o.data is None:               # kept by an incremental render
                stats.unchanged += 1
                continue
            target = out / o.path
            if old.get(o.path) == new[o.path] and target.is_file():
                stats.unchanged += 1         # the same bytes as on disk
                continue
            staged.append((_stage(target, o.data, made), target))
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    for tmp, target in staged:
        os.replace(tmp, target)
    stats.written = len(staged)
    for path in sorted(set(old) - set(new)):
        stale = out / path
        if stale.is_file():
            stale.unlink()
            stats.removed += 1
            _prune(stale.parent, out)
    tmp = _stage(out / MANIFEST, json.dumps(new, sort_keys=True, indent=0).encode())
    os.replace(tmp, out / MANIFEST)
    return stats


def _prune(folder: Path, top: Path) -> None:
    while folder != top and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent
