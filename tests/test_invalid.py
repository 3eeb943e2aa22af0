"""Every folder under fixtures/invalid/ is one broken site with the exact messages it must give.

Each case holds ``content/`` and ``expected.txt`` (stderr of ``build.py check``).
"""
import os
import time
from pathlib import Path

import pytest

from jixiao.cli import main

CASES = sorted(p for p in (Path(__file__).parent / "fixtures" / "invalid").iterdir() if p.is_dir())


def run(case: Path, *argv, capsys):
    old = os.getcwd()
    os.chdir(case)
    try:
        code = main(list(argv))
    finally:
        os.chdir(old)
    return code, capsys.readouterr()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_check_reports_exact_messages(case, capsys):
    start = time.monotonic()
    code, out = run(case, "check", "--content", "content", capsys=capsys)
    assert time.monotonic() - start < 5
    assert code == 1
    assert out.err == (case / "expected.txt").read_text("utf-8")
    assert "Traceback" not in out.err


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_failed_build_leaves_output_untouched(case, tmp_path, capsys):
    out = tmp_path / "site"
    out.mkdir()
    (out / "index.html").write_text("previous build")
    before = {p: p.read_bytes() for p in out.rglob("*")}
    code, _ = run(case, "build", "--content", "content", "--out", str(out), capsys=capsys)
    assert code == 1
    assert {p: p.read_bytes() for p in out.rglob("*")} == before


def test_all_three_broken_files_are_reported_at_once(capsys):
    case = Path(__file__).parent / "fixtures" / "invalid" / "three-files"
    code, out = run(case, "check", "--content", "content", capsys=capsys)
    lines = out.err.splitlines()
    assert code == 1
    assert any("tj-rrzx-2025-01.yaml:7:11: funds.annual: expected a number" in l for l in lines)
    assert any("tj-rrzx-2025-02.yaml:3:5: YAML syntax" in l for l in lines)
    assert any("unit.yaml:2:1: nmae: unknown key" in l for l in lines)


def test_a_50_mb_file_is_refused_quickly(tmp_path, capsys):
    content = tmp_path / "content"
    (content / "tj-rrzx" / "2025").mkdir(parents=True)
    (content / "tj-rrzx" / "unit.yaml").write_text("id: tj-rrzx\nname: 天津\n", "utf-8")
    big = content / "tj-rrzx" / "2025" / "tj-rrzx-2025-01.yaml"
    with big.open("wb") as fh:
        fh.write(b"id: tj-rrzx-2025-01\ngoals:\n  annual: " + b"x" * (50 << 20) + b"\n")
    start = time.monotonic()
    code = main(["check", "--content", str(content)])
    assert time.monotonic() - start < 5
    assert code == 1
    assert capsys.readouterr().err.splitlines()[0] == (
        f"{big}:1:1: file is too large ({big.stat().st_size} bytes; the limit is 1048576)")
