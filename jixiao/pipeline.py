"""The build, top to bottom: load → validate → derive → render → write → index."""
from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .catalog import Catalog
from .problems import ContentError
from .render import render_site
from .validate import load_content
from .write import write_site

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"


@dataclass
class Timings:
    log: object = sys.stderr
    steps: list[tuple[str, float]] = field(default_factory=list)

    @contextmanager
    def step(self, name: str):
        start = time.perf_counter()
        yield
        seconds = time.perf_counter() - start
        self.steps.append((name, seconds))
        if self.log:
            print(f"  {name:<10} {seconds * 1000:8.0f} ms", file=self.log)


def check(content: Path) -> Catalog:
    """Load and validate; raises ContentError with every problem."""
    return load_content(content)


def build(content: Path, out: Path, templates: Path = TEMPLATES, log=sys.stderr) -> Catalog:
    """Build the site.  Nothing is written unless every step before ``write`` succeeded."""
    t = Timings(log)
    with t.step("load"):
        catalog = load_content(content)          # load + validate + derive (model properties)
    with t.step("render"):
        outputs = render_site(catalog, templates)
        if outputs.problems:
            raise ContentError(outputs.problems)
    with t.step("write"):
        stats = write_site(outputs, out)
    if log:
        print(f"built {len(catalog.projects)} projects, {len(outputs)} files "
              f"({stats.written} written, {stats.unchanged} unchanged, {stats.removed} removed) "
              f"in {sum(s for _, s in t.steps):.2f} s → {out}", file=log)
    return catalog
