"""What a search answers, independent of the engine: tiers, synonyms, suggestions, unit
results, facets, filters and paging.

    answer(gen, params) -> the /api/search document

The engine (``whoosh_search.Generation``) supplies only:

- ``match(query)`` → (mask, site positions in relevance order, units whose name holds
  every part) for **exact** runs of characters;
- ``result(position, query, categories)`` → a project's result entry for a query;
- ``masks`` (facet value → bitset), ``labels``, ``by_amount``, ``all``, ``nbytes``;
- ``names`` (folded project names by site position), ``units`` (with ``folded`` names),
  ``synonyms`` (folded groups) and ``has_term(bigram)`` (the index's vocabulary).

Tiers, in this order and never mixed (a later tier never outranks an earlier one):

1. **exact**: every part of the query is a run of characters of some field (today's
   precision);
2. **synonym**: the same, with a word of a synonym group (``content/synonyms.yaml``)
   replaced by another of its group (``also_searched`` says which);
3. **relaxed**: a query of one Chinese part of three characters or more whose characters
   stand in order in a project's name within a short window (each gap at most
   ``GAP`` characters; a smaller span ranks higher), or whose two halves both stand in the
   name in order (``公积金平台`` → 公积金…平台); and the projects of a unit named by the
   query's abbreviation (``燃气中心`` → 上海市燃气管理事务中心);
4. **suggestion**: when nothing above matched, a homophone of one character (by pinyin,
   from the index's own vocabulary: ``消火拴`` → 消火栓) whose exact search finds
   projects; its results are shown under “您是不是要找”.

Each result says its tier in ``match``.  A query made only of characters the analyzer
ignores (``😀``, ``??``) returns nothing, with ``notice: "ignored"``.
"""
from __future__ import annotations

import re
from array import array
from functools import lru_cache

from .analysis import ParsedQuery, fold, parse_query
from .params import FACETS, SearchParams

GAP = 4                    # characters allowed between two query characters (relaxed)
MIN_RELAXED = 3            # a relaxed part has at least this many characters
MAX_UNIT_RESULTS = 3
MAX_SYNONYM_QUERIES = 8
_CJK_ONLY = re.compile(r"[\u3400-\u9fff]+")


# ── the answer ───────────────────────────────────────────────────────────────

def answer(gen, params: SearchParams) -> dict:
    query = parse_query(params.q)
    extra = {"also_searched": [], "suggestion": None, "notice": None}
    if query.empty:
        if params.q.strip():                        # only characters search ignores
            extra["notice"] = "ignored"
            return _shape(gen, params, query, 0, [], {}, [], extra)
        return _shape(gen, params, query, gen.all, None, {}, [], extra)

    mask, ranked, units, _ = gen.match(query)
    tiers = [(mask, ranked, "exact", query)]
    unit_hits = [(u, "exact") for u in units]

    # a synonym found in a name, unit or department is as good as the word; found only in
    # long text (生态环境 in a goal) it is kept for queries that find nothing better
    weak = []
    for alt, words in synonym_queries(query, gen.synonyms):
        m, r, u, header = gen.match(alt)
        strong = m & header
        if strong & ~_union(tiers):
            tiers.append((strong, r, "synonym", alt))
            extra["also_searched"] += [w for w in words if w not in extra["also_searched"]]
        if m & ~header:
            weak.append((m & ~header, r, "synonym", alt, words))
        unit_hits += [(x, "synonym") for x in u]

    m, r = relaxed_projects(gen, query)
    abbreviated = abbreviated_units(gen, query)
    for u in abbreviated:
        um = gen.masks["unit"].get(u["id"], 0)
        r = array("i", list(r) + [p for p in _bits(um) if not (m >> p) & 1])
        m |= um
    if m & ~_union(tiers):
        tiers.append((m, r, "relaxed", query))
    unit_hits += [(u, "relaxed") for u in abbreviated]

    if not _union(tiers) and weak:
        for m, r, label, alt, words in weak:
            tiers.append((m, r, label, alt))
            extra["also_searched"] += [w for w in words if w not in extra["also_searched"]]
    if not _union(tiers):
        s = suggest(gen, query)
        if s is not None:
            alt, text = s
            m, r, u, _ = gen.match(alt)
            tiers.append((m, r, "suggestion", alt))
            unit_hits += [(x, "suggestion") for x in u]
            extra["suggestion"] = {"q": text, "url": "/search/?" + params.with_(q=text, page=1)
                                   .query_string()}

    matched, order, how = _combine(tiers)
    return _shape(gen, params, query, matched, order, how, unit_hits, extra)


def _union(tiers) -> int:
    out = 0
    for m, *_ in tiers:
        out |= m
    return out


def _combine(tiers):
    """One relevance order: each tier's own order, minus what an earlier tier holds."""
    seen = 0
    order: list[int] = []
    how: dict[int, tuple[str, ParsedQuery]] = {}
    for mask, ranked, label, q in tiers:
        new = mask & ~seen
        if not new:
            continue
        for p in ranked:
            if (new >> p) & 1:
                order.append(p)
                how[p] = (label, q)
        seen |= new
    return seen, array("i", order), how


# ── synonyms ─────────────────────────────────────────────────────────────────

def synonym_queries(query: ParsedQuery, groups) -> list[tuple[ParsedQuery, list[str]]]:
    """The query with one word of a synonym group replaced by each other word of it."""
    out = []
    for k, part in enumerate(query.parts):
        for group in groups:
            for word in group:
                if word and word in part:
                    for other in group:
                        if other == word or other in part:
                            continue
                        parts = list(query.parts)
                        parts[k] = part.replace(word, other)
                        alt = parse_query(" ".join(parts))
                        if not alt.empty and alt.slots != query.slots:
                            out.append((alt, [other]))
                    break
    return out[:MAX_SYNONYM_QUERIES]


# ── relaxed: characters in order ─────────────────────────────────────────────

def _single_part(query: ParsedQuery) -> str | None:
    if len(query.parts) != 1:
        return None
    part = query.parts[0]
    return part if _CJK_ONLY.fullmatch(part) and len(part) >= MIN_RELAXED else None


@lru_cache(maxsize=256)
def _patterns(part: str) -> tuple[re.Pattern, ...]:
    """Characters in order, each gap at most GAP; then the two halves in order, any gap."""
    window = f"[^\\n]{{0,{GAP}}}?"
    out = [re.compile(window.join(map(re.escape, part)))]
    for cut in range(2, len(part) - 1):
        out.append(re.compile(re.escape(part[:cut]) + "[^\\n]*?" + re.escape(part[cut:])))
    return tuple(out)


def relaxed_projects(gen, query: ParsedQuery) -> tuple[int, array]:
    """Projects whose name holds the query's characters in order (see the module doc),
    by span, then site order."""
    part = _single_part(query)
    if part is None:
        return 0, array("i")
    found: dict[int, int] = {}
    text, starts = gen.names_text, gen.names_starts
    import bisect
    for rank, pattern in enumerate(_patterns(part)):
        for m in pattern.finditer(text):
            p = bisect.bisect_right(starts, m.start()) - 1
            key = rank * 1000 + (m.end() - m.start())
            if key < found.get(p, 1 << 30):
                found[p] = key
    order = sorted(found, key=lambda p: (found[p], p))
    mask = 0
    for p in order:
        mask |= 1 << p
    return mask, array("i", order)


def abbreviated_units(gen, query: ParsedQuery) -> list[dict]:
    """Units whose name (without its region: 上海市…) holds the query's characters in
    order, the shortest span first: Chinese short names keep the full name's characters
    in order (公积金中心, 房屋安监所, 城建交通研究院)."""
    part = _single_part(query)
    if part is None:
        return []
    pattern = re.compile(".*?".join(map(re.escape, part)))
    hits = []
    for u in gen.units:
        if part in u["folded"]:
            continue                                  # an exact unit result already
        m = pattern.search(u["short"])
        if m and (m.end() - m.start()) <= 4 * len(part):
            hits.append((m.end() - m.start(), len(u["name"]), u["id"], u))
    hits.sort(key=lambda h: h[:3])
    return [u for *_, u in hits[:MAX_UNIT_RESULTS]]


# ── suggestions: homophones from the index's vocabulary ─────────────────────

@lru_cache(maxsize=1)
def _homophones() -> dict[str, tuple[str, ...]]:
    """Toneless pinyin → the characters that read so (pypinyin's dictionary)."""
    from pypinyin.contrib.tone_convert import to_normal
    from pypinyin.pinyin_dict import pinyin_dict
    out: dict[str, list[str]] = {}
    for code, readings in pinyin_dict.items():
        ch = chr(code)
        if not "\u4e00" <= ch <= "\u9fff":
            continue
        for reading in readings.split(","):
            out.setdefault(to_normal(reading), []).append(ch)
    return {k: tuple(v) for k, v in out.items()}


def _readings(ch: str) -> list[str]:
    from pypinyin import Style, pinyin
    return [r for r in pinyin(ch, style=Style.NORMAL, heteronym=True, errors="ignore")[0]] \
        if "\u4e00" <= ch <= "\u9fff" else []


def suggest(gen, query: ParsedQuery) -> tuple[ParsedQuery, str] | None:
    """A query that differs in one character per part, read the same way, whose bigrams
    the index holds and whose exact search finds the most projects."""
    homophones = _homophones()
    best = None
    for k, part in enumerate(query.parts):
        if not _CJK_ONLY.fullmatch(part) or len(part) < 2:
            continue
        for i, ch in enumerate(part):
            for reading in _readings(ch):
                for other in homophones.get(reading, ()):
                    if other == ch:
                        continue
                    word = part[:i] + other + part[i + 1:]
                    if not all(gen.has_term(word[j:j + 2])
                               for j in range(max(0, i - 1), min(len(word) - 1, i + 1))):
                        continue
                    parts = list(query.parts)
                    parts[k] = word
                    text = " ".join(parts)
                    alt = parse_query(text)
                    mask = gen.match(alt)[0]
                    n = mask.bit_count()
                    if n and (best is None or n > best[0]):
                        best = (n, alt, text)
    return None if best is None else (best[1], best[2])


# ── facets, filters, paging ──────────────────────────────────────────────────

def _filter_masks(gen, filters: dict) -> dict[str, int]:
    wanted = {}
    for f, values in filters.items():
        m = 0
        for v in values:
            m |= gen.masks[f].get(v, 0)
        wanted[f] = m
    return wanted


def _shape(gen, params: SearchParams, query: ParsedQuery, matched: int, ranked,
           how: dict, unit_hits: list, extra: dict) -> dict:
    from ..derive import CATEGORY_LABELS, CATEGORY_ORDER
    wanted = _filter_masks(gen, params.filters)
    kept = matched
    for m in wanted.values():
        kept &= m

    facets = {}
    for facet in FACETS:
        base = matched
        for f, m in wanted.items():
            if f != facet:
                base &= m
        counts: dict[str, int] = {}
        if base:
            for v, m in gen.masks[facet].items():
                c = (base & m).bit_count()
                if c:
                    counts[v] = c
        labels = {v: (CATEGORY_LABELS.get(v, v) if facet == "category"
                      else gen.labels[facet][v] if facet in gen.labels else v) for v in counts}
        selected = getattr(params, facet)
        for v in selected:
            counts.setdefault(v, 0)
            labels.setdefault(v, CATEGORY_LABELS.get(v, v) if facet == "category" else v)
        if facet == "year":
            order = sorted(counts, key=lambda v: v, reverse=True)
        elif facet == "category":
            order = sorted(counts, key=lambda v: (CATEGORY_ORDER.index(v)
                                                  if v in CATEGORY_ORDER else 99, v))
        else:
            order = sorted(counts, key=lambda v: (-counts[v], labels[v], v))
        facets[facet] = [{"value": v, "label": labels[v], "count": counts[v],
                          "selected": v in selected} for v in order]

    total = kept.bit_count()
    first = (params.page - 1) * params.page_size
    take = min(params.page_size, max(0, total - first))
    page = _page(gen, params, kept, ranked, first, take)

    results = []
    if params.page == 1 and not query.empty:
        results += unit_results(gen, unit_hits, wanted)
    for p in page:
        label, q = how.get(p, ("exact", query))
        entry = gen.result(p, q, params.category)
        results.append(dict(entry, match=label) if how else entry)
    counts_by_tier: dict[str, int] = {}
    for p, (label, _) in how.items():
        if (kept >> p) & 1:
            counts_by_tier[label] = counts_by_tier.get(label, 0) + 1
    doc = {"query": params.q, "total": total, "page": params.page,
           "page_size": params.page_size, "results": results, "facets": facets}
    if not query.empty:
        doc["matches"] = counts_by_tier
    doc.update({k: v for k, v in extra.items() if v})
    return doc


def _page(gen, params, kept: int, ranked, first: int, take: int) -> list[int]:
    if take <= 0:
        return []
    if params.sort == "amount" or ranked is not None:
        order = gen.by_amount if params.sort == "amount" else ranked
        if kept == gen.all:
            return list(order[first:first + take])
        bits = kept.to_bytes(gen.nbytes, "little")
        page, seen = [], 0
        for p in order:
            if bits[p >> 3] >> (p & 7) & 1:
                if seen >= first:
                    page.append(p)
                    if len(page) == take:
                        break
                seen += 1
        return page
    return _bits_from(kept, first, take)           # empty query: site order


_BITS = [tuple(b for b in range(8) if v >> b & 1) for v in range(256)]


def _bits_from(mask: int, skip: int, take: int) -> list[int]:
    """Positions of the set bits of ``mask``, lowest first, after skipping ``skip`` of them."""
    out: list[int] = []
    if take <= 0 or not mask:
        return out
    data = mask.to_bytes((mask.bit_length() + 7) >> 3, "little")
    for i, byte in enumerate(data):
        if not byte:
            continue
        bits = _BITS[byte]
        if skip >= len(bits):
            skip -= len(bits)
            continue
        for b in bits[skip:]:
            out.append(i * 8 + b)
            if len(out) == take:
                return out
        skip = 0
    return out


def _bits(mask: int) -> list[int]:
    return _bits_from(mask, 0, mask.bit_count())


def unit_results(gen, unit_hits: list, wanted: dict) -> list[dict]:
    """Units the query names, exactly (every part in the name, or the code) or by
    abbreviation — shown only when few units match, and only those with a project
    that the active filters keep (a unit without a 2023 project is not offered under
    year=2023)."""
    seen, found = set(), []
    keep = gen.all
    for m in wanted.values():
        keep &= m
    for u, label in unit_hits:
        if u["id"] in seen:
            continue
        seen.add(u["id"])
        if wanted and not (gen.masks["unit"].get(u["id"], 0) & keep):
            continue
        found.append((u, label))
    exact = [x for x in found if x[1] == "exact"]
    if len(exact) > MAX_UNIT_RESULTS:
        return []                        # 上海市 names no unit in particular
    chosen = (exact or found)[:MAX_UNIT_RESULTS] if exact else found[:MAX_UNIT_RESULTS]
    if exact:
        chosen = sorted(exact, key=lambda x: (len(x[0]["name"]), x[0]["id"])) + \
            [x for x in found if x[1] != "exact"][:MAX_UNIT_RESULTS - len(exact)]
    return [{"type": "unit", "id": u["id"], "title": u["name"], "url": u["url"], "match": label}
            for u, label in chosen]
