"""The search document as a readable list for the terminal (``build.py search``)."""
from __future__ import annotations

import html
import re


def _plain(fragment: str) -> str:
    """<mark>x</mark> → 【x】, entities unescaped, whitespace collapsed."""
    text = fragment.replace("<mark>", "【").replace("</mark>", "】")
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", text))).strip()


def readable(doc: dict) -> str:
    lines = []
    projects = sum(1 for r in doc["results"] if r["type"] == "project")
    first = (doc["page"] - 1) * doc["page_size"]
    lines.append(f"“{doc['query']}”: {doc['total']} project{'s' if doc['total'] != 1 else ''}"
                 + (f", showing {first + 1}–{first + projects}" if projects else ""))
    n = first
    for r in doc["results"]:
        if r["type"] == "unit":
            lines.append(f"\n单位  {r['title']}  {r['url']}")
            continue
        n += 1
        lines.append(f"\n{n}. {r['title']}  ({r['year']}, {r['unit']['name']}, {r['annual_yuan']} 元)")
        lines.append(f"   {r['url']}")
        for s in r["snippets"]:
            if s["field"] != "name":
                lines.append(f"   {s['field']}: {_plain(s['html'])}")
        for ind in r["indicators"][:5]:
            lines.append(f"   指标: {_plain(ind['html'])}")
        if len(r["indicators"]) > 5:
            lines.append(f"   … {len(r['indicators']) - 5} more indicators")
    return "\n".join(lines)
