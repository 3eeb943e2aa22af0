#!/usr/bin/env python3
"""Search benchmark: index time, query latency p50/p95, requests/s with 8 clients.

    python bench/search_bench.py [--content content] [--rounds 20] [--seconds 5]

Builds the site for the content dir into a temporary directory, times
``backend.search`` over a fixed query list (in process, default page size),
then runs the real server (waitress, 8 threads) on a free loopback port and
counts the requests per second 8 concurrent http.client clients get.
"""
from __future__ import annotations

import argparse
import http.client
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jixiao.pipeline import TEMPLATES, build  # noqa: E402
from jixiao.search import open_backend, parse_params  # noqa: E402
from jixiao.search.whoosh_backend import build_index  # noqa: E402
from jixiao.serve import make_app  # noqa: E402

QUERIES = ["燃气", "消火栓", "满意度", "公积金", "公積金", "食堂", "热线", "一网统管", "合杆整治",
           "加氢站", "安全检查", "信息系统", "运行维护", "服务对象", "及时", "合格率", "供热",
           "香花桥", "减污降碳", "PEMS", "365天", "≥90%", "=100%", "燃气 安全", "管理", "项目", "",
           "不存在的词语"]


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--content", default="content", type=Path)
    ap.add_argument("--rounds", default=20, type=int)
    ap.add_argument("--seconds", default=5.0, type=float)
    ap.add_argument("--clients", default=8, type=int)
    args = ap.parse_args()

    out = Path(tempfile.mkdtemp(prefix="jixiao-bench-"))
    catalog = build(args.content, out, log=None)
    t = time.perf_counter()
    build_index(catalog, out)
    index_s = time.perf_counter() - t
    size = sum(p.stat().st_size for p in (out / ".search").rglob("*") if p.is_file())
    print(f"content {args.content}: {len(catalog.projects)} projects, "
          f"{sum(len(p.indicators) for p in catalog.projects)} indicators")
    print(f"index: {index_s * 1000:.0f} ms, {size / 1e6:.1f} MB on disk (two generations)")

    backend = open_backend(out)
    backend.search(parse_params({"q": ["预热"]}))                 # open the searcher once
    per_query = []
    for _ in range(args.rounds):
        for q in QUERIES:
            t = time.perf_counter()
            backend.search(parse_params({"q": [q]}))
            per_query.append(time.perf_counter() - t)
    print(f"search latency over {len(per_query)} searches ({len(QUERIES)} queries × {args.rounds}): "
          f"p50 {pct(per_query, 50) * 1000:.1f} ms, p95 {pct(per_query, 95) * 1000:.1f} ms, "
          f"max {max(per_query) * 1000:.1f} ms")

    import logging
    import waitress
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)   # "Task queue depth" is expected here
    app = make_app(out, TEMPLATES, catalog)
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=args.clients)
    threading.Thread(target=server.run, daemon=True).start()
    port = server.effective_port
    targets = [f"/api/search?q={quote(q)}" for q in QUERIES]
    counts, errors, latencies = [0] * args.clients, [0] * args.clients, [[] for _ in range(args.clients)]
    stop = time.perf_counter() + args.seconds

    def client(n):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        i = n
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            conn.request("GET", targets[i % len(targets)])
            resp = conn.getresponse()
            resp.read()
            latencies[n].append(time.perf_counter() - t0)
            counts[n] += 1
            errors[n] += resp.status != 200
            i += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - t
    server.close()
    lat = [x for xs in latencies for x in xs]
    print(f"server: {sum(counts)} requests of /api/search in {elapsed:.1f} s with {args.clients} "
          f"concurrent clients on loopback: {sum(counts) / elapsed:.0f} req/s, "
          f"p50 {pct(lat, 50) * 1000:.1f} ms, p95 {pct(lat, 95) * 1000:.1f} ms, non-200: {sum(errors)}")
    return 0 if not sum(errors) else 1


if __name__ == "__main__":
    sys.exit(main())
