"""The command line of DESIGN §6.  Exit status: 0 done, 1 content problems, 2 wrong usage."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .problems import ContentError

EXIT_OK, EXIT_CONTENT, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message):                      # argparse exits 2 on usage errors already;
        self.print_usage(sys.stderr)               # keep its message to one line
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="build.py", description="Build the budget performance-target portal.")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    def common(sp, out=True):
        sp.add_argument("--content", default="content", type=Path, help="records (default content/)")
        sp.add_argument("--strict", action="store_true", help="treat consistency warnings as errors")
        if out:
            sp.add_argument("--out", default="site", type=Path, help="output (default site/)")

    common(sub.add_parser("build", help="content/ → site/ (default)"))
    common(sub.add_parser("check", help="validate only"), out=False)
    s = sub.add_parser("serve", help="build, serve the site and search, rebuild on change")
    common(s)
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", default=8000, type=int)
    i = sub.add_parser("import", help="published table text → YAML records")
    i.add_argument("sources", nargs="+", metavar="SOURCE")
    i.add_argument("--out", default="content", type=Path)
    i.add_argument("--force", action="store_true", help="overwrite existing records")
    q = sub.add_parser("search", help="query the built index")
    q.add_argument("query", metavar="QUERY")
    q.add_argument("--out", default="site", type=Path)
    q.add_argument("--limit", default=20, type=int)
    q.add_argument("--json", action="store_true")
    q.add_argument("--year")
    q.add_argument("--unit")
    sub.add_parser("schema", help="write the JSON Schema of records to schema/")
    return p


def _problems(exc: ContentError) -> int:
    for problem in exc.problems:
        print(problem, file=sys.stderr)
    errors = sum(1 for p in exc.problems if p.severity == "error")
    print(f"{errors} problem{'s' if errors != 1 else ''}; nothing was written", file=sys.stderr)
    return EXIT_CONTENT


def cmd_build(args) -> int:
    import os
    from .pipeline import build
    from .render import DEFAULT_BASE_URL
    catalog = build(args.content, args.out, strict=args.strict)
    if not (os.environ.get("JIXIAO_BASE_URL") or catalog.settings.base_url):
        # ``build`` is the deploy step (``serve`` builds for the preview on this machine)
        print(f"warning: no public address: base_url in content/site.yaml (or JIXIAO_BASE_URL)"
              f" is not set, so sitemap.xml and robots.txt point at {DEFAULT_BASE_URL}; set it "
              f"when building for deployment (docs/DEPLOY.md)", file=sys.stderr)
    return EXIT_OK


def cmd_check(args) -> int:
    from .pipeline import check
    catalog = check(args.content, args.strict)
    print(f"ok: {len(catalog.projects)} projects, {len(catalog.units)} units, "
          f"years {', '.join(map(str, sorted(catalog.years)))}")
    return EXIT_OK


def cmd_schema(args) -> int:
    from .schema import write_schemas
    for path in write_schemas():
        print(path)
    return EXIT_OK


def cmd_import(args) -> int:
    from .importer import run_import
    return run_import(args.sources, str(args.out), args.force)


def cmd_serve(args) -> int:
    from .serve import serve
    serve(args.content, args.out, args.host, args.port)
    return EXIT_OK


def cmd_search(args) -> int:
    from .search import NoIndex, ParamError, open_backend, parse_params
    from .search.format import readable
    from .serve import to_json
    query = {"q": [args.query], "page_size": [str(args.limit)]}
    query.update({k: [v] for k, v in (("year", args.year), ("unit", args.unit)) if v is not None})
    try:
        doc = open_backend(args.out).search(parse_params(query))
    except ParamError as exc:
        print(f"build.py search: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except NoIndex as exc:
        print(f"build.py search: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(to_json(doc) if args.json else readable(doc))
    return EXIT_OK


COMMANDS = {"build": cmd_build, "check": cmd_check, "schema": cmd_schema,
            "serve": cmd_serve, "import": cmd_import, "search": cmd_search}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        argv.insert(0, "build")
    args = parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except ContentError as exc:
        return _problems(exc)
