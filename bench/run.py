#!/usr/bin/env python3
"""The scaling benchmark: one table for a generated corpus of N projects.

    python bench/run.py [--n 10000] [--seed 1] [--work /tmp/jixiao-bench] [--seconds 10]

Steps (each build in a fresh child process, so its peak RSS is its own):

1. ``bench/generate.py N`` → ``<work>/content`` (reused when already there for N, seed);
2. full build into an empty directory: load, render, write, index, pages/s per step;
3. the floor: the same pages rendered by a bare Jinja2 loop (same templates, the view
   contexts, no state, no manifest) and written with plain ``open().write``, and the same
   documents indexed with one bare whoosh writer; our time over the floor (by default up
   to 20,000 projects: the bare writer alone takes about an hour at 100,000; ``--floor``
   runs it at any size, ``--no-floor`` at none);
4. rebuild after changing one record (an indicator target of one project; three
   projects, the median shown with all three), right after the full build; after
   renaming one project (every list that shows it changes; three projects, the median);
   the largest HTML page;
5. rebuild after changing one template (``unit.html``; a copy of templates/ is used);
6. index size; search latency p50/p95 over ``search_bench.QUERIES`` (in process);
7. requests/s with 8 concurrent clients against the real waitress server (a child
   process: ``make_app`` + ``waitress.serve``, 8 threads) on loopback, and its peak RSS;
8. last, when run as root: the OS page cache dropped, the first searches again by a new
   backend, and a one-record rebuild (dropping it earlier would slow every step after).

The targets are the site's (``TARGETS["site"]``, docs/PERFORMANCE.md) up to 20,000
projects and a city's decade's above (``TARGETS["city"]``: issue 20's table); each row
says whether its figure met its target.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

# The measuring helpers (and what they import: the search engine, numpy) are imported by
# the parent only: a child build imports what ``build.py build`` imports, no more, since
# the one-record rebuild is timed as the whole command.


def _peak_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024


# Targets by size: (limit, unit) per measure; None: no target at that size.
TARGETS = {
    "site": {"full_s": 60, "floor_ratio": 1.3, "one_record_s": 3, "renamed_s": 3,
             "template_s": None, "page_kb": 300, "p95_ms": 50, "first_p95_ms": None,
             "rps": 100, "server_mb": 300, "build_mb": None},
    "city": {"full_s": 480, "floor_ratio": None, "one_record_s": 3, "renamed_s": None,
             "template_s": 20, "page_kb": 300, "p95_ms": 50, "first_p95_ms": 100,
             "rps": 100, "server_mb": 400, "build_mb": 6000},
}
CITY_FROM = 20_000          # projects: the city's targets, and no floor unless asked


def targets_for(n: int) -> dict:
    return TARGETS["city" if n > CITY_FROM else "site"]


def aim(value: float, limit: float | None, shown: str, at_least: bool = False) -> str:
    """The target cell: ``shown`` and whether ``value`` met ``limit`` (blank: none)."""
    if limit is None:
        return ""
    met = value >= limit if at_least else value <= limit
    return f"{shown}: {'met' if met else 'MISSED'}"


# ── child modes ──────────────────────────────────────────────────────────────

def child_build(content: Path, out: Path, templates: Path, incremental: bool) -> dict:
    from jixiao.pipeline import Timings, build
    t = Timings()
    start = time.perf_counter()
    catalog = build(content, out, templates, log=None, incremental=incremental, timings=t)
    built = time.perf_counter()
    files = sum(1 for p in out.rglob("*") if p.is_file() and ".search" not in p.parts
                and not p.name.startswith("."))
    return {"steps": dict(t.steps), "beside": t.beside, "rendered": t.rendered, "files": files,
            "projects": len(catalog.projects), "peak_mb": _peak_mb(),
            "build_s": built - start,                      # the build() call
            "after_s": time.perf_counter() - built}        # counting files: not the build's


def child_floor(content: Path, out: Path, templates: Path) -> dict:
    """Bare Jinja2 loop + plain writes; bare whoosh writer.  Load is not part of the floor."""
    from whoosh import index as whoosh_index

    from jixiao import render as R
    from jixiao import views as V
    from jixiao.catalog import INDICATOR_SAMPLE, year_groups
    from jixiao.search.documents import documents
    from whoosh.fields import ID, STORED, TEXT, Schema

    from jixiao.search.documents import FIELDS
    from jixiao.search.whoosh_index import BigramTokenizer, add_document
    from jixiao.validate import load_content
    catalog = load_content(content)
    c = catalog
    env = R.environment(templates)
    env.globals["catalog"] = c
    env.globals["settings"] = c.settings
    from jixiao.settings import build_date
    sources = V.available_sources(c)
    pages = [("index.html", "home.html", lambda: {**V.home_view(c, c.indicator_summary),
                                                  "updated": build_date()}),
             ("departments/index.html", "departments.html", lambda: {"departments": c.departments}),
             ("years/index.html", "years.html", lambda: {"years": year_groups(c.projects)}),
             ("indicators/index.html", "indicators.html",
              lambda: {"summary": c.indicator_summary})]

    def paged(url, projects, template, view, heading, show_unit=True):
        """The pages of a list (render.list_pages): the first with its own view."""
        plain = {"heading": heading, "show_unit": show_unit, "sorts": V.list_sorts(None)}
        return [(path, template if k == 1 else "list_page.html",
                 lambda k=k: {**(view() if k == 1 else {}), **plain,
                              **V.list_page(url, projects, k)})
                for k, path in enumerate(V.page_paths(url, len(projects), V.PAGE_SIZE), 1)]
    pages += [(path, "units.html", lambda view=view: view(c)) for path, view in V.unit_pages(c)]
    pages += paged("/projects/", c.projects, "projects.html", dict, "全部项目")
    for u in c.units.values():
        pages += paged(u.url, c.by_unit[u.id], "unit.html", lambda u=u: V.unit_view(c, u),
                       u.name, show_unit=False)
    for d in c.departments:
        pages += paged(d.url, d.projects, "department.html",
                       lambda d=d: V.department_view(c, d), d.name)
    for y, ps in c.by_year.items():
        pages += paged(f"/years/{y}/", ps, "year.html",
                       lambda y=y, ps=ps: V.year_view(c, y, ps), f"{y}年度")
    pages += [(f"projects/{p.id}/index.html", "project.html",
               (lambda p=p: V.project_view(c, p, sources))) for p in c.projects]
    pages += [(f"indicators/{g['category']}/index.html", "indicator_category.html",
               (lambda g=g: {"category": g["category"], "level2s": g["level2s"],
                             "sample": INDICATOR_SAMPLE,
                             "shown": V.INDICATOR_NAMES_SHOWN}))
              for g in c.indicator_summary]
    t0 = time.perf_counter()
    rendered = []
    for path, name, view in pages:
        rendered.append((path, env.get_template(name).render(page_path="/" + path, **view())))
    t1 = time.perf_counter()
    for path, html in rendered:
        target = out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "w", encoding="utf-8") as fh:
            fh.write(html)
    t2 = time.perf_counter()
    docs = documents(c)
    (out / "ix").mkdir()
    # whoosh as it comes: stock TEXT fields with our tokenizer, one stock writer
    bare = Schema(id=ID(stored=True, unique=True), doc=STORED,
                  **{f: TEXT(analyzer=BigramTokenizer(), phrase=True) for f in FIELDS})
    ix = whoosh_index.create_in(str(out / "ix"), bare)
    w = ix.writer()
    for doc in docs:
        add_document(w, doc)          # the same fields and stored value as the real index
    w.commit()
    t3 = time.perf_counter()
    return {"render": t1 - t0, "write": t2 - t1, "index": t3 - t2, "pages": len(pages),
            "peak_mb": _peak_mb()}


def child_serve(content: Path, out: Path, templates: Path, port: int) -> None:
    import logging

    import waitress

    from jixiao.serve import make_app
    from jixiao.validate import load_pages
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    app = make_app(out, templates, pages=load_pages(content))      # as docs/DEPLOY.md runs it
    waitress.serve(app, host="127.0.0.1", port=port, threads=8, _quiet=True)


def _child(mode: str, *args) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), f"--child-{mode}", *map(str, args)]
    # Each timed step starts from a disk with nothing left to write: on this VM (ext4 with
    # online discard) the previous step's ~900 MB written or deleted kept the disk busy
    # for tens of seconds after it ended, and a build then measured 1.5× slower.  A
    # publisher's next build comes a minute later, when that is done.
    os.sync()
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"{mode} failed:\n{proc.stderr[-4000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    # the whole command, as a publisher waits for it: Python's start, imports, the build
    # and the exit (the child's own counting of files afterwards left out)
    result["command_s"] = seconds - result.get("after_s", 0.0)
    return result


def _times(result: dict) -> str:
    return ", ".join(f"{t:.2f}" for t in result["runs"]) + " s"


def _median(runs: list[dict]) -> dict:
    """The run whose whole command took the median time, with every run's time."""
    ranked = sorted(runs, key=lambda r: r["command_s"])
    return dict(ranked[len(ranked) // 2], runs=[r["command_s"] for r in runs])


def _searches(site: Path, queries: list[str], rounds: int) -> tuple[list, list]:
    """(seconds of each search, of the first round's) of ``queries`` ``rounds`` times by
    a backend opened for them (after one search to open it)."""
    from jixiao.search import parse_params
    from jixiao.search.whoosh_backend import WhooshBackend
    backend = WhooshBackend(site.resolve())   # its own, not open_backend's (one per process)
    backend.search(parse_params({"q": ["预热"]}))
    every = []
    for _ in range(rounds):
        for q in queries:
            t = time.perf_counter()
            backend.search(parse_params({"q": [q]}))
            every.append(time.perf_counter() - t)
    return every, every[:len(queries)]


def drop_page_cache() -> bool:
    """Empty the OS page cache (Linux, root); False when this process may not."""
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as fh:
            fh.write("1\n")
        return True
    except OSError:
        return False


def one_record(content: Path, site: Path, templates: Path, cold: bool = False,
               rename: bool = False, which: int = 1) -> dict | None:
    """Rebuild after changing one indicator target of one project (or its name: every list
    that shows it changes), then change it back (a rebuild not in the table).  ``which``
    (0, 1, 2): the project a quarter, half or three quarters into the corpus.  None when
    the page cache cannot be dropped."""
    files = sorted(content.glob("*/*/*.yaml"))
    victim = files[len(files) * (which + 1) // 4]
    original = victim.read_text("utf-8")
    lines = original.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if rename and line.startswith("name: "):
            lines[i] = line.rstrip("\n") + "（更名）\n"
            break
        if not rename and line.startswith("  target: "):
            lines[i] = "  target: '≥99%'\n" if "≥99%" not in line else "  target: '≥98%'\n"
            break
    victim.write_text("".join(lines), "utf-8")
    try:
        if cold and not drop_page_cache():
            return None
        return _child("build", content, site, templates, 1)
    finally:
        victim.write_text(original, "utf-8")
        _child("build", content, site, templates, 1)


def set_aside(path: Path, trash: Path) -> None:
    """Move ``path`` into ``trash`` (removed at the end of the run), not delete it now: on
    ext4 without a journal (this VM's disk) the inodes of a mass delete are skipped one by
    one by every file created in the next seconds to minutes (20,000 files made in 8.4 s
    instead of 1.0 s right after 20,000 were deleted), which would be charged to the build
    that follows."""
    if path.exists() or path.is_symlink():
        trash.mkdir(parents=True, exist_ok=True)
        os.replace(path, trash / f"{path.name}-{time.time_ns()}")


# ── the benchmark ────────────────────────────────────────────────────────────

def run(n: int, seed: int, work: Path, seconds: float, clients: int = 8, out=sys.stdout,
        cold_cache: bool = True, floor: bool | None = None) -> dict:
    """The table for ``n`` projects (``floor`` None: run the floor up to ``CITY_FROM``)."""
    from generate import generate
    from load_test import free_port, wait_until_listening
    from search_bench import QUERIES, api_load, disk_mb, pct, status_mb
    work.mkdir(parents=True, exist_ok=True)
    content = work / "content"
    stamp = work / "content.stamp"
    if not (stamp.is_file() and stamp.read_text() == f"{n} {seed}"):
        stamp.unlink(missing_ok=True)
        generate(n, content, seed)
        stamp.write_text(f"{n} {seed}")
    templates = work / "templates"
    shutil.rmtree(templates, ignore_errors=True)
    shutil.copytree(ROOT / "templates", templates)
    site = work / "site"
    from jixiao.search.whoosh_index import index_dir
    trash = work / "trash"                  # what a step replaces, removed once all are done
    set_aside(site, trash)
    set_aside(index_dir(site), trash)      # an empty start: no index either

    full = _child("build", content, site, templates, 1)
    # one record: right after the build (a publisher fixing what the preview showed), and
    # again after the OS dropped its page cache (root only: this VM drops it within minutes)
    # (three projects each, the median in the table: this VM's speed swings by a third)
    one = _median([one_record(content, site, templates, which=k) for k in range(3)])
    renamed = _median([one_record(content, site, templates, rename=True, which=k)
                       for k in range(3)])
    largest = max((p.stat().st_size, p.relative_to(site).as_posix())
                  for p in site.rglob("*.html"))

    if floor is None:
        floor = n <= CITY_FROM
    if floor:
        floor_dir = work / "floor"
        set_aside(floor_dir, trash)
        floor_dir.mkdir()
        floor = _child("floor", content, floor_dir, templates)
        set_aside(floor_dir, trash)

    tpl = templates / "unit.html"
    tpl.write_text(tpl.read_text("utf-8") + "{# bench: one template changed #}\n", "utf-8")
    tmpl = _child("build", content, site, templates, 1)

    index_mb = disk_mb(index_dir(site))            # shared segments counted once
    live = (index_dir(site) / "CURRENT").read_text().strip()
    live_mb = disk_mb(index_dir(site) / live)

    per_query, first_seen = _searches(site, QUERIES, 5)

    port = free_port()
    server = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--child-serve",
                               str(content), str(site), str(templates), str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_until_listening(server, port, 300, lambda: server.stderr.read().decode()[-2000:])
        load = api_load(port, clients, seconds)
        server_mb = status_mb(server.pid, "VmHWM")
    finally:
        server.terminate()
        server.wait(timeout=30)
    # what dropping the OS page cache costs (root only), last: it would slow what follows
    cold_search = _searches(site, QUERIES, 1)[1] if cold_cache and drop_page_cache() else None
    cold = one_record(content, site, templates, cold=True) if cold_cache else None

    s = full["steps"]
    beside = full["beside"].get("index", s["index"])       # the child's own time, when there is one
    total = sum(s.values())
    files = full["files"]
    goal = targets_for(n)
    ours_rwi = s["render"] + s["write"] + s["index"]
    if floor:
        floor_total = floor["render"] + floor["write"] + floor["index"]
        versus = {"render": f"floor {floor['render']:.1f} s ({floor['pages']} pages), "
                            f"×{s['render'] / floor['render']:.2f}",
                  "write": f"floor {floor['write']:.1f} s, ×{s['write'] / floor['write']:.2f}",
                  "index": f"floor {floor['index']:.1f} s (1 writer), ×{beside / floor['index']:.2f}",
                  "rss": f"floor {floor['peak_mb']:.0f} MB"}
        over = ("render+write+index over the floor", f"{ours_rwi:.1f} s vs {floor_total:.1f} s",
                aim(ours_rwi / floor_total, goal["floor_ratio"], f"≤ {goal['floor_ratio']}×"),
                f"×{ours_rwi / floor_total:.2f}")
    else:
        versus = dict.fromkeys(("render", "write", "index", "rss"), "")
        over = ("render+write+index over the floor", "not run (the floor is run up to "
                f"{CITY_FROM:,} projects, or with --floor)", "", "")
    template_s = sum(tmpl["steps"].values())
    p95, first_p95 = pct(per_query, 95) * 1000, pct(first_seen, 95) * 1000
    rps = load.requests / load.seconds
    rows = [
        ("corpus", f"{full['projects']} projects, {files} files", "", ""),
        ("full build (load+render+write+index)", f"{total:.1f} s",
         aim(total, goal["full_s"], f"≤ {goal['full_s']} s"), ""),
        ("  load (parse + validate)", f"{s['load']:.1f} s ({full['projects'] / s['load']:.0f} records/s)", "", ""),
        ("  render", f"{s['render']:.1f} s ({files / s['render']:.0f} files/s)", "", versus["render"]),
        ("  write", f"{s['write']:.1f} s ({files / s['write']:.0f} files/s)", "", versus["write"]),
        ("  index", f"{s['index']:.1f} s after write; prepared in {beside:.1f} s "
         f"({full['projects'] / beside:.0f} docs/s) by a child process beside render and write",
         "", versus["index"]),
        over,
        ("rebuild, one record changed", f"{one['command_s']:.2f} s, the whole command, "
         f"median of 3 projects ({_times(one)}) "
         f"(build() {one['build_s']:.2f} s: load {one['steps']['load']:.2f}, "
         f"render {one['steps']['render']:.2f}, write {one['steps']['write']:.2f}, "
         f"index {one['steps']['index']:.2f} s; {one['rendered']} outputs rendered)",
         aim(one["command_s"], goal["one_record_s"], f"≤ {goal['one_record_s']} s"), ""),
        ("  the same after the OS dropped its page cache", "not measured (needs root)"
         if cold is None else f"{cold['command_s']:.2f} s, the whole command "
         f"(build() {cold['build_s']:.2f} s: load {cold['steps']['load']:.2f}, "
         f"render {cold['steps']['render']:.2f}, write {cold['steps']['write']:.2f} s)", "", ""),
        ("rebuild, one project renamed", f"{renamed['command_s']:.2f} s, the whole command, "
         f"median of 3 projects ({_times(renamed)}) "
         f"(build() {renamed['build_s']:.2f} s: load {renamed['steps']['load']:.2f}, "
         f"render {renamed['steps']['render']:.2f}, write {renamed['steps']['write']:.2f}, "
         f"index {renamed['steps']['index']:.2f} s; {renamed['rendered']} outputs rendered)",
         aim(renamed["command_s"], goal["renamed_s"], f"≤ {goal['renamed_s']} s"), ""),
        ("largest HTML page", f"{largest[0] / 1024:.0f} KB (/{largest[1]})",
         aim(largest[0] / 1024, goal["page_kb"], f"≤ {goal['page_kb']} KB"), ""),
        ("rebuild, one template changed (unit.html)", f"{template_s:.1f} s "
         f"({tmpl['rendered']} outputs rendered)",
         aim(template_s, goal["template_s"], f"only its pages, ≤ {goal['template_s']} s")
         if goal["template_s"] else "only its pages", ""),
        ("index size", f"{live_mb:.0f} MB live generation ({index_mb:.0f} MB on disk in the index folder, "
                        "shared segments counted once)", "", ""),
        ("search latency, in process", f"p50 {pct(per_query, 50) * 1000:.1f} ms, "
         f"p95 {p95:.1f} ms ({len(per_query)} searches: the list 5 times)",
         aim(p95, goal["p95_ms"], f"p95 ≤ {goal['p95_ms']} ms"), ""),
        ("  the first time each query is seen", f"p50 {pct(first_seen, 50) * 1000:.1f} ms, "
         f"p95 {first_p95:.1f} ms, max {max(first_seen) * 1000:.1f} ms "
         f"({len(first_seen)} queries, no cache)",
         aim(first_p95, goal["first_p95_ms"], f"p95 ≤ {goal['first_p95_ms']} ms"), ""),
        ("  … after the OS dropped its page cache", "not measured (needs root)"
         if cold_search is None else f"p50 {pct(cold_search, 50) * 1000:.1f} ms, "
         f"p95 {pct(cold_search, 95) * 1000:.1f} ms, max {max(cold_search) * 1000:.1f} ms "
         "(a new backend: each query read from the disk)", "", ""),
        (f"/api/search, {clients} clients, loopback", f"{rps:.0f} req/s "
         f"({load.requests} in {load.seconds:.0f} s, p95 {load.percentile(95) * 1000:.0f} ms, "
         f"non-200: {load.errors})",
         aim(rps, goal["rps"], f"≥ {goal['rps']} req/s", at_least=True), ""),
        ("peak RSS, full build", f"{full['peak_mb']:.0f} MB",
         aim(full["peak_mb"], goal["build_mb"], f"≤ {goal['build_mb']} MB"), versus["rss"]),
        ("peak RSS, server", f"{server_mb:.0f} MB",
         aim(server_mb, goal["server_mb"], f"≤ {goal['server_mb']} MB"), ""),
    ]
    shutil.rmtree(trash, ignore_errors=True)
    print(f"N = {n} (seed {seed}), {platform.python_implementation()} {platform.python_version()}, "
          f"{os.cpu_count()} CPUs; python bench/run.py --n {n}", file=out)
    print("| measure | ours | target | floor |", file=out)
    print("|---|---|---|---|", file=out)
    for r in rows:
        print("| " + " | ".join(r) + " |", file=out)
    out.flush()
    return {"full": full, "floor": floor, "one_record": one, "one_record_cold": cold,
            "renamed": renamed, "largest_page": largest,
            "one_template": tmpl, "search": per_query,
            "load": {"rps": load.requests / load.seconds, "requests": load.requests,
                     "errors": load.errors},
            "server_mb": server_mb}


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0].startswith("--child-"):
        mode, args = argv[0][len("--child-"):], argv[1:]
        if mode == "build":
            print(json.dumps(child_build(Path(args[0]), Path(args[1]), Path(args[2]), args[3] == "1")))
            sys.stdout.flush()
            os._exit(0)                    # as build.py leaves (no teardown of the heap)
        elif mode == "floor":
            print(json.dumps(child_floor(Path(args[0]), Path(args[1]), Path(args[2]))))
        elif mode == "serve":
            child_serve(Path(args[0]), Path(args[1]), Path(args[2]), int(args[3]))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--work", type=Path, default=None)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--floor", action=argparse.BooleanOptionalAction, default=None,
                    help=f"run the floor (default: up to {CITY_FROM:,} projects)")
    args = ap.parse_args(argv)
    work = args.work or Path(f"/tmp/jixiao-bench-{args.n}")
    run(args.n, args.seed, work, args.seconds, floor=args.floor)
    return 0


if __name__ == "__main__":
    sys.exit(main())
