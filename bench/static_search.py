#!/usr/bin/env python3
"""Search on a static host, side by side with Pagefind, in one run, in Chromium.

    python bench/static_search.py --n 60          # content/ (the 60 seed projects)
    python bench/static_search.py --n 10000       # bench/generate.py's corpus (~4 min to build)

Builds the site with ``static_search: true``, indexes its project pages with Pagefind's
extended build (``pip install 'pagefind[extended]'``: Chinese segmentation) into the same
folder, and serves it as plain files on loopback (``load_test.static_files``: no search
server, no compression, as object storage serves it).  For each query, in a new browser
context (a cold cache):

- **this site**: ``/search/?q=…`` until the static page has rendered its results;
- **Pagefind**: a page that loads ``/pagefind/pagefind.js``, searches and loads the first
  ten results' data (what its UI does before it shows them);

and reports the bytes served (as the server counts them: everything the page loaded, and
the search's own files; bodies, uncompressed) and the time from navigation to the first
results.  With ``--n 60`` it also
judges both against exact-substring truth on the judged queries of tests/test_search.py
(the projects whose text holds every part of the query).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from load_test import static_files  # noqa: E402

PAGEFIND_PAGE = """<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>pagefind</title>
<ol id="r"></ol>
<script type="module">
const q = new URLSearchParams(location.search).get("q") || "";
const pagefind = await import("/pagefind/pagefind.js");
const search = await pagefind.search(q);
const first = await Promise.all(search.results.slice(0, 10).map((r) => r.data()));
document.getElementById("r").innerHTML = first.map((d) => `<li>${d.url}</li>`).join("");
performance.mark("first-results");
window.__ids = search.results.length;
document.body.dataset.done = "1";
</script></html>"""

LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]

FIRST_RESULTS = """() => {
  const mark = performance.getEntriesByName("first-results")[0];
  return mark ? mark.startTime : null;
}"""


def build_site(n: int, work: Path) -> tuple[Path, Path]:
    content = work / "content"
    if n == 60:
        shutil.rmtree(content, ignore_errors=True)
        shutil.copytree(ROOT / "content", content)
    else:
        from generate import generate
        stamp = work / "content.stamp"
        if not (stamp.is_file() and stamp.read_text() == f"{n} 1"):
            generate(n, content, 1)
            stamp.write_text(f"{n} 1")
    settings = content / "site.yaml"
    text = settings.read_text("utf-8") if settings.exists() else ""
    if "static_search: true" not in text:
        settings.write_text(text + "\nstatic_search: true\n", "utf-8")
    site = work / "site"
    started = time.monotonic()
    subprocess.run([sys.executable, str(ROOT / "build.py"), "build", "--content", str(content),
                    "--out", str(site)], check=True, stdout=subprocess.DEVNULL)
    print(f"built {site} in {time.monotonic() - started:.1f} s", file=sys.stderr)
    return content, site


def pagefind_index(site: Path) -> float:
    started = time.monotonic()
    shutil.rmtree(site / "pagefind", ignore_errors=True)
    subprocess.run([sys.executable, "-m", "pagefind", "--site", str(site), "--glob",
                    "projects/*/index.html", "--output-subdir", "pagefind"], check=True,
                   stdout=subprocess.DEVNULL)
    (site / "pagefind-search.html").write_text(PAGEFIND_PAGE, "utf-8")
    return time.monotonic() - started


def folder_bytes(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def measure(browser, base: str, queries: list[str]) -> dict[str, list[dict]]:
    out = {"this site": [], "Pagefind": []}
    for q in queries:
        for engine, url, ready, prefix in (
                ("this site", f"/search/?q={urllib.parse.quote(q)}",
                 ".search-results, .search-error", ["/search/index/", "/static/search-"]),
                ("Pagefind", f"/pagefind-search.html?q={urllib.parse.quote(q)}",
                 "body[data-done]", ["/pagefind/"])):
            context = browser.new_context()             # a cold cache for every query
            page = context.new_page()
            del base.served[:]
            page.goto(base + url)
            page.wait_for_selector(ready, state="attached", timeout=120_000)
            served = list(base.served)     # counted by the server: workers' fetches too
            own = [n for path, n in served if any(path.startswith(p) for p in prefix)]
            row = {"total": sum(n for _, n in served), "search": sum(own),
                   "requests": len(served), "ms": page.evaluate(FIRST_RESULTS)}
            if engine == "this site":
                row["found"] = int(page.locator(".search-results").get_attribute("data-total") or 0) \
                    if page.locator(".search-results").count() else 0
            else:
                row["found"] = page.evaluate("window.__ids")
            row["q"] = q
            out[engine].append(row)
            context.close()
    return out


def pagefind_ids(browser, base: str, queries: list[str]) -> dict[str, set[str]]:
    """Every project Pagefind returns for each query (its results' URLs)."""
    page = browser.new_page()
    page.goto(base + "/pagefind-search.html?q=")
    page.wait_for_selector("body[data-done]", state="attached")
    found = {}
    for q in queries:
        urls = page.evaluate("""async (q) => {
            const pagefind = await import("/pagefind/pagefind.js");
            const s = await pagefind.search(q);
            return Promise.all(s.results.map(async (r) => (await r.data()).url));
        }""", q)
        found[q] = {u.strip("/").split("/")[-1] for u in urls}
    page.close()
    return found


def judge(found: dict[str, set[str]], truth: dict[str, set[str]]) -> dict:
    tp = sum(len(found[q] & truth[q]) for q in truth)
    fp = sum(len(found[q] - truth[q]) for q in truth)
    fn = sum(len(truth[q] - found[q]) for q in truth)
    return {"precision": tp / (tp + fp) if tp + fp else 1.0,
            "recall": tp / (tp + fn) if tp + fn else 1.0,
            "exact sets": sum(found[q] == truth[q] for q in truth), "queries": len(truth)}


def quality(site: Path, content: Path, browser, base: str) -> dict:
    from jixiao.search import open_backend, parse_params
    from jixiao.validate import load_content
    from test_search import JUDGED, exact_ids, truth
    catalog = load_content(content)
    backend = open_backend(site)
    want = {q: truth(catalog, q) for q in JUDGED}
    ours = {q: set(exact_ids(backend.search(parse_params({"q": [q], "page_size": ["100"]}))))
            for q in JUDGED}
    # the static page answers as the server does (tests/test_static_search.py): judged once
    return {"this site": judge(ours, want), "Pagefind": judge(pagefind_ids(browser, base, JUDGED), want)}


def summary(rows: list[dict]) -> dict:
    def p(values, q):
        values = sorted(values)
        return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]
    ms = [r["ms"] for r in rows if r["ms"] is not None]
    return {"bytes median": p([r["total"] for r in rows], .5), "bytes max": max(r["total"] for r in rows),
            "search bytes median": p([r["search"] for r in rows], .5),
            "search bytes max": max(r["search"] for r in rows),
            "requests median": p([r["requests"] for r in rows], .5),
            "ms median": p(ms, .5) if ms else None, "ms p95": p(ms, .95) if ms else None}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=60)
    ap.add_argument("--work", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright
    from search_bench import QUERIES
    from test_search import JUDGED
    work = args.work or Path(tempfile.gettempdir()) / f"jixiao-static-{args.n}"
    work.mkdir(parents=True, exist_ok=True)
    content, site = build_site(args.n, work)
    pagefind_seconds = pagefind_index(site)
    queries = list(dict.fromkeys(q for q in JUDGED + QUERIES if q))
    current = json.loads((site / "search" / "index" / "current.json").read_text())["generation"]
    ours_files, ours_size = folder_bytes(site / "search" / "index" / current)
    pf_files, pf_size = folder_bytes(site / "pagefind")
    result = {"n": args.n, "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                                      f"Python {platform.python_version()}",
              "queries": len(queries),
              "index": {"this site": {"files": ours_files, "MB": round(ours_size / 1e6, 1)},
                        "Pagefind": {"files": pf_files, "MB": round(pf_size / 1e6, 1),
                                     "seconds": round(pagefind_seconds, 1)}}}
    with static_files(site) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=LAUNCH_ARGS)
        rows = measure(browser, base, queries)
        result["per query"] = {k: summary(v) for k, v in rows.items()}
        if args.n == 60:
            result["judged"] = quality(site, content, browser, base)
        browser.close()
    print(json.dumps(result, ensure_ascii=False, indent=1))
    if args.json:
        args.json.write_text(json.dumps(dict(result, rows=rows), ensure_ascii=False, indent=1), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
