"""CSV cells that a spreadsheet would run as formulas are shown as text."""
import csv
import io
from pathlib import Path

from jixiao import export
from jixiao.validate import load_content

CONTENT = Path(__file__).resolve().parent.parent / "content"


def rows(data: bytes):
    assert data.startswith("\ufeff".encode("utf-8"))
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def test_formula_like_targets_get_an_apostrophe_and_json_keeps_them():
    catalog = load_content(CONTENT)
    indicators = rows(export.indicators_csv(catalog))
    assert len(indicators) == sum(len(p.indicators) for p in catalog.projects)
    formula = [r for r in indicators if r["target"].startswith("'=")]
    assert formula and all(r["target"][1:2] == "=" for r in formula)
    assert not any(r[k][:1] in "=+-@" for r in indicators for k in r if r[k])
    published = {i.target for _, i in catalog.indicators()}
    assert {r["target"][1:] for r in formula} <= published
