"""Consistency warnings a publisher wants to see (``--strict`` makes them errors).

Each rule looks at one valid project and yields (location, message); the
validator turns locations into ``path:line:col``.
"""
from __future__ import annotations

import re
from typing import Iterator

from .model import Project


def warnings(project: Project) -> Iterator[tuple[tuple, str]]:
    f = project.funds
    if None not in (f.fiscal, f.appropriation, f.carryover) and \
            f.fiscal != f.appropriation + f.carryover:
        yield (("funds", "fiscal"),
               f"fiscal {f.fiscal} is not appropriation {f.appropriation} "
               f"+ carry-over {f.carryover} = {f.appropriation + f.carryover}")
    if f.total is not None and f.annual > f.total:
        yield (("funds", "annual"), f"annual {f.annual} is above the total {f.total}")
    for i, ind in enumerate(project.indicators):
        if not (ind.target or "").strip():
            yield (("indicators", i), f"indicator {ind.name!r} has no target")
        elif ind.parsed.op is None and ind.parsed.value is None and \
                not re.search(r"[\w\u4e00-\u9fff]", ind.parsed.text or ""):
            yield (("indicators", i, "target"),
                   f"target {ind.target!r} says nothing (no number, no words)")
    if project.indicators and not any(i.category == "satisfaction" for i in project.indicators):
        yield (("indicators",), "no satisfaction indicator (满意度指标)")
    if not project.indicators:
        yield (("indicators",), "no indicators")
