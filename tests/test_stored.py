"""The build cache: records of unchanged files (``record_cache``) and the summaries
they come back as (``stored.StoredProject``)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from jixiao.model import Project
from jixiao.reads import SUMMARY as LIST_SUMMARY
from jixiao.pipeline import check
from jixiao.record_cache import RecordCache
from jixiao import stored
from jixiao.stored import StoredProject, summary_of
from jixiao.validate import load_content

ROOT = Path(__file__).resolve().parent.parent
# what lists show (reads.SUMMARY, which keys them) and what keys and aggregates read
SUMMARY = tuple(LIST_SUMMARY) + ("source", "categories", "indicator_key", "target_key")


@pytest.fixture(scope="module")
def seeds():
    return check(ROOT / "content", log=None)


def test_a_stored_project_reads_as_its_record(seeds):
    for p in seeds.projects:
        s = StoredProject(summary_of(p), p.model_dump_json().encode)
        for name in SUMMARY:
            assert getattr(s, name) == getattr(p, name), (p.id, name)
        assert s not in stored._RECENT                         # the summary alone so far
        assert s.model_dump_json() == p.model_dump_json()
        for name in ("goals", "sections", "indicators", "start", "end"):
            assert getattr(s, name) == getattr(p, name), (p.id, name)
        assert s.full() == p
        with pytest.raises(AttributeError):
            s.no_such_field


def test_summary_fields_are_what_the_project_says(seeds):
    p = next(p for p in seeds.projects if p.indicators)
    assert p.indicator_count == len(p.indicators)
    assert list(p.categories) == sorted({i.category for i in p.indicators})
    changed = p.model_copy(update={"indicators": p.indicators[:-1]})
    assert changed.indicator_key != p.indicator_key


@pytest.fixture()
def content(tmp_path):
    shutil.copytree(ROOT / "content", tmp_path / "content")
    return tmp_path / "content"


def _load(content: Path, cache_dir: Path):
    cache = RecordCache(cache_dir, "v1")
    catalog = load_content(content, cache=cache)
    cache.save()
    return catalog, cache


def test_cache_hits_by_stat_then_by_content(content, tmp_path):
    _, first = _load(content, tmp_path / "c")
    assert first.hits == 0 and (tmp_path / "c" / RecordCache.FILE).is_file()
    catalog, second = _load(content, tmp_path / "c")
    assert second.hits == len(catalog.projects) + len(catalog.units)
    assert all(isinstance(p, StoredProject) for p in catalog.projects)
    touched = sorted(content.glob("*/*/*.yaml"))[0]
    os.utime(touched, ns=(1, 1))                  # same bytes, another mtime
    _, third = _load(content, tmp_path / "c")
    assert third.hits == second.hits and str(touched) in third.moved and not third.new
    _, fourth = _load(content, tmp_path / "c")    # the new mtime was noted
    assert fourth.hits == second.hits and not fourth.new and not fourth.moved


def test_rows_of_removed_files_are_dropped(content, tmp_path):
    _load(content, tmp_path / "c")
    gone = sorted(content.glob("*/*/*.yaml"))[0]
    gone.unlink()
    _load(content, tmp_path / "c")
    assert str(gone) not in RecordCache(tmp_path / "c", "v1").old
    # one removed while another changed: the changed one's row is replaced, not counted gone
    gone, changed = sorted(content.glob("*/*/*.yaml"))[:2]
    gone.unlink()
    changed.write_text(changed.read_text("utf-8") + "\n", "utf-8")
    _load(content, tmp_path / "c")
    rows = RecordCache(tmp_path / "c", "v1").old
    assert str(gone) not in rows and rows[str(changed)][0] == changed.stat().st_size


def test_another_code_version_or_a_broken_file_starts_afresh(content, tmp_path):
    _load(content, tmp_path / "c")
    assert RecordCache(tmp_path / "c", "v1").old
    assert not RecordCache(tmp_path / "c", "v2").old
    (tmp_path / "c" / RecordCache.FILE).write_bytes(b"not a database")
    assert not RecordCache(tmp_path / "c", "v1").old
    catalog, _ = _load(content, tmp_path / "c")          # and is replaced by a good one
    assert len(RecordCache(tmp_path / "c", "v1").old) == len(catalog.projects) + len(catalog.units)


def test_a_cached_file_with_an_error_is_refused(content, tmp_path):
    from jixiao.problems import ContentError
    _load(content, tmp_path / "c")
    path = sorted(content.glob("*/*/*.yaml"))[0]
    path.write_text(path.read_text("utf-8").replace("year:", "year: [", 1), "utf-8")
    with pytest.raises(ContentError):
        _load(content, tmp_path / "c")


@pytest.mark.parametrize("parallel", [False, True])
def test_cross_file_problems_point_at_the_field_also_from_the_cache(content, tmp_path,
                                                                      monkeypatch, parallel):
    """A duplicate id names both files at the id's line and column: when the records are
    read here or in worker processes, and when the first one comes from the cache."""
    from jixiao import validate
    from jixiao.problems import ContentError
    if parallel:
        monkeypatch.setattr(validate, "PARALLEL_MIN", 1)
    first = sorted(content.glob("sh-gjjglzx/*/*.yaml"))[0]
    _load(content, tmp_path / "c")                         # every record cached
    twin = first.with_name(first.stem[:-2] + "98.yaml")
    twin.write_text(first.read_text("utf-8"), "utf-8")     # same id, another file
    with pytest.raises(ContentError) as exc:
        _load(content, tmp_path / "c")
    messages = {str(p) for p in exc.value.problems}
    line = next(n for n, text in enumerate(first.read_text("utf-8").splitlines(), 1)
                if text.startswith("id:"))
    assert any(m.startswith(f"{twin}:{line}:5: id: duplicate project id") and
               f"also in {first}:{line}:5" in m for m in messages), messages


def test_a_process_keeps_only_the_last_records_made_in_full(seeds):
    """Reading every project's record in full (the indicator aggregate, a render worker,
    an index writer) keeps only the last ``RECENT`` of them: a build's memory does not
    grow with the records it has read; one read again is made again, the same."""
    projects = [p for p in seeds.projects if p.indicators][:stored.RECENT + 3]
    assert len(projects) > stored.RECENT
    kept = [StoredProject(summary_of(p), p.model_dump_json().encode) for p in projects]
    for s in kept:
        assert s.indicators == s.full().indicators            # made once, then kept
    assert sum(s in stored._RECENT for s in kept) == stored.RECENT
    assert kept[0] not in stored._RECENT and kept[-1] in stored._RECENT
    assert kept[0].full() == projects[0]


def test_a_summary_comes_back_from_the_record_cache_as_it_was(seeds, tmp_path):
    """The cache keeps a summary as columns (categories joined by tabs): every seed's, and
    one with no categories and no nature, read back equal."""
    from jixiao.record_cache import RecordCache
    summaries = {p.id: summary_of(p) for p in seeds.projects}
    first = summaries[seeds.projects[0].id]
    summaries["bare"] = first[:4] + (None,) + first[5:9] + ((),) + first[10:]
    cache = RecordCache(tmp_path, "v1")
    for shown, summary in summaries.items():
        cache.put(shown, (1, 2, "sha"), b"{}", [], "digest", summary)
    cache.save()
    again = RecordCache(tmp_path, "v1")
    assert {shown: again.get(shown, (1, 2, "sha")).summary for shown in summaries} == summaries


def test_saved_reads_are_found_whole_by_either_test():
    """An output's reads saved as one string: a changed read is found only as a whole read
    (not inside a longer one), alike by the substring test of a few changed reads and by
    the split of many."""
    from jixiao.reads import Changed, joined, split
    saved = joined(["site", "r\tsh-a-2020-01", "slice\tunit\tsh-a\t0\t60", "u\tsh-a"])
    assert split(saved) == ["site", "r\tsh-a-2020-01", "slice\tunit\tsh-a\t0\t60", "u\tsh-a"]
    cases = [({"u\tsh-a"}, True), ({"u\tsh"}, False), ({"r\tsh-a-2020"}, False),
             ({"slice\tunit\tsh-a\t0\t6"}, False), ({"site"}, True), (set(), False)]
    for reads, found in cases:
        many = reads | {f"p\tother-{n}" for n in range(Changed.FEW + 1)}
        assert Changed(reads).any_in(saved) is found
        assert Changed(many).any_in(saved) is found


def test_piece_tables_read_back_as_saved():
    from jixiao.build_state import Pieces
    made = Pieces()
    for n, pid in enumerate(["a", "b", "c"]):
        made.append(pid, f"k{n}", 10 * n, 10 * n + 7)
    again = Pieces(*made.columns())
    assert [again.get(pid) for pid in "abcd"] == [("k0", 0, 7), ("k1", 10, 17),
                                                  ("k2", 20, 27), None]
    assert again.has("b", "k1") and not again.has("b", "k0") and not again.has("d", "k1")
    assert len(again) == 3 and len(Pieces()) == 0 and Pieces().get("a") is None
