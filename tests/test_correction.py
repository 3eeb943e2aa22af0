"""Corrections (``jixiao/correction.py``): records edited in place, nothing else changed,
rebuilt by making only what they touch.  Each result is compared with a clean build's
(files, manifest, search answers, the index's facet rows: ``_rebuild_and_compare``), and
what a correction leaves for the next build with what a whole build leaves (a whole
rebuild after it makes nothing again); anything more than a correction takes the whole
build, with the same result."""
from __future__ import annotations

import shutil

import pytest

from jixiao import correction
from jixiao.pipeline import Timings, build
from test_incremental import (_edit, _project_file, _rebuild_and_compare,  # noqa: F401
                              _static_search, work)


def _whole_rebuild_makes_nothing(content, templates, site, tmp, monkeypatch) -> None:
    """A whole rebuild right after: every key, read and piece the correction left is what
    a whole build would have left, so it makes nothing again and equals a clean build."""
    from jixiao import pipeline
    with monkeypatch.context() as m:
        m.setattr(pipeline, "find_correction", lambda *a, **k: None)
        t = _rebuild_and_compare(content, templates, site, tmp)
    assert not t.correction and t.rendered == 0


def _made(content, *paths) -> int:
    """What a correction of the records ``paths`` makes: each one's page and JSON, its
    year's three data files (and the latest's again under /data/), its unit's two CSVs."""
    latest = max(int(f.parent.name) for f in content.glob("*/*/*.yaml"))
    years = {int(p.parent.name) for p in paths}
    return 2 * len(paths) + 3 * len(years) + 3 * (latest in years) + 2 * len(
        {p.parent.parent for p in paths})


def _goal(path, text="（更正）") -> None:
    _edit(path, "overall: ", "overall: " + text)


def test_a_goal_corrected_makes_its_page_and_json_alone(work, monkeypatch):
    content, templates, site, tmp = work
    path = _project_file(content)
    kept = {f: f.stat().st_mtime_ns for f in (site / "units").rglob("index.html")}
    _goal(path)
    t = _rebuild_and_compare(content, templates, site, tmp)
    assert t.correction and t.rendered == _made(content, path)
    assert "（更正）" in (site / "projects" / path.stem / "index.html").read_text("utf-8")
    assert {f: f.stat().st_mtime_ns for f in kept} == kept      # no list page written
    _whole_rebuild_makes_nothing(content, templates, site, tmp, monkeypatch)


def test_corrections_in_two_units_and_years_one_after_another(work, monkeypatch):
    """Records of two units and two years at once, then again; the latest year's data
    files under /data/ follow their year's."""
    content, templates, site, tmp = work
    files = sorted(content.glob("*/*/*.yaml"))
    latest = max(int(f.parent.name) for f in files)
    a = next(f for f in files if int(f.parent.name) == latest)
    b = next(f for f in files if int(f.parent.name) != latest and f.parent.parent != a.parent.parent)
    for round in ("一", "二"):
        _goal(a, round)
        _goal(b, round)
        t = _rebuild_and_compare(content, templates, site, tmp)
        assert t.correction and t.rendered == _made(content, a, b)
    assert "二" in (site / "data" / "projects.json").read_text("utf-8")
    assert (site / "data" / "projects.json").samefile(site / f"years/{latest}/{latest}-projects.json")
    _whole_rebuild_makes_nothing(content, templates, site, tmp, monkeypatch)


def test_a_latest_data_file_deleted_by_hand_comes_back_as_the_years_file(work):
    """/data/projects.json is the latest year's file under a second name: deleted by hand,
    the next build names that file again (its identity changed with its links: the
    whole build), and a correction of that year after it keeps the two one file."""
    content, templates, site, tmp = work
    latest = max(int(f.parent.name) for f in content.glob("*/*/*.yaml"))
    year_file = site / f"years/{latest}/{latest}-projects.json"
    (site / "data" / "projects.json").unlink()
    t = _rebuild_and_compare(content, templates, site, tmp)
    assert not t.correction and (site / "data" / "projects.json").samefile(year_file)
    _goal(next(f for f in content.glob(f"*/{latest}/*.yaml")))
    t = _rebuild_and_compare(content, templates, site, tmp)
    assert t.correction and (site / "data" / "projects.json").samefile(year_file)


def test_without_hard_links_the_latest_data_files_are_copies(work, monkeypatch):
    """Where the file system has no hard links (os.link fails), /data/ holds copies."""
    import os
    link = os.link

    def no_links(source, name, **kwargs):          # (the search index links its segments)
        if ".staging" in str(name):
            raise OSError("hard links are not supported here")
        return link(source, name, **kwargs)
    content, templates, site, tmp = work
    monkeypatch.setattr(os, "link", no_links)
    latest = max(int(f.parent.name) for f in content.glob("*/*/*.yaml"))
    _goal(next(f for f in content.glob(f"*/{latest}/*.yaml")))
    t = _rebuild_and_compare(content, templates, site, tmp)
    data, year_file = site / "data" / "projects.json", site / f"years/{latest}/{latest}-projects.json"
    assert t.correction and not data.samefile(year_file)
    assert data.read_bytes() == year_file.read_bytes() and data.stat().st_mode & 0o777 == 0o644


def test_a_file_written_again_with_the_same_bytes_changes_nothing(work, monkeypatch):
    content, templates, site, tmp = work
    path = _project_file(content)
    path.write_bytes(path.read_bytes())
    t = _rebuild_and_compare(content, templates, site, tmp)
    assert t.correction and t.rendered == 0
    stats = {}
    from jixiao.record_cache import RecordCache
    from jixiao.build_state import Memory
    from jixiao.pipeline import code_version
    stats = RecordCache(site / Memory.CACHE_DIR, code_version()).stats()
    st = path.stat()
    assert stats[str(path)] == (st.st_size, st.st_mtime_ns)     # the new mtime, kept
    _whole_rebuild_makes_nothing(content, templates, site, tmp, monkeypatch)


def _first_other(content, path):
    return next(f for f in sorted(content.glob("*/*/*.yaml")) if f != path)


CHANGES = {
    # what lists show: the whole build
    "a name": lambda c, t, p: _edit(p, "\nname: ", "\nname: 更正"),
    "an amount": lambda c, t, p: _edit(p, "annual: ", "annual: 1"),
    # a target the indicator pages sample
    "a sampled target": lambda c, t, p: _edit(p, "target: '>=80%'", "target: '>=81%'"),
    "a record added": lambda c, t, p: (p.parent / "x-new.yaml").write_text(
        p.read_text("utf-8").replace(f"id: {p.stem}", "id: x-new"), "utf-8"),
    "a record removed": lambda c, t, p: _first_other(c, p).unlink(),
    "a unit": lambda c, t, p: _edit(p.parent.parent / "unit.yaml", "name: ", "name: 更正"),
    "a template": lambda c, t, p: _edit(t / "project.html", "</h1>", "</h1><!-- x -->"),
    "a static file": lambda c, t, p: (t / "static" / "x.txt").write_text("x", "utf-8"),
    "a free page": lambda c, t, p: _edit(next((c / "pages").glob("*.md")), "\n", "\n\n"),
    "the settings": lambda c, t, p: _edit(c / "site.yaml", "licence: ", "licence: 更正"),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_more_than_a_correction_is_a_whole_build(work, change):
    """With a goal corrected too: the whole build, and the same site."""
    content, templates, site, tmp = work
    path = _project_file(content)
    _goal(path)
    CHANGES[change](content, templates, path)
    t = _rebuild_and_compare(content, templates, site, tmp)
    assert not t.correction


def test_a_page_deleted_by_hand_is_a_whole_build(work):
    content, templates, site, tmp = work
    (site / "units" / "index.html").unlink()
    _goal(_project_file(content))
    t = _rebuild_and_compare(content, templates, site, tmp)
    assert not t.correction and (site / "units" / "index.html").is_file()


def test_a_data_file_changed_by_hand_is_a_whole_build(work):
    content, templates, site, tmp = work
    path = _project_file(content)
    data = site / "years" / path.parent.name / f"{path.parent.name}-projects.csv"
    data.write_bytes(data.read_bytes())
    _goal(path)
    t = _rebuild_and_compare(content, templates, site, tmp)
    assert not t.correction


def test_a_record_with_a_problem_is_reported_as_a_whole_build_reports_it(work):
    from jixiao.problems import ContentError
    content, templates, site, tmp = work
    path = _project_file(content)
    _edit(path, "\nyear: ", "\nyear: twenty # ")
    with pytest.raises(ContentError) as rebuilt:
        build(content, site, templates, log=None)
    with pytest.raises(ContentError) as clean:
        build(content, tmp / "clean", templates, log=None, incremental=False)
    assert [str(p) for p in rebuilt.value.problems] == [str(p) for p in clean.value.problems]


def test_strict_is_a_whole_build(work, capsys):
    content, templates, site, tmp = work
    _goal(_project_file(content))
    t = Timings()
    try:
        build(content, site, templates, log=None, strict=True, timings=t)
    except Exception:
        pass
    assert not t.correction


def test_warnings_are_reported_as_a_whole_build_reports_them(work, capsys):
    content, templates, site, tmp = work
    capsys.readouterr()
    build(content, tmp / "clean", templates, log="stderr", incremental=False)
    clean = [l for l in capsys.readouterr().err.splitlines() if ": warning: " in l]
    assert clean
    path = _project_file(content)
    _goal(path)
    t = Timings()
    build(content, site, templates, log="stderr", timings=t)
    assert t.correction
    assert [l for l in capsys.readouterr().err.splitlines() if ": warning: " in l] == clean


def test_the_records_with_warnings_are_found_by_their_index(work):
    """What a correction says again (every other record's warnings) is read through the
    partial index ``warned``, not by reading every row of the record cache."""
    import sqlite3
    from jixiao.record_cache import _ROW, WARNED
    content, templates, site, tmp = work
    with sqlite3.connect(site / ".build-cache" / "records.sqlite") as db:
        plan = db.execute(f"EXPLAIN QUERY PLAN SELECT {_ROW} FROM records WHERE {WARNED}")
        assert "USING INDEX warned" in str(plan.fetchall())
        assert db.execute(f"SELECT count(*) FROM records WHERE {WARNED}").fetchone()[0] > 0


def test_a_page_that_comes_to_read_more_than_its_unit_takes_the_whole_build(work, monkeypatch):
    """The project page made for a correction reads something its catalog cannot answer
    as the whole one does (here: every year): nothing is written, the whole build runs."""
    from jixiao import render, views
    content, templates, site, tmp = work
    real = views.project_view
    monkeypatch.setattr(render, "project_view",
                        lambda c, p, s: {**real(c, p, s), "n_years": len(c.years)})
    tried = []
    real_render = correction.Correction.render
    monkeypatch.setattr(correction.Correction, "render",
                        lambda self, *a: tried.append(1) or real_render(self, *a))
    _goal(_project_file(content))
    t = _rebuild_and_compare(content, templates, site, tmp)
    assert tried == [1] and not t.correction       # tried, then the whole build


def test_the_index_update_rewrites_small_segments_in_a_correction(work, monkeypatch):
    """Small segments are rewritten together once there are MAX_SMALL_SEGMENTS of them:
    a correction reads their projects from the cache to do so."""
    from jixiao.search import whoosh_index
    monkeypatch.setattr(whoosh_index, "SMALL_DOCS", 10)
    content, templates, site, tmp = work
    files = sorted(content.glob("*/*/*.yaml"))
    for path in files[:whoosh_index.MAX_SMALL_SEGMENTS + 1]:
        _goal(path)
        t = _rebuild_and_compare(content, templates, site, tmp)
        assert t.correction
    _whole_rebuild_makes_nothing(content, templates, site, tmp, monkeypatch)


def test_a_correction_with_the_static_index(work, monkeypatch):
    """The static search export (made from the whoosh index in a correction) equals a
    clean build's."""
    from jixiao.search import static_index
    monkeypatch.setattr(static_index, "PARALLEL_FROM", 1)
    content, templates, site, tmp = work
    _static_search(content, True)
    build(content, site, templates, log=None)
    _goal(_project_file(content))
    t = _rebuild_and_compare(content, templates, site, tmp)
    assert t.correction and (site / "search" / "index" / "current.json").is_file()


def test_a_page_that_comes_to_read_more_of_what_it_may_read_saves_its_reads(work, monkeypatch):
    """The page made for a correction reads a free page it did not read before: its reads
    are saved with the others (the reads file is written again), and the next whole
    rebuild keeps it."""
    from jixiao import render, views
    content, templates, site, tmp = work
    real = views.project_view
    monkeypatch.setattr(render, "project_view", lambda c, p, s: {
        **real(c, p, s),
        "x": c.page("about").title if "更正" in (p.goals.overall or "") else None})
    reads = site / ".build-cache" / "reads.json"
    before = reads.read_bytes()
    _goal(_project_file(content))
    t = _rebuild_and_compare(content, templates, site, tmp)
    assert t.correction and reads.read_bytes() != before
    assert b"page\\tabout" in reads.read_bytes()
    _whole_rebuild_makes_nothing(content, templates, site, tmp, monkeypatch)


def test_a_correction_that_reads_as_before_leaves_the_reads_file(work):
    content, templates, site, tmp = work
    reads = site / ".build-cache" / "reads.json"
    before = reads.stat().st_mtime_ns
    _goal(_project_file(content))
    assert _rebuild_and_compare(content, templates, site, tmp).correction
    assert reads.stat().st_mtime_ns == before


def test_a_reads_file_of_another_build_is_not_read(work):
    """The state names the reads file it was saved with: another one (a restored copy, a
    build stopped between the two files) is not used, and everything is made again."""
    content, templates, site, tmp = work
    reads = site / ".build-cache" / "reads.json"
    reads.write_bytes(reads.read_bytes().replace(b'{"id":"', b'{"id":"X', 1))
    _goal(_project_file(content))
    t = _rebuild_and_compare(content, templates, site, tmp)
    assert not t.correction and t.rendered > 100


def _state_files(site) -> dict:
    """The bytes of the build state's whole files (the manifest and render.json)."""
    from jixiao.build_state import BuildState
    return {name: (site / name).read_bytes() for name in (".manifest.json", BuildState.FILE)}


def test_corrections_save_a_delta_of_the_state_and_a_whole_build_folds_it_in(work, monkeypatch):
    """A correction leaves the state and the manifest as they are and saves what it
    changed beside them; the next correction adds to it (each one read back with what the
    ones before changed: equal to a clean build, and a whole rebuild after makes nothing);
    a whole build saves the state whole and removes the delta."""
    import json
    from jixiao.build_state import BuildState
    content, templates, site, tmp = work
    files = sorted(content.glob("*/*/*.yaml"))
    a = files[0]
    b = next(f for f in files if f.parent != a.parent)
    whole, delta = _state_files(site), site / BuildState.DELTA
    assert not delta.exists()
    for n, path in enumerate((a, b, a)):
        _goal(path, f"（第{n}次更正）")
        t = _rebuild_and_compare(content, templates, site, tmp)
        assert t.correction and _state_files(site) == whole
        saved = json.loads(delta.read_bytes())
        assert set(saved["records"]) == {p.stem for p in (a, b, a)[:n + 1]}
        assert f"projects/{path.stem}/index.html" in saved["manifest"]
    _whole_rebuild_makes_nothing(content, templates, site, tmp, monkeypatch)
    assert not delta.exists() and _state_files(site) != whole


def test_a_delta_past_its_share_of_the_state_saves_the_whole_state(work, monkeypatch):
    from jixiao.build_state import BuildState
    content, templates, site, tmp = work
    monkeypatch.setattr(BuildState, "DELTA_SHARE", 10 ** 9)
    monkeypatch.setattr(BuildState, "DELTA_MIN", 0)
    whole = _state_files(site)
    _goal(_project_file(content))
    t = _rebuild_and_compare(content, templates, site, tmp)
    assert t.correction and not (site / BuildState.DELTA).exists()
    assert all(a != b for a, b in zip(_state_files(site).values(), whole.values()))
    _whole_rebuild_makes_nothing(content, templates, site, tmp, monkeypatch)


def test_a_delta_of_another_state_is_not_read(work, monkeypatch):
    """A delta whose base is not the state beside it (restored from elsewhere, or left
    by a build stopped between the two) is ignored: the build still equals a clean one."""
    import json
    from jixiao.build_state import BuildState
    content, templates, site, tmp = work
    _goal(_project_file(content))
    build(content, site, templates, log=None)
    delta = site / BuildState.DELTA
    saved = json.loads(delta.read_bytes())
    saved["base"] = "ANOTHERSTATE"
    delta.write_text(json.dumps(saved))
    _goal(_project_file(content), "（再次）")
    _rebuild_and_compare(content, templates, site, tmp)
    _whole_rebuild_makes_nothing(content, templates, site, tmp, monkeypatch)
