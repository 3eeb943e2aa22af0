"""Full-text search over the model: one small interface, whoosh behind it.

    backend = open_backend(out)            # the one implementation today: whoosh
    backend.index(catalog)                 # at build time, after write (atomic swap)
    backend.search(parse_params(args))     # → the /api/search document (DESIGN §5)

Another engine (OpenSearch with a CJK bigram or IK analyzer, phrase queries,
highlighting and terms aggregations) would implement the same two methods;
``analysis`` (folding, tokens, query parts) and ``params`` stay as they are.
"""
from __future__ import annotations

from pathlib import Path
from typing import Protocol

from .params import ParamError, SearchParams, parse_params
from .whoosh_backend import NoIndex, WhooshBackend


class SearchBackend(Protocol):
    def index(self, catalog) -> None:
        """Index the catalog; readers switch to it atomically."""

    def search(self, params: SearchParams) -> dict:
        """The /api/search document for ``params``.  Raises NoIndex before any index exists."""


_backends: dict[Path, WhooshBackend] = {}


def open_backend(out: Path) -> SearchBackend:
    """The backend for an output directory, one per process (its searcher is cached)."""
    key = Path(out).resolve()
    if key not in _backends:
        _backends[key] = WhooshBackend(key)
    return _backends[key]


def index(catalog, out: Path) -> None:
    open_backend(out).index(catalog)


__all__ = ["SearchBackend", "WhooshBackend", "SearchParams", "ParamError", "NoIndex",
           "parse_params", "open_backend", "index"]
