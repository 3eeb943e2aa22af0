"""Validated records of unchanged files: ``<out>/.build-cache/records.sqlite``.

One row per content file, keyed by its path (as shown), size, mtime_ns and the sha1 of
its bytes, valid only for the same version of the code.  A row holds the record's digest,
its warnings and, for a project, its ``stored.summary_of`` as columns (a rebuild reads
every row's summary, and SQLite gives the values without decoding a JSON document per
row); the record's JSON (``model_dump_json``) is kept by path in a table of its own.  A file with any problem is never
stored, so the cache cannot hide one; what a record's own checks say as warnings is
stored with it and reported again.  The cross-file checks always run.

SQLite (the standard library's) rather than one file: a rebuild after one correction
writes one row in a transaction instead of every record again, and reads the rows of
unchanged files without their JSON.  Every value in it is JSON, never pickle: whoever
can write the output folder (a restored CI cache) must not be able to run code through
it.
"""
from __future__ import annotations

import functools
import hashlib
import json
import operator
import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path

from .load import Loaded
from .problems import Problem
from .stored import SUMMARY_COLUMNS

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (version TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, sha1 TEXT,
    digest TEXT,        -- the sha1 of its JSON
    warnings TEXT,      -- JSON of (line, col, field, message, severity) of each
    -- a project's stored.summary_of (NULL for a unit); categories joined by tabs
    id TEXT, year INTEGER, name TEXT, unit TEXT, nature TEXT, category TEXT, funds TEXT,
    source TEXT, indicator_count INTEGER, categories TEXT, indicator_key TEXT, target_key TEXT
);
-- the record's model_dump_json (~8 KB), in a table of its own: a rebuild reads every
-- row above and few of these (in one table, scanning the rows read a page per record:
-- 0.55 s for 105,000 rows, against 0.1 s apart)
CREATE TABLE IF NOT EXISTS bodies (path TEXT PRIMARY KEY, json BLOB);
-- the rows with warnings, which a correction says again (``WARNED``): found without
-- reading every row (a scan of 105,000 rows took 0.05-0.2 s of a one-record rebuild)
CREATE INDEX IF NOT EXISTS warned ON records(path) WHERE warnings != '[]';
"""
WARNED = "warnings != '[]'"     # the condition of the index ``warned``, as ``rows`` takes it
_ROW = "path, size, mtime_ns, sha1, digest, warnings, " + ", ".join(SUMMARY_COLUMNS)


def _columns(summary: tuple | None) -> tuple:
    """``stored.summary_of`` as the row's summary columns (categories joined by tabs)."""
    if summary is None:
        return (None,) * len(SUMMARY_COLUMNS)
    *head, categories, key, targets = summary
    return (*head, "\t".join(categories), key, targets)


class Entry:
    """A cached record: its JSON (a function reading it) and what reading it found.  Its
    ``loaded`` holds no marks: a cross-file check that finds a problem reads them from the
    file, which is the one cached (``validate._at``)."""
    __slots__ = ("json", "loaded", "warnings", "digest", "summary")

    def __init__(self, shown: str, record_json, row: tuple):
        """``row``: digest, warnings and the summary columns (once per unchanged file: a
        rebuild at 100,000 projects makes 105,000)."""
        self.digest, warnings = row[0], row[1]
        self.json = record_json
        self.loaded = Loaded.unmarked(shown)
        self.warnings = [] if warnings == "[]" else [Problem(shown, *w)
                                                     for w in json.loads(warnings)]
        self.summary = None
        if row[2] is not None:          # id, …, categories (joined by tabs), key, targets
            categories = row[-3]
            self.summary = row[2:-3] + (tuple(categories.split("\t")) if categories else (),
                                        ) + row[-2:]


class RecordCache:
    FILE = "records.sqlite"
    LAYOUT = 2              # of the tables (2: the JSON apart), saved with the code version

    def __init__(self, folder: Path | None, version: str = ""):
        self.folder = Path(folder) if folder else None
        self.version = f"{version}:{self.LAYOUT}"
        self._old: dict[str, tuple] | None = None   # ``old``, read when first asked
        self.new: dict[str, tuple] = {}     # rows to write: records read this time
        self.kept: set[str] = set()         # rows still right
        self.moved: dict[str, tuple] = {}   # … of which these have a new size and mtime
        self._reader = _JSON(self.folder / self.FILE if self.folder else None)
        self.hits = 0

    @property
    def old(self) -> dict[str, tuple]:
        """Every row: path → (size, mtime_ns, sha1, digest, warnings, summary columns…);
        empty when there is no cache of this version (read when first asked: a correction
        reads the rows of its records alone, ``rows``)."""
        if self._old is None:
            self._old = self.rows() or {}
        return self._old

    def rows(self, where: str = "", params=()) -> dict[str, tuple] | None:
        """The rows ``where`` (an SQL condition on the records table, with ``params``), as
        ``old`` holds them; None when there is no cache of this version."""
        return self._select(f"SELECT {_ROW} FROM records" + (f" WHERE {where}" if where else ""),
                            params, lambda rows: ((row[0], row[1:]) for row in rows))

    def stats(self) -> dict[str, tuple] | None:
        """path → (size, mtime_ns) of every row (0.09 s at 100,000 projects, against 0.67 s
        for every row whole); None when there is no cache of this version."""
        return self._select("SELECT path, size, mtime_ns FROM records", (), _stat_items)

    def _select(self, sql: str, params, items) -> dict | None:
        if self.folder is None:
            return None
        try:
            with _connect(self.folder / self.FILE, create=False) as db:
                if db.execute("SELECT version FROM meta").fetchone() != (self.version,):
                    return None
                return dict(items(db.execute(sql, params).fetchall()))
        except (sqlite3.Error, OSError):    # missing, truncated or foreign: start afresh
            return None

    def entry(self, shown: str, row: tuple) -> Entry:
        """The entry of a row ``rows`` gave."""
        return Entry(shown, self._reader.json_of(shown), row[3:])

    @staticmethod
    def key(path: Path, raw: bytes) -> tuple:
        st = path.stat()
        return (st.st_size, st.st_mtime_ns, hashlib.sha1(raw).hexdigest())

    def get_by_stat(self, shown: str, path: Path, stat: tuple | None = None) -> Entry | None:
        """The entry of a file whose size and mtime_ns (``stat``, else looked at now) are
        those cached (trusted without reading or hashing the file; any write changes
        mtime_ns), else None."""
        row = self.old.get(shown)
        if row is None:
            return None
        if stat is None:
            st = os.stat(path)               # (not pathlib: once per file, 10,500 times)
            stat = (st.st_size, st.st_mtime_ns)
        if row[:2] != stat:
            return None
        return self._hit(shown, row)

    def get(self, shown: str, key: tuple) -> Entry | None:
        """The entry of a file whose size and sha1 are those cached (a file written again
        with the same bytes, e.g. by a checkout, is not read again), else None."""
        row = self.old.get(shown)
        if row is None or (row[0], row[2]) != (key[0], key[2]):
            return None
        if row[:2] != key[:2]:
            self.moved[shown] = key              # same bytes, another mtime: noted
        return self._hit(shown, row)

    def _hit(self, shown: str, row: tuple) -> Entry:
        self.hits += 1
        self.kept.add(shown)
        return self.entry(shown, row)

    def put(self, shown: str, key: tuple, record_json: bytes, warnings: list[Problem],
            digest: str, summary: tuple | None) -> None:
        self.new[shown] = key + (digest, json.dumps(
            [(w.line, w.col, w.field, w.message, w.severity) for w in warnings],
            ensure_ascii=False), *_columns(summary), record_json)
        self.kept.discard(shown)

    def save(self) -> None:
        """Write the rows read this time and drop those of files no longer read, in one
        transaction (a cache of another code version is replaced)."""
        if self.folder is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / self.FILE
        # (rows never read whole: a correction's, which knows that no file went)
        gone = self._gone() if self._old is not None else []
        if self._old is not None and not self._old:      # nothing usable: a fresh file
            path.unlink(missing_ok=True)
        with _connect(path, create=True) as db:
            db.execute("DELETE FROM meta")
            db.execute("INSERT INTO meta VALUES (?)", (self.version,))
            for table in ("records", "bodies"):
                db.executemany(f"DELETE FROM {table} WHERE path = ?", ((s,) for s in gone))
            db.executemany(f"INSERT OR REPLACE INTO records ({_ROW}) VALUES "
                           f"({', '.join('?' * len(_ROW.split(',')))})",
                           ((shown,) + row[:-1] for shown, row in self.new.items()))
            db.executemany("INSERT OR REPLACE INTO bodies (path, json) VALUES (?, ?)",
                           ((shown, row[-1]) for shown, row in self.new.items()))
            db.executemany("UPDATE records SET size = ?, mtime_ns = ? WHERE path = ?",
                           (key[:2] + (shown,) for shown, key in self.moved.items()))

    def _gone(self) -> list[str]:
        """The rows of files not read this time.  Each row was either kept or read again
        (``put``) unless some are gone: counted from this build's rows, not looked for
        among every old row (100,000 keys, touched while the index child shares their
        pages: 0.4 s of a one-record rebuild)."""
        replaced = sum(1 for shown in self.new if shown in self.old and shown not in self.kept)
        if len(self.kept) + replaced == len(self.old):
            return []
        return [shown for shown in self.old if shown not in self.kept and shown not in self.new]


def _stat_items(rows: list) -> zip:
    """(path, (size, mtime_ns)) of each row, made in C (105,000 rows)."""
    return zip(map(operator.itemgetter(0), rows), map(operator.itemgetter(1, 2), rows))


class _JSON:
    """The JSON of a cached record, read when a ``StoredProject`` needs its full record
    (most never do in a rebuild, so their JSON stays in the database until then).  One
    connection per process: a connection must not cross a fork (render workers and the
    index are forked); any thread of the process may use it (the preview server builds
    in a thread of its own).  Rows of unchanged records are not rewritten by ``save``."""

    def __init__(self, path: Path | None):
        self.path, self.pid, self.db = path, None, None

    def json_of(self, shown: str):
        return functools.partial(self._read, shown)

    def _read(self, shown: str) -> bytes:
        if self.pid != os.getpid():
            self.db = sqlite3.connect(self.path, timeout=60, check_same_thread=False)
            self.pid = os.getpid()
        row = self.db.execute("SELECT json FROM bodies WHERE path = ?", (shown,)).fetchone()
        if row is None:
            raise LookupError(f"{shown} is no longer in the build cache {self.path}")
        return row[0]


@contextmanager
def _connect(path: Path, create: bool):
    """A connection that commits (or rolls back) and closes; to an existing file only,
    unless ``create``."""
    if not create and not path.is_file():
        raise OSError(f"no {path}")
    db = sqlite3.connect(path)
    try:
        if create:
            db.executescript(_SCHEMA)
        with db:
            yield db
    finally:
        db.close()
