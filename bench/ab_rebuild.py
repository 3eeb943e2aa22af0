"""One-record rebuilds of two revisions side by side, alternating, on the same corpus.

    python bench/ab_rebuild.py OLD NEW [--n 10000] [--rounds 5] [--rename | --template]

This VM's speed swings by a third within an hour, so two bench runs an hour apart cannot
tell a 0.2 s difference; this can.  Each revision gets a git worktree and a site of its
own, built once; then, round by round and revision by revision, one record is corrected
(a target, or with ``--rename`` its name), the site rebuilt (the whole command, timed) and
the record restored and rebuilt again (not timed).  With ``--template``, the change is a
comment added to the heading of the revision's own ``templates/unit.html`` (one list page
per unit, each written again).  Prints each build's render step and
whole command, and the medians.
"""
from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build(tree: Path, content: Path, site: Path) -> tuple[float, float]:
    """(render step in ms, whole command in s)."""
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "build.py", "build", "--content", str(content),
                          "--out", str(site)], cwd=tree, capture_output=True, text=True,
                         check=True)
    whole = time.perf_counter() - start
    render = re.search(r"^\s*render\s+(\d+) ms", out.stdout + out.stderr, re.M)
    return (float(render.group(1)) if render else float("nan")), whole


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--rename", action="store_true")
    ap.add_argument("--template", action="store_true", help="change unit.html instead")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT / "bench"))
    from generate import generate
    work = Path(tempfile.mkdtemp(prefix="jixiao-ab-"))
    content = work / "content"
    generate(args.n, content, 1)
    files = sorted(content.glob("*/*/*.yaml"))
    victim = files[len(files) // 2]
    original = victim.read_text("utf-8")
    trees = {}
    for rev in (args.old, args.new):
        tree = work / f"tree-{rev}"
        subprocess.run(["git", "worktree", "add", "-q", "--detach", str(tree), rev],
                       cwd=ROOT, check=True)
        trees[rev] = tree
        build(tree, content, tree / "site")              # the build the rebuilds follow
    times: dict[str, list[tuple[float, float]]] = {rev: [] for rev in trees}
    try:
        for k in range(1, args.rounds + 1):
            for rev, tree in trees.items():
                if args.template:
                    page = tree / "templates" / "unit.html"
                    kept = page.read_text("utf-8")
                    page.write_text(kept.replace("</h1>", f"</h1><!-- {k} -->", 1), "utf-8")
                    times[rev].append(build(tree, content, tree / "site"))
                    page.write_text(kept, "utf-8")
                    build(tree, content, tree / "site")
                    print(f"{rev:>12}  render {times[rev][-1][0]:6.0f} ms  "
                          f"whole command {times[rev][-1][1]:.2f} s", flush=True)
                    continue
                if args.rename:
                    edited = re.sub(r"^name: (.*)$", rf"\g<0>（更名{k}）", original,
                                    count=1, flags=re.M)
                else:
                    edited = re.sub(r"^  target: (.*)$", rf"  target: '≥{90 + k}%'", original,
                                    count=1, flags=re.M)
                victim.write_text(edited, "utf-8")
                times[rev].append(build(tree, content, tree / "site"))
                victim.write_text(original, "utf-8")
                build(tree, content, tree / "site")
                print(f"{rev:>12}  render {times[rev][-1][0]:6.0f} ms  "
                      f"whole command {times[rev][-1][1]:.2f} s", flush=True)
    finally:
        for tree in trees.values():
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT)
        shutil.rmtree(work, ignore_errors=True)
    for rev, runs in times.items():
        print(f"{rev:>12}  median: render {statistics.median(r for r, _ in runs):.0f} ms, "
              f"whole command {statistics.median(w for _, w in runs):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
