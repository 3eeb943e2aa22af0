"""Site settings a publisher sets once: ``content/site.yaml`` (optional).

    base_url: https://jixiao.example.gov.cn    # the public address (sitemap.xml, robots.txt)
    licence: 本站数据可自由下载和再利用，请注明来源。
    licence_url: https://creativecommons.org/licenses/by/4.0/deed.zh-hans
    contact: 某某市财政局预算科 · 电话 010-12345678
    contact_url: mailto:yusuan@example.gov.cn
    static_search: true      # also write the search index as static files (docs/DEPLOY.md)

Every page's footer shows the licence and the contact; the home page and /data/ say when
the data were last built (数据更新于).  Checked like the records (``path:line:col``).
``JIXIAO_BASE_URL``, when set, overrides ``base_url`` (a preview build of the same content).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from .load import load_yaml
from .problems import Problem

FILE = "site.yaml"
_URL = re.compile(r"https?://[^\s<>\"']+\Z")
LIMITS = {"licence": 300, "contact": 200}


@dataclass(frozen=True)
class Settings:
    base_url: str | None = None
    licence: str | None = None
    licence_url: str | None = None
    contact: str | None = None
    contact_url: str | None = None
    static_search: bool = False     # search/index/: search in the browser on a static host


def read_settings(root: Path) -> tuple[Settings, list[Problem]]:
    path = Path(root) / FILE
    if not path.is_file():
        return Settings(), []
    loaded, problems = load_yaml(path)
    if loaded is None:
        return Settings(), problems
    data = loaded.data if loaded.data is not None else {}

    def problem(key: str | None, message: str, at_key: str | None = None) -> None:
        line, col = (loaded.key_marks.get((at_key,)) if at_key is not None else None) or \
            loaded.value_mark((key,) if key else ())
        problems.append(Problem(str(path), line, col, key or "site", message))

    if not isinstance(data, dict):
        problem(None, "expected a mapping: base_url, licence, licence_url, contact, contact_url")
        return Settings(), problems
    values = {}
    for key, value in data.items():
        if key not in Settings.__dataclass_fields__:
            problem(None, f"unknown setting {key!r}; known: "
                          + ", ".join(Settings.__dataclass_fields__), at_key=key)
            continue
        if value is None:
            continue
        if key == "static_search":
            if not isinstance(value, bool):
                problem(key, f"expected true or false, got {value!r}")
                continue
            values[key] = value
            continue
        if not isinstance(value, str) or not value.strip():
            problem(key, f"expected text, got {value!r}")
            continue
        value = value.strip()
        if key.endswith("url"):
            ok = _URL.match(value) or (key == "contact_url" and re.fullmatch(
                r"mailto:[^\s@<>\"']+@[^\s@<>\"']+", value))
            if not ok:
                problem(key, f"expected an address starting with https:// or http://"
                             f"{' (or mailto:)' if key == 'contact_url' else ''}, got {value!r}")
                continue
            value = value.rstrip("/") if key == "base_url" else value
        elif len(value) > LIMITS[key]:
            problem(key, f"{len(value)} characters; at most {LIMITS[key]}")
            continue
        values[key] = value
    return Settings(**values), problems


def build_date() -> date:
    """The day of this build in China (UTC+8), or the day of ``SOURCE_DATE_EPOCH`` when set
    (reproducible builds: the same content gives the same bytes)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = (datetime.fromtimestamp(int(epoch), timezone.utc) if epoch and epoch.isdigit()
              else datetime.now(timezone.utc))
    return (moment + timedelta(hours=8)).date()
