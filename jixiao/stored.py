"""Projects of unchanged files, as the build cache keeps them.

A clean build validates every record into a ``model.Project``.  An incremental build
takes the records of unchanged files from the cache without validating them again (which
would cost as much as the rest of a one-record rebuild).  A ``StoredProject`` holds what
lists, keys and aggregates read (``reads.SUMMARY``, and the source, the categories and
key of its indicators: ``summary_of``; a test holds the two together) and
makes the full record from its cached JSON the first time anything else is read: its
own page, its search document, its rows of the data files.  The values are the same
either way: the cache keeps a record only when its JSON gives back the same record.
"""
from __future__ import annotations

from typing import Callable

from .model import Funds, Project, Source, project_url


def summary_of(p: Project) -> tuple:
    """What a ``StoredProject`` is made of besides the record's JSON (plain values)."""
    return (p.id, p.year, p.name, p.unit, p.nature, p.category, p.funds_json,
            p.source.model_dump_json(), p.indicator_count, p.categories, p.indicator_key,
            p.target_key)


class StoredProject:
    __slots__ = ("id", "year", "name", "unit", "nature", "category", "_funds", "_source",
                 "indicator_count", "categories", "indicator_key", "target_key", "_json",
                 "_full")

    def __init__(self, summary: tuple, json: Callable[[], bytes]):
        """``json``: a function returning the record's ``model_dump_json``, called once,
        when the full record is first needed."""
        (self.id, self.year, self.name, self.unit, self.nature, self.category, self._funds,
         self._source, self.indicator_count, self.categories, self.indicator_key,
         self.target_key) = summary
        self._json, self._full = json, None

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
        if self._full is None:
            self._full = Project.model_validate_json(self._json())
        return self._full

    def model_dump_json(self) -> str:
        return self._json().decode("utf-8")

    def __getattr__(self, name: str):
        """Anything the summary does not hold (goals, sections, indicators, dates…)."""
        return getattr(self.full(), name)

    def __repr__(self) -> str:
        return f"StoredProject(id={self.id!r})"
