"""Search synonyms a publisher can extend: ``content/synonyms.yaml``.

    groups:
      - [环保, 生态环境]          # searching one word also searches the others of its group
      - [安监, 安全监管, 安全监督, 安全监察]

Checked like the records (every problem as ``path:line:col: field: message``).  Applied
at query time (``search.engine``): a query part that holds a word of a group is also
searched with each other word in its place, and the page says so (“也搜索了：生态环境”).
"""
from __future__ import annotations

import re
from pathlib import Path

from .load import load_yaml
from .problems import Problem

FILE = "synonyms.yaml"
MAX_GROUPS = 2000
MAX_TERM = 20
_WORDY = re.compile(r"[\w\u3400-\u9fff]")


def read_synonyms(root: Path) -> tuple[tuple[tuple[str, ...], ...], list[Problem]]:
    """The groups of ``<root>/synonyms.yaml`` (none when there is no such file)."""
    path = Path(root) / FILE
    if not path.is_file():
        return (), []
    loaded, problems = load_yaml(path)
    if loaded is None:
        return (), problems
    data = loaded.data

    def problem(loc: tuple, message: str) -> None:
        line, col = loaded.value_mark(loc)
        dotted = "".join(f"[{x + 1}]" if isinstance(x, int) else ("." if i else "") + x
                         for i, x in enumerate(loc))
        problems.append(Problem(str(path), line, col, dotted, message))

    if not isinstance(data, dict) or set(data) != {"groups"}:
        problem((), "expected a mapping with one key, groups: a list of word lists")
        return (), problems
    groups = data["groups"]
    if not isinstance(groups, list):
        problem(("groups",), "expected a list of word lists, e.g. - [环保, 生态环境]")
        return (), problems
    if len(groups) > MAX_GROUPS:
        problem(("groups",), f"{len(groups)} groups; at most {MAX_GROUPS}")
        return (), problems
    out = []
    for g, group in enumerate(groups):
        if not isinstance(group, list):
            problem(("groups", g), "expected a list of words, e.g. [环保, 生态环境]")
            continue
        terms = []
        for t, term in enumerate(group):
            if not isinstance(term, str) or not term.strip():
                problem(("groups", g, t), f"expected a word, got {term!r}")
            elif len(term.strip()) > MAX_TERM:
                problem(("groups", g, t), f"{term!r} is longer than {MAX_TERM} characters")
            elif not _WORDY.search(term):
                problem(("groups", g, t), f"{term!r} has no letter, digit or Chinese character")
            elif term.strip() in terms:
                problem(("groups", g, t), f"{term!r} appears twice in this group")
            else:
                terms.append(term.strip())
        if len(group) < 2:
            problem(("groups", g), "a group needs at least two words")
        elif len(terms) == len(group):
            out.append(tuple(terms))
    return tuple(out), problems
