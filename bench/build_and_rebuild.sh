#!/bin/bash
# The full build, three one-record rebuilds and two changes of a list template at N projects, each the whole command in a
# process of its own, with the peak RSS of the build and of its largest child (what the
# 100,000-project figures in bench/results/2026-12-02-100k-c794ccb.md came from; the whole
# bench/run.py takes over an hour at that size).
#
#   bench/build_and_rebuild.sh 100000 [/tmp/jixiao-100k]
set -euo pipefail
N=${1:?N}; W=${2:-/tmp/jixiao-$N}
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
C=$W/content; S=$W/site
[ -d "$C" ] || $PY bench/generate.py "$N" "$C"
# the last run's site is moved aside and removed at the end, not before the build: on ext4
# without a journal (this VM) files made in the minute after a mass delete skip the freed
# inodes one by one (see bench/run.py's set_aside)
T=$W/trash; mkdir -p "$T"
for d in "$S" "$W/.site.search" "$W/.site.staging"; do [ -e "$d" ] && mv "$d" "$T/$(basename "$d")-$(date +%s%N)"; done
trap 'rm -rf "$T"' EXIT
once() {
  local s e
  s=$(date +%s.%N)
  $PY - "$C" "$S" <<'PY'
import resource, sys, time
from pathlib import Path
sys.path.insert(0, ".")
from jixiao.pipeline import build, Timings
t0, t = time.perf_counter(), Timings()
build(Path(sys.argv[1]), Path(sys.argv[2]), log=None, timings=t)
print("  steps", [(n, round(s, 1)) for n, s in t.steps], "beside",
      {k: round(v, 1) for k, v in t.beside.items()}, "rendered", t.rendered)
print("  build() %.1f s; peak RSS: build %.0f MB, largest child %.0f MB" % (
    time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024))
sys.stdout.flush()
import os; os._exit(0)      # as build.py leaves: no teardown of the heap (~1.2 s at 100,000)
PY
  e=$(date +%s.%N); echo "  the whole command: $(echo "$e - $s" | bc) s"
}
echo "full build"; once
mapfile -t files < <(find "$C" -mindepth 3 -maxdepth 3 -name "*.yaml" | sort)   # (100,000 names: too many for ls)
for q in 1 2 3; do
  f=${files[$(( ${#files[@]} * q / 4 ))]}
  $PY - "$f" <<'PY'
import re, sys, pathlib, time
f = pathlib.Path(sys.argv[1]); s = f.read_text("utf-8")
s = re.sub(r"(\n  target: )([^\n]*)", lambda m: m.group(1) + "'" + m.group(2).strip("'")
           + "（更正" + str(time.time_ns() % 1000) + "）'", s, count=1)
f.write_text(s, "utf-8")
PY
  echo "one record changed: $f"; once
done
for q in 1 2; do                       # a list template: its pages alone (one per unit)
  cp templates/unit.html "$W/unit.html.kept"
  sed -i "0,/<\/h1>/s//<\/h1><!-- changed $q -->/" templates/unit.html
  echo "one template changed (unit.html), round $q"; once
  cp "$W/unit.html.kept" templates/unit.html
  echo "  (changed back)"; once
done
