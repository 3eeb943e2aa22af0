"""Projects as the build keeps them: what lists read, and the record's JSON.

A build holds 100,000 projects at a city's size: as validated ``model.Project``s that is
~57 KB each, most of the build's memory.  So the records read by worker processes, and
those an incremental build takes from the cache of unchanged files (without validating
them again, which would cost as much as the rest of a one-record rebuild), are kept as a
``StoredProject``.  It holds what
lists, keys and aggregates read (``reads.SUMMARY``, and the source, the categories and
key of its indicators: ``summary_of``; a test holds the two together) and
makes the full record from its JSON when anything else is read: its own page, its
search document, its rows of the data files, the indicator pages' aggregate.  Only the
last few records made are kept (``RECENT``, in each process): whoever reads every
project's record (the indicator aggregate, the render workers, the index) reads them one
after the other.  The values are the same either way: a record is kept as JSON only
when its JSON gives back the same record.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable

from .model import Funds, Project, Source, project_url


SUMMARY_COLUMNS = ("id", "year", "name", "unit", "nature", "category", "funds", "source",
                   "indicator_count", "categories", "indicator_key", "target_key")


def summary_of(p: Project) -> tuple:
    """What a ``StoredProject`` is made of besides the record's JSON (plain values)."""
    return (p.id, p.year, p.name, p.unit, p.nature, p.category, p.funds_json,
            p.source.model_dump_json(), p.indicator_count, p.categories, p.indicator_key,
            p.target_key)


class StoredProject:
    __slots__ = ("id", "year", "name", "unit", "nature", "category", "_funds", "_source",
                 "indicator_count", "categories", "indicator_key", "target_key", "_json")

    def __init__(self, summary: tuple, json: Callable[[], bytes]):
        """``json``: a function returning the record's ``model_dump_json``, called each
        time the full record is made (``full``)."""
        (self.id, self.year, self.name, self.unit, self.nature, self.category, self._funds,
         self._source, self.indicator_count, self.categories, self.indicator_key,
         self.target_key) = summary
        self._json = json

    @property
    def funds(self) -> Funds:
        """(Parsed when first read: a rebuild that renders no list of it keys it by
        ``funds_json``.)"""
        if isinstance(self._funds, str):
            self._funds = Funds.model_validate_json(self._funds)
        return self._funds

    @property
    def funds_json(self) -> str:
        return self._funds if isinstance(self._funds, str) else self._funds.model_dump_json()

    @property
    def source(self) -> Source:
        if isinstance(self._source, str):
            self._source = Source.model_validate_json(self._source)
        return self._source

    @property
    def url(self) -> str:
        return project_url(self.id)

    def full(self) -> Project:
        with _LOCK:
            p = _RECENT.get(self)
            if p is not None:
                _RECENT.move_to_end(self)
                return p
        p = Project.model_validate_json(self._json())
        with _LOCK:
            _RECENT[self] = p
            if len(_RECENT) > RECENT:
                _RECENT.popitem(last=False)
        return p

    def model_dump_json(self) -> str:
        return self._json().decode("utf-8")

    def __getattr__(self, name: str):
        """Anything the summary does not hold (goals, sections, indicators, dates…)."""
        return getattr(self.full(), name)

    def __repr__(self) -> str:
        return f"StoredProject(id={self.id!r})"


RECENT = 8                      # full records kept, the last made first out
_RECENT: "OrderedDict[StoredProject, Project]" = OrderedDict()
_LOCK = threading.Lock()        # (the preview server builds in a thread of its own)
