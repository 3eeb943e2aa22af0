"""Smoke test of the scaling benchmark at a tiny N: it runs and prints its table.

No timing assertions: the targets live in ``bench/run.py``'s table (docs/PERFORMANCE.md).
"""
from __future__ import annotations

import io
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import generate  # noqa: E402
import run  # noqa: E402

from jixiao.validate import load_content  # noqa: E402


def test_generator_is_deterministic_and_valid(tmp_path):
    a = generate.generate(60, tmp_path / "a", seed=3)
    generate.generate(60, tmp_path / "b", seed=3)
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.yaml"))
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*.yaml"))
    assert files_a == files_b
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files_a)
    catalog = load_content(tmp_path / "a")           # what `build.py check` runs
    assert len(catalog.projects) == a["projects"] == 60
    assert len(catalog.units) == 3
    assert all(5 <= len(p.indicators) <= 60 for p in catalog.projects)


def test_benchmark_runs_at_tiny_n(tmp_path):
    out = io.StringIO()
    result = run.run(60, 1, tmp_path / "work", seconds=0.5, out=out, cold_cache=False)
    table = out.getvalue()
    assert "| full build" in table and "req/s" in table and "peak RSS, server" in table
    assert result["load"]["errors"] == 0
    assert 0 < result["one_template"]["rendered"] < result["full"]["rendered"]
    assert 0 < result["one_record"]["rendered"] < result["full"]["rendered"]
    assert "one record changed" in table and result["one_record"]["command_s"] > 0
