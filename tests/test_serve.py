"""The search server in process (WSGI), plus one smoke test of the real waitress server."""
from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import quote, unquote_to_bytes
from wsgiref.util import setup_testing_defaults

import pytest

from jixiao.search.whoosh_index import index_dir
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FIXTURES, ROOT
from jixiao.pipeline import TEMPLATES, build
from jixiao.serve import MAX_URL, Watcher, make_app


def content_dir() -> Path:
    return ROOT / "content" if any((ROOT / "content").glob("*/unit.yaml")) else FIXTURES / "valid"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    catalog = build(content_dir(), out, log=None)
    return out, catalog


@pytest.fixture(scope="module")
def app(site):
    out, catalog = site
    return make_app(out, TEMPLATES, catalog)


class Response:
    def __init__(self, status, headers, body):
        self.status = int(status.split()[0])
        self.headers = dict(headers)
        self.body = body

    @property
    def text(self):
        return self.body.decode("utf-8")

    def json(self):
        return json.loads(self.body)


def request(app, target: str, method: str = "GET", headers: dict | None = None) -> Response:
    """Call the app as waitress would: the path percent-decoded to bytes, then latin-1."""
    path, _, qs = target.partition("?")
    environ: dict = {}
    setup_testing_defaults(environ)
    environ.update({"REQUEST_METHOD": method, "QUERY_STRING": qs, "REQUEST_URI": target,
                    "PATH_INFO": unquote_to_bytes(path).decode("latin-1")})
    environ.update(headers or {})
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"], captured["headers"] = status, headers

    body = b"".join(app(environ, start_response))
    return Response(captured["status"], captured["headers"], body)


def q(text: str) -> str:
    return quote(text, safe="")


# ── static files ──

def test_static_pages_and_content_types(app, site):
    out, catalog = site
    p = catalog.projects[0]
    cases = {"/": "text/html; charset=utf-8", p.url: "text/html; charset=utf-8",
             "/data/projects.csv": "text/csv; charset=utf-8", "/data/projects.json": "application/json",
             "/static/site.css": "text/css; charset=utf-8", "/static/search.css": "text/css; charset=utf-8",
             "/sitemap.xml": "application/xml", f"/projects/{p.id}.json": "application/json"}
    for path, ctype in cases.items():
        r = request(app, path)
        assert (r.status, r.headers["Content-Type"]) == (200, ctype), path
        assert r.headers["Content-Length"] == str(len(r.body))
    assert request(app, p.url.rstrip("/")).status == 301
    assert request(app, p.url.rstrip("/")).headers["Location"] == p.url


def test_etag_not_modified(app):
    first = request(app, "/")
    again = request(app, "/", headers={"HTTP_IF_NONE_MATCH": first.headers["ETag"]})
    assert again.status == 304 and again.body == b""


def test_404_uses_the_site_page(app, site):
    r = request(app, "/no/such/page/")
    assert r.status == 404 and r.body == (site[0] / "404.html").read_bytes()


TRAVERSALS = [
    "/../../../../etc/passwd", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2f..%2fetc%2fpasswd",
    "/%2E%2E%2F%2E%2E%2Fpyproject.toml", "/static/../../pyproject.toml", "/static/%2e%2e/%2e%2e/pyproject.toml",
    "/..\\..\\pyproject.toml", "/%2e%2e%5c%2e%2e%5cpyproject.toml", "/static/..%5c..%5cpyproject.toml",
    "//etc/passwd", "/etc/passwd", "/%2fetc%2fpasswd", "/index.html%00.txt", "/%00", "/static%00/site.css",
    "/%252e%252e/%252e%252e/pyproject.toml", "/%c0%ae%c0%ae/%c0%ae%c0%ae/pyproject.toml", "/%ff%fe",
    "/.search/CURRENT", "/.search/", "/%2esearch/CURRENT", "/.manifest.json", "/static/.%2e/.%2e/pyproject.toml",
    "/./index.html", "/C:/Windows/win.ini", "/static/site.css/..", "/..", "/.",
]


@pytest.mark.parametrize("target", TRAVERSALS)
def test_path_traversal_never_leaves_the_site(app, target):
    r = request(app, target)
    assert r.status in (400, 404), (target, r.status)
    assert b"[project]" not in r.body and b"root:" not in r.body and b"g-" not in r.body[:40]


def test_index_is_not_reachable_under_any_url(app, site):
    """The index lives beside the site folder (whoosh's files are pickles): not under it,
    and not reachable by climbing out of it."""
    out = site[0]
    files = [p for p in index_dir(out).rglob("*") if p.is_file()]
    assert files and not index_dir(out).is_relative_to(out)
    for f in files:
        rel = f.relative_to(out.parent).as_posix()
        for target in ("/" + rel, "/../" + rel, "/" + quote(rel), "/%2e%2e/" + quote(rel),
                       "/" + rel.replace(".", "%2e")):
            assert request(app, target).status in (400, 404), target


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"])
def test_other_methods_405(app, method):
    for target in ("/", "/api/search?q=x", "/search/"):
        r = request(app, target, method=method)
        assert r.status == 405 and r.headers["Allow"] == "GET, HEAD"


def test_head(app):
    for target in ("/", "/api/search?q=%E7%87%83%E6%B0%94", "/search/?q=x", "/nope"):
        get, head = request(app, target), request(app, target, method="HEAD")
        assert head.status == get.status and head.body == b""
        assert head.headers["Content-Length"] == str(len(get.body))
        assert head.headers["Content-Type"] == get.headers["Content-Type"]


def test_uri_too_long(app):
    assert request(app, "/" + "a" * (MAX_URL + 1)).status == 414
    assert request(app, "/api/search?q=" + "%E7%87%83" * 4000).status == 414


def test_security_headers_everywhere(app):
    for target in ("/", "/nope", "/api/search?q=x", "/api/search?page=abc", "/search/", "/.search/CURRENT"):
        h = request(app, target).headers
        assert h["X-Content-Type-Options"] == "nosniff"
        assert h["X-Frame-Options"] == "DENY"
        assert "Referrer-Policy" in h
        csp = h["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp


# ── /api/search and /search/ ──

def test_api_search(app):
    r = request(app, "/api/search?q=" + q("检查"))
    assert r.status == 200 and r.headers["Content-Type"] == "application/json"
    doc = r.json()
    assert list(doc)[:6] == ["query", "total", "page", "page_size", "results", "facets"]
    assert doc["query"] == "检查" and doc["total"] >= 1


def test_cli_search_json_is_the_api_document(app, site, capsys):
    from jixiao.cli import main
    out = site[0]
    assert main(["search", "检查", "--out", str(out), "--json", "--limit", "5"]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed == request(app, "/api/search?q=" + q("检查") + "&page_size=5").text
    assert main(["search", "检查", "--out", str(out)]) == 0
    assert "检查" in capsys.readouterr().out
    assert main(["search", "检查", "--out", str(out), "--year", "x"]) == 2


@pytest.mark.parametrize("qs, word", [
    ("page=abc", "page"), ("page_size=1000", "page_size"), ("year=x", "year"), ("sort=x", "sort"),
    ("q=%ff%fe", "UTF-8"), ("q=a&q=b", "q"), ("q=" + "%E7%87%83" * 201, "查询过长"),
    ("&".join(f"x{i}=1" for i in range(101)), "参数过多"),
])
def test_bad_parameters_400(app, qs, word):
    r = request(app, "/api/search?" + qs)
    assert r.status == 400 and r.headers["Content-Type"] == "application/json"
    assert word in r.json()["error"]
    page = request(app, "/search/?" + qs)
    assert page.status == 400 and page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert word in page.text and 'action="/search/"' in page.text


def test_search_page_says_how_many_facet_values_it_left_out(app, site, monkeypatch):
    from jixiao.search import engine
    units = len(site[1].units)
    monkeypatch.setattr(engine, "FACET_LIMIT", 1)
    r = request(app, "/search/?q=")
    assert r.status == 200
    assert f"另有 {units - 1} 个未列出" in r.text and r.text.count('class="facet-more"') >= 2


def test_search_page(app, site):
    catalog = site[1]
    r = request(app, "/search/?q=" + q("检查"))
    assert r.status == 200 and "<mark>检查</mark>" in r.text
    assert 'name="q" value="检查"' in r.text and "/static/search.css" in r.text
    # works with JavaScript off: no inline script, only the site's own sorter file
    assert re.findall(r"<script[^>]*>", r.text) == ['<script src="/static/sort.js" defer>']
    year = catalog.years[0]
    assert f'href="/search/?q=%E6%A3%80%E6%9F%A5&amp;year={year}"' in r.text     # a facet link
    r = request(app, "/search/?page_size=1")
    if len(catalog.projects) > 1:
        assert 'href="/search/?page_size=1&amp;page=2" rel="next"' in r.text
    assert request(app, "/search").status == 301
    hostile = request(app, "/search/?q=" + q('<script>alert(1)</script>"\''))
    assert hostile.status == 200 and "<script>alert" not in hostile.text


def test_production_app_reads_only_the_free_pages(app, site):
    """docs/DEPLOY.md's wsgi app: the free pages, not the records, and the same answers."""
    from jixiao.validate import load_pages
    out, catalog = site
    pages = load_pages(content_dir())
    assert [p.slug for p in pages] == [p.slug for p in catalog.pages]
    lean = make_app(out, TEMPLATES, pages=pages)
    for target in ("/search/?q=" + q("检查"), "/api/search?q=" + q("燃气")):
        assert request(lean, target).text == request(app, target).text


def test_static_search_page_says_it_needs_the_server(site):
    html = (site[0] / "search" / "index.html").read_text("utf-8")
    assert "搜索需要本站的搜索服务器" in html and 'action="/search/"' in html


HOSTILE = ["AND", "OR", "NOT", "(", ")", "*", "?", "~", "^", ":", '"', "\\", "'", "[", "]", "{", "}",
           "-", "+", "/", "%", "<", ">", "=", "≥", "燃", "气", "检", "查", "a", "Z", "9", " ", "\t",
           "\x00", "\x1f", "\x7f", "\u200b", "\u202e", "\ud7ff", "\U0001F600", "\ufffd", "𠀀"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.lists(st.sampled_from(HOSTILE) | st.text(max_size=5), max_size=30).map("".join),
       extra=st.dictionaries(st.sampled_from(["page", "page_size", "year", "unit", "department",
                                              "category", "sort", "zz"]),
                             st.text(max_size=8), max_size=3))
def test_no_query_or_parameter_causes_5xx(app, query, extra):
    qs = "q=" + q(query) + "".join(f"&{k}={q(v)}" for k, v in extra.items())
    for path in ("/api/search?", "/search/?"):
        r = request(app, path + qs)
        assert r.status in (200, 400), (query, extra, r.status)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=64))
def test_no_byte_sequence_causes_5xx(app, raw):
    encoded = "".join(f"%{b:02x}" for b in raw)
    for target in ("/api/search?q=" + encoded, "/search/?q=" + encoded, "/" + encoded,
                   "/static/" + encoded, "/api/search?" + encoded):
        assert request(app, target).status < 500, target


def test_ten_kilobyte_query(app):
    big = q("燃气 AND (" * 800)[:MAX_URL - 100]
    for path in ("/api/search?q=", "/search/?q="):
        assert request(app, path + big).status == 400


# ── rebuild and swap ──

@pytest.mark.parametrize("beside", [False, True], ids=["index-inline", "index-beside"])
def test_rebuild_on_change_and_failed_rebuild_keeps_serving(tmp_path, monkeypatch, beside):
    """The preview server rebuilds from its watcher thread; with the index prepared in a
    child process (as for ≥ 400 projects) too, forked from a process with threads."""
    from jixiao import pipeline
    if beside:
        monkeypatch.setattr(pipeline, "INDEX_BESIDE_FROM", 1)
    content = tmp_path / "content"
    shutil.copytree(FIXTURES / "valid", content)
    out = tmp_path / "site"
    catalog = build(content, out, log=None)
    app = make_app(out, TEMPLATES, catalog)
    watcher = Watcher(content, out, TEMPLATES, app, log=open("/dev/null", "w"))
    busy = threading.Event()            # another thread runs meanwhile, as waitress's do
    threading.Thread(target=busy.wait, args=(30,), daemon=True).start()

    def rebuild() -> bool:              # from a thread of its own, as the watcher does
        done = []
        thread = threading.Thread(target=lambda: done.append(watcher.rebuild()))
        thread.start()
        thread.join(60)
        return done[0]

    assert request(app, "/api/search?q=" + q("热力管网巡检")).json()["total"] == 0
    record = next(content.glob("*/*/*.yaml"))
    text = record.read_text("utf-8")
    record.write_text(text.replace("燃气供热站安全应急检查", "热力管网巡检", 1), "utf-8")
    assert rebuild()
    assert request(app, "/api/search?q=" + q("热力管网巡检")).json()["total"] == 1   # new generation
    before = (out / "index.html").read_bytes()
    record.write_text(text.replace("year: 2025", "year: 二〇二五"), "utf-8")
    assert not rebuild()
    busy.set()
    assert (out / "index.html").read_bytes() == before
    assert request(app, "/api/search?q=" + q("热力管网巡检")).json()["total"] == 1


# ── the real server ──

def test_real_server_eight_concurrent_clients(app):
    import waitress
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=8)

    def run():
        try:
            server.run()
        except OSError:            # the select loop sees its socket closed by server.close()
            pass

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    port = server.effective_port
    targets = ["/", "/api/search?q=" + q("检查"), "/search/?q=" + q("安全"), "/static/site.css",
               "/api/search?q=" + q("≥90%") + "&page_size=5", "/data/projects.json"]
    statuses: list[int] = []
    lock = threading.Lock()

    def client(n):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for i in range(12):
            conn.request("GET", targets[(n + i) % len(targets)])
            resp = conn.getresponse()
            resp.read()
            with lock:
                statuses.append(resp.status)
        conn.close()

    try:
        clients = [threading.Thread(target=client, args=(n,)) for n in range(8)]
        for c in clients:
            c.start()
        for c in clients:
            c.join()
    finally:
        server.close()
        thread.join(5)
    assert statuses == [200] * 96


def test_an_index_removed_under_the_server_gives_503_not_500(app, site):
    """Two builds overlapping can replace the generation a server is opening
    (whoosh.index.EmptyIndexError): the documented 503, never a 500."""
    import shutil
    from jixiao.search import open_backend
    out = site[0]
    backend = open_backend(out)
    root = index_dir(out)
    current = (root / "CURRENT").read_text().strip()
    saved = root.parent / "saved-generation"
    shutil.copytree(root / current, saved)
    try:
        for f in (root / current).glob("*.toc"):
            f.unlink()                                  # the generation half gone
        backend._gen = None
        backend._stamp = None
        r = request(app, "/api/search?q=" + q("检查"))
        assert r.status == 503, r.status
        r = request(app, "/search/?q=" + q("检查"))
        assert r.status == 503
    finally:
        shutil.rmtree(root / current)
        shutil.copytree(saved, root / current)
        shutil.rmtree(saved)
        backend._gen = None
        backend._stamp = None
    assert request(app, "/api/search?q=" + q("检查")).status == 200


def test_a_page_without_results_offers_ways_on(app):
    """No dead end: a query nothing matches, with a filter on, offers to drop the filter,
    browse links and, for a query without Chinese, a hint; ignored characters say so."""
    r = request(app, "/search/?q=" + q("Москва") + "&year=2024")
    assert r.status == 200
    page = r.text
    assert "没有找到" in page and "去掉筛选" in page and "年度：2024" in page
    assert '<a href="/units/">单位</a>' in page and "请用中文字词搜索" in page
    r = request(app, "/search/?q=" + q("😀"))
    assert "没有可以搜索的文字" in r.text


def test_search_page_labels_the_projects_found_by_the_year_the_query_names(app):
    r = request(app, "/search/?q=" + q("2023年 燃气"))
    assert r.status == 200
    assert r.text.count('<span class="match">按所说的年度</span>') >= 5


def test_the_watcher_keeps_to_the_files_the_build_reads(tmp_path):
    from watchfiles import Change
    content, templates = tmp_path / "content", tmp_path / "templates"
    w = Watcher(content, tmp_path / "site", templates, None, log=open(os.devnull, "w"))
    for path in ("content/u/2025/u-2025-01.yaml", "content/site.yaml", "templates/unit.html",
                 "content/sources/a.pdf"):
        assert w.relevant(Change.modified, str(tmp_path / path)), path
    for path in ("content/u/2025/.u-2025-01.yaml.swp", "content/u/2025/u-2025-01.yaml~",
                 "content/.git/index", "content/u/.cache/x.yaml", "templates/x.tmp",
                 "site/index.html", "content"):
        assert not w.relevant(Change.modified, str(tmp_path / path)), path


def test_the_watcher_rebuilds_when_a_record_is_edited(tmp_path):
    """The preview server's watcher, running: a goal edited in content/ is on the page
    within seconds (file events, or polling where there are none)."""
    import time
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    out = tmp_path / "site"
    app = make_app(out, TEMPLATES, build(content, out, TEMPLATES, log=None))
    watcher = Watcher(content, out, TEMPLATES, app, log=open(os.devnull, "w"))
    watcher.start()
    record = sorted(content.glob("sh-gjjglzx/*/*.yaml"))[0]
    page = out / "projects" / record.stem / "index.html"
    try:
        deadline, edited = time.monotonic() + 90, 0.0
        while "（由监视更正）" not in page.read_text("utf-8") and time.monotonic() < deadline:
            if time.monotonic() - edited > 5:     # again, in case the watch was not set yet
                text = record.read_text("utf-8").replace("（由监视更正）", "")
                record.write_text(text.replace("overall: ", "overall: （由监视更正）", 1), "utf-8")
                edited = time.monotonic()
            time.sleep(0.2)
        assert "（由监视更正）" in page.read_text("utf-8")
    finally:
        watcher.stop.set()
        watcher.join(30)
    assert not watcher.is_alive()


def test_without_file_events_the_watcher_polls(tmp_path, monkeypatch):
    """Where watching with file events fails (no inotify, its limit of watched folders
    reached), the watcher says so and polls every ``interval`` s."""
    import io
    import time
    import watchfiles
    real, calls = watchfiles.watch, []

    def watch(*paths, force_polling=None, **kwargs):
        calls.append(force_polling)
        if not force_polling:
            raise OSError("OS file watch limit reached")
        return real(*paths, force_polling=force_polling, **kwargs)
    monkeypatch.setattr(watchfiles, "watch", watch)
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    out, log = tmp_path / "site", io.StringIO()
    app = make_app(out, TEMPLATES, build(content, out, TEMPLATES, log=None))
    watcher = Watcher(content, out, TEMPLATES, app, interval=0.2, log=log)
    watcher.start()
    record = sorted(content.glob("sh-gjjglzx/*/*.yaml"))[0]
    try:
        deadline = time.monotonic() + 60
        while "change detected" not in log.getvalue() and time.monotonic() < deadline:
            time.sleep(0.5)
            record.write_text(record.read_text("utf-8") + "\n", "utf-8")
    finally:
        watcher.stop.set()
        watcher.join(30)
    assert calls == [None, True] and "polling it every 0.2 s" in log.getvalue()
    assert "change detected" in log.getvalue()
