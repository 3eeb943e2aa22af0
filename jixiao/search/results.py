"""Result shaping, independent of the engine: highlighted snippets and matched indicators.

Both use the analyzer's own token matching on the stored text of a page of
hits, so what is marked is exactly what the index matched.  All text is
HTML-escaped; only ``<mark>`` is added.
"""
from __future__ import annotations

from html import escape

from .analysis import SEPARATOR, ParsedQuery, find_spans, fold, fold_with_offsets

FRAGMENT = 120          # characters of long text shown around the first match
LEAD = 30               # characters before it


def spans(text: str, query: ParsedQuery) -> list[tuple[int, int]]:
    """Matched spans of ``text`` (original offsets), merged and sorted."""
    if not text or query.empty:
        return []
    folded = fold(text)
    found = [span for part, slots in zip(query.parts, query.slots)
             for span in find_spans(folded, slots, part)]
    if not found:
        return []
    if len(folded) != len(text):          # a character folded to several (㎡ → m2): map back
        folded, origin = fold_with_offsets(text)
        found = [(origin[s], origin[e - 1] + 1) for s, e in found]
    found.sort()
    merged: list[tuple[int, int]] = []
    for s, e in found:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


def highlight(text: str, query: ParsedQuery, fragment: bool = False) -> str | None:
    """Escaped ``text`` with ``<mark>`` around matches; None when nothing matched.

    With ``fragment``, long text is cut to about FRAGMENT characters around the
    first match, with … where it was cut.
    """
    found = spans(text, query)
    if not found:
        return None
    start, end = 0, len(text)
    if fragment and len(text) > FRAGMENT:
        start = max(0, found[0][0] - LEAD)
        end = min(len(text), start + FRAGMENT)
        start = max(0, min(start, end - FRAGMENT))
    out = ["…" if start > 0 else ""]
    pos = start
    for s, e in found:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        out.append(escape(text[pos:s], quote=False))
        out.append(f"<mark>{escape(text[s:e], quote=False)}</mark>")
        pos = e
    out.append(escape(text[pos:end], quote=False))
    out.append("…" if end < len(text) else "")
    return "".join(out)


def snippets(doc: dict, query: ParsedQuery) -> list[dict]:
    out = []

    def add(field: str, text: str, fragment: bool = True) -> None:
        html = highlight(text, query, fragment)
        if html is not None:
            out.append({"field": field, "html": html})

    add("name", doc["title"], fragment=False)
    add("unit", doc["unit"]["name"], fragment=False)
    add("department", doc["department"]["published"], fragment=False)
    add("nature", doc["nature"], fragment=False)
    add("category", doc["category"], fragment=False)
    add("goals.overall", doc["goals"]["overall"])
    add("goals.annual", doc["goals"]["annual"])
    for title, text in doc["sections"]:
        html = highlight(text, query, True) or highlight(title, query)
        if html is not None:
            out.append({"field": f"sections.{title}", "html": html})
    return out


def matched_indicators(doc: dict, query: ParsedQuery, categories: tuple[str, ...] = ()) -> list[dict]:
    """The indicators whose name, description or target holds a part of the query.

    Indicators that hold more parts come first; published order otherwise.
    """
    if query.empty:
        return []
    indicators = doc["indicators"]
    raw = SEPARATOR.join(v for ind in indicators for v in ind[:3])
    # folding is per character, so folding the joined values = joining the folded values:
    # one translate per project; the cheap necessary test (every slot of a part is a
    # substring) first on all of it, then per indicator
    folded_all = fold(raw)
    parts = [(part, slots) for part, slots in zip(query.parts, query.slots)
             if all(slot in folded_all for slot in slots)]
    if not parts:
        return []
    values = folded_all.split(SEPARATOR)
    if len(values) != 3 * len(indicators):          # a separator in the text itself
        values = [fold(v) for ind in indicators for v in ind[:3]]
    found = []
    for n, (name, description, target, category) in enumerate(indicators):
        if categories and category not in categories:
            continue
        folded = values[3 * n:3 * n + 3]
        here = [(part, slots) for part, slots in parts
                if any(all(slot in f for slot in slots) for f in folded)]
        if not here:
            continue
        held = sum(1 for part, slots in here if any(find_spans(f, slots, part) for f in folded if f))
        if not held:
            continue
        html = " · ".join(highlight(v, query) or escape(v, quote=False)
                          for v in (name, description, target) if v)
        found.append((-held, n, {"name": name, "target": target or None, "html": html}))
    return [entry for *_, entry in sorted(found, key=lambda t: (t[0], t[1]))]
