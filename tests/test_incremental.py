"""Incremental builds produce exactly what a clean build produces.

Each case builds the seed content, changes something, rebuilds into the same directory
(incremental: ``.build-cache/render.json`` + reused index segments) and compares the result,
file by file, with a clean build of the changed content into an empty directory — all
files except the hidden index directory — and the search results of both indexes.
"""
from __future__ import annotations

import json

import shutil
from pathlib import Path

import pytest

from jixiao.search.whoosh_index import index_dir

from jixiao.build_state import current_manifest
from jixiao.pipeline import TEMPLATES, Timings, build
from jixiao.search import open_backend, parse_params

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ["燃气", "满意度", "公积金", "食堂", "≥90%", "管理", "项目", "", "燃气 安全", "更正"]


def _tree(out: Path) -> dict[str, bytes]:
    """The site's files; of the static search index, the generation ``current.json`` names
    (a rebuild keeps the one before it for pages still open in a browser)."""
    static = out / "search" / "index"
    current = json.loads((static / "current.json").read_text())["generation"] \
        if (static / "current.json").exists() else None
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and not {".search", ".build-cache"} & set(p.relative_to(out).parts)
            and not (p.is_relative_to(static) and p.parent != static
                     and p.relative_to(static).parts[0] != current)}


def _searches(out: Path) -> list:
    backend = open_backend(out)
    return [backend.search(parse_params({"q": [q], "page_size": ["50"]})) for q in QUERIES]


@pytest.fixture()
def work(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES, templates)
    _static_search(content, False)      # one test below turns it on (each build exports it)
    site = tmp_path / "site"
    build(content, site, templates, log=None)
    return content, templates, site, tmp_path


def _static_search(content: Path, on: bool) -> None:
    settings = content / "site.yaml"
    lines = [l for l in settings.read_text("utf-8").splitlines() if not l.startswith("static_search:")]
    settings.write_text("\n".join(lines + ["static_search: true"] * on) + "\n", "utf-8")


def test_static_search_index_after_a_correction_is_a_clean_builds(work):
    """The static export (search/index/<generation>/) of a rebuild equals a clean build's."""
    content, templates, site, tmp = work
    _static_search(content, True)
    build(content, site, templates, log=None)
    _edit(_project_file(content), "target: '>=95%'", "target: '>=96%'")
    _rebuild_and_compare(content, templates, site, tmp)
    assert (site / "search" / "index" / "current.json").is_file()


@pytest.fixture()
def full_reads(monkeypatch):
    """How many cached records were read in full (``StoredProject.full`` making one)."""
    from jixiao import stored
    count = [0]
    real = stored.StoredProject.full

    def counting(self):
        if self not in stored._RECENT:
            count[0] += 1
        return real(self)
    monkeypatch.setattr(stored.StoredProject, "full", counting)
    return count


def _rebuild_and_compare(content, templates, site, tmp_path) -> Timings:
    t = Timings()
    build(content, site, templates, log=None, timings=t)
    clean = tmp_path / "clean"
    shutil.rmtree(clean, ignore_errors=True)
    build(content, clean, templates, log=None, incremental=False)
    inc, ref = _tree(site), _tree(clean)
    inc[".manifest.json"] = json.dumps(current_manifest(site)).encode()   # with corrections'
    inc[".manifest.json"], ref[".manifest.json"] = _manifests(inc[".manifest.json"],
                                                              ref[".manifest.json"])
    assert sorted(inc) == sorted(ref)
    different = [path for path in ref if inc[path] != ref[path]]
    assert different == []
    assert _searches(site) == _searches(clean)
    assert _meta_rows(site) == _meta_rows(clean)
    return t


def _meta_rows(out: Path) -> dict:
    """project id → its row of the live generation's meta.json (facets, filters, sorting):
    an update keeps the rows of the documents it keeps, and makes the others."""
    from jixiao.search.whoosh_index import read_current
    live = index_dir(out) / read_current(index_dir(out))
    ids = json.loads((live / "ids.json").read_text("utf-8"))
    rows = json.loads((live / "meta.json").read_text("utf-8"))
    order = [pid for seg in ids["segments"].values() for pid in seg]
    assert len(order) == len(rows)
    return {pid: row for pid, row in zip(order, rows) if row is not None}


def _manifests(inc: bytes, ref: bytes) -> tuple[bytes, bytes]:
    """The two manifests with the entries the incremental build records by the file written
    (data files assembled from pieces: ``write.identity``) set aside as "file"."""
    import json
    a, b = json.loads(inc), json.loads(ref)
    files = {k for k, v in a.items() if v.startswith("file:")}
    assert files and all(k.endswith(("projects.json", "projects.csv", "indicators.csv"))
                         for k in files), files    # data files
    same = lambda m: json.dumps({k: "file" if k in files else v for k, v in m.items()},
                                sort_keys=True).encode()
    return same(a), same(b)


def _edit(path: Path, old: str, new: str) -> None:
    """Replace the first ``old`` in the file with ``new``."""
    path.write_text(path.read_text("utf-8").replace(old, new, 1), "utf-8")


def _project_file(content: Path) -> Path:
    return sorted(content.glob("sh-gjjglzx/*/*.yaml"))[0]


def test_unchanged_rebuild_renders_nothing_but_the_sitemap(work):
    content, templates, site, tmp = work
    t = _rebuild_and_compare(content, templates, site, tmp)
    assert t.rendered == 0


def test_change_one_record(work):
    content, templates, site, tmp = work
    path = _project_file(content)
    text = path.read_text("utf-8")
    text = text.replace("name: 互联网业务运行费", "name: 互联网业务运行费（更正）", 1)
    text = text.replace("target: '>=95%'", "target: '>=96%'", 1)
    path.write_text(text, "utf-8")
    t = _rebuild_and_compare(content, templates, site, tmp)
    # its page and JSON, its unit/year/department pages, lists, indicator pages, data files
    assert 0 < t.rendered < 40


def test_a_correction_makes_no_other_record_in_full(work, full_reads):
    """Records of unchanged files come back from the cache as summaries
    (``StoredProject``); correcting one target reads no other record in full, and the
    indicator pages' aggregate is the previous build's, yet the site is a clean build's."""
    from jixiao.stored import StoredProject
    content, templates, site, tmp = work
    path = _project_file(content)
    _edit(path, "target: '>=95%'", "target: '>=96%'")
    catalog = build(content, site, templates, log=None)
    assert full_reads[0] == 0
    fresh = [p.id for p in catalog.projects if not isinstance(p, StoredProject)]
    assert fresh == [path.stem]
    _rebuild_and_compare(content, templates, site, tmp)


def test_compiled_templates_are_kept_signed_and_a_changed_one_is_compiled_again(work):
    import json
    content, templates, site, tmp = work
    path = _project_file(content)
    _edit(path, "target: '>=95%'", "target: '>=96%'")
    build(content, site, templates, log=None)            # renders the home page again
    kept = json.loads((site / ".build-cache" / "render.json").read_text("utf-8"))["bytecode"]
    assert any(kept.values())
    home = templates / "home.html"
    _edit(home, "<h1>", "<h1 class=\"changed\">")
    _edit(path, "target: '>=96%'", "target: '>=97%'")
    _rebuild_and_compare(content, templates, site, tmp)
    assert '<h1 class="changed">' in (site / "index.html").read_text("utf-8")


def test_compiled_code_planted_in_the_cache_never_runs(work, monkeypatch):
    """A compiled template whose HMAC is not this user's key (a restored or planted cache)
    is compiled anew from its source instead of being run."""
    import base64
    import io
    import json
    import marshal
    import pickle
    from jinja2.bccache import bc_magic
    from jixiao import build_state
    content, templates, site, tmp = work
    _edit(_project_file(content), "target: '>=95%'", "target: '>=96%'")
    build(content, site, templates, log=None)
    cache = site / ".build-cache" / "render.json"
    saved = json.loads(cache.read_text("utf-8"))
    evil = compile("raise SystemExit('planted code ran')", "<planted>", "exec")
    for version, entries in saved["bytecode"].items():
        for name, (code, mac) in entries.items():
            stream = io.BytesIO(base64.b64decode(code))
            assert stream.read(len(bc_magic)) == bc_magic
            checksum = pickle.load(stream)     # jinja's header kept: only the code swapped
            planted = bc_magic + pickle.dumps(checksum, 2) + marshal.dumps(evil)
            entries[name] = [base64.b64encode(planted).decode(), mac]
    cache.write_text(json.dumps(saved), "utf-8")
    _edit(_project_file(content), "target: '>=96%'", "target: '>=97%'")
    _rebuild_and_compare(content, templates, site, tmp)       # ran no planted code
    monkeypatch.setattr(build_state, "signing_key", lambda: None)
    _edit(_project_file(content), "target: '>=97%'", "target: '>=98%'")
    _rebuild_and_compare(content, templates, site, tmp)       # no key: nothing kept, all fine


def test_nothing_the_build_reads_back_is_pickle(work):
    """Whoever can write the output folder (a restored CI cache) must not be able to run
    code through the build's caches: they are JSON and SQLite rows of JSON (compiled
    templates in them run only under this user's HMAC: the test below)."""
    import json
    import sqlite3
    content, templates, site, tmp = work
    _edit(_project_file(content), "target: '>=95%'", "target: '>=96%'")
    build(content, site, templates, log=None)
    cache = site / ".build-cache"
    assert sorted(p.name for p in cache.iterdir()) == ["folders.json", "reads.json",
                                                       "records.sqlite", "render.json"]
    json.loads((cache / "render.json").read_text("utf-8"))
    json.loads((cache / "folders.json").read_text("utf-8"))
    json.loads((cache / "reads.json").read_text("utf-8"))
    with sqlite3.connect(cache / "records.sqlite") as db:
        checks = [row[0] for row in db.execute("SELECT warnings FROM records")]
        types = {type(v) for row in db.execute("SELECT * FROM records") for v in row}
    assert len(checks) > 60
    for check in checks:
        json.loads(check)
    assert types <= {str, bytes, int, type(None)}      # plain values, nothing to unpickle


def test_a_poisoned_pickle_in_the_cache_is_never_loaded(work):
    """A render.pickle of an older version (or planted) is removed, not read."""
    import pickle
    content, templates, site, tmp = work

    class Boom:
        def __reduce__(self):
            return (exec, ("raise SystemExit('pickle was loaded')",))
    (site / ".build-cache" / "render.pickle").write_bytes(pickle.dumps(Boom()))
    _edit(_project_file(content), "target: '>=95%'", "target: '>=96%'")
    _rebuild_and_compare(content, templates, site, tmp)
    assert not (site / ".build-cache" / "render.pickle").exists()


def test_change_one_indicator_name(work):
    """The indicator pages' aggregate is made again when an indicator's name changes."""
    content, templates, site, tmp = work
    path = _project_file(content)
    _edit(path, "name: 预算执行率", "name: 预算执行率（更正）")
    _rebuild_and_compare(content, templates, site, tmp)
    assert any("预算执行率（更正）" in f.read_text("utf-8")
               for f in (site / "indicators").glob("*/index.html"))


def _mtimes(site: Path) -> dict[str, int]:
    return {f.parent.name: f.stat().st_mtime_ns for f in (site / "indicators").glob("*/index.html")}


def test_a_corrected_target_shown_on_an_indicator_page(work, full_reads):
    """The category pages show the target each sampled project gives an indicator: a
    corrected one is there after the rebuild, which equals a clean build (the aggregate is
    the previous build's, the changed project's targets read again); the pages that do
    not show it are kept, and no other record is read in full."""
    from jixiao.stored import StoredProject
    content, templates, site, tmp = work
    shown = site / "indicators/benefit/index.html"
    assert "&gt;=80%</span> · " in shown.read_text("utf-8")
    before = _mtimes(site)
    _edit(_project_file(content), "target: '>=80%'", "target: '>=81%'")
    t = _rebuild_and_compare(content, templates, site, tmp)
    html = shown.read_text("utf-8")
    assert "&gt;=81%</span> · " in html
    after = _mtimes(site)
    assert [name for name in before if before[name] != after[name]] == ["benefit"]
    assert 0 < t.rendered < 20
    # the clean build of _rebuild_and_compare reads every record; the rebuild none
    made = full_reads[0]
    catalog = build(content, site, templates, log=None)
    assert all(isinstance(p, StoredProject) for p in catalog.projects)
    assert full_reads[0] == made


def test_a_corrected_target_no_indicator_page_shows_keeps_them_all(work):
    """Only the first projects of each indicator name show their target: correcting
    another one re-renders no indicator page."""
    content, templates, site, tmp = work
    path = _project_file(content)
    assert "预算执行率" in path.read_text("utf-8")
    shown = (site / "indicators/input/index.html").read_text("utf-8")
    assert f'/projects/{path.stem}/">' in shown
    before = _mtimes(site)
    _edit(path, "target: '>=95%'", "target: '>=96%'")     # its 预算执行率: not sampled
    _rebuild_and_compare(content, templates, site, tmp)
    assert _mtimes(site) == before
    assert (site / "indicators/index.html").is_file()


def _data_files(site: Path) -> list[Path]:
    """The data files: the latest year's under /data/, each year's and each unit's."""
    found = [p for pattern in ("data/*.csv", "data/*.json", "years/*/*-*", "units/*/*-*")
             for p in sorted(site.glob(pattern))]
    assert len(found) > 20 and site / "years/2026/2026-projects.json" in found
    return found


def test_a_data_file_changed_on_disk_is_not_copied_from(work):
    """Pieces of unchanged projects are copied from the data files on disk only when these
    hold the bytes the previous build wrote."""
    content, templates, site, tmp = work
    for target in _data_files(site):
        data = target.read_bytes()
        target.write_bytes(data.replace("预算".encode(), "XX".encode()))
    path = _project_file(content)
    _edit(path, "target: '>=95%'", "target: '>=96%'")
    _rebuild_and_compare(content, templates, site, tmp)


def test_a_data_file_with_other_bytes_but_the_same_size_and_mtime_is_not_copied_from(work):
    """Checked by content: another build or a hand edit that keeps the size and restores
    the mtime (as ``cp -p`` or a cache restore does) is still seen."""
    import os
    content, templates, site, tmp = work
    touched = 0
    for target in _data_files(site):
        st = target.stat()
        data = target.read_bytes()
        changed = data.replace("预算".encode(), "XXXXXX".encode())
        assert len(changed) == len(data)
        touched += changed != data
        target.write_bytes(changed)
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert touched >= 10
    path = _project_file(content)
    _edit(path, "target: '>=95%'", "target: '>=96%'")
    _rebuild_and_compare(content, templates, site, tmp)


def test_change_one_goal_text_keeps_the_lists(work):
    content, templates, site, tmp = work
    path = _project_file(content)
    _edit(path, "项目预期总目标：", "项目预期总目标（更正）：")
    t = _rebuild_and_compare(content, templates, site, tmp)
    assert 0 < t.rendered < 20


def test_change_one_template(work):
    content, templates, site, tmp = work
    unit = templates / "unit.html"
    _edit(unit, "</h1>", "</h1>\n<!-- changed -->")
    t = _rebuild_and_compare(content, templates, site, tmp)
    assert t.rendered == len(list(content.glob("*/unit.yaml")))    # the unit pages only


def test_project_template_changed_renders_stored_projects_in_workers(work, monkeypatch):
    """Every project page again, made in forked workers from records the cache holds as
    summaries: each worker reads their JSON over a connection of its own."""
    from jixiao import render
    from jixiao.stored import StoredProject
    content, templates, site, tmp = work
    monkeypatch.setattr(render, "PARALLEL_MIN", 1)
    page = templates / "project.html"
    _edit(page, "</h1>", "</h1>\n<!-- changed -->")
    t = _rebuild_and_compare(content, templates, site, tmp)
    assert t.rendered == len(list(content.glob("*/*/*.yaml")))
    catalog = build(content, site, templates, log=None)
    assert all(isinstance(p, StoredProject) for p in catalog.projects)


def test_list_template_changed_renders_its_pages_in_workers(work, monkeypatch):
    """The list pages are made by the same workers as the projects' outputs: a changed
    unit.html renders each unit's list there, and the site is a clean build's."""
    from jixiao import render
    content, templates, site, tmp = work
    monkeypatch.setattr(render, "PARALLEL_MIN", 1)
    _edit(templates / "unit.html", "</h1>", "</h1>\n<!-- changed -->")
    t = _rebuild_and_compare(content, templates, site, tmp)
    units = len(list(content.glob("*/unit.yaml")))
    assert t.rendered == units
    assert (site / "units").is_dir() and all(
        "<!-- changed -->" in (d / "index.html").read_text("utf-8")
        for d in (site / "units").iterdir() if d.is_dir() and not d.name.startswith("page-"))


def test_add_and_delete_a_record(work):
    content, templates, site, tmp = work
    source = _project_file(content)
    new = source.with_name(source.stem[:-2] + "99.yaml")
    new.write_text(source.read_text("utf-8").replace(f"id: {source.stem}", f"id: {new.stem}", 1),
                   "utf-8")
    _rebuild_and_compare(content, templates, site, tmp)
    assert (site / "projects" / new.stem / "index.html").is_file()
    new.unlink()
    sorted(content.glob("sh-fwglj/*/*.yaml"))[0].unlink()
    _rebuild_and_compare(content, templates, site, tmp)
    assert not (site / "projects" / new.stem).exists()


def test_a_record_of_a_new_year_moves_the_latest_data_files_and_back(work):
    """/data/projects.json and the two CSVs under /data/ are the latest year's: a record
    of a new year makes them that year's, and removing it makes them the year before's
    again; each rebuild equals a clean build, /data/index.json included."""
    content, templates, site, tmp = work
    latest = json.loads((site / "data/index.json").read_text("utf-8"))["latest"]
    source = _project_file(content)
    text = source.read_text("utf-8").replace(f"id: {source.stem}", "id: sh-gjjglzx-2031-01", 1)
    new = content / "sh-gjjglzx" / "2031" / "sh-gjjglzx-2031-01.yaml"
    new.parent.mkdir()
    new.write_text(text.replace(f"year: {source.parent.name}", "year: 2031", 1)
                   .replace(f"{source.parent.name}-", "2031-"), "utf-8")
    _rebuild_and_compare(content, templates, site, tmp)
    index = json.loads((site / "data/index.json").read_text("utf-8"))
    assert index["latest"] == 2031 and index["years"][0]["projects"] == 1
    assert [p["id"] for p in json.loads((site / "data/projects.json").read_text("utf-8"))] == [
        "sh-gjjglzx-2031-01"]
    for name in ("projects.json", "projects.csv", "indicators.csv"):     # one file, two names
        assert (site / "data" / name).samefile(site / f"years/2031/2031-{name}")
    shutil.rmtree(new.parent)
    _rebuild_and_compare(content, templates, site, tmp)
    assert json.loads((site / "data/index.json").read_text("utf-8"))["latest"] == latest
    assert not (site / "years/2031").exists()
    for name in ("projects.json", "projects.csv", "indicators.csv"):     # linked to the kept file
        assert (site / "data" / name).samefile(site / f"years/{latest}/{latest}-{name}")


def test_a_same_named_project_in_another_year_is_linked_and_unlinked(work):
    """A project page links its unit's same-named projects of other years: adding one
    re-renders the page with the link, renaming it away removes the link, and each
    rebuild equals a clean build (the page's key holds the linked projects)."""
    content, templates, site, tmp = work
    source = _project_file(content)                       # sh-gjjglzx, 2020
    name = source.read_text("utf-8").split("\nname: ", 1)[1].split("\n", 1)[0]
    first = site / "projects" / source.stem / "index.html"
    assert "其他年度" not in first.read_text("utf-8")
    other = content / "sh-gjjglzx" / "2021" / "sh-gjjglzx-2021-01.yaml"
    other.parent.mkdir()
    other.write_text(source.read_text("utf-8")
                     .replace(f"id: {source.stem}", f"id: {other.stem}", 1)
                     .replace("year: 2020", "year: 2021", 1)
                     .replace(f"name: {name}", f"name: {name[:2]} {name[2:]}", 1), "utf-8")
    _rebuild_and_compare(content, templates, site, tmp)
    assert f'<a href="/projects/{other.stem}/">2021年度</a>' in first.read_text("utf-8")
    _edit(other, f"name: {name[:2]} {name[2:]}", f"name: {name}（新）")
    _rebuild_and_compare(content, templates, site, tmp)
    assert "其他年度" not in first.read_text("utf-8")


def test_change_a_unit_name(work):
    content, templates, site, tmp = work
    unit = content / "sh-gjjglzx" / "unit.yaml"
    _edit(unit, "name: 上海市公积金管理中心", "name: 上海市住房公积金管理中心")
    _rebuild_and_compare(content, templates, site, tmp)


def test_a_unit_moved_to_another_department_moves_its_projects_in_the_lists(work):
    """No project changed, but the department lists are made of units: they are made
    again (a rebuild values list reads again when a unit changed)."""
    content, templates, site, tmp = work
    unit = content / "sh-gjjglzx" / "unit.yaml"
    _edit(unit, "department: null", "department: 上海市住房和城乡建设管理委员会")
    _rebuild_and_compare(content, templates, site, tmp)
    _edit(unit, "department: 上海市住房和城乡建设管理委员会", "department: null")
    _rebuild_and_compare(content, templates, site, tmp)


def test_a_correction_values_again_only_the_reads_it_can_have_changed(work, monkeypatch):
    """Reads of the projects whose record is unchanged, and of the lists when no project
    changed what lists show, are not valued again (nor to be saved for the next build):
    correcting a target values that project's reads and the reads of the site (templates,
    settings, units…), not the hundreds of reads of projects and lists of the previous
    build (322,847 at 100,000 projects)."""
    from jixiao import reads
    content, templates, site, tmp = work
    valued = []
    real = reads.Values._value
    monkeypatch.setattr(reads.Values, "_value", lambda self, t: valued.append(t) or real(self, t))
    build(content, site, templates, log=None)               # nothing changed
    saved = json.loads((site / ".build-cache" / "render.json").read_text("utf-8"))
    before = saved["values"]
    assert not any(t[:2] in ("r\t", "p\t") or t.startswith(("all\t", "slice\t", "len\t"))
                   for t in valued)
    valued.clear()
    project = _project_file(content)
    _edit(project, "target: '>=95%'", "target: '>=96%'")
    build(content, site, templates, log=None)
    projects = {t.split("\t")[1] for t in valued if t[:2] in ("r\t", "p\t")}
    assert projects == {project.stem}
    lists = {t for t in valued if t.startswith(("all\t", "slice\t", "len\t"))}
    assert lists == {f"len\tother\t{project.stem}"}     # what its own page, made again, reads
    assert sum(t.startswith(("all\t", "slice\t", "len\t")) for t in before) > 100
    # what records and summaries are worth is saved by project, not by read
    assert not any(t[:2] in ("r\t", "p\t") for t in before)
    assert len(saved["projects"]["ids"].split("\n")) == len(list(content.glob("*/*/*.yaml")))
    monkeypatch.undo()
    _rebuild_and_compare(content, templates, site, tmp)


def test_parallel_build_is_byte_identical(work, monkeypatch):
    """Load and render in a pool of processes (as for ≥ 500 records) make the same site."""
    from jixiao import render, validate
    content, templates, site, tmp = work
    monkeypatch.setattr(render, "PARALLEL_MIN", 1)
    monkeypatch.setattr(validate, "PARALLEL_MIN", 1)
    par = tmp / "parallel"
    catalog = build(content, par, templates, log=None, incremental=False)
    assert {type(p).__name__ for p in catalog.projects} == {"StoredProject"}   # as JSON
    built, ref = _tree(par), _tree(site)
    ref[".manifest.json"], built[".manifest.json"] = _manifests(ref[".manifest.json"],
                                                                built[".manifest.json"])
    assert built == ref
    assert _searches(par) == _searches(site)


def test_prefetch_tolerates_what_cannot_be_read(tmp_path):
    """The read-ahead hint is only a hint: a missing file or a folder is left to the reader,
    which reports it."""
    from jixiao.validate import _prefetch
    (tmp_path / "a.yaml").write_text("id: a\n", "utf-8")
    _prefetch([tmp_path / "a.yaml", tmp_path / "missing.yaml", tmp_path])


def test_parallel_template_error_is_located(work, monkeypatch):
    from jixiao import render
    from jixiao.problems import ContentError
    content, templates, site, tmp = work
    monkeypatch.setattr(render, "PARALLEL_MIN", 1)
    (templates / "project.html").write_text("ok\n{{ project.no_such_field }}", "utf-8")
    with pytest.raises(ContentError) as exc:
        build(content, tmp / "p", templates, log=None, incremental=False)
    [problem] = exc.value.problems
    assert (problem.path, problem.line) == (str(templates / "project.html"), 2)


def test_index_beside_render_gives_the_same_index(work, monkeypatch):
    """The index prepared in a child process while the site renders (as for ≥ 400
    projects) is the one this process would write, for a full and for an updated index."""
    from jixiao import pipeline
    content, templates, site, tmp = work
    monkeypatch.setattr(pipeline, "INDEX_BESIDE_FROM", 1)
    beside = tmp / "beside"
    build(content, beside, templates, log=None)
    live = lambda out: (index_dir(out) / "CURRENT").read_text()
    assert live(beside) == live(site)
    assert _searches(beside) == _searches(site)
    path = _project_file(content)
    _edit(path, "name: ", "name: 更正")
    _rebuild_and_compare(content, templates, beside, tmp)


def test_a_failed_build_stops_the_index_and_leaves_the_live_one(work, monkeypatch):
    """A template error while the index is being prepared beside: the child is stopped, its
    half-written generation removed, and the live index is the previous one."""
    import multiprocessing
    from jixiao import pipeline
    from jixiao.problems import ContentError
    content, templates, site, tmp = work
    monkeypatch.setattr(pipeline, "INDEX_BESIDE_FROM", 1)
    before = sorted(p.name for p in (index_dir(site)).iterdir())
    path = _project_file(content)
    _edit(path, "name: ", "name: 更正")
    (templates / "project.html").write_text("{{ project.no_such_field }}", "utf-8")
    with pytest.raises(ContentError):
        build(content, site, templates, log=None)
    assert sorted(p.name for p in (index_dir(site)).iterdir()) == before
    assert multiprocessing.active_children() == []
    assert not (site.parent / ".site.staging").exists()      # what was made before the error


def test_outputs_wait_beside_the_site_not_in_memory(work, monkeypatch):
    """What a build makes goes to a folder beside the site as it is made (``write.Spill``):
    by the write step the outputs hold paths and digests, not bytes (in workers too); the
    folder is gone once the site is written, and the site is a clean build's."""
    from jixiao import pipeline, render
    content, templates, site, tmp = work
    monkeypatch.setattr(render, "PARALLEL_MIN", 1)
    seen = {}
    real = pipeline.write_site

    def write_site(outputs, out, then=None, manifest=None, others=False):
        seen["in memory"] = [o.path for o in outputs if o.data is not None]
        seen["spilled"] = sum(1 for o in outputs if o.staged and Path(o.staged).is_file())
        return real(outputs, out, then, manifest, others)
    monkeypatch.setattr(pipeline, "write_site", write_site)
    (templates / "project.html").write_text(
        (templates / "project.html").read_text("utf-8") + "\n", "utf-8")
    _edit(_project_file(content), "target: '>=95%'", "target: '>=96%'")
    _rebuild_and_compare(content, templates, site, tmp)
    assert seen["in memory"] == [] and seen["spilled"] > 2 * len(list(content.glob("*/*/*.yaml")))
    assert not (site.parent / ".site.staging").exists()


def test_record_cache_keeps_warnings_and_never_hides_a_problem(work, capsys):
    """Records of unchanged files come from <out>/.build-cache; their warnings are still
    reported, and a file with an error is read (and refused) on every build."""
    import io
    from jixiao.problems import ContentError
    content, templates, site, tmp = work
    assert (site / ".build-cache" / "records.sqlite").is_file()
    first, second = io.StringIO(), io.StringIO()
    build(content, tmp / "w", templates, log=first)
    build(content, tmp / "w", templates, log=second)         # every record from the cache
    warnings = lambda s: [x for x in s.getvalue().splitlines() if "warning:" in x]
    assert warnings(first) and warnings(first) == warnings(second)
    path = _project_file(content)
    good = path.read_text("utf-8")
    path.write_text(good.replace("year:", "year: [", 1), "utf-8")
    for _ in range(2):
        with pytest.raises(ContentError):
            build(content, tmp / "w", templates, log=None)
    path.write_text(good, "utf-8")
    build(content, tmp / "w", templates, log=None)


def _segments(site: Path) -> list[tuple[int, int]]:
    """(documents, deleted) of each segment of the live index generation."""
    from whoosh.filedb.filestore import FileStorage
    from whoosh.index import TOC
    root = index_dir(site)
    gen = root / (root / "CURRENT").read_text().strip()
    return [(s.doc_count_all(), s.deleted_count()) for s in TOC.read(FileStorage(str(gen)), "MAIN").segments]


def test_index_updates_only_changed_documents(work, monkeypatch):
    """A changed record is deleted where it was and written into a small new segment; a
    removed one is deleted; small segments are rewritten together once there are
    MAX_SMALL_SEGMENTS of them; every state searches exactly like a clean build."""
    from jixiao.search import whoosh_index
    from jixiao.search.whoosh_index import MAX_SMALL_SEGMENTS
    monkeypatch.setattr(whoosh_index, "SMALL_DOCS", 10)      # the 60 seed projects are not small
    content, templates, site, tmp = work
    n = len(list(content.glob("*/*/*.yaml")))
    assert _segments(site) == [(n, 0)]
    files = sorted(content.glob("*/*/*.yaml"))
    for k, path in enumerate(files[:MAX_SMALL_SEGMENTS]):
        _edit(path, "name: ", "name: 更正")
        _rebuild_and_compare(content, templates, site, tmp)
        assert _segments(site) == [(n, k + 1)] + [(1, 0)] * (k + 1)
    path = files[MAX_SMALL_SEGMENTS]                  # the fifth change rewrites the small ones
    _edit(path, "name: ", "name: 更正")
    _rebuild_and_compare(content, templates, site, tmp)
    assert _segments(site) == [(n, MAX_SMALL_SEGMENTS + 1), (MAX_SMALL_SEGMENTS + 1, 0)]
    files[-1].unlink()                                # a removed record: deleted, nothing added
    _rebuild_and_compare(content, templates, site, tmp)
    assert _segments(site) == [(n, MAX_SMALL_SEGMENTS + 2), (MAX_SMALL_SEGMENTS + 1, 0)]


def test_build_pauses_the_cycle_collector_and_restores_it(work, monkeypatch):
    """No cyclic GC during a build (millions of long-lived objects); the collector's state
    is restored afterwards, also when the build fails."""
    import gc
    from jixiao import pipeline
    from jixiao.problems import ContentError
    content, templates, site, tmp = work
    seen = []
    real = pipeline.load_content

    def spy(*args, **kwargs):
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "load_content", spy)
    assert gc.isenabled()
    build(content, site, templates, log=None, incremental=False)
    assert seen == [False] and gc.isenabled()
    _project_file(content).write_text("year: [", "utf-8")
    with pytest.raises(ContentError):
        build(content, site, templates, log=None)
    assert gc.isenabled()
    gc.disable()                                      # a caller that had it off keeps it off
    try:
        with pytest.raises(ContentError):
            build(content, site, templates, log=None)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_remove_stale_keeps_what_may_still_be_written(tmp_path):
    """A temporary index directory goes when the process making it has ended; one of a
    running process, one of another layout younger than an hour and every generation
    stay (generations go only when publish names what to keep)."""
    import os
    import subprocess
    import sys
    from jixiao.search.whoosh_index import index_dir, remove_stale
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True).stdout.strip()
    root = index_dir(tmp_path)
    names = [f"tmp-{ended}-g-0123abcd-x1", f"tmp-{os.getpid()}-g-4567ef01-x2", "tmp-old-layout",
             "g-0123abcd", "g-4567ef01"]
    for name in names:
        (root / name).mkdir(parents=True)
    remove_stale(tmp_path)
    assert sorted(p.name for p in root.iterdir()) == sorted(names[1:])
    remove_stale(tmp_path, keep={"g-4567ef01"})
    assert sorted(p.name for p in root.iterdir()) == sorted(names[1:3] + ["g-4567ef01"])


def test_a_site_removed_and_rebuilt_is_searched_anew(work):
    """The same content rebuilt into a removed site makes a generation of the same name in
    a new folder: the backend opens it, not the one it had (whose files are gone)."""
    from jixiao.search import open_backend
    content, templates, site, tmp = work
    backend = open_backend(site)
    first = _searches(site)
    before = backend._current()
    shutil.rmtree(site)
    shutil.rmtree(index_dir(site))
    build(content, site, templates, log=None)
    after = backend._current()
    assert after.name == before.name and after is not before
    assert _searches(site) == first


def test_current_naming_a_missing_generation_is_no_index(tmp_path):
    """CURRENT naming a folder that is gone (removed by hand) is 'no index yet' (a 503 page
    in the server), not an error."""
    from jixiao.search import NoIndex, WhooshBackend, parse_params
    root = index_dir(tmp_path)
    root.mkdir()
    (root / "CURRENT").write_text("g-0123456789abcdef0123\n", "utf-8")
    with pytest.raises(NoIndex):
        WhooshBackend(tmp_path).search(parse_params({"q": ["燃气"]}))


def test_segment_files_are_not_taken_from_another_file_with_the_same_inode(tmp_path):
    """The server opens segment files once, by file.  A removed segment's inode may be
    given at once to a new file (a site removed and built again); the same inode with
    other bytes (here: the file rewritten in place) must be opened again."""
    import os
    import time
    from jixiao.search.whoosh_search import _SharedStorage
    seg = tmp_path / "MAIN_x.seg"
    seg.write_bytes(b"old segment bytes")
    cache: dict = {}
    storage = _SharedStorage(tmp_path, cache)
    assert storage.open_file("MAIN_x.seg").read() == b"old segment bytes"
    inode = seg.stat().st_ino
    time.sleep(0.01)
    with open(seg, "r+b") as fh:                     # same inode, other bytes
        fh.truncate(0)
        fh.write(b"new bytes")
    assert seg.stat().st_ino == inode
    assert storage.open_file("MAIN_x.seg").read() == b"new bytes"
    os.link(seg, tmp_path / "MAIN_y.seg")            # a hard link shares the open file
    assert storage.open_file("MAIN_y.seg").read() == b"new bytes"
    assert len(cache) == 2
    import io                                        # read where needed, not held in memory
    assert all(isinstance(f, io.FileIO) for f in cache.values())


def test_the_catalog_is_freed_with_the_build_not_by_the_cycle_collector(work):
    """Reference counting frees the catalog when the caller drops it: jinja's cycles do
    not hold it (the cycle collector then walked 10,000 projects at exit, and the preview
    server kept every old catalog until a full collection)."""
    import gc
    import weakref
    content, templates, site, tmp = work
    gc.collect()
    gc.disable()
    try:
        catalog = build(content, site, templates, log=None)
        gone = weakref.ref(catalog)
        del catalog
        assert gone() is None
    finally:
        gc.enable()


def test_another_version_of_a_library_that_shapes_pages_renders_everything(monkeypatch):
    """The code version covers the libraries that make records and pages, not only this
    package: an upgraded Jinja2 or markdown-it-py must not leave pages it would render
    differently kept from the previous build."""
    from importlib import metadata
    from jixiao import pipeline
    before = pipeline.code_version()
    real = metadata.version
    for name in pipeline.OUTPUT_LIBRARIES:
        monkeypatch.setattr(metadata, "version",
                            lambda n, name=name: "0.0.1" if n == name else real(n))
        assert pipeline.code_version() != before, name
    monkeypatch.setattr(metadata, "version", real)
    assert pipeline.code_version() == before


_KILLED_BUILD = """
import os, sys
from pathlib import Path
sys.path.insert(0, {root!r})
replaced = 0
real = os.replace
def replace(a, b):
    global replaced
    replaced += not str(b).endswith(".jixiao.tmp")     # (a spilled output staged: not counted)
    if replaced == {kill_at}:
        os._exit(137)                  # as SIGKILL: no finally, no cleanup
    real(a, b)
os.replace = replace
from jixiao.pipeline import build
build(Path({content!r}), Path({site!r}), Path({templates!r}), log=None)
"""


@pytest.mark.parametrize("kill_at", [2, 5])
def test_a_build_killed_while_writing_leaves_nothing_the_next_build_calls_current(work, kill_at):
    """Kill a rebuild after the journal and a few files are replaced (or with every file
    staged and none replaced), revert the edit, rebuild: the site is a clean build's, and
    no temporary file or journal is left."""
    import subprocess
    import sys
    content, templates, site, tmp = work
    path = _project_file(content)
    before = path.read_text("utf-8")
    name = next(line for line in before.splitlines() if line.startswith("name: "))
    _edit(path, name, name + "（被中断的更正）")
    script = _KILLED_BUILD.format(root=str(ROOT), kill_at=kill_at, content=str(content),
                                  site=str(site), templates=str(templates))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 137, done.stderr
    assert (site / ".write-journal.json").exists()
    leftovers = [p for p in site.rglob("*.jixiao.tmp")]
    assert leftovers if kill_at == 2 else True
    path.write_text(before, "utf-8")
    _rebuild_and_compare(content, templates, site, tmp)
    assert not list(site.rglob("*.tmp")) and not (site / ".write-journal.json").exists()
    assert not (site.parent / ".site.staging").exists()
    assert "被中断的更正" not in (site / "data" / "projects.json").read_text("utf-8")


@pytest.fixture()
def paged(tmp_path, monkeypatch):
    """The seed site with lists of 7 projects per page (60 projects: 9 pages of /projects/)."""
    import jixiao.views
    monkeypatch.setattr(jixiao.views, "PAGE_SIZE", 7)
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES, templates)
    site = tmp_path / "site"
    catalog = build(content, site, templates, log=None)
    return content, templates, site, tmp_path, catalog


def test_long_lists_are_pages_that_hold_every_project_once(paged):
    import re
    content, templates, site, tmp, catalog = paged
    lists = {"projects/": catalog.projects,
             **{f"years/{y}/": ps for y, ps in catalog.by_year.items()},
             **{u.url.lstrip("/"): catalog.by_unit[u.id] for u in catalog.units.values()}}
    for base, projects in lists.items():
        count = max(1, -(-len(projects) // 7))
        pages = [site / base / "index.html"] + [site / base / f"page-{k}" / "index.html"
                                                for k in range(2, count + 1)]
        assert not (site / base / f"page-{count + 1}").exists()
        linked = []
        for n, page in enumerate(pages, 1):
            html = page.read_text("utf-8")
            rows = re.findall(r'<th scope="row"><a href="/projects/([^/"]+)/">', html)
            assert len(rows) == (7 if n < count else len(projects) - 7 * (count - 1)), (base, n)
            linked += rows
            if count > 1:
                assert f"第 {n} 页，共 {count} 页" in html and "本页合计" in html
        assert linked == [p.id for p in projects], base          # site order, each once


def test_renaming_a_project_renders_only_the_list_pages_that_show_it(paged):
    content, templates, site, tmp, catalog = paged
    path = sorted(content.glob("sh-zfhcxjsglwyh/2020/*.yaml"))[3]      # on a later page
    pid = path.stem
    text = path.read_text("utf-8")
    name = next(line for line in text.splitlines() if line.startswith("name: "))
    path.write_text(text.replace(name, name + "（更名）", 1), "utf-8")
    import time
    before = {p: p.stat().st_mtime_ns for p in site.rglob("index.html")}
    time.sleep(0.01)
    t = _rebuild_and_compare(content, templates, site, tmp)
    changed = sorted(str(p.relative_to(site).parent) for p, m in before.items()
                     if p.exists() and p.stat().st_mtime_ns != m)
    list_pages = [c for c in changed if c.startswith(("projects", "years/", "units/"))
                  and not c.startswith(f"projects/{pid}")]
    index = [p.id for p in catalog.projects].index(pid)
    page = index // 7 + 1
    assert f"projects/page-{page}" in changed or (page == 1 and "projects" in changed)
    assert len([c for c in list_pages if c.startswith("projects")]) == 1, list_pages
    # the pages that count and total it (home, the indexes of units, departments and years)
    # read what totals read of it, not its name
    assert not {".", "units", "departments", "years"} & set(changed), changed
    assert t.rendered < 30


def test_units_list_is_pages_that_hold_every_unit_once(tmp_path, monkeypatch):
    import re
    import jixiao.views
    monkeypatch.setattr(jixiao.views, "UNITS_PER_PAGE", 5)
    catalog = build(ROOT / "content", tmp_path / "site", log=None)
    count = -(-len(catalog.units) // 5)
    seen = []
    for k in range(1, count + 1):
        page = tmp_path / "site" / "units" / ("" if k == 1 else f"page-{k}") / "index.html"
        html = page.read_text("utf-8")
        seen += re.findall(r'<th scope="row"><a href="/units/([^/"]+)/">', html)
        assert f"第 {k} 页，共 {count} 页" in html
    assert seen == list(catalog.units)
    assert not (tmp_path / "site" / "units" / f"page-{count + 1}").exists()


def _assembled(out: Path, pieces: dict[str, tuple[str, bytes]]):
    """Data file projects.json made of ``pieces`` (id → (key, bytes)) by a BuildState on
    ``out``, written and saved as a build does; the Parts it was written from."""
    from jixiao.build_state import BuildState
    from jixiao.outputs import Outputs
    from jixiao.write import write_site
    state = BuildState(out)
    parts = state.assemble("data/projects.json", b"[\n", b",\n", b"\n]\n",
                           [(pid, key, lambda b=b: b) for pid, (key, b) in pieces.items()])
    state.keys["data/projects.json"] = "made"       # as a build keys what it rendered
    outputs = Outputs()
    outputs.add("data/projects.json", parts, "test")
    write_site(outputs, out, then=lambda stats: state.save(stats.manifest))
    return parts


def test_a_data_file_copies_runs_of_unchanged_pieces_from_the_file_on_disk(tmp_path):
    """Unchanged pieces next to each other on disk are one kernel copy (a ``Span`` with the
    separators between them); a changed, moved, new or removed piece breaks the run.  The
    file written is byte for byte the one a fresh assembly makes."""
    from jixiao.outputs import Span
    first = {f"p{i}": (f"k{i}", f'{{"id": "p{i}", "text": "{"文" * i}"}}'.encode()) for i in range(8)}
    _assembled(tmp_path, first)
    want = lambda ps: b"[\n" + b",\n".join(b for _, b in ps.values()) + b"\n]\n"  # noqa: E731
    assert (tmp_path / "data/projects.json").read_bytes() == want(first)

    second = dict(first)
    second["p3"] = ("k3b", b'{"id": "p3", "text": "changed"}')
    del second["p6"]
    second = {"p7": second.pop("p7"), **second, "p8": ("k8", b'{"id": "p8"}')}
    parts = _assembled(tmp_path, second)
    assert (tmp_path / "data/projects.json").read_bytes() == want(second)
    spans = [(p.start, p.end) for p in parts if isinstance(p, Span)]
    old = want(first)
    # p7 (moved first), p0–p2 (one run), p4–p5 (one run): three copies; p3, p8 made
    assert len(spans) == 3
    assert [old[s:e].count(b'"id"') for s, e in spans] == [1, 3, 2]

    # and again on top of the file just written (its pieces recorded where they are now)
    third = {**second, "p0": ("k0b", b'{"id": "p0", "text": "again"}')}
    _assembled(tmp_path, third)
    assert (tmp_path / "data/projects.json").read_bytes() == want(third)


def test_a_list_template_that_comes_to_show_a_field_outside_the_summary_stays_right(work):
    """Lists are keyed by their projects' summaries.  A list template changed to show a
    goal (not in the summary) records reading it: a later correction of that goal renders
    the lists that show it again, and the site equals a clean build."""
    content, templates, site, tmp = work
    _edit(templates / "_macros.html", "<a href=\"{{ p.url }}\">{{ p.name }}</a></th>",
          "<a href=\"{{ p.url }}\">{{ p.name }}</a> <small>{{ (p.goals.overall or '')[:12] }}</small></th>")
    _rebuild_and_compare(content, templates, site, tmp)
    path = _project_file(content)
    _edit(path, "项目预期总目标：", "更正后的总目标：")
    t = _rebuild_and_compare(content, templates, site, tmp)
    assert "更正后的总目标" in (site / "units" / "sh-gjjglzx" / "index.html").read_text("utf-8")
    assert 0 < t.rendered < 40


def test_a_project_page_that_comes_to_show_another_projects_field_stays_right(work):
    """The same for a project page: one that shows, beside the link to its unit's
    same-named project of another year, a field of that project records reading it, and is
    rendered again when that field is corrected."""
    content, templates, site, tmp = work
    _edit(templates / "project.html", "{{ q.year }}年度</a>",
          "{{ q.year }}年度（{{ q.indicators|length }} 项指标）</a>")
    source = _project_file(content)                       # sh-gjjglzx, 2020
    other = content / "sh-gjjglzx" / "2021" / "sh-gjjglzx-2021-01.yaml"
    other.parent.mkdir()
    other.write_text(source.read_text("utf-8")
                     .replace(f"id: {source.stem}", f"id: {other.stem}", 1)
                     .replace("year: 2020", "year: 2021", 1), "utf-8")
    _rebuild_and_compare(content, templates, site, tmp)
    first = site / "projects" / source.stem / "index.html"
    count = source.read_text("utf-8").count("\n- level1: ")
    assert f"2021年度（{count} 项指标）" in first.read_text("utf-8")
    text = other.read_text("utf-8")
    start = text.index("\n- level1: ") + 1
    other.write_text(text[:start] + text[text.index("\n- level1: ", start) + 1:], "utf-8")
    _rebuild_and_compare(content, templates, site, tmp)          # one indicator fewer
    assert f"2021年度（{count - 1} 项指标）" in first.read_text("utf-8")


def _first_of_newest_year(catalog) -> tuple[str, Path]:
    year = max(catalog.by_year)
    p = catalog.by_year[year][0]
    return p.id, Path(catalog.origins[("project", p.id)])


def test_a_view_that_comes_to_read_a_field_outside_the_summary_stays_right(work, monkeypatch):
    """What a page's view (Python, not its template) reads is recorded too: a year page
    whose view comes to read the goal of its first project (not in the summary) is made
    again when that goal is corrected, and the site equals a clean build."""
    import jixiao.render as R
    content, templates, site, tmp = work
    real = R.year_view
    monkeypatch.setattr(R, "year_view", lambda c, year, projects: {
        **real(c, year, projects), "first_goal": projects[0].goals.overall})
    _edit(templates / "year.html", "{% block main %}", "{% block main %}<p id=goal>{{ first_goal }}</p>")
    catalog = build(content, site, templates, log=None)
    pid, path = _first_of_newest_year(catalog)
    _edit(path, "overall: ", "overall: 更正：")
    t = _rebuild_and_compare(content, templates, site, tmp)
    year = max(catalog.by_year)
    assert "<p id=goal>更正：" in (site / "years" / str(year) / "index.html").read_text("utf-8")
    assert 0 < t.rendered < 40


def test_a_view_reads_what_lists_show_of_the_projects_it_is_given(work, monkeypatch):
    """A view that reads a list reads its projects' summaries: a year page whose view
    comes to show the name of its last project (on another page of the list) is made
    again when that project is renamed."""
    import jixiao.render as R
    content, templates, site, tmp = work
    real = R.year_view
    monkeypatch.setattr(R, "year_view", lambda c, year, projects: {
        **real(c, year, projects), "last_name": list(projects)[-1].name})
    _edit(templates / "year.html", "{% block main %}", "{% block main %}<p id=last>{{ last_name }}</p>")
    catalog = build(content, site, templates, log=None)
    year = max(catalog.by_year)
    last = catalog.by_year[year][-1]
    path = Path(catalog.origins[("project", last.id)])
    _edit(path, f"name: {last.name}", f"name: {last.name}（更名）")
    _rebuild_and_compare(content, templates, site, tmp)
    assert f"<p id=last>{last.name}（更名）" in (site / "years" / str(year) / "index.html").read_text("utf-8")


def test_a_page_given_a_catalog_object_as_it_is_is_refused(work):
    """Context given to a page as it is must be plain values (it is keyed as it is):
    a project or a unit given that way would go unrecorded, so it is a programming error."""
    from jixiao.render import _plain
    content, templates, site, tmp = work
    catalog = build(content, site, templates, log=None, incremental=False)
    with pytest.raises(TypeError, match="read it in a view"):
        _plain({"project": catalog.projects[0]})
    assert _plain({"heading": "x", "n": 3, "sorts": [{"a": "b"}]})


def _saved_reads(site: Path) -> dict[str, str]:
    """Each output's reads as saved (``reads.joined``), in the reads file the state names."""
    state = json.loads((site / ".build-cache" / "render.json").read_text("utf-8"))
    saved = json.loads((site / ".build-cache" / "reads.json").read_text("utf-8"))
    assert saved["id"] == state["reads"]
    return saved["reads"]


def _saved_values(site: Path) -> tuple[dict, set]:
    """The values a build saved, and every read of its outputs but its projects' own."""
    saved = json.loads((site / ".build-cache" / "render.json").read_text("utf-8"))
    every = {t for s in _saved_reads(site).values() for t in s.strip("\n").split("\n")}
    ids = saved["projects"]["ids"].split("\n")
    return saved["values"], every - {k + pid for pid in ids for k in ("r\t", "p\t")}


def test_a_rebuild_saves_what_every_read_is_worth_without_splitting_every_output(work):
    """A one-record rebuild carries the other reads' worth over (it splits no saved reads);
    what it saves is what a build from nothing saves for the same reads.  A rebuild that
    makes every output again saves the reads still read, and no others."""
    content, templates, site, tmp = work
    _edit(_project_file(content), "target: '>=95%'", "target: '>=96%'")
    t = _rebuild_and_compare(content, templates, site, tmp)
    assert 0 < t.rendered < 20
    fresh = tmp / "fresh"
    build(content, fresh, templates, log=None)          # incremental, nothing saved before
    values, every = _saved_values(site)
    reference, reference_every = _saved_values(fresh)
    assert every == reference_every and set(reference) == every
    assert {t: values[t] for t in every} == reference
    state = site / ".build-cache" / "render.json"
    saved = json.loads(state.read_text("utf-8"))
    saved["values"]["plain\tstale"] = "x"              # as if no output read it any more
    state.write_text(json.dumps(saved), "utf-8")
    _edit(templates / "base.html", "</footer>", "<!-- every page -->\n</footer>")
    _rebuild_and_compare(content, templates, site, tmp)
    values, every = _saved_values(site)
    assert set(values) == every and "plain\tstale" not in values


def test_reads_are_kept_as_plain_json_and_evaluated_against_the_new_catalog(work):
    """The build state keeps each output's reads (one string each, a read per line): a
    list page reads its slice, the list's length and its projects' summaries; the home
    page what totals read of every project; a project page its own record."""
    import json
    content, templates, site, tmp = work
    saved = _saved_reads(site)
    assert all(s.startswith("\n") and s.endswith("\n") for s in saved.values())
    reads = {path: s.strip("\n").split("\n") for path, s in saved.items()}
    unit = reads["units/sh-gjjglzx/index.html"]             # its view reads the list whole
    assert "all\tunit\tsh-gjjglzx" in unit and "u\tsh-gjjglzx" in unit
    projects = reads["projects/index.html"]                 # a page of the list, and its length
    assert "slice\tprojects\t\t0\t60" in projects and "len\tprojects\t" in projects
    # … and each of its projects' summary (its rows show their names)
    assert len({t for t in projects if t.startswith("p\t")}) == 60
    home = reads["index.html"]              # what totals read of every project, not names
    assert "all\tprojects\t" in home and not [t for t in home if t.startswith("p\t")]
    pid = _project_file(content).stem
    assert f"r\t{pid}" in reads[f"projects/{pid}/index.html"]
    assert f"r\t{pid}" in reads[f"projects/{pid}.json"]      # its JSON and its rows of the CSVs


def test_a_free_page_edited_renders_its_page_and_a_footer_that_comes_to_show_it_everywhere(work):
    """A free page's text is read by its own page only (the footer reads titles); a footer
    changed to show something of the text reads it, on every page."""
    content, templates, site, tmp = work
    about = content / "pages" / "about.md"
    about.write_text(about.read_text("utf-8") + "\n补充说明一。\n", "utf-8")
    t = _rebuild_and_compare(content, templates, site, tmp)
    assert t.rendered == 1 and "补充说明一" in (site / "about" / "index.html").read_text("utf-8")
    _edit(templates / "base.html", "{{ p.title }}</a>{% if not loop.last %}",
          "{{ p.title }}（{{ p.body|length }} 字）</a>{% if not loop.last %}")
    _rebuild_and_compare(content, templates, site, tmp)
    about.write_text(about.read_text("utf-8") + "\n补充说明二。\n", "utf-8")
    t = _rebuild_and_compare(content, templates, site, tmp)
    assert t.rendered == len(list(site.rglob("*.html")))       # every page's footer


def test_settings_are_read_one_by_one(work):
    """What a page reads of content/site.yaml is recorded like the records: turning the
    static search on renders the one page that reads it (/search/); a new contact, which
    every footer shows, renders every page; a new base URL renders no page (robots.txt and
    the sitemap, made every time, carry it)."""
    content, templates, site, tmp = work
    _static_search(content, True)
    t = _rebuild_and_compare(content, templates, site, tmp)
    assert t.rendered == 1 and "data-static" in (site / "search" / "index.html").read_text("utf-8")
    settings = content / "site.yaml"
    settings.write_text(settings.read_text("utf-8") + "contact: 预算科\n", "utf-8")
    t = _rebuild_and_compare(content, templates, site, tmp)
    assert t.rendered == len(list(site.rglob("*.html")))
    settings.write_text(settings.read_text("utf-8") + "base_url: https://jixiao.example.cn\n",
                        "utf-8")
    t = _rebuild_and_compare(content, templates, site, tmp)
    assert t.rendered == 0
    assert "https://jixiao.example.cn/units/" in (site / "sitemap.xml").read_text("utf-8")


def test_a_rebuild_hashes_only_the_changed_records_summaries(work, monkeypatch):
    """The summary and totals hashes of unchanged records are the previous build's (kept
    with each record's hash): correcting one target hashes that one project's, twice
    (its summary and its totals), and the site is a clean build's."""
    from jixiao import reads
    content, templates, site, tmp = work
    calls = []
    for name in ("_summary_fields", "_totals_fields"):
        real = getattr(reads, name)
        monkeypatch.setattr(reads, name, lambda p, real=real: calls.append(p.id) or real(p))
    _edit(_project_file(content), "target: '>=95%'", "target: '>=96%'")
    build(content, site, templates, log=None)
    [changed] = set(calls)
    assert len(calls) == 2 and changed == _project_file(content).stem
    monkeypatch.undo()
    _rebuild_and_compare(content, templates, site, tmp)


def test_a_leftover_staging_file_or_link_does_not_stop_a_build(work):
    """Whatever sits at ``.site.staging`` (a file, a link a user left) is removed, never
    followed, and the build goes on."""
    content, templates, site, tmp = work
    outside = tmp / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("x", "utf-8")
    staging = site.parent / ".site.staging"
    staging.symlink_to(outside)
    build(content, site, templates, log=None)
    assert (outside / "keep.txt").exists() and not staging.exists()
    staging.write_text("x", "utf-8")
    build(content, site, templates, log=None)
    assert not staging.exists()


def test_problems_across_files_point_where_a_clean_check_points(work, monkeypatch):
    """A record from the cache or from a load worker comes without its marks: a cross-file
    problem (a duplicate id, a file under the wrong year, a unit that is not there) with
    such a record reads them from its file, and says the same ``path:line:col`` as a
    check in one process with no cache."""
    from jixiao import validate
    from jixiao.problems import ContentError
    from jixiao.validate import load_content
    content, templates, site, tmp = work
    first = _project_file(content)
    twin = first.parent / "twin.yaml"                       # the same id, in another file
    twin.write_text(first.read_text("utf-8"), "utf-8")
    moved = sorted(content.glob("*/*/*.yaml"))[20]           # under another year's folder
    (moved.parent.parent / "1999").mkdir()
    moved.rename(moved.parent.parent / "1999" / moved.name)
    lost = sorted(content.glob("*/*/*.yaml"))[-1]           # its unit's file gone
    (lost.parent.parent / "unit.yaml").rename(tmp / "unit.yaml")

    def problems(**kw) -> list[str]:
        with pytest.raises(ContentError) as caught:
            build(content, site, templates, log=None, **kw) if kw else load_content(content)
        return sorted(str(p) for p in caught.value.problems)
    clean = problems()
    assert any(": id: duplicate project id" in p for p in clean)
    assert any("record says" in p for p in clean) and any("does not exist" in p for p in clean)
    assert problems(incremental=True) == clean
    monkeypatch.setattr(validate, "PARALLEL_MIN", 1)
    assert problems() == clean


@pytest.mark.parametrize("look_ahead_min, gone_max", [(10**9, 500), (0, 500), (0, 1)],
                         ids=["looked-at-when-asked", "looked-at-by-a-child", "too-many-gone"])
def test_files_deleted_by_hand_are_made_again(work, monkeypatch, look_ahead_min, gone_max):
    """A page or data file removed from the site folder by hand (while the build state
    says it was written) is rendered again by the next rebuild, whether render looks at
    each file when it asks or a child process looked at them all meanwhile (and when more
    are gone than the child reports, render looks at each itself)."""
    from jixiao import build_state
    monkeypatch.setattr(build_state, "LOOK_AHEAD_MIN", look_ahead_min)
    monkeypatch.setattr(build_state, "GONE_MAX", gone_max)
    content, templates, site, tmp = work
    pid = _project_file(content).stem
    gone = [site / "projects" / pid / "index.html", site / "projects" / f"{pid}.json",
            site / "units" / "index.html", site / "index.html"]
    for f in gone:
        f.unlink()
    t = _rebuild_and_compare(content, templates, site, tmp)
    assert all(f.is_file() for f in gone)
    assert t.rendered == len(gone)


def test_a_failed_rebuild_leaves_no_child_looking_at_files(work, monkeypatch):
    """Bad content stops the build after the child looking at the site's files started:
    the child is stopped with it (a preview server builds again and again)."""
    import multiprocessing
    import time
    from jixiao import build_state
    from jixiao.problems import ContentError
    monkeypatch.setattr(build_state, "LOOK_AHEAD_MIN", 0)
    monkeypatch.setattr(build_state, "_gone", lambda out, manifest: time.sleep(60))  # still looking
    content, templates, site, tmp = work
    _edit(_project_file(content), "\nyear: ", "\nyear: twenty # was ")
    with pytest.raises(ContentError):
        build(content, site, templates, log=None)
    assert multiprocessing.active_children() == []


def test_a_rebuild_whose_content_walk_failed_in_the_child_walks_it_itself(work, monkeypatch):
    """The content folder is walked (and its files' sizes and mtimes taken) by a child
    while the caches are read; when the child fails, the build walks it itself."""
    from jixiao import validate
    calls = []
    real = validate._scan

    def failing(root):
        raise OSError("the child could not walk it")
    content, templates, site, tmp = work
    monkeypatch.setattr(validate, "_scan_and_stat", failing)
    monkeypatch.setattr(validate, "_scan", lambda root: calls.append(root) or real(root))
    _edit(_project_file(content), "target: '>=95%'", "target: '>=96%'")
    _rebuild_and_compare(content, templates, site, tmp)
    assert calls.count(content) == 2          # the rebuild (itself) and the clean build
