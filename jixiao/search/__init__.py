"""Full-text search over the model: one small interface, whoosh behind it.

    backend = open_backend(out)            # the one implementation today: whoosh
    backend.index(catalog)                 # at build time, after write (atomic swap) …
    name = backend.prepare(catalog)        # … or in two steps: written beside the live
    backend.publish(name)                  #     index while the site renders, then swapped
    backend.search(parse_params(args))     # → the /api/search document (DESIGN §5)

Another engine (OpenSearch with a CJK bigram or IK analyzer, phrase queries,
highlighting and terms aggregations) would implement the same methods (``prepare``:
a new index; ``publish``: the alias switched to it);
``analysis`` (folding, tokens, query parts) and ``params`` stay as they are.
"""
from __future__ import annotations

from pathlib import Path
from typing import Protocol

from .params import ParamError, SearchParams, parse_params
from .whoosh_backend import NoIndex, WhooshBackend


class SearchBackend(Protocol):
    def index(self, catalog) -> None:
        """Index the catalog; readers switch to it atomically (``publish(prepare(…))``)."""

    def prepare(self, catalog, changed: list[str] | None = None) -> str:
        """Write an index of the catalog that readers do not see yet; returns its name.
        May run in another process while the site is rendered and written.  ``changed``:
        the only projects that changed since the live index (``catalog`` holds those)."""

    def correctable(self) -> list[str] | None:
        """The projects ``prepare(catalog, changed)`` needs in its catalog besides the
        changed ones, or None when there is no index to update."""

    def publish(self, name: str) -> None:
        """Make the prepared index ``name`` the one readers use, atomically."""

    def discard(self) -> None:
        """Remove what preparing left behind when it was stopped (a failed build)."""

    def search(self, params: SearchParams) -> dict:
        """The /api/search document for ``params``.  Raises NoIndex before any index exists."""

    def matching(self, params: SearchParams, limit: int) -> tuple[int, list[dict]]:
        """(total, the stored documents of the first ``limit`` projects found, in order)."""


_backends: dict[Path, WhooshBackend] = {}


def open_backend(out: Path) -> SearchBackend:
    """The backend for an output directory, one per process (its searcher is cached)."""
    key = Path(out).resolve()
    if key not in _backends:
        _backends[key] = WhooshBackend(key)
    return _backends[key]


def index(catalog, out: Path) -> None:
    open_backend(out).index(catalog)


def prepare(catalog, out: Path, changed: list[str] | None = None) -> str:
    return open_backend(out).prepare(catalog, changed)


def correctable(out: Path) -> list[str] | None:
    return open_backend(out).correctable()


def publish(out: Path, name: str) -> None:
    open_backend(out).publish(name)


def discard(out: Path) -> None:
    open_backend(out).discard()


__all__ = ["SearchBackend", "WhooshBackend", "SearchParams", "ParamError", "NoIndex",
           "parse_params", "open_backend", "index", "prepare", "correctable", "publish",
           "discard"]
