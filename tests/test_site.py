"""The public site, built from tests/fixtures/site/content.

The whole output is compared file by file with tests/fixtures/site/expected
(regenerate with ``python tests/regen_site_snapshot.py`` after an intended
change); the other tests check each kind of page for what a reader needs.
"""
from __future__ import annotations

import csv
import io
import json
import re
import shutil
from decimal import Decimal
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import pytest

from jixiao.catalog import department_slug
from jixiao.export import INDICATOR_COLUMNS, PROJECT_COLUMNS
from jixiao.pipeline import build
from jixiao.problems import ContentError
from jixiao.render import DEFAULT_BASE_URL, render_site
from jixiao.validate import load_content

from regen_site_snapshot import CONTENT, EXPECTED, build_fixture_site, snapshot_files

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"


# ---------------------------------------------------------------- helpers


class Page(HTMLParser):
    """What the tests need from an HTML page: headings, links, table headers, text."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.headings: list[tuple[int, str]] = []
        self.links: list[tuple[str, str]] = []     # (href, text)
        self.ths: list[dict] = []
        self.tags: list[tuple[str, dict]] = []
        self.text_parts: list[str] = []
        self._heading = None
        self._link = None
        self.feed(html)
        self.text = "".join(self.text_parts)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = [int(tag[1]), ""]
        elif tag == "a" and "href" in attrs:
            self._link = [attrs["href"], ""]
        elif tag == "th":
            self.ths.append(attrs)

    def handle_endtag(self, tag):
        if re.fullmatch(r"h[1-6]", tag) and self._heading:
            self.headings.append((self._heading[0], self._heading[1].strip()))
            self._heading = None
        elif tag == "a" and self._link:
            self.links.append((self._link[0], self._link[1].strip()))
            self._link = None

    def handle_data(self, data):
        self.text_parts.append(data)
        if self._heading:
            self._heading[1] += data
        if self._link:
            self._link[1] += data

    def titles(self) -> str:
        """Every title attribute (the exact yuan behind a readable amount), joined."""
        return "\n".join(a.get("title") or "" for _, a in self.tags)

    def hrefs(self) -> set[str]:
        return {href for href, _ in self.links}


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site") / "site"
    build_fixture_site(out)
    return out


def page(site: Path, url: str) -> Page:
    path = site / url.lstrip("/")
    if url.endswith("/"):
        path = path / "index.html"
    return Page(path.read_text("utf-8"))


def html_pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if not p.relative_to(site).parts[0].startswith("."))


def url_of(site: Path, path: Path) -> str:
    rel = path.relative_to(site).as_posix()
    return "/" + (rel[: -len("index.html")] if rel.endswith("index.html") else rel)


@pytest.fixture(scope="module")
def catalog():
    return load_content(CONTENT)


# ---------------------------------------------------------------- the whole site


def test_site_matches_snapshot(site):
    """If this fails after an intended change: python tests/regen_site_snapshot.py"""
    built, expected = snapshot_files(site), snapshot_files(EXPECTED)
    assert sorted(built) == sorted(expected), "files differ; run python tests/regen_site_snapshot.py"
    changed = [rel for rel in built if built[rel] != expected[rel]]
    assert not changed, f"changed: {changed}; run python tests/regen_site_snapshot.py"


def test_same_input_gives_byte_identical_output(tmp_path):
    build_fixture_site(tmp_path / "a")
    build_fixture_site(tmp_path / "b")
    assert snapshot_files(tmp_path / "a") == snapshot_files(tmp_path / "b")


def test_every_page_kind_is_built(site, catalog):
    expected = ["/", "/units/", "/departments/", "/years/", "/projects/", "/indicators/",
                "/data/", "/about/", "/404.html"]
    expected += [u.url for u in catalog.units.values()]
    expected += [d.url for d in catalog.departments]
    expected += [f"/years/{y}/" for y in catalog.years]
    expected += [p.url for p in catalog.projects]
    expected += [f"/indicators/{cat}/" for cat, _ in catalog.indicator_groups]
    built = {url_of(site, p) for p in html_pages(site)}
    assert set(expected) <= built
    for name in ("sitemap.xml", "robots.txt", "data/projects.json", "data/projects.csv",
                 "data/indicators.csv", "static/site.css", "sources/demo.txt"):
        assert (site / name).is_file(), name


def test_build_logs_timings_and_counts(tmp_path, capsys):
    build(CONTENT, tmp_path / "site", log="stderr")
    err = capsys.readouterr().err
    assert re.search(r"render\s+\d+ ms", err)
    assert "1 home" in err and "4 projects" in err        # 3 project pages + /projects/
    assert re.search(r"pages \d+ \(", err)


# ---------------------------------------------------------------- every HTML page


@pytest.fixture(scope="module")
def pages(site):
    return {url_of(site, p): Page(p.read_text("utf-8")) for p in html_pages(site)}


def test_headings_in_order_and_one_h1(pages):
    for url, pg in pages.items():
        levels = [level for level, _ in pg.headings]
        assert levels and levels[0] == 1, url
        assert levels.count(1) == 1, url
        for before, after in zip(levels, levels[1:]):
            assert after <= before + 1, f"{url}: h{before} → h{after} skips a level"


def test_every_th_has_a_scope_and_tables_scroll_in_their_box(site, pages):
    for url, pg in pages.items():
        assert all(th.get("scope") in ("col", "row", "rowgroup", "colgroup") for th in pg.ths), url
    for path in html_pages(site):
        html = path.read_text("utf-8")
        tables = html.count("<table")
        wrapped = len(re.findall(r'<div class="scroll"[^>]*>\s*<table', html))
        assert tables == wrapped, f"{path}: every table sits in a .scroll box"


def test_department_list_cells_name_their_column_on_a_phone(site):
    """/departments/ is a card per department below 40rem: each cell carries its column's
    name (``data-label``), or its project count and yuan would stand there unnamed."""
    html = (site / "departments" / "index.html").read_text("utf-8")
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    cells = re.findall(r"<td[^>]*>", body)
    assert cells and all("data-label=" in td for td in cells)


def test_accessible_skeleton(pages):
    for url, pg in pages.items():
        tags = [t for t, _ in pg.tags]
        assert ("html", {"lang": "zh-CN"}) in pg.tags, url
        assert any(t == "a" and a.get("class") == "skip" and a.get("href") == "#main"
                   for t, a in pg.tags), url
        assert any(t == "main" and a.get("id") == "main" for t, a in pg.tags), url
        scripts = [a for t, a in pg.tags if t == "script"]
        # works without JavaScript: the one script is the site's own table sorter, a file
        assert scripts == [{"src": "/static/sort.js", "defer": None}], url
        ids = [a["id"] for _, a in pg.tags if "id" in a]
        assert len(ids) == len(set(ids)), f"{url}: duplicate id"
        for t, a in pg.tags:
            if t == "input" and a.get("type") not in ("hidden", "submit"):
                assert any(tt == "label" and aa.get("for") == a.get("id") for tt, aa in pg.tags), url


def test_no_external_assets(site):
    for path in list(html_pages(site)) + [site / "static" / "site.css"]:
        text = path.read_text("utf-8")
        # nothing loads from another site; links to one (the licence, an official
        # document) are plain <a> links
        assert not re.search(r'src="(https?:)?//', text), path
        assert not re.search(r'<link[^>]+href="(https?:)?//', text), path
        assert "@import" not in text and "url(http" not in text, path


def test_internal_links_resolve(site, pages):
    for url, pg in pages.items():
        for href in pg.hrefs():
            if href.startswith(("https://", "mailto:")):
                continue                      # the licence, the contact, official documents
            if not href.startswith("/"):
                assert href.startswith("#"), f"{url}: {href}"
                continue
            target = href.split("#")[0].split("?")[0]
            if target == "/api/search":
                continue                      # the search server's (downloads: test_export)
            path = site / target.lstrip("/")
            if target.endswith("/"):
                path = path / "index.html"
            assert path.is_file(), f"{url} links to missing {href}"


def test_search_box_submits_get_to_search(pages):
    for url, pg in pages.items():
        forms = [a for t, a in pg.tags if t == "form" and a.get("role") == "search"]
        assert forms, url
        assert all(f.get("action") == "/search/" and f.get("method") == "get" for f in forms), url
        assert any(t == "input" and a.get("name") == "q" for t, a in pg.tags), url


# ---------------------------------------------------------------- page by page


def test_home_page(site, catalog):
    pg = page(site, "/")
    assert f"{len(catalog.projects)} 个" in pg.text
    assert f"{len(catalog.units)} 个" in pg.text
    for year in catalog.years:
        assert f"/years/{year}/" in pg.hrefs()
    for u in catalog.units.values():
        assert u.url in pg.hrefs()
    for d in catalog.departments:
        assert d.url in pg.hrefs()
    assert {"/data/projects.json", "/data/projects.csv", "/data/indicators.csv"} <= pg.hrefs()
    # no headline sum across years or regions (it would be read as "the budget"): totals
    # per year and region, readable, with the exact yuan in the title
    assert "2,029,063.89" not in pg.text + pg.titles()   # all years: 500,640 + 1,528,423.89
    assert "1,528,423.89" not in pg.text + pg.titles()   # 2025 mixes 上海市 and 天津市
    assert "1,234,567.89 元" in pg.titles() and "293,856.00 元" in pg.titles()
    assert "约 123.46 万元" in pg.text and "29.39 万元" in pg.text
    assert "不是某地的全部预算" in pg.text


def test_overviews_of_many_show_the_largest_and_link_the_rest(tmp_path, monkeypatch):
    """Past ``LIST_LIMIT`` rows (100: at 100,000 projects a year page listed 4,300 units in
    1.5 MB) the home page, a year's and a department's unit tables show the largest and
    link the full list, with totals still over all of them; /departments/ names a few
    units per department and links the rest."""
    from jixiao import filters, views
    from jixiao.validate import load_content
    monkeypatch.setattr(views, "LIST_LIMIT", 3)
    monkeypatch.setitem(filters.GLOBALS, "units_shown", 1)
    content = ROOT / "content"
    catalog = load_content(content)
    out = tmp_path / "site"
    build(content, out, log=None)
    year, projects = max(catalog.by_year.items(), key=lambda kv: len({p.unit for p in kv[1]}))
    units = {p.unit for p in projects}
    assert len(units) > 3
    pg = page(out, f"/years/{year}/")
    assert f"共 {len(units)} 个单位，下表列出年度资金合计最多的 3 个" in pg.text
    html = (out / "years" / str(year) / "index.html").read_text("utf-8")
    table = html.split("年度各单位项目数与资金合计</caption>")[1].split("</table>")[0]
    largest = sorted(units, key=lambda u: -sum(p.funds.annual_yuan for p in projects
                                                 if p.unit == u))
    shown = re.findall(r'<th scope="row"><a href="/units/([^/]+)/">', table)
    assert shown == largest[:3]
    total = sum(p.funds.annual_yuan for p in projects)
    assert f"{total:,.2f} 元" in table.split("<tfoot>")[1]
    assert "/units/" in pg.hrefs()
    home = page(out, "/")
    assert f"共 {len(catalog.units)} 个单位，这里列出项目最多的 3 个" in home.text
    named = [u for u in catalog.units.values() if (u.url, u.name) in home.links]
    assert len(named) == 3
    most = sorted(len(catalog.by_unit[u.id]) for u in catalog.units.values())[-3:]
    assert sorted(len(catalog.by_unit[u.id]) for u in named) == most
    depts = page(out, "/departments/")
    big = [d for d in catalog.departments if len(d.units) > 1]
    assert big and all(f"等 {len(d.units)} 个单位" in depts.text for d in big)


def test_units_pages(site, catalog):
    pg = page(site, "/units/")
    for u in catalog.units.values():
        assert (u.url, u.name) in pg.links
    unit = page(site, "/units/sh-demo/")
    assert [h for h in unit.headings if h[0] in (2, 3)] == [
        (2, "各年度合计"), (2, "项目"), (3, "2025年度"), (3, "2024年度")]
    assert "/projects/sh-demo-2024-01/" in unit.hrefs() and "/projects/sh-demo-2025-01/" in unit.hrefs()
    assert "500,640.00 元" in unit.titles() and "1,234,567.89 元" in unit.titles()
    assert "50.064 万元" not in unit.text and "50.06 万元" in unit.text     # rounded, and says so
    assert "约 50.06 万元" in unit.text
    assert "/projects/tj-demo-2025-01/" not in unit.hrefs()
    tj = page(site, "/units/tj-demo/")
    assert "293,856.00 元" in tj.titles() and "29.39 万元" in tj.text
    assert "326399" in tj.text and "未公布" in tj.text


def test_departments_pages(site, catalog):
    pg = page(site, "/departments/")
    names = {d.name for d in catalog.departments}
    assert names == {"上海市示例建设管理委员会", "未公布主管部门"}
    for d in catalog.departments:
        assert (d.url, d.name) in pg.links
    unpublished = page(site, f"/departments/{department_slug('未公布主管部门')}/")
    assert "/units/tj-demo/" in unpublished.hrefs()
    assert "/units/sh-demo/" not in unpublished.hrefs()
    sh = page(site, f"/departments/{department_slug('上海市示例建设管理委员会')}/")
    assert {"/units/sh-demo/", "/projects/sh-demo-2024-01/", "/projects/sh-demo-2025-01/"} <= sh.hrefs()


def test_years_pages(site):
    pg = page(site, "/years/")
    assert {"/years/2024/", "/years/2025/"} <= pg.hrefs()
    y = page(site, "/years/2025/")
    assert [h for h in y.headings if h[0] == 2] == [(2, "按单位"), (2, "按主管部门"), (2, "全部项目")]
    assert {"/units/sh-demo/", "/units/tj-demo/", "/projects/tj-demo-2025-01/",
            "/projects/sh-demo-2025-01/"} <= y.hrefs()
    assert "/projects/sh-demo-2024-01/" not in y.hrefs()
    assert "1,528,423.89 元" in y.titles() and "293,856.00 元" in y.titles()


def test_project_page_is_the_form(site, catalog):
    for p in catalog.projects:
        pg = page(site, p.url)
        unit = catalog.unit_of(p)
        assert pg.headings[0] == (1, p.name)
        assert (unit.url, unit.name) in pg.links
        assert f"/projects/{p.id}.json" in pg.hrefs()
        for ind in p.indicators:
            assert ind.name in pg.text
            assert ind.target in pg.text
        for name in p.funds.AMOUNTS:
            if getattr(p.funds, name) is not None:
                assert f"{p.funds.yuan(name):,.2f}" in pg.text
        nav = [t for t, a in pg.tags if t == "nav" and a.get("class") == "breadcrumbs"]
        assert nav, "breadcrumbs"


def test_project_page_details(site):
    html = (site / "projects/sh-demo-2024-01/index.html").read_text("utf-8")
    pg = Page(html)
    # goals keep their line breaks and numbered points, in a pre-line box
    assert "1.完成辖区内市政消火栓的日常维修保养；\n2.故障消火栓在接报后1个月内修复；\n3." in html
    # published text is escaped, never markup
    assert "维修保养 &amp; 更换配件 &lt;含阀门&gt;" in html
    # the indicator table merges level1/level2 cells as on the form
    assert '<th scope="rowgroup" rowspan="3">产出指标</th>' in html
    assert '<th scope="row" rowspan="2">数量指标</th>' in html
    # parsed targets are annotated; qualitative ones show their text
    for short in ("≥ 1200 只", "= 100 %", "≤ 1 月", "≤ 322000.00 元", "定性：及时", "≥ 90 %"):
        assert short in pg.text, short
    assert 'title="定量目标：不低于1200只"' in html
    assert ("/sources/demo.txt", "demo.txt") in pg.links
    assert "/departments/" + department_slug("上海市示例建设管理委员会") + "/" in pg.hrefs()
    # a source that was not supplied is named, not linked
    tj = page(site, "/projects/tj-demo-2025-01/")
    assert "not-copied.txt" in tj.text
    assert not any(h.startswith("/sources/") for h in tj.hrefs())
    assert "29.3856" in tj.text and "293,856.00" in tj.text   # as published and in yuan
    assert "对一家企业检查一次为一家次" in tj.text              # descriptions column


def test_project_page_compares_with_the_prior_year_budget(site):
    """The 2020 form's 同名项目上年预算额: the change in amount and percent, exact."""
    pg = page(site, "/projects/sh-demo-2024-01/")
    assert "比同名项目上年预算（46.18 万元）增加 约 3.88 万元（+8.4%）" in pg.text
    assert "38,840.00 元" in pg.titles() and "461,800.00 元" in pg.titles()
    # no prior-year budget published: no comparison
    assert "上年预算" not in page(site, "/projects/sh-demo-2025-01/").text


def test_same_named_project_of_other_years_is_linked(tmp_path):
    """The same unit's project of the same name (whitespace aside) in another year is
    linked from each page; another unit's project of that name is not."""
    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    source = content / "sh-demo/2024/sh-demo-2024-01.yaml"
    (content / "sh-demo/2023").mkdir()
    (content / "sh-demo/2023/sh-demo-2023-01.yaml").write_text(
        source.read_text("utf-8").replace("id: sh-demo-2024-01", "id: sh-demo-2023-01")
        .replace("year: 2024", "year: 2023")
        .replace("name: 市政消火栓维修保养经费", "name: 市政消火栓 维修保养经费"), "utf-8")
    (content / "tj-demo/2024").mkdir()
    (content / "tj-demo/2024/tj-demo-2024-01.yaml").write_text(
        source.read_text("utf-8").replace("id: sh-demo-2024-01", "id: tj-demo-2024-01")
        .replace("unit: sh-demo", "unit: tj-demo"), "utf-8")
    out = tmp_path / "site"
    build(content, out, TEMPLATES, log=None)
    p2024, p2023 = page(out, "/projects/sh-demo-2024-01/"), page(out, "/projects/sh-demo-2023-01/")
    assert ("/projects/sh-demo-2023-01/", "2023年度") in p2024.links
    assert ("/projects/sh-demo-2024-01/", "2024年度") in p2023.links
    assert "本单位同名项目的其他年度：2023年度" in p2024.text
    for pg in (p2024, p2023):
        assert "/projects/tj-demo-2024-01/" not in pg.hrefs()
    assert "其他年度" not in page(out, "/projects/tj-demo-2024-01/").text
    assert "其他年度" not in page(out, "/projects/sh-demo-2025-01/").text


def test_indicator_pages(site, catalog):
    index = page(site, "/indicators/")
    for category, level2s in catalog.indicator_groups:
        assert f"/indicators/{category}/" in index.hrefs()
        pg = page(site, f"/indicators/{category}/")
        for level2, rows in level2s:
            assert any(h == (2, f"{level2} {len(rows)} 条") for h in pg.headings), level2
            for p, ind in rows:
                assert ind.name in pg.text and p.url in pg.hrefs()
    total = sum(len(p.indicators) for p in catalog.projects)
    assert f"全部 {total} 条指标" in index.text


def test_indicator_pages_show_each_project_target(site, catalog):
    """Every sampled project is listed with the target it gives the indicator (escaped),
    and the row names the measure unit its targets are counted in."""
    html = (site / "indicators/satisfaction/index.html").read_text("utf-8")
    pg = Page(html)
    assert "指标值与项目" in pg.text
    for p in catalog.projects:
        for ind in p.indicators:
            if ind.category == "satisfaction":
                line = (f'<li><span class="target-published">{escape(ind.target)}</span> · '
                        f'<a href="{p.url}">{escape(p.name)}</a> '
                        f'<span class="count">（{p.year}）</span></li>')
                assert line in html, line
    assert "计量单位：%" in pg.text


def test_free_page_markdown_is_safe(site):
    html = (site / "about/index.html").read_text("utf-8")
    pg = Page(html)
    assert pg.headings[0] == (1, "关于示例站")
    assert "<strong>示例站点</strong>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "javascript:" not in [h for h in pg.hrefs()]
    assert not any(h.startswith("javascript") for h in pg.hrefs())
    assert ("/data/", "数据下载") in pg.links


def test_404_page(site):
    pg = page(site, "/404.html")
    assert pg.headings[0] == (1, "找不到这个页面")
    assert "/" in pg.hrefs()
    assert '"/static/site.css"' in (site / "404.html").read_text("utf-8")   # absolute: works at any depth


def test_sitemap_lists_every_html_page(site):
    xml = (site / "sitemap.xml").read_text("utf-8")
    locs = re.findall(r"<loc>(.*?)</loc>", xml)
    expected = {DEFAULT_BASE_URL + url_of(site, p) for p in html_pages(site)} - {DEFAULT_BASE_URL + "/404.html"}
    assert set(locs) == expected
    assert locs == sorted(locs)
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>')


def test_past_the_protocols_limit_the_sitemap_is_an_index_of_sitemaps(catalog, monkeypatch):
    """At most SITEMAP_MAX URLs per file (50,000 by the protocol): sitemap.xml becomes a
    sitemap index naming sitemap-1.xml …, which together list every page once."""
    import jixiao.render
    monkeypatch.setattr(jixiao.render, "SITEMAP_MAX", 10)
    outputs = {o.path: o.data.decode() for o in render_site(catalog, TEMPLATES)}
    index = outputs["sitemap.xml"]
    assert "<sitemapindex" in index and "<urlset" not in index
    parts = re.findall(r"<loc>(.*?)</loc>", index)
    assert parts == [f"{DEFAULT_BASE_URL}/sitemap-{k}.xml" for k in range(1, len(parts) + 1)]
    locs = []
    for k in range(1, len(parts) + 1):
        part = re.findall(r"<loc>(.*?)</loc>", outputs[f"sitemap-{k}.xml"])
        assert 0 < len(part) <= 10
        locs += part
    pages = [o for o in outputs if o.endswith(".html") and o != "404.html"]
    assert len(locs) == len(set(locs)) == len(pages) and locs == sorted(locs)
    assert f"sitemap-{len(parts) + 1}.xml" not in outputs


def test_base_url_is_configurable(catalog, monkeypatch):
    monkeypatch.setenv("JIXIAO_BASE_URL", "https://jixiao.example.org/")
    outputs = {o.path: o.data.decode() for o in render_site(catalog, TEMPLATES)}
    assert "<loc>https://jixiao.example.org/units/</loc>" in outputs["sitemap.xml"]
    assert "Sitemap: https://jixiao.example.org/sitemap.xml" in outputs["robots.txt"]
    outputs = {o.path: o.data.decode() for o in render_site(catalog, TEMPLATES, "https://x.test")}
    assert "<loc>https://x.test/</loc>" in outputs["sitemap.xml"]


def test_robots(site):
    text = (site / "robots.txt").read_text("utf-8")
    assert f"Sitemap: {DEFAULT_BASE_URL}/sitemap.xml" in text
    assert "User-agent: *" in text


# ---------------------------------------------------------------- open data


def read_csv(path: Path) -> list[dict]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), f"{path} starts with a UTF-8 BOM"
    return list(csv.DictReader(io.StringIO(raw[3:].decode("utf-8"))))


def every_year(site: Path, kind: str) -> list[dict]:
    """The rows of each year's ``kind`` CSV (projects or indicators), newest year first;
    the latest year's are the /data/ file's."""
    years = sorted(site.glob(f"years/*/*-{kind}.csv"), reverse=True)
    assert (site / f"data/{kind}.csv").read_bytes() == years[0].read_bytes()
    return [row for year in years for row in read_csv(year)]


def test_projects_csv(site, catalog):
    rows = every_year(site, "projects")
    assert len(rows) == len(catalog.projects) == 3
    assert list(rows[0]) == [name for name, _ in PROJECT_COLUMNS]
    tj = next(r for r in rows if r["id"] == "tj-demo-2025-01")
    assert (tj["funds_unit"], tj["annual"], tj["annual_yuan"]) == ("万元", "29.3856", "293856.00")
    assert tj["department"] == "" and tj["unit"] == "天津市示例供热事务中心"
    sh = next(r for r in rows if r["id"] == "sh-demo-2024-01")
    assert (sh["start"], sh["end"], sh["indicators"]) == ("2024-01-01", "2024-12-31", "6")


def test_indicators_csv(site, catalog):
    rows = every_year(site, "indicators")
    assert len(rows) == sum(len(p.indicators) for p in catalog.projects) == 13
    assert list(rows[0]) == [name for name, _ in INDICATOR_COLUMNS]
    row = next(r for r in rows if r["name"] == "检查企业数量")
    assert (row["target"], row["op"], row["value"], row["value_unit"]) == ("≥192家次", "≥", "192", "家次")
    row = next(r for r in rows if r["name"] == "消防供水保障")
    assert (row["op"], row["value"], row["text"], row["category"]) == ("", "", "及时", "benefit")


def test_json(site, catalog):
    data = [p for year in sorted(site.glob("years/*/*-projects.json"), reverse=True)
            for p in json.loads(year.read_text("utf-8"))]
    assert [p["id"] for p in data] == [p.id for p in catalog.projects]
    latest = json.loads((site / "data/projects.json").read_text("utf-8"))
    assert latest == [p for p in data if p["year"] == 2025]
    for item in data:
        one = json.loads((site / f"projects/{item['id']}.json").read_text("utf-8"))
        assert one == item
        for key in ("id", "name", "year", "url", "unit", "department", "funds", "goals",
                    "sections", "indicators", "source"):
            assert key in item
    tj = next(p for p in data if p["id"] == "tj-demo-2025-01")
    assert tj["funds"]["annual_yuan"] == "293856.00" and tj["funds"]["annual"] == "29.3856"
    assert Decimal(tj["funds"]["annual_yuan"]) == Decimal("29.3856") * 10000


def test_data_page_documents_every_file_and_column(site):
    pg = page(site, "/data/")
    for name, _ in PROJECT_COLUMNS + INDICATOR_COLUMNS:
        assert name in pg.text, name
    assert {"/data/projects.json", "/data/projects.csv", "/data/indicators.csv"} <= pg.hrefs()


def test_download_links_where_people_look(site):
    for url in ("/", "/projects/sh-demo-2024-01/", "/units/"):
        hrefs = page(site, url).hrefs()
        assert "/data/" in hrefs and "/data/projects.csv" in hrefs, url


# ---------------------------------------------------------------- free pages vs routes


def _with_page(tmp_path: Path, name: str) -> Path:
    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    (content / "pages" / name).write_text("# 单位\n\n冲突。\n", "utf-8")
    return content


@pytest.mark.parametrize("name,route", [("units.md", "/units/index.html"),
                                        ("data.md", "/data/index.html"),
                                        ("indicators.md", "/indicators/index.html")])
def test_page_colliding_with_a_route_is_a_problem(tmp_path, name, route):
    content = _with_page(tmp_path, name)
    out = tmp_path / "site"
    with pytest.raises(ContentError) as exc:
        build(content, out, log=None)
    messages = [str(p) for p in exc.value.problems]
    assert messages == [f"{content / 'pages' / name}:1:1: url: "
                        f"{route.removesuffix('index.html')} is a route of the site; rename the page"]
    assert not out.exists()


def test_page_on_a_reserved_path_is_a_problem(tmp_path):
    content = _with_page(tmp_path, "static.md")
    with pytest.raises(ContentError) as exc:
        build(content, tmp_path / "site", log=None)
    assert [str(p) for p in exc.value.problems] == [
        f"{content / 'pages' / 'static.md'}:1:1: url: /static/ is a route of the site; rename the page"]


def test_real_about_page_renders(tmp_path):
    """content/pages/about.md: headings in order, links inside the site."""
    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    shutil.copy(ROOT / "content" / "pages" / "about.md", content / "pages" / "about.md")
    build(content, tmp_path / "site", log=None)
    pg = page(tmp_path / "site", "/about/")
    assert pg.headings[0] == (1, "关于本站")
    levels = [lvl for lvl, _ in pg.headings]
    assert all(b <= a + 1 for a, b in zip(levels, levels[1:]))
    for heading in ("什么是绩效目标", "指标的三个层级", "怎样读目标值", "数据从哪里来", "怎样下载数据"):
        assert (2, heading) in pg.headings
    assert {"/data/", "/indicators/"} <= pg.hrefs()
