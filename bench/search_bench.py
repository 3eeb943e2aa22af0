#!/usr/bin/env python3
"""Search benchmark: index time, query latency p50/p95, requests/s with 8 clients.

    python bench/search_bench.py [--content content] [--rounds 20] [--seconds 5]
    python bench/search_bench.py --content DIR --out SITE [--reindex] [--catalog PICKLE]

Builds the site for the content dir into a temporary directory, times
``backend.search`` over a fixed query list (in process, default page size),
then runs the real server (waitress, 8 threads) on a free loopback port and
counts the requests per second 8 concurrent http.client clients get.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from jixiao.pipeline import TEMPLATES, build  # noqa: E402
from jixiao.search import open_backend, parse_params  # noqa: E402
from jixiao.search.whoosh_backend import build_index, index_dir  # noqa: E402
from jixiao.serve import make_app  # noqa: E402
from load_test import Request, free_port, run_load, wait_until_listening  # noqa: E402

QUERIES = ["燃气", "消火栓", "满意度", "公积金", "公積金", "食堂", "热线", "一网统管", "合杆整治",
           "加氢站", "安全检查", "信息系统", "运行维护", "服务对象", "及时", "合格率", "供热",
           "香花桥", "减污降碳", "PEMS", "365天", "≥90%", "=100%", "燃气 安全", "管理", "项目", "",
           "不存在的词语",
           # the other tiers: words apart, a unit's short name, synonyms, a typo, a level
           "电动车技防", "公积金平台", "公积金中心", "减碳中心", "环保", "路灯", "消火拴", "公基金",
           "社会效益"]


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def _catalog(args):
    if args.catalog and args.catalog.is_file():
        import pickle
        with open(args.catalog, "rb") as fh:
            return pickle.load(fh)
    from jixiao.validate import load_content
    catalog = load_content(args.content)
    if args.catalog:
        import pickle
        with open(args.catalog, "wb") as fh:
            pickle.dump(catalog, fh, protocol=5)
    return catalog


def status_mb(pid, key: str) -> float:
    """A memory figure of a process from /proc (``VmRSS``, ``VmHWM``: its peak), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def disk_mb(folder: Path) -> float:
    """Bytes under ``folder`` in MB, each file (inode) once: generations hard-link the
    index segments they share."""
    return sum({(st.st_dev, st.st_ino): st.st_size
                for st in (p.stat() for p in folder.rglob("*") if p.is_file())}.values()) / 1e6


def api_load(port: int, clients: int, seconds: float):
    """``clients`` keep-alive clients asking /api/search for QUERIES (load_test.run_load)."""
    mix = [Request("GET", f"/api/search?q={quote(q)}", 200) for q in QUERIES]
    return run_load(f"http://127.0.0.1:{port}", clients, seconds, mix=mix, timeout=60)


def child_serve(out: Path, catalog_arg: str, content: str, port: int, threads: int) -> None:
    """The server alone in a process, as deployed (docs/DEPLOY.md): make_app over the free
    pages + waitress, so its RSS is the server's own.  ``catalog_arg`` is not used."""
    import logging

    import waitress

    from jixiao.validate import load_pages
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    app = make_app(out, TEMPLATES, pages=load_pages(Path(content)))
    waitress.serve(app, host="127.0.0.1", port=port, threads=threads, _quiet=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--content", default="content", type=Path)
    ap.add_argument("--out", type=Path, help="an already built site: no build; the server runs "
                    "in a child process and its RSS is reported")
    ap.add_argument("--reindex", action="store_true", help="with --out: rebuild the search index "
                    "from the content (a new generation) and time it")
    ap.add_argument("--catalog", type=Path, help="pickle of the loaded catalog (written when "
                    "missing): saves the ~45 s load at 10,000 projects between runs")
    ap.add_argument("--rounds", default=20, type=int)
    ap.add_argument("--seconds", default=5.0, type=float)
    ap.add_argument("--clients", default=8, type=int)
    args = ap.parse_args()

    catalog = None
    if args.out is None:
        out = Path(tempfile.mkdtemp(prefix="jixiao-bench-"))
        catalog = build(args.content, out, log=None)
        shutil.rmtree(index_dir(out))          # the build indexed already: time a clean index
        t = time.perf_counter()
        build_index(catalog, out)
        index_s = time.perf_counter() - t
        print(f"content {args.content}: {len(catalog.projects)} projects, "
              f"{sum(len(p.indicators) for p in catalog.projects)} indicators")
    else:
        out = args.out
        index_s = None
        if args.reindex:
            catalog = _catalog(args)
            shutil.rmtree(index_dir(out), ignore_errors=True)
            t = time.perf_counter()
            build_index(catalog, out)
            index_s = time.perf_counter() - t
    live = (index_dir(out) / "CURRENT").read_text().strip()
    print(f"index: {'' if index_s is None else f'{index_s * 1000:.0f} ms, '}"
          f"{disk_mb(index_dir(out) / live):.1f} MB live generation, "
          f"{disk_mb(index_dir(out)):.1f} MB in the index folder")

    backend = open_backend(out)
    backend.search(parse_params({"q": ["预热"]}))                 # open the searcher once
    per_query, by_query = [], {}
    for _ in range(args.rounds):
        for q in QUERIES:
            t = time.perf_counter()
            backend.search(parse_params({"q": [q]}))
            per_query.append(time.perf_counter() - t)
            by_query.setdefault(q, []).append(per_query[-1])
    print(f"search latency over {len(per_query)} searches ({len(QUERIES)} queries × {args.rounds}): "
          f"p50 {pct(per_query, 50) * 1000:.1f} ms, p95 {pct(per_query, 95) * 1000:.1f} ms, "
          f"max {max(per_query) * 1000:.1f} ms")
    cold, warm = per_query[:len(QUERIES)], per_query[len(QUERIES):]
    print(f"  first round (each query new to the process: no cached match): p50 "
          f"{pct(cold, 50) * 1000:.1f} ms, p95 {pct(cold, 95) * 1000:.1f} ms; later rounds: "
          + (f"p50 {pct(warm, 50) * 1000:.1f} ms, p95 {pct(warm, 95) * 1000:.1f} ms" if warm else "none"))
    slowest = sorted(by_query.items(), key=lambda kv: -statistics.median(kv[1]))[:5]
    print("slowest (median): " + ", ".join(f"{q or '(empty)'} {statistics.median(v) * 1000:.1f} ms"
                                           for q, v in slowest))

    import logging
    import waitress
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)   # "Task queue depth" is expected here
    proc = None
    if args.out is None:
        app = make_app(out, TEMPLATES, catalog)
        server = waitress.create_server(app, host="127.0.0.1", port=0, threads=args.clients)
        threading.Thread(target=server.run, daemon=True).start()
        port = server.effective_port
    else:
        del catalog
        port = free_port()
        proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--child-serve", str(out),
                                 str(args.catalog or ""), str(args.content), str(port), str(args.clients)])
        wait_until_listening(proc, port, 300)
        ready_mb = status_mb(proc.pid, "VmRSS")
    stats = api_load(port, args.clients, args.seconds)
    print(f"server: {stats.requests} requests of /api/search in {stats.seconds:.1f} s with "
          f"{args.clients} concurrent clients on loopback: {stats.requests / stats.seconds:.0f} "
          f"req/s, p50 {stats.percentile(50) * 1000:.1f} ms, p95 {stats.percentile(95) * 1000:.1f} ms, "
          f"non-200: {stats.errors}")
    if proc is not None:
        print(f"server process RSS: {ready_mb:.0f} MB when ready, {status_mb(proc.pid, 'VmRSS'):.0f} MB "
              f"after the load test, peak {status_mb(proc.pid, 'VmHWM'):.0f} MB")
        proc.terminate()
        proc.wait(timeout=30)
    else:
        server.close()
    return 0 if not stats.errors else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child-serve"]:
        child_serve(Path(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]))
    else:
        sys.exit(main())
