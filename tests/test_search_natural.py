"""Queries as citizens type them: words apart, short names of units, words the text does
not use, homophone typos, indicator categories (tests/fixtures/search/natural.yaml,
judged by hand).  Strict: a query is *found* when a wanted result ranks in the top 3
(a wanted unit: first); every result in the top 5 outside the judged relevant set
counts as irrelevant.  The figures are in docs/SEARCH.md.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from test_search import REAL, backend, catalog, search, truth  # noqa: F401  (fixtures)

NATURAL = Path(__file__).resolve().parent / "fixtures" / "search" / "natural.yaml"
QUERIES = yaml.safe_load(NATURAL.read_text("utf-8"))["queries"]
TOP_FOUND, TOP_CHECKED = 3, 5

pytestmark = pytest.mark.skipif(not REAL, reason="judged against the real content")


def key(r: dict) -> str:
    return f"unit:{r['id']}" if r["type"] == "unit" else r["id"]


def judge(doc: dict, q: dict, catalog) -> tuple[bool, list[str]]:
    results = doc["results"]
    keys = [key(r) for r in results]
    want = set(q.get("want") or [])
    relevant = set(want) | set(q.get("relevant") or [])
    for uid in q.get("relevant_unit") or []:
        relevant.add(f"unit:{uid}")
        relevant |= {p.id for p in catalog.projects if p.unit == uid}
    if q["class"] == "plain":                 # the control group: exact hits are relevant
        relevant |= truth(catalog, q["q"])
    if q.get("relevant_text"):
        relevant |= truth(catalog, q["relevant_text"])
    if q.get("relevant_level"):
        label = q["relevant_level"]
        relevant |= {p.id for p in catalog.projects
                     if any(label in (i.level1 + "|" + i.level2) for i in p.indicators)}
        want = relevant
    wanted_units = {w for w in want if w.startswith("unit:")}
    if wanted_units and all(w.startswith("unit:") for w in want):
        found = bool(keys) and keys[0] in wanted_units
    else:
        found = bool(set(keys[:TOP_FOUND]) & want)
    irrelevant = [k for k in keys[:TOP_CHECKED] if k not in relevant]
    return found, irrelevant


def test_natural_queries(backend, catalog):  # noqa: F811
    rows, by_class, misses, noise = [], Counter(), [], []
    for q in QUERIES:
        doc = search(backend, q=q["q"])
        found, irrelevant = judge(doc, q, catalog)
        by_class[(q["class"], found)] += 1
        rows.append((q["q"], found, len(irrelevant)))
        if not found:
            misses.append((q["q"], [key(r) for r in doc["results"][:5]]))
        if irrelevant:
            noise.append((q["q"], irrelevant))
    n_found = sum(1 for _, f, _ in rows if f)
    n_irrelevant = sum(i for *_, i in rows)
    print(f"\nnatural queries: {n_found}/{len(rows)} found in the top {TOP_FOUND}, "
          f"{n_irrelevant} irrelevant results in the top {TOP_CHECKED}")
    for cls in dict.fromkeys(q["class"] for q in QUERIES):
        print(f"  {cls:6} {by_class[(cls, True)]}/{by_class[(cls, True)] + by_class[(cls, False)]}")
    print("  misses:", misses)
    print("  irrelevant:", noise)
    assert len(rows) >= 40
    assert n_found >= len(rows) - 2, misses
    assert n_irrelevant <= 4, noise


def test_no_dead_ends(backend):  # noqa: F811
    """A query of ignored characters says so; a query nothing matches still offers ways on
    (the page shows them: see test_serve); unit results obey the filters."""
    for q in ("😀", "??", "Москва", "。。。"):
        doc = search(backend, q=q)
        assert doc["total"] == 0 and doc["notice"] == "ignored" and doc["results"] == [], q
    doc = search(backend, q="公积金")
    assert doc["results"][0]["type"] == "unit"
    doc = search(backend, q="公积金", year=2023)          # the unit has no 2023 project
    assert all(r["type"] != "unit" for r in doc["results"])


def test_relaxed_never_outranks_exact(backend):  # noqa: F811
    """No later tier outranks an earlier one (exact, synonym, year, words, relaxed,
    suggestion)."""
    order = {"exact": 0, "synonym": 1, "year": 2, "words": 3, "relaxed": 4, "suggestion": 5}
    for q in QUERIES:
        doc = search(backend, q=q["q"], page_size=100)
        tiers = [order[r["match"]] for r in doc["results"] if r["type"] == "project"]
        assert tiers == sorted(tiers), q["q"]


def test_synonyms_are_shown(backend):  # noqa: F811
    doc = search(backend, q="环保")
    assert "生态环境" in doc["also_searched"]
    assert {r["match"] for r in doc["results"]} >= {"synonym"}


def test_suggestion_for_a_homophone_typo(backend):  # noqa: F811
    doc = search(backend, q="消火拴")
    assert doc["suggestion"]["q"] == "消火栓"
    assert doc["results"][0]["title"] == "市政消火栓维修保养经费"
    assert doc["results"][0]["match"] == "suggestion"


def test_homophone_table_is_made_from_pypinyin():
    from jixiao.search.homophones import TABLE, make_table, readings, same_sound
    assert TABLE.read_text("utf-8") == make_table()
    assert "shuan" in readings("拴") and "栓" in same_sound("shuan")


def test_a_query_typed_in_pinyin_is_read_as_the_words_it_sounds(backend):  # noqa: F811
    """With the input method off: ``ranqi`` → 燃气, ``gongjijin pingtai`` → 公积金 平台,
    shown as the suggestion with its results; a Latin word the text holds (``pems``) is
    found as typed, and one that reads as no word of the names finds nothing."""
    for typed, meant in (("ranqi", "燃气"), ("gongjijin pingtai", "公积金 平台"),
                         ("xiaohuoshuan", "消火栓")):
        doc = search(backend, q=typed, page_size=100)
        assert doc["suggestion"]["q"] == meant, typed
        as_meant = search(backend, q=meant, page_size=100)
        assert {r["id"] for r in doc["results"]} == {r["id"] for r in as_meant["results"]}
        assert {r.get("match") for r in doc["results"]} == {"suggestion"}
    assert "suggestion" not in search(backend, q="pems") and search(backend, q="pems")["total"]
    assert search(backend, q="hello")["total"] == 0
