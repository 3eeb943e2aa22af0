"""End-to-end tests in real headless Chromium (Debian's package), driven by Playwright.

The tests build the real ``content/`` and start ``build.py serve`` on a free
loopback port, then browse and search like a citizen: with and without
JavaScript, at phone width, in print media, and under axe-core.  Screenshots
of each page kind go to ``test-artifacts/`` (ignored by git).
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
AXE_DIR = ROOT / "tests" / "browser"
AXE = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts"

if not CHROMIUM.exists():
    pytest.skip("browser tests need Debian's chromium at /usr/bin/chromium "
                "(apt-get install chromium); .ci/run installs it", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")

sys.path.insert(0, str(ROOT / "bench"))
import load_test  # noqa: E402  (bench/load_test.py: starts build.py serve)

LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@contextmanager
def running_server(content: Path, out: Path):
    """``build.py serve`` on ``content`` on a free loopback port (bench/load_test.serve)."""
    try:
        with load_test.serve(content, out, wait=120) as (base, _):
            yield base
    except RuntimeError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def site_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("browser") / "site"


@pytest.fixture(scope="session")
def server(site_dir):
    with running_server(ROOT / "content", site_dir) as base:
        yield base


@pytest.fixture(scope="session")
def static_host(server, site_dir):
    """The same built site served as plain files, as a web host or object storage serves
    it: no /api/search, no server-rendered /search/ (content/site.yaml has static_search)."""
    with load_test.static_files(site_dir) as base:
        yield base


@pytest.fixture(scope="session")
def browser():
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    p = context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda exc: errors.append(str(exc)))
    yield p
    context.close()
    assert errors == [], f"JavaScript errors: {errors}"


@pytest.fixture
def nojs_page(browser):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


@pytest.fixture(scope="session")
def projects(server):
    """Every year's projects, as a program gets them: the files /data/index.json lists."""
    with urllib.request.urlopen(server + "/data/index.json") as r:
        index = json.load(r)
    found = []
    for year in index["years"]:
        with urllib.request.urlopen(server + year["files"]["projects.json"]) as r:
            found += json.load(r)
    return found


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def first_project_with_many_indicators(projects):
    return max(projects, key=lambda p: (len(p["indicators"]), p["id"]))


# ---------------------------------------------------------------- navigation

def test_home_to_unit_to_project_and_breadcrumbs_back(page, server, projects):
    page.goto(server + "/")
    assert page.locator("h1").count() == 1
    project = projects[0]
    page.locator("a[href='/units/']").first.click()
    page.wait_for_url(server + "/units/")
    page.locator(f"main a[href='/units/{project['unit']['id']}/']").first.click()
    page.wait_for_url(re.compile(rf".*/units/{project['unit']['id']}/$"))
    assert project["unit"]["name"] in page.locator("h1").inner_text()
    page.locator(f"main a[href='{project['url']}']").first.click()
    page.wait_for_url(re.compile(rf".*{re.escape(project['url'])}$"))
    assert page.locator("h1").inner_text().strip() == project["name"]
    crumbs = page.locator("nav.breadcrumbs a")
    assert crumbs.count() >= 2
    crumbs.filter(has_text=project["unit"]["name"]).first.click()
    page.wait_for_url(re.compile(rf".*/units/{project['unit']['id']}/$"))
    page.locator("nav.breadcrumbs a").first.click()
    page.wait_for_url(server + "/")


def test_project_page_shows_every_indicator_with_its_target(page, server, projects):
    project = first_project_with_many_indicators(projects)
    page.goto(server + project["url"])
    table = page.locator("table.indicators")
    assert table.is_visible()
    text = table.inner_text()
    for ind in project["indicators"]:
        assert ind["name"].split("\n")[0] in text
        assert (ind["target"] or "—").split("\n")[0] in text


# ---------------------------------------------------------------- search

def search_via_box(page, server, query: str) -> None:
    page.goto(server + "/")
    box = page.locator("input[name='q']").first
    box.fill(query)
    box.press("Enter")
    page.wait_for_url(re.compile(r".*/search/\?.*q="))


def result_links(page):
    return page.locator(".search-hits a[href^='/projects/']")


def test_search_box_finds_project_and_highlights_matched_indicators(page, server):
    search_via_box(page, server, "满意度")
    assert result_links(page).count() > 0
    assert page.locator("main mark").count() > 0
    assert "满意度" in page.locator("main mark").first.inner_text()


def test_facet_narrows_results_and_url_is_shareable(page, server):
    search_via_box(page, server, "满意度")
    before = page.locator("[data-total]").first.get_attribute("data-total")
    facet = page.locator(".search-facets a[href*='year=']").first
    facet.click()
    page.wait_for_url(re.compile(r".*year=\d{4}"))
    after = page.locator("[data-total]").first.get_attribute("data-total")
    assert int(after) < int(before)
    shared = page.url
    page.goto(shared)                      # reload from the URL alone
    assert page.locator("[data-total]").first.get_attribute("data-total") == after
    year = urllib.parse.parse_qs(urllib.parse.urlparse(shared).query)["year"][0]
    with urllib.request.urlopen(server + "/api/search?" + urllib.parse.urlencode(
            {"q": "满意度", "year": year})) as r:
        assert json.load(r)["total"] == int(after)


def test_pagination(page, server):
    page.goto(server + "/search/?q=%E6%BB%A1%E6%84%8F%E5%BA%A6&page_size=5")   # 满意度
    first_page = [a.get_attribute("href") for a in result_links(page).all()]
    page.locator("a[rel='next']").first.click()
    page.wait_for_url(re.compile(r".*page=2"))
    second_page = [a.get_attribute("href") for a in result_links(page).all()]
    assert second_page and not set(first_page) & set(second_page)


def test_browsing_and_search_without_javascript(nojs_page, server, projects):
    page = nojs_page
    project = projects[-1]
    page.goto(server + "/")
    page.locator("a[href='/units/']").first.click()
    page.locator(f"main a[href='/units/{project['unit']['id']}/']").first.click()
    page.locator(f"main a[href='{project['url']}']").first.click()
    assert page.locator("table.indicators").is_visible()
    box = page.locator("input[name='q']").first
    box.fill(project["name"][:6])
    box.press("Enter")
    page.wait_for_url(re.compile(r".*/search/\?.*q="))
    assert page.locator(f"main a[href='{project['url']}']").count() >= 1
    assert page.locator("main mark").count() > 0


def _amounts(page, table) -> list:
    from decimal import Decimal
    return [Decimal(c.get_attribute("data-sort"))
            for c in table.locator("tbody td[data-label='年度资金']").all()]


def test_a_list_sorts_by_amount_with_a_click_and_back(page, server):
    page.goto(server + "/years/2020/")
    table = page.locator("table.sortable").filter(has=page.locator("td[data-label='年度资金']")).first
    before = _amounts(page, table)
    table.locator("thead th button", has_text="年度资金").click()
    up = _amounts(page, table)
    assert up == sorted(before) and up != before
    assert table.locator("thead th[aria-sort='ascending']").count() == 1
    table.locator("thead th button", has_text="年度资金").click()
    assert _amounts(page, table) == sorted(before, reverse=True)
    table.locator("thead th button", has_text="项目名称").click()
    names = table.locator("tbody th[scope='row']").all_inner_texts()
    assert names == sorted(names, key=__import__("functools").cmp_to_key(
        lambda a, b: page.evaluate("([a, b]) => new Intl.Collator('zh-Hans-CN-u-co-pinyin', "
                                   "{numeric: true}).compare(a, b)", [a, b])))


def test_lists_offer_every_order_without_javascript(nojs_page, server):
    """Without JavaScript a list keeps the site's order and links the other orders, which
    the search server answers with the same projects."""
    from decimal import Decimal
    page = nojs_page
    page.goto(server + "/years/2020/")
    listed = page.locator("main table.sortable tbody th[scope='row'] a[href^='/projects/']").count()
    page.locator("p.list-sorts a", has_text="年度资金从多到少").click()
    page.wait_for_url(re.compile(r".*/search/\?year=2020&sort=amount"))
    assert f"共 {listed} 个项目" in page.locator("#results-heading").inner_text()
    shown = [Decimal(x) for x in page.evaluate(
        "() => [...document.querySelectorAll('.hit')].map(h => h.dataset.amount || '')") if x]
    assert shown == sorted(shown, reverse=True)
    page.select_option("select[name='sort']", "name")
    page.fill("input[name='amount_min']", "500")
    page.locator("form.search-order button").click()
    page.wait_for_url(re.compile(r".*year=2020.*sort=name.*amount_min=500"))
    kept = [Decimal(x) for x in page.evaluate(
        "() => [...document.querySelectorAll('.hit')].map(h => h.dataset.amount || '')") if x]
    assert kept and min(kept) >= Decimal("5000000")
    assert page.locator("select[name='sort'] option[selected]").get_attribute("value") == "name"
    assert page.locator("form.search-order input[name='amount_min']").input_value() == "500"


# ---------------------------------------------------------------- layout

PAGE_KINDS = {
    "home": "/",
    "units": "/units/",
    "unit": None,          # filled from data
    "project": None,
    "indicators": "/indicators/",
    "search": "/search/?q=%E6%BB%A1%E6%84%8F%E5%BA%A6",
    "search-sorted": "/search/?year=2020&sort=amount&amount_min=500",
    "about": "/about/",
    "data": "/data/",
    "projects": "/projects/",
    "departments": "/departments/",
}


def page_urls(projects):
    project = first_project_with_many_indicators(projects)
    urls = dict(PAGE_KINDS)
    urls["unit"] = f"/units/{project['unit']['id']}/"
    urls["project"] = project["url"]
    urls["year"] = f"/years/{project['year']}/"
    return urls


@pytest.mark.parametrize("width", [390, 1366])
def test_no_sideways_scrolling_and_screenshots(browser, server, projects, width):
    context = browser.new_context(viewport={"width": width, "height": 844})
    page = context.new_page()
    for kind, url in page_urls(projects).items():
        page.goto(server + url)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{kind} ({url}) scrolls sideways by {overflow}px at {width}px"
        shot(page, f"{kind}-{width}")
    context.close()


ALL_KINDS_AT_390 = ["/", "/units/", "/departments/", "/years/", "/projects/", "/indicators/"]


def test_every_amount_and_target_is_on_screen_at_390px(browser, server, projects):
    """On a phone every amount and every target cell lies inside the viewport: tables
    become labelled cards instead of scrolling sideways."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    urls = ALL_KINDS_AT_390 + list(page_urls(projects).values())
    dept = next(p for p in projects if p["department"])
    urls += [f"/units/{p['unit']['id']}/" for p in projects[:: max(1, len(projects) // 6)]]
    urls += [p["url"] for p in projects[:: max(1, len(projects) // 8)]]
    checked = 0
    for url in dict.fromkeys(urls):
        page.goto(server + url)
        off = page.evaluate("""() => [...document.querySelectorAll(
                'td.num, td.target, .amount-lead, .chart')].filter(el => {
            const r = el.getBoundingClientRect();
            return r.width > 0 && (r.left < -1 || r.right > window.innerWidth + 1);
        }).map(el => el.textContent.trim().slice(0, 40))""")
        assert off == [], f"{url}: off screen at 390px: {off[:5]}"
        checked += page.evaluate("document.querySelectorAll('td.num, td.target').length")
    context.close()
    assert checked > 300


def test_compared_targets_and_prior_year_change_are_on_screen_at_390px(browser, server,
                                                                        projects):
    """The targets the indicator pages compare, and a 2020 project's change against the
    prior year's budget, lie inside a phone's viewport."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(server + "/indicators/")
    urls = page.eval_on_selector_all("main h2 a", "els => els.map(e => e.getAttribute('href'))")
    prior = [p["url"] for p in projects if p["funds"].get("prior_year_budget") is not None]
    assert urls and prior
    shown = 0
    for url in urls + prior[:4]:
        page.goto(server + url)
        off = page.evaluate("""() => [...document.querySelectorAll(
                'ul.samples .target-published, .unit-note, .yoy')].filter(el => {
            const r = el.getBoundingClientRect();
            return r.width > 0 && (r.left < -1 || r.right > window.innerWidth + 1);
        }).map(el => el.textContent.trim().slice(0, 40))""")
        assert off == [], f"{url}: off screen at 390px: {off[:5]}"
        shown += page.evaluate("document.querySelectorAll('ul.samples .target-published, .yoy').length")
    assert page.locator(".yoy").count() == 1
    shot(page, "project-prior-year-390")
    context.close()
    assert shown > 100


def test_charts_have_text_alternatives(page, server, projects):
    """Home (money by year and region), a unit (its projects), a year (its units) and a
    project with several sources of money have an SVG chart with a title and a desc
    listing every value; the data is also in a table on the page."""
    multi_unit = max({p["unit"]["id"] for p in projects},
                     key=lambda u: sum(1 for p in projects if p["unit"]["id"] == u))
    year = max({p["year"] for p in projects},
               key=lambda y: len({p["unit"]["id"] for p in projects if p["year"] == y}))
    sourced = next(p for p in projects if p["funds"].get("carryover") not in (None, "0", "0.00")
                   and p["funds"].get("appropriation")) if any(
        p["funds"].get("carryover") not in (None, "0", "0.00") and p["funds"].get("appropriation")
        for p in projects) else None
    urls = ["/", f"/units/{multi_unit}/", f"/years/{year}/"] + ([sourced["url"]] if sourced else [])
    for url in urls:
        page.goto(server + url)
        svg = page.locator("figure.chart svg[role=img]").first
        assert svg.count() == 1, url
        title = svg.locator("title").text_content()
        desc = svg.locator("desc").text_content()
        assert title and "：" in desc, url
        bars = svg.locator("rect").count()
        assert bars >= 2 and desc.count("；") == bars - 1, url
        assert page.locator("table").count() >= 1, url


def test_lists_show_readable_amounts_with_the_exact_yuan_in_reach(page, server, projects):
    page.goto(server + "/units/")
    cell = page.locator("table.list td.num span.num").first
    assert cell.text_content().strip().endswith(("万元", "亿元", "元"))
    assert cell.get_attribute("title").endswith(" 元")
    project = max(projects, key=lambda p: float(p["funds"]["annual_yuan"]))
    page.goto(server + project["url"])
    lead = page.locator(".amount-lead").text_content()
    assert "亿元" in lead or "万元" in lead
    exact = f"{float(project['funds']['annual_yuan']):,.2f}"
    assert exact in lead


def test_home_says_what_the_site_covers(page, server):
    page.goto(server + "/")
    text = page.locator(".coverage").text_content()
    assert "不是某地的全部预算" in text and "暂无数据" in text
    assert "年度资金合计" not in page.locator("dl.stats").text_content()


def test_project_prints_the_whole_form(page, server, projects):
    project = first_project_with_many_indicators(projects)
    page.goto(server + project["url"])
    page.emulate_media(media="print")
    table = page.locator("table.indicators")
    assert table.is_visible()
    rows = table.locator("tbody tr")
    assert rows.count() == len(project["indicators"])
    for i in range(rows.count()):
        assert rows.nth(i).is_visible()
    box = page.evaluate("""() => { const t = document.querySelector('table.indicators');
        const s = t.closest('.scroll') || t.parentElement;
        return [s.scrollWidth, s.clientWidth, getComputedStyle(s).overflowX]; }""")
    assert box[2] == "visible" or box[0] <= box[1], f"indicator table clipped in print: {box}"
    ARTIFACTS.mkdir(exist_ok=True)
    page.pdf(path=str(ARTIFACTS / "project-print.pdf"))


# ---------------------------------------------------------------- accessibility

@pytest.fixture(scope="session")
def axe_source():
    if not AXE.exists() and shutil.which("npm"):
        subprocess.run(["npm", "ci", "--silent", "--no-audit", "--no-fund"], cwd=AXE_DIR,
                       check=False, timeout=300)
    if not AXE.exists():
        pytest.skip("axe-core is not installed (npm ci in tests/browser failed or npm is missing)")
    return AXE.read_text("utf-8")


def test_axe_finds_no_serious_or_critical_violations(browser, server, projects, axe_source):
    # axe is injected as an inline script, which the site's CSP rightly forbids: bypass it here only
    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems = []
    for kind, url in page_urls(projects).items():
        page.goto(server + url)
        page.add_script_tag(content=axe_source)
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        for v in result["violations"]:
            if v["impact"] in ("serious", "critical"):
                targets = [n["target"] for n in v["nodes"][:3]]
                problems.append(f"{kind} {url}: {v['id']} ({v['impact']}): {v['help']} {targets}")
    context.close()
    assert problems == []


# ---------------------------------------------------------------- cross-site scripting

XSS_CONTENT = ROOT / "tests" / "fixtures" / "xss" / "content"
PAYLOAD_QUERY = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">'


def test_no_injected_script_runs_anywhere(browser, tmp_path):
    with running_server(XSS_CONTENT, tmp_path / "site") as base:
        context = browser.new_context()
        page = context.new_page()
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        urls = ["/", "/units/", "/units/xss-unit/", "/projects/xss-unit-2024-01/", "/about/",
                "/indicators/", "/years/2024/", "/departments/",
                "/search/?" + urllib.parse.urlencode({"q": "跨站"}),
                "/search/?" + urllib.parse.urlencode({"q": PAYLOAD_QUERY}),
                "/search/?" + urllib.parse.urlencode({"q": "测试", "year": PAYLOAD_QUERY}),
                "/" + urllib.parse.quote(PAYLOAD_QUERY)]
        for url in urls:
            page.goto(base + url)
            assert page.evaluate("window.__pwned") is None, url
            # the payload is readable as text where it was typed
        page.goto(base + "/projects/xss-unit-2024-01/")
        assert "<script>window.__pwned=1</script>" in page.locator("h1").inner_text()
        for link in page.locator("a").all():
            href = link.get_attribute("href") or ""
            assert not href.lower().startswith(("javascript:", "data:")), href
        context.close()
        assert dialogs == []


# Payloads the search *matches* (results, snippets, matched indicators, facet labels,
# the 400 page) never run either.
def test_no_script_runs_in_search_results_snippets_or_facets(browser, tmp_path):
    with running_server(XSS_CONTENT, tmp_path / "site") as base:
        context = browser.new_context()
        page = context.new_page()
        dialogs, errors = [], []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda e: errors.append(str(e)))
        queries = [{"q": q} for q in ("pwned", "<script>", "onerror", "指标名称", "满意度", "svg onload",
                                      "攻击测试单位", "{{7*7}}")]
        queries += [{"q": "跨站", "unit": "xss-unit"}, {"q": "跨站", "category": "output", "sort": "amount"},
                    {"q": PAYLOAD_QUERY, "page": PAYLOAD_QUERY}]
        for params in queries:
            url = base + "/search/?" + urllib.parse.urlencode(params)
            page.goto(url)
            assert page.evaluate("window.__pwned") is None, url
            assert page.locator("main script, main img, main svg").count() == 0, url
        page.goto(base + "/search/?" + urllib.parse.urlencode({"q": "pwned"}))
        marks = page.locator("main mark")
        assert marks.count() > 0 and "pwned" in marks.first.inner_text()
        facets = page.locator(".search-facets").inner_text()
        assert "攻击测试单位<script>" in facets                # the label, read as text
        context.close()
        assert dialogs == [] and errors == []




# ---------------------------------------------------------------- search on a static host

# what the two pages must show alike: results, facets with counts, heading, help
SAME_PARTS = ["#results-heading", ".search-hits", ".search-facets", ".search-suggestion",
              ".search-also", ".search-empty", ".pagination", ".search-error", ".search-notice"]
STATIC_QUERIES = [{"q": "燃气"}, {"q": "消火拴"}, {"q": "ranqi"}, {"q": "2023年 燃气"},
                  {"q": "燃气的项目"}, {"q": "公积金中心"}, {"q": "路灯"}, {"q": "≥90%"},
                  {"q": "公積金"}, {"q": "😀"}, {"q": "服务", "page": "2"},
                  {"q": "管理", "sort": "amount", "year": "2020"},
                  {"q": "", "amount_min": "10", "amount_max": "50"},
                  {"q": "燃气", "year": "2020"}, {"page": "0"}]


def shown(page) -> dict:
    page.wait_for_selector(".search-results, .search-error, .search-notice:not([data-static])")
    return {sel: [el.inner_text() for el in page.locator(sel).all()] for sel in SAME_PARTS}


def test_static_host_search_shows_what_the_server_shows(page, server, static_host):
    for params in STATIC_QUERIES:
        qs = urllib.parse.urlencode(params)
        page.goto(f"{server}/search/?{qs}")
        want = shown(page)
        page.goto(f"{static_host}/search/?{qs}")
        assert shown(page) == want, params
    shot(page, "search-static")


def test_static_host_facets_and_pages_are_links_that_work(page, static_host):
    page.goto(static_host + "/search/?q=" + urllib.parse.quote("服务"))
    page.wait_for_selector(".search-results")
    total = int(page.locator(".search-results").get_attribute("data-total"))
    page.locator(".search-facets a").first.click()
    page.wait_for_selector(".search-results")
    assert "year=" in page.url or "unit=" in page.url
    assert int(page.locator(".search-results").get_attribute("data-total")) < total
    page.fill("#q", "消火栓")
    page.locator(".search-page-form button").click()
    page.wait_for_selector(".search-hits li")
    assert "市政消火栓维修保养经费" in page.locator(".search-hits").inner_text()


def test_static_host_without_javascript_says_what_to_do(nojs_page, static_host):
    nojs_page.goto(static_host + "/search/?q=" + urllib.parse.quote("燃气"))
    notice = nojs_page.locator(".search-notice").inner_text()
    assert "搜索服务器" in notice and nojs_page.locator(".search-notice a[href='/units/']").count()


def test_static_host_results_fit_a_phone(browser, static_host):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    for q in ("燃气", "专项资金", "ranqi", "2023年 燃气"):
        page.goto(static_host + "/search/?q=" + urllib.parse.quote(q))
        page.wait_for_selector(".search-results")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, q
    context.close()


def test_no_script_runs_in_static_host_search(browser, tmp_path):
    """The same payloads through the browser's own search (search-page.js renders them)."""
    from jixiao.pipeline import build
    content = tmp_path / "content"
    shutil.copytree(XSS_CONTENT, content)
    (content / "site.yaml").write_text("static_search: true\n", "utf-8")
    build(content, tmp_path / "site", log=None)
    with load_test.static_files(tmp_path / "site") as base:
        context = browser.new_context()
        page = context.new_page()
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        for params in ({"q": "pwned"}, {"q": "<script>"}, {"q": "onerror"}, {"q": "满意度"},
                       {"q": "攻击测试单位"}, {"q": PAYLOAD_QUERY}, {"q": "跨站", "unit": "xss-unit"},
                       {"q": "测试", "year": PAYLOAD_QUERY}, {"q": PAYLOAD_QUERY, "page": PAYLOAD_QUERY}):
            page.goto(base + "/search/?" + urllib.parse.urlencode(params))
            page.wait_for_selector(".search-results, .search-error")
            assert page.evaluate("window.__pwned") is None, params
            assert page.locator("main script, main img, main svg").count() == 0, params
        page.goto(base + "/search/?" + urllib.parse.urlencode({"q": "pwned"}))
        page.wait_for_selector(".search-hits li")
        assert page.locator(".search-hits li").count() >= 1
        context.close()
        assert dialogs == []
