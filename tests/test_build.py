"""The build pipeline: projects.json per contract, atomic writes, determinism."""
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from jixiao.cli import main
from jixiao.pipeline import build
from jixiao.problems import ContentError

VALID = Path(__file__).parent / "fixtures" / "valid"


def snapshot(folder: Path, hidden: bool = False) -> dict:
    """Every published file; ``hidden`` adds the manifest and the search index (.search/),
    whose segment names whoosh randomises."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()
            and (hidden or not any(part.startswith(".") for part in p.relative_to(folder).parts))}


@pytest.fixture
def content(tmp_path):
    dst = tmp_path / "content"
    shutil.copytree(VALID, dst)
    return dst


def test_projects_json_follows_the_contract(content, tmp_path):
    out = tmp_path / "site"
    assert main(["build", "--content", str(content), "--out", str(out)]) == 0
    projects = json.loads((out / "data" / "projects.json").read_text("utf-8"))
    assert isinstance(projects, list) and len(projects) == 1
    p = projects[0]
    for key in ("id", "name", "year", "url", "unit", "department", "funds", "goals",
                "sections", "indicators", "source"):
        assert key in p, key
    assert p["url"] == "/projects/tj-rrzx-2025-01/"
    assert p["unit"] == {"id": "tj-rrzx", "name": "天津市供热燃气管理事务中心", "code": "326301"}
    assert p["funds"]["unit"] == "万元"
    assert p["funds"]["annual"] == "29.40"
    assert p["funds"]["annual_yuan"] == "294000.00"          # decimal string, exact
    first = p["indicators"][0]
    assert {k: first[k] for k in ("level1", "level2", "name", "description", "target",
                                  "op", "value", "value_unit", "text")} == {
        "level1": "产出指标", "level2": "数量指标", "name": "检查企业数量",
        "description": "对一家企业检查一次为一家次", "target": "≥192家次",
        "op": "≥", "value": "192", "value_unit": "家次", "text": None}
    assert p["source"]["document"] == "001_0a362c379c5850c5.txt"
    # the record's own JSON is the same element
    assert json.loads((out / "projects" / "tj-rrzx-2025-01.json").read_text("utf-8")) == p


def test_amounts_are_exact_decimals_never_floats(content):
    from jixiao.validate import load_content
    project = load_content(content).projects[0]
    assert isinstance(project.funds.annual, Decimal)
    assert project.funds.annual_yuan == Decimal("294000.00")


def test_failed_build_leaves_previous_site_exactly(content, tmp_path):
    out = tmp_path / "site"
    build(content, out, log=None)
    before = snapshot(out, hidden=True)
    record = content / "tj-rrzx" / "2025" / "tj-rrzx-2025-01.yaml"
    record.write_text(record.read_text("utf-8").replace("annual: 29.40", "annual: 一百万"), "utf-8")
    assert main(["build", "--content", str(content), "--out", str(out)]) == 1
    assert snapshot(out, hidden=True) == before


def test_template_error_leaves_previous_site_exactly(content, tmp_path):
    out = tmp_path / "site"
    templates = tmp_path / "templates"
    shutil.copytree(Path(__file__).parent.parent / "templates", templates)
    build(content, out, templates, log=None)
    before = snapshot(out, hidden=True)
    (templates / "project.html").write_text("ok\n{{ project.no_such_field }}", "utf-8")
    with pytest.raises(ContentError) as exc:
        build(content, out, templates, log=None)
    assert snapshot(out, hidden=True) == before
    [problem] = exc.value.problems
    assert (problem.path, problem.line) == (str(templates / "project.html"), 2)
    assert "no_such_field" in problem.message


def test_same_input_gives_byte_identical_output(content, tmp_path):
    build(content, tmp_path / "a", log=None)
    build(content, tmp_path / "b", log=None)
    assert snapshot(tmp_path / "a") == snapshot(tmp_path / "b")


def test_rebuild_removes_pages_of_deleted_records_and_skips_unchanged(content, tmp_path):
    out = tmp_path / "site"
    build(content, out, log=None)
    extra = content / "tj-rrzx" / "2025" / "tj-rrzx-2025-02.yaml"
    extra.write_text((content / "tj-rrzx" / "2025" / "tj-rrzx-2025-01.yaml").read_text("utf-8")
                     .replace("tj-rrzx-2025-01", "tj-rrzx-2025-02"), "utf-8")
    build(content, out, log=None)
    assert (out / "projects" / "tj-rrzx-2025-02" / "index.html").is_file()
    extra.unlink()
    build(content, out, log=None)
    assert not (out / "projects" / "tj-rrzx-2025-02").exists()
    fresh = tmp_path / "fresh"
    build(content, fresh, log=None)
    assert snapshot(out) == snapshot(fresh)


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["frobnicate"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["build", "--port", "x"])
    assert exc.value.code == 2


def test_missing_content_dir_is_a_content_problem(tmp_path, capsys):
    assert main(["check", "--content", str(tmp_path / "nope")]) == 1
    assert "content directory does not exist" in capsys.readouterr().err


def test_two_builds_into_one_folder_take_turns(tmp_path):
    """serve's watcher and a build by hand, or two deploy jobs: the second waits for the
    first (a lock beside the output folder), and the data files come out whole."""
    import csv
    import fcntl
    import json
    import shutil
    import subprocess
    import sys
    import time
    root = Path(__file__).resolve().parent.parent
    content = tmp_path / "content"
    shutil.copytree(root / "tests" / "fixtures" / "valid", content)
    out = tmp_path / "site"
    cmd = [sys.executable, str(root / "build.py"), "build", "--content", str(content),
           "--out", str(out)]
    lock = tmp_path / ".site.lock"
    with open(lock, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        waiting = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)
        assert waiting.poll() is None                      # waits while the lock is held
        fcntl.flock(held, fcntl.LOCK_UN)
        _, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err
    assert "another build is writing" in err
    # then two at once after an edit: both succeed, one after the other
    record = next(content.glob("*/*/*.yaml"))
    record.write_text(record.read_text("utf-8").replace("name: ", "name: 改名", 1), "utf-8")
    builds = [subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for b in builds:
        _, err = b.communicate(timeout=180)
        assert b.returncode == 0, err
    projects = json.loads((out / "data" / "projects.json").read_text("utf-8"))
    assert any(p["name"].startswith("改名") for p in projects)
    with open(out / "data" / "projects.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert len({len(r) for r in rows}) == 1 and len(rows) == len(projects) + 1


def test_build_warns_when_the_public_address_is_not_set(tmp_path, monkeypatch, capsys):
    from jixiao.cli import main
    root = Path(__file__).resolve().parent.parent
    monkeypatch.delenv("JIXIAO_BASE_URL", raising=False)
    assert main(["build", "--content", str(root / "tests" / "fixtures" / "valid"),
                 "--out", str(tmp_path / "a")]) == 0
    assert "warning: no public address" in capsys.readouterr().err
    monkeypatch.setenv("JIXIAO_BASE_URL", "https://jixiao.example.gov.cn")
    assert main(["build", "--content", str(root / "tests" / "fixtures" / "valid"),
                 "--out", str(tmp_path / "b")]) == 0
    assert "JIXIAO_BASE_URL" not in capsys.readouterr().err
    assert "https://jixiao.example.gov.cn/" in (tmp_path / "b" / "sitemap.xml").read_text("utf-8")


def test_official_source_is_linked_first(tmp_path):
    """Provenance: a record may name the official page, its publisher and the date; the
    project page links it before the site's own copy, and the JSON carries it.  Only
    http(s) addresses are accepted."""
    import json
    import shutil
    from jixiao.pipeline import build
    from jixiao.problems import ContentError
    root = Path(__file__).resolve().parent.parent
    content = tmp_path / "content"
    shutil.copytree(root / "tests" / "fixtures" / "valid", content)
    record = content / "tj-rrzx" / "2025" / "tj-rrzx-2025-01.yaml"
    text = record.read_text("utf-8")
    record.write_text(text.replace("  document: 001_0a362c379c5850c5.txt",
                                   "  document: 001_0a362c379c5850c5.txt\n"
                                   "  url: https://zfcxjs.tj.gov.cn/example/t20250120.html\n"
                                   "  publisher: 天津市供热燃气管理事务中心\n"
                                   "  published: 2025-01-20"), "utf-8")
    out = tmp_path / "site"
    build(content, out, log=None)
    page = (out / "projects" / "tj-rrzx-2025-01" / "index.html").read_text("utf-8")
    official = page.index('href="https://zfcxjs.tj.gov.cn/example/t20250120.html"')
    assert "2025年1月20日发布" in page
    assert official < page.index("本站整理的原始公开文件")
    data = json.loads((out / "projects" / "tj-rrzx-2025-01.json").read_text("utf-8"))
    assert data["source"]["official_url"] == "https://zfcxjs.tj.gov.cn/example/t20250120.html"
    assert data["source"]["published"] == "2025-01-20"
    record.write_text(text.replace("  document: 001_0a362c379c5850c5.txt",
                                   "  document: 001_0a362c379c5850c5.txt\n"
                                   "  url: javascript:alert(1)"), "utf-8")
    with pytest.raises(ContentError) as e:
        build(content, tmp_path / "site2", log=None)
    assert "source.url" in str(e.value)


def test_a_long_step_ticks_on_a_terminal_and_stays_plain_in_a_pipe():
    import io
    import time
    from jixiao.pipeline import Timings

    class Terminal(io.StringIO):
        def isatty(self):
            return True
    for stream, ticks in ((Terminal(), True), (io.StringIO(), False)):
        t = Timings(log=stream)
        with t.step("render"):
            time.sleep(1.3)
        text = stream.getvalue()
        assert ("\r  render            1 s …" in text) == ticks, text
        assert text.rstrip("\n").split("\r")[-1].startswith("  render") and " ms" in text
        assert text.endswith(" ms\n")
