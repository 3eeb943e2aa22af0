"""Score the importer against a folder of real tables with hand-written expectations.

    python -m jixiao.importer.corpus [FOLDER]      (default tests/fixtures/corpus)

Each table ``<id>.<ext>`` has ``<id>.expected.yaml`` (see the folder's README).  A table
is **right** when the importer reads every expected project with the same name, unit,
year, annual amount in yuan, indicator count and sample indicator/target pairs (or
refuses a table expected to be refused); **refused** when the importer refuses a
table expected to be read; **wrong** when it reads a table and any of that differs —
the one outcome that must never happen.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import yaml

from . import SOURCE_SUFFIXES, annual_yuan
from .labels import norm



@dataclass
class Outcome:
    path: Path
    verdict: str          # right / refused / wrong
    detail: str


def tables(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir()
                  if p.suffix in SOURCE_SUFFIXES and p.with_name(p.stem + ".expected.yaml").exists()
                  and not p.name.endswith(".source.txt"))


def _same(a: str | None, b: str | None) -> bool:
    return norm(a or "") == norm(b or "")


def _composed(got: str, value: str) -> bool:
    """A target composed from 指标性质 + 指标值 + 度量单位 columns holds the 指标值 cell."""
    import re
    return re.fullmatch(r"[≥≤=<>]?" + re.escape(norm(value)) + r"[^\d]{0,4}", norm(got)) is not None


def compare(projects: list, expected: list[dict]) -> list[str]:
    """What differs between read projects and their expectations ([] when right)."""
    diffs = []
    if len(projects) != len(expected):
        diffs.append(f"{len(projects)} projects read, {len(expected)} expected")
    for k, (p, e) in enumerate(zip(projects, expected), 1):
        r = p.record
        checks = [("name", r["name"], e["name"]), ("unit", p.unit.name, e["unit"])]
        for field, got, want in checks:
            if not _same(got, want):
                diffs.append(f"project {k}: {field} {got!r}, expected {want!r}")
        if p.year != e["year"]:
            diffs.append(f"project {k}: year {p.year}, expected {e['year']}")
        if annual_yuan(p) != Decimal(str(e["annual_yuan"])):
            diffs.append(f"project {k}: annual {annual_yuan(p)} yuan, expected {e['annual_yuan']}")
        inds = r["indicators"]
        if len(inds) != e["indicators"]:
            diffs.append(f"project {k}: {len(inds)} indicators, expected {e['indicators']}")
        for name, target in e.get("samples") or []:
            hit = [i for i in inds if _same(i["name"], name)]
            if not hit:
                diffs.append(f"project {k}: no indicator {name!r}")
            elif not any(_same(i["target"], str(target)) or _composed(i["target"], str(target))
                         for i in hit):
                diffs.append(f"project {k}: {name!r} has target {hit[0]['target']!r}, "
                             f"expected {target!r}")
    return diffs


def score(folder: Path) -> list[Outcome]:
    from . import read_source, Refusal

    out = []
    for path in tables(folder):
        exp = yaml.safe_load(path.with_name(path.stem + ".expected.yaml").read_text("utf-8"))
        try:
            items = read_source(str(path))
        except Exception as e:  # a traceback is a finding, reported as wrong
            out.append(Outcome(path, "wrong", f"crashed: {type(e).__name__}: {e}"))
            continue
        refusals = [i for i in items if isinstance(i, Refusal)]
        projects = [i for i in items if not isinstance(i, Refusal)]
        if exp["expect"] == "refuse":
            if refusals or not projects:
                out.append(Outcome(path, "right", f"refused: {refusals[0].message}"
                                   if refusals else "refused"))
            else:
                out.append(Outcome(path, "wrong", f"read {len(projects)} project(s), "
                                                  f"expected a refusal ({exp.get('reason')})"))
            continue
        if refusals:
            out.append(Outcome(path, "refused", f"line {refusals[0].line}: {refusals[0].message}"))
            continue
        diffs = compare(projects, exp["projects"])
        out.append(Outcome(path, "wrong" if diffs else "right", "; ".join(diffs)))
    return out


def main(argv: list[str]) -> int:
    folder = Path(argv[0]) if argv else Path("tests/fixtures/corpus")
    outcomes = score(folder)
    for o in outcomes:
        print(f"{o.verdict:8} {o.path.name}" + (f"  — {o.detail}" if o.detail else ""))
    counts = {v: sum(1 for o in outcomes if o.verdict == v) for v in ("right", "refused", "wrong")}
    n = len(outcomes)
    print(f"\n{n} tables: {counts['right']} right ({100 * counts['right'] / max(n, 1):.0f} %), "
          f"{counts['refused']} refused, {counts['wrong']} wrong")
    return 1 if counts["wrong"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
