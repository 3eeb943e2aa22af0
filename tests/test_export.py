"""Downloads: CSV cells verbatim for code readers; the same rows per unit and per year; a
search result as CSV and as a workbook whose cells are all text (spreadsheets evaluate
nothing a table published)."""
import csv
import json
import io
from pathlib import Path

import pytest

from jixiao import export
from jixiao.pipeline import build
from jixiao.validate import load_content

CONTENT = Path(__file__).resolve().parent.parent / "content"


def rows(data: bytes):
    assert data.startswith("\ufeff".encode("utf-8"))
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "site"
    catalog = build(CONTENT, out, log=None)
    return out, catalog


def test_csv_cells_are_verbatim_and_json_agrees():
    catalog = load_content(CONTENT)
    indicators = rows(export.data_file(catalog, 2, catalog.projects))
    assert len(indicators) == sum(len(p.indicators) for p in catalog.projects)
    published = [i.target or "" for _, i in catalog.indicators()]
    assert [r["target"] for r in indicators] == published
    assert any(t.startswith("=") for t in published)          # =100(%) as published


def test_each_year_has_its_files_listed_and_the_latest_is_under_data(site):
    """/data/index.json lists every year's three files, newest first; the documented
    /data/ files are the latest year's; together the years hold every project once."""
    import json
    out, catalog = site
    index = json.loads((out / "data/index.json").read_text("utf-8"))
    assert [y["year"] for y in index["years"]] == sorted(catalog.by_year, reverse=True)
    assert index["latest"] == index["years"][0]["year"] == max(p.year for p in catalog.projects)
    ids = []
    for y in index["years"]:
        files = {name: (out / url.lstrip("/")).read_bytes() for name, url in y["files"].items()}
        assert sorted(files) == ["indicators.csv", "projects.csv", "projects.json"]
        projects = json.loads(files["projects.json"])
        assert len(projects) == y["projects"] == len(rows(files["projects.csv"]))
        assert sum(len(p["indicators"]) for p in projects) == y["indicators"] == len(
            rows(files["indicators.csv"]))
        assert {p["year"] for p in projects} == {y["year"]}
        assert [r["id"] for r in rows(files["projects.csv"])] == [p["id"] for p in projects]
        ids += [p["id"] for p in projects]
        if y["year"] == index["latest"]:
            for name, url in y["files"].items():      # the same file: not written twice
                assert (out / "data" / name).samefile(out / url.lstrip("/"))
    assert ids == [p.id for p in catalog.projects]
    page = (out / "data/index.html").read_text("utf-8")
    for y in index["years"]:
        for url in y["files"].values():
            assert f'href="{url}" download' in page


def _all_years(out: Path, kind: str) -> list[dict]:
    return [r for year in sorted(out.glob(f"years/*/*-{kind}.csv"), reverse=True)
            for r in rows(year.read_bytes())]


def test_each_unit_and_year_has_the_sites_rows_of_its_projects(site):
    out, catalog = site
    whole = {kind: _all_years(out, kind) for kind in ("projects", "indicators")}
    header = {kind: (out / "data" / f"{kind}.csv").read_bytes().split(b"\r\n", 1)[0]
              for kind in whole}
    for u in catalog.units.values():
        for kind in ("projects", "indicators"):
            data = (out / "units" / u.id / f"{u.id}-{kind}.csv").read_bytes()
            assert data.split(b"\r\n", 1)[0] == header[kind]
            assert rows(data) == [r for r in whole[kind] if r["unit_id"] == u.id]
    assert len(whole["projects"]) == len(catalog.projects)
    assert len(whole["indicators"]) == sum(len(p.indicators) for p in catalog.projects)
    page = (out / "units" / "sh-gjjglzx" / "index.html").read_text("utf-8")
    assert 'href="/units/sh-gjjglzx/sh-gjjglzx-projects.csv" download' in page
    assert "/api/search?unit=sh-gjjglzx&amp;format=xlsx" in page


def _get(app, url):
    from wsgiref.util import setup_testing_defaults
    path, _, qs = url.partition("?")
    env = {}
    setup_testing_defaults(env)
    env["PATH_INFO"], env["QUERY_STRING"] = path, qs
    got = {}

    def start(status, headers):
        got["status"], got["headers"] = int(status.split()[0]), dict(headers)
    body = b"".join(app(env, start))
    return got["status"], got["headers"], body


@pytest.fixture(scope="module")
def app(site):
    from jixiao.serve import make_app
    return make_app(site[0])


def test_a_search_result_downloads_whole_in_its_order_as_csv(app):
    from urllib.parse import quote
    from jixiao.search import open_backend, parse_params
    status, headers, body = _get(app, "/api/search?q=" + quote("满意度") + "&sort=amount&format=csv")
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert "attachment" in headers["Content-Disposition"]
    got = rows(body)
    api = open_backend(app.out).search(parse_params({"q": ["满意度"], "sort": ["amount"],
                                                      "page_size": ["100"]}))
    ids = [r["id"] for r in api["results"] if r.get("type", "project") == "project"]
    assert int(headers["X-Total-Count"]) == api["total"] == len(got) > 20
    assert [r["id"] for r in got][:len(ids)] == ids
    assert [r["annual_yuan"] for r in got][:len(ids)] == [
        r["annual_yuan"] for r in api["results"] if r.get("type", "project") == "project"]


def test_the_workbook_is_text_cells_with_chinese_headers(app, site):
    import openpyxl
    out, catalog = site
    status, headers, body = _get(app, "/api/search?year=2020&format=xlsx")
    assert status == 200 and "spreadsheetml" in headers["Content-Type"]
    book = openpyxl.load_workbook(io.BytesIO(body))
    assert book.sheetnames == ["项目", "绩效指标"]
    projects, indicators = book["项目"], book["绩效指标"]
    assert "共 " in projects["A1"].value
    assert [c.value for c in projects[2]][:3] == ["项目编号", "年度", "项目名称"]
    cells = [c for sheet in (projects, indicators) for row in sheet.iter_rows(min_row=3)
             for c in row if c.value is not None]
    assert cells and all(c.data_type == "s" for c in cells)        # nothing evaluates
    targets = [row[4].value for row in indicators.iter_rows(min_row=3)]
    want = [i.target for p in catalog.projects if p.year == 2020 for i in p.indicators]
    assert targets == want and any(str(t).startswith("=") for t in targets)
    amounts = [row[9].value for row in projects.iter_rows(min_row=3)]
    assert amounts == [str(p.funds.annual_yuan) for p in catalog.projects if p.year == 2020]


@pytest.mark.parametrize("url", ["/api/search?format=pdf", "/api/search?format=csv&sort=x",
                                 "/api/search?format=xlsx&amount_min=abc"])
def test_bad_download_parameters_are_400(app, url):
    assert _get(app, url)[0] == 400


@pytest.mark.parametrize("value", [
    {"名称": "运行维护", "n": 3, "x": None, "ok": True, "list": [1, "二", False]},
    "引号\"反斜杠\\换行\n回车\r制表\t\b\f\x00\x1f\x7f\u2028\u2029😀",
    "</script><!--",
    [2 ** 70],                  # past 64 bits: orjson refuses, json writes it
    {"s": "\ud800"},            # a lone surrogate: json writes it, UTF-8 cannot hold it
])
def test_json_line_is_what_json_dumps_writes(value):
    expected = json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n"
    try:
        expected = expected.encode("utf-8")
    except UnicodeEncodeError:
        with pytest.raises(UnicodeEncodeError):       # as before orjson: refused, loudly
            export.json_line(value)
        return
    assert export.json_line(value) == expected
