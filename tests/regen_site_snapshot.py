#!/usr/bin/env python3
"""Rebuild the whole-site snapshot: tests/fixtures/site/content → tests/fixtures/site/expected.

    python tests/regen_site_snapshot.py

Run it after an intended change to templates, CSS or rendering, look at
``git diff tests/fixtures/site/expected`` and commit the result with the change.
tests/test_site.py builds the same content and compares it file by file.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jixiao.pipeline import build  # noqa: E402
from jixiao.render import DEFAULT_BASE_URL  # noqa: E402

SITE = ROOT / "tests" / "fixtures" / "site"
CONTENT = SITE / "content"
EXPECTED = SITE / "expected"


# the fixture site's build day (数据更新于), so that the snapshot does not change daily
SNAPSHOT_DAY = "1764547200"      # 2025-12-01 00:00 UTC


def build_fixture_site(out: Path, log=None) -> None:
    """Build the fixture site into ``out`` with the default base URL and a fixed build day,
    whatever the environment."""
    saved = {k: os.environ.pop(k, None) for k in ("JIXIAO_BASE_URL", "SOURCE_DATE_EPOCH")}
    os.environ["SOURCE_DATE_EPOCH"] = SNAPSHOT_DAY
    try:
        build(CONTENT, out, log=log)
    finally:
        os.environ.pop("SOURCE_DATE_EPOCH", None)
        os.environ.update({k: v for k, v in saved.items() if v is not None})
    assert DEFAULT_BASE_URL


def snapshot_files(folder: Path) -> dict[str, bytes]:
    """Every file of a built site by relative path, except hidden ones: the write
    manifest and the search index (.search/, binary and not rendered from templates)."""
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder)
        if p.is_file() and not any(part.startswith(".") for part in rel.parts):
            out[rel.as_posix()] = p.read_bytes()
    return out


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        build_fixture_site(Path(tmp) / "site", log=sys.stderr)
        files = snapshot_files(Path(tmp) / "site")
    if EXPECTED.exists():
        shutil.rmtree(EXPECTED)
    for rel, data in files.items():
        target = EXPECTED / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    print(f"wrote {len(files)} files to {EXPECTED.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
