"""A bounded load test of the search server on loopback: N clients for S seconds.

    python bench/load_test.py --clients 16 --seconds 60              # builds content/, serves it
    python bench/load_test.py --url http://127.0.0.1:8000 --seconds 10   # an already running server
    python bench/load_test.py --clients 8 --seconds 20 --rebuild 3   # edit a record every 3 s

Without ``--url`` it copies ``--content`` (default content/) to a temporary
folder and starts ``build.py serve`` on it, on a free port, in its own process
(so the clients and the server do not share one interpreter lock).  With
``--rebuild N`` it edits one record of that copy every N seconds, so the
server's watcher rebuilds and swaps the index while the clients keep asking.

Each client is a thread with one keep-alive connection that cycles through a
mix of requests: static pages, project pages, data files, /api/search and
/search/ with real words, facets and pages, plus requests that must fail in a
known way (404, 400, 405).  An *error* is any other status, a connection
error or a timeout.  The run prints requests, rate, latency percentiles and
status counts, and exits 1 if there was any error.
"""
from __future__ import annotations

import argparse
import http.client
import json
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent

WORDS = ["燃气", "检查", "满意度", "安全", "≥90%", "消火栓", "供热", "维修", "公積金", "绿化",
         "运行维护", "2025", "上海市", "城市", "监管", "培训", "及时", "≤", "万元", "垃圾"]
HOSTILE = ['<script>alert(1)</script>', '" OR 1=1 --', "AND OR NOT ( ) * ?", "\\", "%00",
           "../../etc/passwd", "{{7*7}}", "𠀀\u202e"]


@dataclass
class Request:
    method: str
    target: str
    expect: int


@dataclass
class Stats:
    requests: int = 0
    errors: int = 0
    statuses: Counter = field(default_factory=Counter)
    latencies: list = field(default_factory=list)
    samples: list = field(default_factory=list)     # the first few errors, for the report
    seconds: float = 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    def summary(self) -> str:
        rate = self.requests / self.seconds if self.seconds else 0
        return (f"{self.requests} requests in {self.seconds:.1f} s ({rate:.0f}/s), "
                f"{self.errors} errors; latency p50 {self.percentile(50) * 1000:.1f} ms, "
                f"p95 {self.percentile(95) * 1000:.1f} ms, p99 {self.percentile(99) * 1000:.1f} ms, "
                f"max {max(self.latencies, default=0) * 1000:.1f} ms; statuses "
                + ", ".join(f"{k}: {v}" for k, v in sorted(self.statuses.items())))


def request_mix(base: str) -> list[Request]:
    """What citizens (and a few robots) ask for, from the site's own data."""
    with urllib.request.urlopen(base + "/data/projects.json", timeout=30) as r:
        projects = json.load(r)
    mix = [Request("GET", p, 200) for p in ("/", "/units/", "/years/", "/indicators/", "/data/",
                                            "/static/site.css", "/data/projects.csv", "/sitemap.xml")]
    for p in projects[::3]:
        mix.append(Request("GET", p["url"], 200))
        mix.append(Request("GET", f"/units/{p['unit']['id']}/", 200))
    years = sorted({str(p["year"]) for p in projects})
    for word in WORDS:
        mix.append(Request("GET", "/api/search?" + urlencode({"q": word}), 200))
        mix.append(Request("GET", "/search/?" + urlencode({"q": word}), 200))
        mix.append(Request("GET", "/api/search?" + urlencode({"q": word, "year": random.choice(years),
                                                              "page_size": 5, "page": 2}), 200))
        mix.append(Request("GET", "/search/?" + urlencode({"q": word, "category": "output",
                                                           "sort": "amount"}), 200))
    for word in HOSTILE:
        mix.append(Request("GET", "/api/search?q=" + quote(word, safe=""), 200))
        mix.append(Request("GET", "/search/?q=" + quote(word, safe=""), 200))
    mix += [Request("GET", "/api/search", 200), Request("HEAD", "/", 200),
            Request("GET", "/no/such/page/", 404), Request("GET", "/%2e%2e/%2e%2e/etc/passwd", 404),
            Request("GET", "/.search/CURRENT", 404), Request("GET", "/api/search?page=abc", 400),
            Request("GET", "/search/?page_size=1000", 400), Request("POST", "/api/search?q=x", 405)]
    return mix


def run_load(base: str, clients: int, seconds: float, mix: list[Request] | None = None,
             timeout: float = 30.0, halt: threading.Event | None = None) -> Stats:
    """``clients`` threads, each with a keep-alive connection, for ``seconds`` (or until ``halt``)."""
    halt = halt or threading.Event()
    mix = mix or request_mix(base)
    parts = urlsplit(base)
    stats = Stats()
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(n: int) -> None:
        rng = random.Random(n)
        conn = None
        local = Stats()
        while time.monotonic() < stop and not halt.is_set():
            req = rng.choice(mix)
            started = time.perf_counter()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
                conn.request(req.method, req.target)
                resp = conn.getresponse()
                resp.read()
                status = resp.status
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as exc:
                status = type(exc).__name__
                if conn is not None:
                    conn.close()
                conn = None
            local.latencies.append(time.perf_counter() - started)
            local.requests += 1
            local.statuses[status] += 1
            if status != req.expect:
                local.errors += 1
                if len(local.samples) < 5:
                    local.samples.append(f"{req.method} {req.target} → {status} (expected {req.expect})")
        if conn is not None:
            conn.close()
        with lock:
            stats.requests += local.requests
            stats.errors += local.errors
            stats.statuses.update(local.statuses)
            stats.latencies += local.latencies
            stats.samples += local.samples[: max(0, 10 - len(stats.samples))]

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + timeout + 10)
    stats.seconds = time.monotonic() - started
    return stats


# ── a server of our own ─────────────────────────────────────────────────────

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_listening(proc: subprocess.Popen, port: int, wait: float, why=lambda: "") -> None:
    """Until ``proc`` accepts connections on ``port``; RuntimeError if it exits or ``wait`` passes."""
    deadline = time.monotonic() + wait
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {why()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"server did not answer within {wait} s: {why()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)


@contextmanager
def serve(content: Path, out: Path, wait: float = 180.0):
    """``build.py serve`` on ``content`` in its own process; yields (base URL, process).

    Shared by the load test, tests/test_hostile.py and tests/test_browser.py."""
    port = free_port()
    log_path = out.parent / "serve.log"
    log = open(log_path, "w")
    proc = subprocess.Popen([sys.executable, str(ROOT / "build.py"), "serve", "--content", str(content),
                             "--out", str(out), "--port", str(port)],
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_listening(proc, port, wait, lambda: log_path.read_text()[-2000:])
        yield f"http://127.0.0.1:{port}", proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


class StaticHost(str):
    """The base URL of ``static_files``, with what it has served: ``served`` lists
    (path, bytes of body) per answer, in order (a 404's body included)."""

    def __new__(cls, base: str, served: list):
        s = super().__new__(cls, base)
        s.served = served
        return s


@contextmanager
def static_files(root: Path):
    """``root`` served as plain files on a free loopback port, as a web host or object
    storage serves a site (no search server); yields its base URL (``StaticHost``)."""
    import functools
    import http.server

    served: list[tuple[str, int]] = []           # (path, bytes of body) of each answer

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def copyfile(self, source, outputfile):
            n = len(data := source.read())
            outputfile.write(data)
            served.append((self.path, n))

    handler = functools.partial(Quiet, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.served = served
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield StaticHost(f"http://127.0.0.1:{httpd.server_address[1]}", served)
    finally:
        httpd.shutdown()
        httpd.server_close()


class Editor(threading.Thread):
    """Edits one record every ``every`` seconds (two versions alternate): the watcher rebuilds."""

    def __init__(self, record: Path, every: float):
        super().__init__(daemon=True)
        self.record, self.every = record, every
        self.original = record.read_text("utf-8")
        self.stop = threading.Event()
        self.edits = 0

    def run(self):
        while not self.stop.wait(self.every):
            self.edits += 1
            self.record.write_text(edited(self.original, f"修订{self.edits}"), "utf-8")
        self.record.write_text(self.original, "utf-8")


def edited(record: str, word: str) -> str:
    """The record with `` word`` appended to its one-line name: pages and index change."""
    lines = record.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.startswith("name: ") and not line.rstrip().endswith(("|", ">", "'", '"')):
            lines[i] = line.rstrip("\n") + f" {word}\n"
            return "".join(lines)
    raise ValueError("no one-line name: field in the record")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--url", help="an already running server (default: start build.py serve)")
    p.add_argument("--content", type=Path, default=ROOT / "content")
    p.add_argument("--rebuild", type=float, default=0,
                   help="edit a record every N seconds so the server rebuilds (own server only)")
    args = p.parse_args(argv)

    def report(stats: Stats, extra: str = "") -> int:
        print(f"load test: {args.clients} clients × {args.seconds:g} s{extra}")
        print(stats.summary())
        for line in stats.samples:
            print("  error:", line)
        return 1 if stats.errors or not stats.requests else 0

    if args.url:
        return report(run_load(args.url.rstrip("/"), args.clients, args.seconds))
    with tempfile.TemporaryDirectory(prefix="jixiao-load-") as tmp:
        content = Path(tmp) / "content"
        shutil.copytree(args.content, content)
        with serve(content, Path(tmp) / "site") as (base, _):
            mix = request_mix(base)
            editor = None
            if args.rebuild:
                editor = Editor(sorted(content.glob("*/*/*.yaml"))[0], args.rebuild)
                editor.start()
            stats = run_load(base, args.clients, args.seconds, mix)
            if editor:
                editor.stop.set()
            extra = f", {editor.edits} rebuilds triggered" if editor else ""
            return report(stats, extra)


if __name__ == "__main__":
    sys.exit(main())
