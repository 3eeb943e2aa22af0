"""Documented things must exist (Datasette's rule), and CI runs what the README says."""
import re
from pathlib import Path

from jixiao.cli import parser

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text("utf-8")


def readme_commands() -> list[str]:
    head = README.split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", head, re.S)]


def test_readme_starts_with_exactly_two_one_line_commands():
    commands = readme_commands()
    assert len(commands) == 2
    assert all("\n" not in c for c in commands)
    assert "build.py serve" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text("utf-8")
    assert readme_commands()[1] in ci.splitlines()


def test_every_command_is_documented_and_every_documented_command_exists():
    actions = [a for a in parser()._actions if a.dest == "command"][0]
    commands = set(actions.choices)
    documented = set(re.findall(r"^python build\.py (?:\[)?(\w+)", README, re.M))
    assert commands == documented


def test_every_dependency_is_explained():
    import tomllib
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    names = [re.split(r"[<>=\[ ]", d)[0] for d in meta["dependencies"]]
    for name in names:
        assert f"| {name} |" in README, f"{name} is not in the README's dependency list"


def test_shipped_schema_matches_the_model():
    import json
    from jixiao.model import schema
    for kind in ("unit", "project"):
        shipped = json.loads((ROOT / "schema" / f"{kind}.schema.json").read_text("utf-8"))
        assert shipped == schema(kind), "run: python build.py schema"
