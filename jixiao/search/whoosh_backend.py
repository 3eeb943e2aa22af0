"""The whoosh implementation of ``SearchBackend``: ``whoosh_index`` writes the index,
``whoosh_search`` answers queries from it."""
from __future__ import annotations

import os
import threading
from pathlib import Path

from .params import SearchParams
from .whoosh_index import (CURRENT, NoIndex, index_dir, build_index, correctable, prepare,
                           publish, read_current, remove_stale)

# ``whoosh_search`` (with numpy) is imported by the methods that answer queries: a build,
# which only writes the index, does not pay for numpy's import.

__all__ = ["WhooshBackend", "NoIndex", "index_dir", "build_index"]


class WhooshBackend:
    """``SearchBackend`` over a whoosh index in ``index_dir(out)`` (beside the site)."""

    def __init__(self, out: Path):
        self.out = Path(out)
        self.root = index_dir(self.out)
        self._lock = threading.Lock()
        self._stamp = None
        self._gen = None                    # the open whoosh_search.Generation
        self._segment_files: dict = {}       # shared by the generations that link a segment

    # the SearchBackend interface
    def index(self, catalog) -> None:
        build_index(catalog, self.out)

    def prepare(self, catalog, changed: list[str] | None = None) -> str:
        return prepare(catalog, self.out, changed)

    def correctable(self) -> list[str] | None:
        return correctable(self.out)

    def publish(self, name: str) -> None:
        publish(self.out, name)

    def discard(self) -> None:
        remove_stale(self.out)

    def search(self, params: SearchParams) -> dict:
        from .engine import answer
        return self._guarded(lambda: answer(self._current(), params))

    def matching(self, params: SearchParams, limit: int) -> tuple[int, list[dict]]:
        from .engine import matching
        return self._guarded(lambda: matching(self._current(), params, limit))

    def generation(self):
        """The generation readers use now (``static_index`` exports it as files)."""
        return self._current()

    def _guarded(self, read):
        try:
            return read()
        except NoIndex:
            raise
        except (OSError, EOFError, ValueError, KeyError, IndexError) as exc:
            # a generation another build replaced or removed while it was being opened or
            # read (whoosh's EmptyIndexError is an Exception of its own, caught below)
            raise NoIndex(f"the search index is being replaced ({type(exc).__name__}); "
                          f"try again in a moment") from exc
        except Exception as exc:
            if type(exc).__module__.startswith("whoosh"):
                raise NoIndex(f"the search index is being replaced ({type(exc).__name__}); "
                              f"try again in a moment") from exc
            raise

    # internals
    def _current(self):
        from .whoosh_search import WARM, Generation, folder_identity, segment_keys
        try:
            st = os.stat(self.root / CURRENT)
        except FileNotFoundError:
            raise NoIndex(f"no search index in {self.root}; build the site first "
                          f"(python build.py build --out {self.out})") from None
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        gen = self._gen
        if stamp == self._stamp and gen is not None:
            return gen
        with self._lock:
            name = read_current(self.root)
            if name is None:
                raise NoIndex(f"{self.root / CURRENT} does not name an index generation")
            try:                # the same name in a folder made anew (the site removed and
                where = folder_identity(self.root / name)     # rebuilt) is a new generation
            except FileNotFoundError:
                raise NoIndex(f"{self.root / CURRENT} names {name}, which does not exist; "
                              "rebuild the site") from None
            if self._gen is None or (self._gen.name, self._gen.where) != (name, where):
                old = self._gen
                # opening a new segment holds the lock: every thread waits for it
                self._gen = Generation(name, self.root / name,   # the old one (its searchers,
                                       self._segment_files)
                if old is not None:
                    threading.Thread(target=self._gen.warm, args=(old.recent(WARM),),
                                     name="jixiao-warm", daemon=True).start()
                else:
                    self._gen.warmed.set()
                live = segment_keys(self.root / name)                 # its cache) goes with it
                for key in [k for k in self._segment_files if k not in live]:
                    del self._segment_files[key]
            self._stamp = stamp
            return self._gen
