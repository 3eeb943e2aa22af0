"""content/ is the faithful import of the five published documents, and builds per contract."""
import filecmp
import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from jixiao.importer import run_import
from jixiao.pipeline import build

CONTENT = Path(__file__).resolve().parent.parent / "content"


def test_content_is_exactly_the_import_of_the_sources(tmp_path):
    sources = sorted(str(p) for p in (CONTENT / "sources").glob("*.txt"))
    assert run_import(sources, str(tmp_path), False) == 0
    imported = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.yaml"))
    committed = sorted(p.relative_to(CONTENT) for p in CONTENT.glob("*/**/*.yaml"))
    assert imported == committed
    _, mismatch, errors = filecmp.cmpfiles(tmp_path, CONTENT, [str(p) for p in imported], shallow=False)
    assert mismatch == [] and errors == []


@pytest.fixture(scope="module")
def projects(tmp_path_factory):
    out = tmp_path_factory.mktemp("content") / "site"
    build(CONTENT, out, log=None)
    index = json.loads((out / "data" / "index.json").read_text("utf-8"))   # every year's files
    return [p for y in index["years"]
            for p in json.loads((out / y["files"]["projects.json"].lstrip("/")).read_text("utf-8"))]


def test_sixty_projects_thirteen_units_five_years(projects):
    assert len(projects) == 60
    assert len({p["unit"]["id"] for p in projects}) == 13
    assert sorted({p["year"] for p in projects}) == [2020, 2023, 2024, 2025, 2026]
    per_document = Counter(p["source"]["document"][:3] for p in projects)
    assert per_document == {"000": 11, "001": 7, "002": 27, "003": 13, "004": 2}


def test_annual_totals_per_document_match_the_published_tables(projects):
    """Sums of the published 年度 amounts, in yuan, per document (checked against the text)."""
    totals = Counter()
    for p in projects:
        totals[p["source"]["document"][:3]] += Decimal(p["funds"]["annual_yuan"])
    assert all(isinstance(v, Decimal) for v in totals.values())
    assert totals["001"] == sum(Decimal(x) * 10000 for x in
                                ("29.40", "59.30", "104.00", "3.00", "543.60", "33.20", "64.80"))
