"""Consistency warnings: shown on check/build, errors with --strict."""
import shutil
from pathlib import Path

import pytest

from jixiao.cli import main

VALID = Path(__file__).parent / "fixtures" / "valid"
RECORD = Path("tj-rrzx/2025/tj-rrzx-2025-01.yaml")


def site_with(tmp_path, old, new):
    content = tmp_path / "content"
    shutil.copytree(VALID, content)
    path = content / RECORD
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")
    return content


CASES = {
    "fiscal-sum": ("  fiscal: 29.40\n", "  fiscal: 29.40\n  appropriation: 20.00\n  carryover: 1.00\n",
                   "8:11: funds.fiscal: warning: fiscal 29.40 is not appropriation 20.00 + carry-over 1.00 = 21.00"),
    "annual-above-total": ("  annual: 29.40\n", "  annual: 29.40\n  total: 20\n",
                           "7:11: funds.annual: warning: annual 29.40 is above the total 20"),
    "no-target": ("    target: 进行验收\n", "    target:\n",
                  "22:5: indicators[2]: warning: indicator '供应商工作监督' has no target"),
    "empty-target": ("    target: 进行验收\n", "    target: '—'\n",
                     "26:13: indicators[2].target: warning: target '—' says nothing (no number, no words)"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_warning_is_shown_and_strict_fails(name, tmp_path, capsys):
    old, new, expected = CASES[name]
    content = site_with(tmp_path, old, new)
    assert main(["check", "--content", str(content)]) == 0
    err = capsys.readouterr().err
    assert f"{content / RECORD}:{expected}" in err.splitlines()
    assert main(["check", "--strict", "--content", str(content)]) == 1
    err = capsys.readouterr().err
    assert f"{content / RECORD}:{expected.replace('warning: ', '')}" in err.splitlines()


def test_no_satisfaction_indicator(tmp_path, capsys):
    content = site_with(tmp_path, "  - level1: 满意度指标\n    level2: 服务对象满意度指标\n",
                        "  - level1: 效益指标\n    level2: 社会效益指标\n")
    assert main(["check", "--content", str(content)]) == 0
    assert "indicators: warning: no satisfaction indicator (满意度指标)" in capsys.readouterr().err


def test_clean_record_has_no_warnings(tmp_path, capsys):
    assert main(["check", "--strict", "--content", str(VALID)]) == 0
    assert "warning" not in capsys.readouterr().err
