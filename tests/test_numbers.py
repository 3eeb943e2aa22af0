"""One limit for every spelling of a number (issue: ``1e-999999999`` passed ``check`` and
took 3 GB in ``build``).  Whatever a publisher writes for an amount, ``check`` answers with
``path:line:col: funds.annual: …`` or accepts a number within 15 digits before the point
and 10 after — never a traceback, never a huge number on the site."""
from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FIXTURES
from jixiao.problems import ContentError
from jixiao.validate import load_content

SOURCE = FIXTURES / "invalid" / "bad-synonyms" / "content"
RECORD = Path("tj-rrzx/2025/tj-rrzx-2025-01.yaml")


def check(tmp: Path, spelling: str):
    content = tmp / "content"
    if not content.exists():
        shutil.copytree(SOURCE, content)
        (content / "synonyms.yaml").unlink()
    path = content / RECORD
    lines = path.read_text("utf-8").split("\n")
    lines[7] = f"  annual: {spelling}"
    path.write_text("\n".join(lines), "utf-8")
    try:
        return load_content(content).projects[0].funds.annual, None
    except ContentError as e:
        return None, [str(p) for p in e.problems]


@pytest.mark.parametrize("spelling", ["1e-999999999", "1e+999999999", "1E+30", "1e400", "1e20",
                                      '"1e-400"', "0.00000000001", "1234567890123456", ".inf",
                                      "-.nan", '"1,000.00"', "yes", "'１２３'", "0.0e-999999999",
                                      "0e-999999999"])
def test_out_of_range_or_odd_spellings_are_refused_with_the_place(tmp_path, spelling):
    value, problems = check(tmp_path, spelling)
    assert value is None, spelling
    assert len(problems) == 1 and problems[0].startswith(f"{tmp_path / 'content' / RECORD}:8:11: "
                                                         f"funds.annual: "), problems


@pytest.mark.parametrize("spelling, expected", [("29.40", "29.40"), ('"29.40"', "29.40"),
                                                ("0", "0"), ("999999999999999.9999999999",
                                                             "999999999999999.9999999999")])
def test_plain_numbers_are_kept_exactly(tmp_path, spelling, expected):
    value, problems = check(tmp_path, spelling)
    assert problems is None and value == Decimal(expected) and str(value) == expected


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(
    st.from_regex(r"\A-?[0-9]{0,20}(\.[0-9]{0,14})?([eE][-+]?[0-9]{1,12})?\Z", fullmatch=True),
    st.text(alphabet="0123456789.eE+-_,' \"", max_size=30)))
def test_any_spelling_is_a_number_in_range_or_a_message(tmp_path, spelling):
    value, problems = check(tmp_path, spelling.replace("\n", " ") or "0")
    if problems is None:
        sign, digits, exponent = value.as_tuple()
        assert value.is_finite() and len(digits) + exponent <= 15 and -exponent <= 10
    else:
        assert all(":" in p for p in problems)


def test_names_sort_with_their_numbers_as_numbers_and_other_digits_as_text():
    """``natural_key``: 2 before 10; a superscript or circled digit (``¹``, ``①``: digits to
    ``str.isdigit``, not to ``int``) is text, never a crash of the build (found by
    tests/test_hostile.py with an indicator named ``¹``)."""
    from jixiao.derive import natural_key
    names = ["10. 推进", "2. 技术评估会", "¹", "①号线", "第３期", "第12期", ""]
    ordered = sorted(names, key=natural_key)
    assert ordered.index("2. 技术评估会") < ordered.index("10. 推进")
    assert ordered.index("第３期") < ordered.index("第12期")          # full-width 3 is 3
    assert natural_key("¹") == ("¹",) and natural_key("①号线") == ("①号线",)
