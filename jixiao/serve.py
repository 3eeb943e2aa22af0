"""The search server: the static site, ``/search/`` and ``/api/search`` on one port.

``make_app`` is a plain WSGI application (tests call it in process);
``serve`` builds the site, watches content/ and templates/ for changes and
runs the app with waitress, a production-grade threaded WSGI server.

Rules the app keeps whatever it is sent:

* only GET and HEAD (405 otherwise), URLs up to MAX_URL bytes (414 otherwise);
* never a file outside the output directory: the path is decoded once
  (percent-decoding is the server's; the bytes must be UTF-8), and any
  segment that starts with a dot (``..``, ``.search``, ``.manifest.json``),
  holds a backslash, NUL or control character, or is empty (``//``) is
  refused with 404 before the file system is asked; the resolved path must
  still lie inside the output directory (symlinks);
* the query is never syntax; a bad parameter is a 400 with a message (JSON
  on /api/search, the normal page on /search/), never a 5xx;
* security headers on every response, a CSP without 'unsafe-inline'.
"""
from __future__ import annotations

import re
import math
import mimetypes
import os
import sys
import threading
import traceback
from pathlib import Path
from urllib.parse import quote, unquote_to_bytes

from .export import json_line
from .search import NoIndex, ParamError, SearchParams, open_backend, parse_params
from .search.params import DEFAULT_PAGE_SIZE, FACETS, SORTS

MAX_URL = 8192
MAX_FIELDS = 100

SECURITY_HEADERS = [
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy",
     "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
     "form-action 'self'; frame-ancestors 'none'"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
]

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".csv": "text/csv; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/plain; charset=utf-8",
    ".xml": "application/xml",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".webmanifest": "application/manifest+json",
    ".woff2": "font/woff2",
}

FACET_LABELS = {"year": "年度", "unit": "实施单位", "department": "主管部门", "category": "指标类别"}
FIELD_LABELS = {"name": "项目名称", "unit": "实施单位", "department": "主管部门", "nature": "项目性质",
                "category": "项目类别", "goals.overall": "项目总目标", "goals.annual": "年度总体目标"}
STATUS = {200: "200 OK", 301: "301 Moved Permanently", 304: "304 Not Modified",
          400: "400 Bad Request", 404: "404 Not Found", 405: "405 Method Not Allowed",
          414: "414 URI Too Long", 503: "503 Service Unavailable"}


def parse_query_string(qs: str) -> dict[str, list[str]]:
    """``QUERY_STRING`` (latin-1 str per PEP 3333) → {name: [values]}, strictly UTF-8."""
    out: dict[str, list[str]] = {}
    if not qs:
        return out
    pairs = [p for p in qs.split("&") if p]
    if len(pairs) > MAX_FIELDS:
        raise ParamError("参数过多")
    for pair in pairs:
        name, _, value = pair.partition("=")
        try:
            raw_name = unquote_to_bytes(name.replace("+", " ").encode("latin-1"))
            raw_value = unquote_to_bytes(value.replace("+", " ").encode("latin-1"))
            out.setdefault(raw_name.decode("utf-8"), []).append(raw_value.decode("utf-8"))
        except (UnicodeEncodeError, UnicodeDecodeError):
            raise ParamError("参数不是有效的 UTF-8 编码") from None
    return out


# why a result is listed, for results not found as the exact words typed
MATCH_LABELS = {"synonym": "同义词", "year": "按所说的年度", "words": "按主要词语",
                "relaxed": "近似：字序相同", "suggestion": "按更正后的词"}


def field_label(field: str) -> str:
    if field.startswith("sections."):
        return field.removeprefix("sections.")
    return FIELD_LABELS.get(field, field)


def search_view(params: SearchParams | None, doc: dict | None, error: str | None, q: str = "") -> dict:
    """The context of templates/search.html: the API document plus links."""
    def href(p: SearchParams) -> str:
        qs = p.query_string()
        return "/search/" + ("?" + qs if qs else "")

    view = {"q": params.q if params else q, "error": error, "doc": doc, "field_label": field_label,
            "hidden": [], "facets": [], "sorts": [], "pages": 0, "page_links": [],
            "prev_href": None, "next_href": None, "clear_href": None, "json_href": None,
            "csv_href": None, "xlsx_href": None,
            "drop_filters": [], "not_chinese": False,
            "match_labels": MATCH_LABELS}
    if params is None or doc is None:
        return view
    view["hidden"] = [(f, v) for f in FACETS for v in getattr(params, f)]
    # the order-and-amount form keeps the query and the facets, and sets the rest itself
    view["order_hidden"] = [("q", params.q)] * bool(params.q) + list(view["hidden"])
    view["amount_min"], view["amount_max"] = params.amount_min, params.amount_max
    for name in ("amount_min", "amount_max", "sort"):
        if getattr(params, name) and getattr(params, name) != "relevance":
            view["hidden"].append((name, getattr(params, name)))
    if params.page_size != 20:
        view["hidden"].append(("page_size", str(params.page_size)))
    view["facets"] = [{"name": f, "label": FACET_LABELS[f],
                       "entries": [dict(e, href=href(params.toggled(f, e["value"])))
                                   for e in doc["facets"][f]],
                       "more": doc.get("facets_more", {}).get(f, 0)} for f in FACETS]
    view["sorts"] = [{"value": s, "label": label, "selected": params.sort == s}
                     for s, label in SORTS.items()]
    if params.filters or params.amount_min or params.amount_max:
        view["clear_href"] = href(SearchParams(q=params.q, sort=params.sort, page_size=params.page_size))
    # no dead ends: each active filter can be dropped on its own
    view["drop_filters"] = [{"label": next((e["label"] for e in doc["facets"][f]
                                             if e["value"] == v), v),
                             "facet": FACET_LABELS[f], "href": href(params.toggled(f, v))}
                            for f in FACETS for v in getattr(params, f)]
    if params.amount_min or params.amount_max:
        view["drop_filters"].append({
            "label": amount_range_label(params.amount_min, params.amount_max),
            "facet": "年度资金", "href": href(params.with_(amount_min="", amount_max="", page=1))})
    view["not_chinese"] = bool(params.q.strip()) and not re.search(r"[\u3400-\u9fff]", params.q)
    qs = params.query_string()
    view["json_href"] = "/api/search" + ("?" + qs if qs else "")
    whole = params.with_(page=1, page_size=DEFAULT_PAGE_SIZE).query_string()
    view["csv_href"], view["xlsx_href"] = (f"/api/search?{whole}{'&' if whole else ''}format={f}"
                                           for f in ("csv", "xlsx"))
    pages = max(1, math.ceil(doc["total"] / params.page_size))
    view["pages"] = pages
    if params.page > 1:
        view["prev_href"] = href(params.with_(page=min(params.page - 1, pages)))
    if params.page < pages:
        view["next_href"] = href(params.with_(page=params.page + 1))
    from .views import page_numbers
    links, last = [], 0
    for n in page_numbers(params.page, pages):
        if n > last + 1:
            links.append({"number": None, "href": None, "current": False})
        links.append({"number": n, "href": href(params.with_(page=n)), "current": n == params.page})
        last = n
    view["page_links"] = links
    return view


def amount_range_label(low: str, high: str) -> str:
    if low and high:
        return f"{low}–{high} 万元"
    return f"不少于 {low} 万元" if low else f"不超过 {high} 万元"


def to_json(doc: dict) -> str:
    """The one serialization of the search document (/api/search and ``search --json``):
    the site's compact JSON (``export.json_line``, without its newline)."""
    return json_line(doc)[:-1].decode("utf-8")


class _Chrome:
    """What ``search.html`` (through ``base.html``) reads of the catalog: the free pages
    and the site settings (its footer)."""

    def __init__(self, pages, settings=None):
        from .settings import Settings
        self.pages = list(pages)
        self.settings = settings or getattr(pages, "settings", None) or Settings()


class App:
    """WSGI application over an output directory."""

    def __init__(self, out: Path, templates: Path, catalog=None, pages=None):
        self.out = Path(out).resolve()
        self.templates = Path(templates)
        self.backend = open_backend(self.out)
        try:            # the live index opened before the first client asks, not by it
            self.backend.search(parse_params({}))        # (~5 s at 100,000 projects)
        except NoIndex:
            pass                                # none yet: the first build makes one
        self._env = None
        self._env_lock = threading.Lock()
        self.set_pages(catalog.pages if catalog is not None else pages,
                       catalog.settings if catalog is not None else None)

    def set_pages(self, pages, settings=None) -> None:
        """After a (re)build: pages extend base.html, which lists the free pages.

        Only those are kept, not the catalog: at 10,000 projects that is hundreds of MB
        the server need not hold (``validate.load_pages`` reads them without the records).
        """
        from .render import environment
        env = None
        if pages is not None:
            chrome = _Chrome(pages, settings)
            env = environment(self.templates)
            env.globals.update(catalog=chrome, settings=chrome.settings)
        with self._env_lock:
            self._env = env

    # ── WSGI ──
    def __call__(self, environ, start_response):
        method = environ.get("REQUEST_METHOD", "GET").upper()
        raw_path = environ.get("PATH_INFO", "") or "/"
        qs = environ.get("QUERY_STRING", "")
        if len(raw_path) + len(qs) > MAX_URL or len(environ.get("REQUEST_URI", "")) > MAX_URL:
            status, headers, body = self.text(414, "URI too long\n")
        elif method not in ("GET", "HEAD"):
            status, headers, body = self.text(405, "method not allowed\n")
            headers.append(("Allow", "GET, HEAD"))
        else:
            status, headers, body = self.route(raw_path, qs, environ)
        headers = headers + SECURITY_HEADERS
        if not any(k == "Content-Length" for k, _ in headers):
            headers.append(("Content-Length", str(len(body))))
        start_response(STATUS[status], headers)
        return [b""] if method == "HEAD" else [body]

    def route(self, raw_path: str, qs: str, environ):
        try:
            path = raw_path.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            return self.not_found()
        if path == "/api/search":
            return self.api(qs)
        if path in ("/search/", "/search/index.html"):
            return self.search_page(qs)
        if path == "/search":
            return self.redirect("/search/" + ("?" + qs if qs else ""))
        return self.static(path, qs, environ)

    # ── responses ──
    def text(self, status: int, message: str):
        return status, [("Content-Type", "text/plain; charset=utf-8")], message.encode("utf-8")

    def redirect(self, location: str):
        return 301, [("Location", location), ("Content-Type", "text/plain; charset=utf-8")], b""

    def not_found(self):
        page = self.out / "404.html"
        if page.is_file():
            return 404, [("Content-Type", CONTENT_TYPES[".html"])], page.read_bytes()
        return self.text(404, "not found\n")

    def api(self, qs: str):
        headers = [("Content-Type", "application/json"), ("Access-Control-Allow-Origin", "*"),
                   ("Cache-Control", "no-cache")]
        try:
            args = parse_query_string(qs)
            fmt = (args.pop("format", None) or ["json"])[-1]
            if fmt not in ("json", "csv", "xlsx"):
                raise ParamError("参数 format 应为 json、csv 或 xlsx")
            params = parse_params(args)
            if fmt != "json":
                return self.download(params, fmt)
            doc = self.backend.search(params)
        except ParamError as exc:
            return 400, headers, to_json({"error": str(exc), "status": 400}).encode()
        except NoIndex as exc:
            return 503, headers, to_json({"error": "搜索索引尚未建立", "detail": str(exc),
                                          "status": 503}).encode()
        return 200, headers, to_json(doc).encode("utf-8")

    def download(self, params: SearchParams, fmt: str):
        """Every project the search finds (up to ``downloads.MAX_ROWS``), in its order, as
        CSV or as a workbook of text cells."""
        from . import downloads
        total, docs = self.backend.matching(params, downloads.MAX_ROWS)
        if fmt == "csv":
            body, kind = downloads.results_csv(docs), "text/csv; charset=utf-8"
        else:
            what = f"搜索“{params.q}”" if params.q else "全部项目"
            filters = "；".join(f"{f}={'、'.join(v)}" for f, v in params.filters.items())
            title = (f"{what}{'（' + filters + '）' if filters else ''}：共 {total} 个项目"
                     + (f"，前 {len(docs)} 个" if len(docs) < total else "")
                     + "。本表每格均为文字；金额为精确到分的元。")
            body = downloads.results_xlsx(docs, title)
            kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        name = quote("搜索结果" + (f"-{params.q}" if params.q else "") + "." + fmt)
        return 200, [("Content-Type", kind), ("Access-Control-Allow-Origin", "*"),
                     ("Cache-Control", "no-cache"), ("X-Total-Count", str(total)),
                     ("Content-Disposition",
                      f"attachment; filename=\"search.{fmt}\"; filename*=UTF-8''{name}")], body

    def search_page(self, qs: str):
        status, params, doc, error, q = 200, None, None, None, ""
        try:
            args = parse_query_string(qs)
            q = (args.get("q") or [""])[0][:200]
            params = parse_params(args)
            doc = self.backend.search(params)
        except ParamError as exc:
            status, error = 400, str(exc)
        except NoIndex:
            status, error = 503, "搜索索引尚未建立，请稍后再试。"
        env = self._env
        if env is None:
            return self.text(503, "the site is being built; try again in a moment\n")
        html = env.get_template("search.html").render(
            page_path="/search/index.html", search=search_view(params, doc, error, q))
        return status, [("Content-Type", CONTENT_TYPES[".html"]), ("Cache-Control", "no-cache")], \
            html.encode("utf-8")

    def static(self, path: str, qs: str, environ):
        segments = path.split("/")
        if not path.startswith("/") or any(
                seg.startswith(".") or "\\" in seg or any(ord(c) < 32 or c == "\x7f" for c in seg)
                for seg in segments[1:]) or "" in segments[1:-1]:
            return self.not_found()
        target = self.out.joinpath(*segments[1:])
        if path.endswith("/"):
            target = target / "index.html"
        try:
            resolved = target.resolve()
            if not resolved.is_relative_to(self.out):
                return self.not_found()
            if resolved.is_dir():
                return self.redirect(quote(path + "/") + ("?" + qs if qs else ""))
            st = resolved.stat()
            if not resolved.is_file():
                return self.not_found()
        except (OSError, ValueError):
            return self.not_found()
        etag = f'"{st.st_mtime_ns:x}-{st.st_size:x}"'
        headers = [("Content-Type", CONTENT_TYPES.get(resolved.suffix.lower())
                    or mimetypes.guess_type(resolved.name)[0] or "application/octet-stream"),
                   ("ETag", etag), ("Cache-Control", "no-cache")]
        if etag in environ.get("HTTP_IF_NONE_MATCH", ""):
            return 304, headers, b""
        try:
            return 200, headers, resolved.read_bytes()
        except OSError:              # removed by a rebuild between stat and read
            return self.not_found()


def make_app(out: Path, templates: Path | None = None, catalog=None, pages=None) -> App:
    """The WSGI app over a built site; ``catalog`` or ``pages`` (``validate.load_pages``)
    give ``/search/`` the site's footer.  Made before the server's threads start."""
    from .pipeline import TEMPLATES
    _fewer_malloc_arenas()
    return App(out, templates or TEMPLATES, catalog, pages)


def _fewer_malloc_arenas(arenas: int = 2) -> None:
    """glibc gives each thread that allocates its own heap (up to 8 per core) and keeps
    what each freed: eight server threads answering first searches at 100,000 projects
    held 412 MB, 292 MB with two heaps, at the same speed (``MALLOC_ARENA_MAX=2``, set
    here for the threads to come).  Elsewhere than glibc: nothing."""
    import ctypes
    import ctypes.util
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-8, arenas)                  # M_ARENA_MAX
    except (OSError, AttributeError):
        pass


# ── the preview/production server ───────────────────────────────────────────

class Watcher(threading.Thread):
    """Watches content/ and templates/ and rebuilds on a change, with the system's file
    events (inotify and the like, through watchfiles): a quiet server costs nothing,
    whatever the size of content/ (polling walked and stat-ed every file each second:
    ~1.3 s of CPU per poll at 100,000 projects).  Where the system gives no events (or
    not for so many folders), it polls every ``interval`` s.

    A failed rebuild prints its problems and the previous site keeps being served.
    """

    def __init__(self, content: Path, out: Path, templates: Path, app: App,
                 interval: float = 1.0, log=sys.stderr):
        super().__init__(name="jixiao-watch", daemon=True)
        self.content, self.out, self.templates, self.app = content, out, templates, app
        self.interval, self.log = interval, log
        self.roots = [Path(content).resolve(), Path(templates).resolve()]
        self.stop = threading.Event()

    def relevant(self, change, path: str) -> bool:
        """Whether a change is one the build reads: not in a hidden file or folder, nor an
        editor's backup, swap or temporary file (``x.yaml~``, ``.x.yaml.swp``)."""
        path = Path(path)
        root = next((r for r in self.roots if path.is_relative_to(r)), None)
        if root is None:
            return False
        parts = path.relative_to(root).parts
        return bool(parts) and not any(part.startswith(".") for part in parts) \
            and not parts[-1].endswith(("~", ".swp", ".tmp"))

    def run(self):
        from watchfiles import watch
        for polling in (None, True):
            try:
                for _ in watch(*self.roots, watch_filter=self.relevant, stop_event=self.stop,
                               raise_interrupt=False, force_polling=polling,
                               poll_delay_ms=int(self.interval * 1000)):
                    self.rebuild()
                return
            except Exception as exc:             # no events here (a file system, a limit)
                if polling or self.stop.is_set():
                    raise
                print(f"cannot watch {self.content} with file events ({exc}); polling it "
                      f"every {self.interval:g} s", file=self.log)

    def rebuild(self) -> bool:
        from .pipeline import build
        from .problems import ContentError
        print("change detected; rebuilding …", file=self.log)
        try:
            catalog = build(self.content, self.out, self.templates, log=self.log)
        except ContentError as exc:
            for problem in exc.problems:
                print(problem, file=self.log)
            print("rebuild failed; still serving the previous site", file=self.log)
            return False
        except Exception:                       # a broken template must not stop the server:
            traceback.print_exc(file=self.log)  # say everything, keep the previous site
            print("rebuild failed; still serving the previous site", file=self.log)
            return False
        self.app.set_pages(catalog.pages, catalog.settings)
        return True


# Slow clients: waitress reads requests in its event loop, so a half-sent request holds
# a connection, not a thread; with waitress's defaults (100 connections, 120 s of
# silence) 120 such clients kept an ordinary request out for minutes.  Here a silent
# connection is closed after 15 s (checked every 5 s), and 1000 connections are allowed.
WAITRESS_LIMITS = {"connection_limit": 1000, "channel_timeout": 15, "cleanup_interval": 5,
                   "max_request_header_size": 16384, "max_request_body_size": 1 << 20}


def serve(content: Path, out: Path, host: str, port: int, templates: Path | None = None,
          threads: int = 8) -> None:
    import waitress
    from .pipeline import TEMPLATES, build
    templates = templates or TEMPLATES
    app = make_app(out, templates, build(content, out, templates))   # keeps no catalog
    watcher = Watcher(content, out, templates, app)
    watcher.start()
    print(f"serving {out} with search on http://{host}:{port}/  (watching {content} and "
          f"{templates}; Ctrl-C stops)", file=sys.stderr)
    try:
        waitress.serve(app, host=host, port=port, threads=threads, ident="jixiao",
                       clear_untrusted_proxy_headers=True, **WAITRESS_LIMITS)
    finally:
        watcher.stop.set()
