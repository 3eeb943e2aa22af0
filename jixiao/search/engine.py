"""What a search answers, independent of the engine: tiers, synonyms, suggestions, unit
results, facets, filters and paging.

    answer(gen, params) -> the /api/search document

The engine (``whoosh_search.Generation``) supplies only:

- ``match(query)`` → (mask, site positions in relevance order, units whose name holds
  every part) for **exact** runs of characters;
- ``result(position, query, categories)`` → a project's result entry for a query;
- ``masks`` (facet value → bitset), ``labels``, ``by_amount``, ``all``, ``n``, ``nbytes``;
- ``codes``: for a facet a project has one value of (year, unit, department), (its
  values in (label, value) order, each site position's value index as a numpy array);
- ``names_text``/``names_starts`` (the folded project names, one per line, in site
  order; where each starts, a numpy array), ``units`` (with their ``folded`` names) and ``synonyms`` (folded groups).

Tiers, in this order and never mixed (a later tier never outranks an earlier one):

1. **exact**: every part of the query is a run of characters of some field (today's
   precision);
2. **synonym**: the same, with a word of a synonym group (``content/synonyms.yaml``)
   replaced by another of its group (``also_searched`` says which);
3. **year**: a part of the query names a budget year (``2023``, ``2023年``, ``2023年度``,
   or ``2023年燃气`` glued): the rest of the query found exactly in the projects of that
   year (citizens add the year to mean it; the tables seldom write it);
4. **words**: the query without the words people wrap around what they look for
   (``燃气的项目``, ``公积金有哪些项目``, ``查询 公积金`` → 燃气, 公积金), found exactly; the
   relaxed tier and the suggestion work on it too;
5. **relaxed**: a query part of three Chinese characters or more whose characters
   stand in order in a project's name within a short window (each gap at most
   ``GAP`` characters; a smaller span ranks higher), or whose two halves both stand in the
   name in order (``公积金平台`` → 公积金…平台); and the projects of a unit named by the
   query's abbreviation (``燃气中心`` → 上海市燃气管理事务中心);
6. **suggestion**: when nothing above matched, a homophone of one character (by pinyin,
   from the index's own vocabulary: ``消火拴`` → 消火栓) whose exact search finds
   projects; its results are shown under “您是不是要找”.  The corrected word must be made of
   bigrams of the project and unit names (the words of the tables).

Each result says its tier in ``match``.  A query made only of characters the analyzer
ignores (``😀``, ``??``) returns nothing, with ``notice: "ignored"``.
"""
from __future__ import annotations

import re
import threading
import weakref
from array import array
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from decimal import Decimal
from functools import lru_cache
from itertools import chain

from .analysis import ParsedQuery, parse_query
from .bitsets import to_flags, to_mask
from .homophones import all_readings, pinyin_key, readings, same_sound
from .params import FACET_LIMIT, FACETS, SearchParams, yuan

GAP = 4                    # characters allowed between two query characters (relaxed)
MIN_RELAXED = 3            # a relaxed part has at least this many characters
MAX_UNIT_RESULTS = 3
MAX_SYNONYM_QUERIES = 8
_CJK_ONLY = re.compile(r"[\u3400-\u9fff]+")
# a unit name's region (上海市, 上海市青浦区, 天津市 …), left out when matching short names
_REGION = re.compile(r"^(?:[^\s省市]{2,7}?(?:省|自治区))?(?:[^\s市]{1,4}?市)?"
                     r"(?:[^\s区县市]{1,4}?[区县](?=.{4,}))?")


# ── the answer ───────────────────────────────────────────────────────────────

def answer(gen, params: SearchParams) -> dict:
    query, tiers = _matched(gen, params)
    if query.empty:                        # a query of characters search ignores: notice
        return _shape(gen, params, query, tiers, {"notice": "ignored"} if params.q.strip()
                      else {})
    extra = {"also_searched": tiers.also_searched}
    if tiers.suggestion:
        extra["suggestion"] = {"q": tiers.suggestion, "url": "/search/?" + params.with_(
            q=tiers.suggestion, page=1).query_string()}
    return _shape(gen, params, query, tiers, extra)


def _matched(gen, params: SearchParams) -> tuple[ParsedQuery, "_Tiers"]:
    """The parsed query and what it matches, tier by tier (everything for no query,
    nothing for one of characters search ignores)."""
    query = parse_query(params.q)
    if query.empty:
        return query, _Tiers.nothing() if params.q.strip() else _Tiers.everything(gen)
    return query, _cached(gen, query)


def _kept(tiers: "_Tiers", wanted: dict[str, int]) -> int:
    """What the query matched and every active filter keeps."""
    kept = tiers.matched
    for m in wanted.values():
        kept &= m
    return kept


def matching(gen, params: SearchParams, limit: int) -> tuple[int, list[dict]]:
    """(how many projects the search finds, the stored documents of the first ``limit``
    of them in the answer's order, all pages): what a download of the result holds."""
    _, tiers = _matched(gen, params)
    kept = _kept(tiers, _filter_masks(gen, params))
    total = kept.bit_count()
    page = _page(gen, params, kept, tiers.order if tiers.ranked else None, 0, min(total, limit))
    return total, [gen.stored(p) for p in page]


class _Tiers:
    """What a query matched, tier by tier: the same for every filter, sort and page, so it
    is computed once per query and generation (``_cached``)."""

    def __init__(self):
        self.tiers: list[tuple[int, str, ParsedQuery]] = []   # (new positions, label, query)
        self.matched = 0
        self.order = array("i")           # relevance order over all tiers
        self.units: list[tuple[dict, str]] = []
        self.also_searched: list[str] = []
        self.suggestion: str | None = None
        self.ranked = True                # False: an empty query (site order)
        self._counts: dict = {}           # (facet, filters) → its counts (``facet_counts``)

    @classmethod
    def nothing(cls) -> "_Tiers":
        return cls()

    @classmethod
    def everything(cls, gen) -> "_Tiers":
        t = cls()
        t.matched, t.ranked = gen.all, False
        return t

    def add(self, mask: int, ranked, label: str, query: ParsedQuery) -> None:
        new = mask & ~self.matched
        if not new:
            return
        if not self.matched and new == mask:
            self.order = ranked if isinstance(ranked, array) else array("i", ranked)
        else:
            self.order = self.order + in_mask(new, ranked)
        self.tiers.append((new, label, query))
        self.matched |= new

    def facet_counts(self, facet: str, filters: tuple, count) -> dict[str, int]:
        """``count()``, the counts of ``facet`` under ``filters`` (the request's), kept:
        paging, sorting and asking the same again count nothing (half of a repeated
        request at 100,000 projects); callers must not change them."""
        key = (facet, filters)
        counts = self._counts.get(key)
        if counts is None:
            if len(self._counts) >= 64:
                self._counts.clear()
            counts = self._counts[key] = count()
        return counts

    def label(self, position: int) -> tuple[str, ParsedQuery | None]:
        for mask, label, query in self.tiers:
            if (mask >> position) & 1:
                return label, query
        return "exact", None


def _match_tiers(gen, query: ParsedQuery) -> _Tiers:
    t = _Tiers()
    mask, ranked, units, _ = gen.match(query)
    t.add(mask, ranked, "exact", query)
    t.units += [(u, "exact") for u in units]

    # a synonym found in a name, unit or department is as good as the word; found only in
    # long text (生态环境 in a goal) it is kept for queries that find nothing better
    weak = []
    for alt, words in synonym_queries(query, gen.synonyms):
        m, r, u, header = gen.match(alt)
        if m & header & ~t.matched:
            t.add(m & header, r, "synonym", alt)
            t.also_searched += [w for w in words if w not in t.also_searched]
        if m & ~header:
            weak.append((m & ~header, r, alt, words))
        t.units += [(x, "synonym") for x in u]

    # a year the query names (2023年 燃气) keeps what follows to that year's projects
    named = named_year(query)
    rest, in_year = query, None
    if named is not None and gen.masks["year"].get(named[0]):
        rest, in_year = named[1], gen.masks["year"][named[0]]
        m, r = (in_year, _bits(in_year)) if rest.empty else gen.match(rest)[:2]
        t.add(*_within(m, r, in_year), "year", rest)

    plain = plain_words(rest)           # 燃气的项目 → 燃气
    if plain is not None:
        m, r, u, _ = gen.match(plain)
        t.add(*_within(m, r, in_year), "words", plain)
        t.units += [(x, "words") for x in u]
    base = plain or rest                # what the relaxed tier and the suggestion work on

    if not base.empty:
        m, r, abbreviated = relaxed(gen, base)
        t.add(*_within(m, r, in_year), "relaxed", base)
        t.units += [(u, "relaxed") for u in abbreviated]

    if not t.matched:
        for m, r, alt, words in weak:
            t.add(m, r, "synonym", alt)
            t.also_searched += [w for w in words if w not in t.also_searched]
    if not t.matched:
        s = suggest(gen, base) if not base.empty else None
        if s is not None:
            alt, t.suggestion = s
            m, r, u, _ = gen.match(alt)
            t.add(*_within(m, r, in_year), "suggestion", alt)
            t.units += [(x, "suggestion") for x in u]
    return t


def _within(mask: int, ranked, keep: int | None) -> tuple[int, list]:
    """``mask`` and its relevance order kept to ``keep`` (None: all of it)."""
    if keep is None:
        return mask, ranked
    mask &= keep
    return mask, in_mask(mask, ranked)


# What is worked out once per generation (it goes when the generation goes): the tiers
# of recent queries (an LRU), and what the relaxed tier and the suggestions read.
_PER_GENERATION: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()
CACHE_SIZE = 256


class _Derived:
    def __init__(self, gen):
        self.tiers: OrderedDict = OrderedDict()
        text = gen.names_text + "\n" + "\n".join(u["folded"] for u in gen.units)
        # the bigrams of every project and unit name: what a corrected word is made of
        self.vocabulary = frozenset(text[i:i + 2] for i in range(len(text) - 1))
        # unit names without their region (上海市…): where short names are looked for
        self.short = [(u, _REGION.sub("", u["folded"], count=1)) for u in gen.units]
        self._orders: dict[str, list[int]] = {}
        self.text = text

    def _once(self, name: str, make) -> list:
        """``make()``, made on first use and kept for the generation."""
        with _LOCK:
            done = self._orders.get(name)
        if done is None:
            done = make()
            with _LOCK:
                done = self._orders.setdefault(name, done)
        return done

    def negated_amounts(self, gen) -> list[Decimal]:
        """-amount of each project in the amount order (ascending: for ``bisect``)."""
        return self._once("-amount", lambda: [-a for a in gen.amounts_desc])

    def order(self, gen, field: str) -> list[int]:
        """Site positions sorted by ``field`` (amount: largest first; name, unit: pinyin;
        year: oldest first), ties in site order; made on first use."""
        if field == "amount":
            return gen.by_amount
        key = {"name": lambda p: pinyin_key(gen.names[p]),
               "unit": lambda p: pinyin_key(gen.labels["unit"][gen.unit_of[p]]),
               "year": lambda p: gen.year_of[p]}[field]
        return self._once(field, lambda: sorted(range(gen.n), key=lambda p: (key(p), p)))


def _derived(gen) -> _Derived:
    with _LOCK:
        d = _PER_GENERATION.get(gen)
    if d is None:
        d = _Derived(gen)
        with _LOCK:
            d = _PER_GENERATION.setdefault(gen, d)
    return d


def _cached(gen, query: ParsedQuery) -> _Tiers:
    cache = _derived(gen).tiers
    with _LOCK:
        hit = cache.get(query.slots)
        if hit is not None:
            cache.move_to_end(query.slots)
            return hit
    t = _match_tiers(gen, query)
    with _LOCK:
        cache[query.slots] = t
        while len(cache) > CACHE_SIZE:
            cache.popitem(last=False)
    return t


# ── a year the query names ───────────────────────────────────────────────────

_YEAR_PART = re.compile(r"^((?:19|20)\d\d)(?:年度?)?$")
_YEAR_LEAD = re.compile(r"^((?:19|20)\d\d)年度?(.+)$")


def named_year(query: ParsedQuery) -> tuple[str, ParsedQuery] | None:
    """The budget year a query names — a part ``2023``, ``2023年`` or ``2023年度``, or a part
    that starts with ``2023年`` (``2023年燃气``) — and the query without it: citizens add the
    year to the words (``2023年 燃气``) to mean the projects of that year, which seldom
    write it in their text.  None when no part is a year."""
    for k, part in enumerate(query.parts):
        m = _YEAR_PART.match(part)
        rest = [] if m else None
        if m is None:
            m = _YEAR_LEAD.match(part)
            if m is None:
                continue
            rest = [m.group(2)]
        return m.group(1), parse_query(" ".join([*query.parts[:k], *rest, *query.parts[k + 1:]]))
    return None


# ── the words that matter ────────────────────────────────────────────────────

# Words people wrap around what they look for: asked (有哪些, 多少钱), pointed (关于, 相关)
# or the particle 的, and 项目 / 情况, which every record is.  Taken off the ends of a part
# only, as long as two characters stay (目的 stays 目的).
_FILLERS = sorted(("请问", "查询", "查找", "搜索", "查看", "查一下", "我想知道", "想知道", "有哪些",
                   "有什么", "是什么", "哪些", "什么", "多少钱", "多少", "怎么样", "关于", "有关",
                   "相关", "的", "了", "吗", "呢", "项目", "情况", "方面"), key=len, reverse=True)


def _plain_part(part: str) -> str:
    while True:
        for f in _FILLERS:
            if part.startswith(f) and len(part) - len(f) >= 2:
                part = part[len(f):]
                break
            if part.endswith(f) and len(part) - len(f) >= 2:
                part = part[:-len(f)]
                break
        else:
            return part


def _plain_parts(part: str) -> list[str]:
    """A part without its wrapping words, split at a 的 between two words of two
    characters or more (食堂的经费 → 食堂 经费)."""
    part = _plain_part(part)
    pieces = part.split("的")
    if len(pieces) > 1 and all(len(p) >= 2 for p in pieces):
        return [_plain_part(p) for p in pieces]
    return [part]


def plain_words(query: ParsedQuery) -> ParsedQuery | None:
    """The query without the words people wrap around what they look for: ``燃气的项目``
    → 燃气, ``公积金有哪些项目`` → 公积金, ``查询 公积金`` → 公积金 (a part that is only
    such a word goes), ``食堂的经费`` → 食堂 经费.  None when nothing was taken off."""
    parts = [p for part in query.parts for p in _plain_parts(part) if p not in _FILLERS]
    plain = parse_query(" ".join(parts))
    return None if plain.empty or plain.slots == query.slots else plain


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


def relaxed(gen, query: ParsedQuery) -> tuple[int, array, list[dict]]:
    """The relaxed tier: (mask, order, units named by abbreviation).

    One part: projects whose name holds its characters in order, then the projects of
    the units its characters abbreviate.  Several parts (``电动车 技防``, ``燃气中心 宣传``):
    every part must match, exactly anywhere or relaxed as above; ordered by the first
    relaxed part's order."""
    if len(query.parts) == 1:
        return _relaxed_part(gen, query)
    singles = [parse_query(part) for part in query.parts]
    relaxed_parts = [_relaxed_part(gen, single) for single in singles]
    if not any(m for m, _, _ in relaxed_parts):
        return 0, array("i"), []            # no part relaxed (燃气 安全): nothing to add
    mask, first, units = gen.all, None, []
    loose = False
    for single, (m, order, u) in zip(singles, relaxed_parts):
        exact = gen.match(single)[0]
        if m & ~exact:
            loose = True
            if first is None:
                first = order
        units += u
        mask &= exact | m
        if not mask:
            return 0, array("i"), []
    if not loose:
        return 0, array("i"), []            # all parts exact: the exact tier has them
    head = in_mask(mask, first or ())
    placed = set(head)
    return mask, head + array("i", [p for p in _bits(mask) if p not in placed]), units


def _relaxed_part(gen, query: ParsedQuery) -> tuple[int, array, list[dict]]:
    m, r = relaxed_projects(gen, query)
    abbreviated = abbreviated_units(gen, query)
    for u in abbreviated:
        um = gen.masks["unit"].get(u["id"], 0)
        r = array("i", list(r) + [p for p in _bits(um) if not (m >> p) & 1])
        m |= um
    return m, r, abbreviated


def relaxed_projects(gen, query: ParsedQuery) -> tuple[int, array]:
    """Projects whose name holds the query's characters in order (see the module doc),
    by span, then site order."""
    part = _single_part(query)
    if part is None:
        return 0, array("i")
    import numpy as np
    where, key = [], []                 # each match's start, and rank * 1000 + its span
    for rank, pattern in enumerate(_patterns(part)):
        spans = [m.span() for m in pattern.finditer(gen.names_text)]
        if spans:
            a, b = np.fromiter(chain.from_iterable(spans), dtype=np.int64,
                               count=2 * len(spans)).reshape(-1, 2).T
            where.append(a)
            key.append(rank * 1000 + b - a)
    if not where:
        return 0, array("i")
    where, key = np.concatenate(where), np.concatenate(key)
    names = np.searchsorted(gen.names_starts, where, side="right") - 1
    by_key = np.lexsort((names, key))           # by key, then site position
    names = names[by_key]
    best = np.sort(np.unique(names, return_index=True)[1])   # each name's smallest key
    order = names[best].astype(np.int32)
    flags = np.zeros(gen.n, dtype=bool)
    flags[order] = True
    return to_mask(flags), array("i", order.tobytes())


def abbreviated_units(gen, query: ParsedQuery) -> list[dict]:
    """Units whose name (without its region: 上海市…) holds the query's characters in
    order, the shortest span first: Chinese short names keep the full name's characters
    in order (公积金中心, 房屋安监所, 城建交通研究院)."""
    part = _single_part(query)
    if part is None:
        return []
    pattern = re.compile(".*?".join(map(re.escape, part)))
    hits = []
    for u, short in _derived(gen).short:
        if part in u["folded"]:
            continue                                  # an exact unit result already
        m = pattern.search(short)
        if m and (m.end() - m.start()) <= 4 * len(part):
            hits.append((m.end() - m.start(), len(u["name"]), u["id"], u))
    hits.sort(key=lambda h: h[:3])
    return [u for *_, u in hits[:MAX_UNIT_RESULTS]]


# ── suggestions: homophones from the index's vocabulary ─────────────────────

_PINYIN = re.compile(r"[a-z]{4,24}")
MAX_SPELLINGS = 200          # words kept while a pinyin part is spelled out, syllable by syllable


def syllables(text: str, limit: int = 8) -> list[list[str]]:
    """``ranqi`` → [[ran, qi]]; ``xian`` → [[xian], [xi, an]]: the ways ``text`` splits into
    toneless pinyin syllables (at most ``limit``, fewest syllables first)."""
    known = all_readings()
    ways: list[list[list[str]]] = [[] for _ in range(len(text) + 1)]
    ways[0] = [[]]
    for end in range(1, len(text) + 1):
        for start in range(max(0, end - 6), end):
            if ways[start] and text[start:end] in known:
                ways[end] += [w + [text[start:end]] for w in ways[start]][:limit]
    return sorted(ways[len(text)], key=len)[:limit]


def _spelled(d: "_Derived", parts: list[str]) -> list[str]:
    """The words of the names that read as these syllables: each next character one that
    reads so and makes a bigram the names hold (燃 + 气 for ran qi), commonest first."""
    words = list(same_sound(parts[0]))
    for reading in parts[1:]:
        chars = same_sound(reading)
        words = [w + c for w in words for c in chars if w[-1] + c in d.vocabulary][:MAX_SPELLINGS]
        if not words:
            return []
    return sorted(words, key=lambda w: -d.text.count(w))[:5]


def from_pinyin(gen, query: ParsedQuery) -> tuple[ParsedQuery, str] | None:
    """A query typed in pinyin without tones or spaces (``ranqi``, ``gongjijin pingtai``):
    each such part, in turn, replaced by the word of the names that reads so and, with the
    parts chosen before it, finds the most projects (燃气, 公积金 平台); a part that reads as
    no word is left out.  None when no part reads as one."""
    d, parts = _derived(gen), query.parts
    spelled = {k: [w for way in syllables(p) if len(way) >= 2 for w in _spelled(d, way)]
               for k, p in enumerate(parts) if _PINYIN.fullmatch(p)}
    typed = [k for k, words in spelled.items() if words]
    chosen: dict[int, str] = {}

    def text(words: dict) -> str:
        return " ".join(words.get(k, p) for k, p in enumerate(parts)
                        if k in words or k not in spelled)
    for k in typed:
        found = [(gen.match(parse_query(text({**chosen, k: w})))[0].bit_count(), -i, w)
                 for i, w in enumerate(spelled[k][:5])]
        n, _, word = max(found)
        if n:
            chosen[k] = word
    return (parse_query(text(chosen)), text(chosen)) if chosen else None


def suggest(gen, query: ParsedQuery) -> tuple[ParsedQuery, str] | None:
    """A query that differs in one character per part, read the same way, whose bigrams
    the index holds and whose exact search finds the most projects; or, for a part typed
    in pinyin, the word it reads as (``from_pinyin``)."""
    typed = from_pinyin(gen, query)
    if typed is not None:
        return typed
    vocabulary = _derived(gen).vocabulary
    best = None
    for k, part in enumerate(query.parts):
        if not _CJK_ONLY.fullmatch(part) or len(part) < 2:
            continue
        for i, ch in enumerate(part):
            for reading in readings(ch):
                for other in same_sound(reading):
                    if other == ch:
                        continue
                    word = part[:i] + other + part[i + 1:]
                    if not all(word[j:j + 2] in vocabulary
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

def _filter_masks(gen, params: SearchParams) -> dict[str, int]:
    """Each active filter's mask: the facets', and ``amount`` for an amount range."""
    wanted = {}
    for f, values in params.filters.items():
        m = 0
        for v in values:
            m |= gen.masks[f].get(v, 0)
        wanted[f] = m
    if params.amount_min or params.amount_max:
        wanted["amount"] = _amount_mask(gen, yuan(params.amount_min), yuan(params.amount_max))
    return wanted


def _amount_mask(gen, low: Decimal | None, high: Decimal | None) -> int:
    """The projects whose year's amount lies in [low, high] (yuan, exact): a slice of the
    amount order (largest first), found by bisection."""
    negated = _derived(gen).negated_amounts(gen)
    start = 0 if high is None else bisect_left(negated, -high)
    end = len(negated) if low is None else bisect_right(negated, -low)
    bits = bytearray(gen.nbytes)
    for p in gen.by_amount[start:end]:
        bits[p >> 3] |= 1 << (p & 7)
    return int.from_bytes(bits, "little")


def _shape(gen, params: SearchParams, query: ParsedQuery, tiers: _Tiers, extra: dict) -> dict:
    from ..derive import CATEGORY_LABELS
    wanted = _filter_masks(gen, params)
    matched = tiers.matched
    kept = _kept(tiers, wanted)

    facets, more = {}, {}
    flags = _Flags(gen)
    filters = (tuple(sorted(params.filters.items())), params.amount_min, params.amount_max)
    for facet in FACETS:
        base = matched
        for f, m in wanted.items():
            if f != facet:
                base &= m
        counts = tiers.facet_counts(facet, filters,
                                    lambda: _counts(gen, facet, base, flags) if base else {})
        selected = getattr(params, facet)
        label = ((lambda v: CATEGORY_LABELS.get(v, v)) if facet == "category"
                 else gen.labels[facet].__getitem__ if facet in gen.labels else str)
        # a value asked for that has no project here: its count 0, its label as asked
        # (a category's, its label)
        asked = [(v, 0) for v in sorted(set(selected) - counts.keys())]
        ordered = _in_order(facet, [*counts.items(), *asked])
        listed = ordered[:FACET_LIMIT] + [vc for vc in ordered[FACET_LIMIT:] if vc[0] in selected]
        if len(ordered) > len(listed):
            more[facet] = len(ordered) - len(listed)
        facets[facet] = [{"value": v, "label": label(v) if c or facet == "category" else v,
                          "count": c, "selected": v in selected} for v, c in listed]

    total = kept.bit_count()
    first = (params.page - 1) * params.page_size
    take = min(params.page_size, max(0, total - first))
    page = _page(gen, params, kept, tiers.order if tiers.ranked else None, first, take)

    results = []
    if params.page == 1 and not query.empty:
        results += unit_results(gen, tiers.units, wanted)
    for p in page:
        label, q = tiers.label(p) if tiers.ranked else ("exact", query)
        entry = gen.result(p, q or query, params.category)
        results.append(dict(entry, match=label) if not query.empty else entry)
    doc = {"query": params.q, "total": total, "page": params.page,
           "page_size": params.page_size, "results": results, "facets": facets}
    if more:
        doc["facets_more"] = more
    if not query.empty:
        counts: dict[str, int] = {}
        for mask, label, _ in tiers.tiers:
            n = (mask & kept).bit_count()
            if n:
                counts[label] = counts.get(label, 0) + n
        doc["matches"] = counts
    doc.update({k: v for k, v in extra.items() if v})
    return doc


def _category_place(v: str) -> tuple:
    from ..derive import CATEGORY_ORDER
    return (CATEGORY_ORDER.index(v) if v in CATEGORY_ORDER else 99, v)


def _in_order(facet: str, counts: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """A facet's (value, count) as shown: years newest first, categories in their order,
    units and departments as counted (most projects first, then label; ``_counts``), the
    values asked for that have none last."""
    if facet == "year":
        return sorted(counts, reverse=True)
    if facet == "category":
        return sorted(counts, key=lambda vc: _category_place(vc[0]))
    return counts


class _Flags:
    """A mask as one bool per site position (numpy), made once per mask."""

    def __init__(self, gen):
        self.gen, self.mask, self.flags = gen, None, None

    def __call__(self, mask: int):
        if mask != self.mask:
            self.mask, self.flags = mask, to_flags(mask, self.gen.n)
        return self.flags


def _counts(gen, facet: str, base: int, flags: _Flags) -> dict[str, int]:
    """How many projects of ``base`` each value of ``facet`` has (the values with some; a
    facet of ``codes``, which a project has one value of, most projects first, then by
    label): one numpy pass over the value index by position, else a mask per value."""
    coded = gen.codes.get(facet)
    if coded is None:
        return {v: c for v, m in gen.masks[facet].items() if (c := (base & m).bit_count())}
    import numpy as np
    values, codes = coded
    counts = np.bincount(codes[flags(base)], minlength=len(values))
    found = np.flatnonzero(counts)
    found = found[np.argsort(-counts[found], kind="stable")]     # most first, then label
    return dict(zip(map(values.__getitem__, found.tolist()), counts[found].tolist()))


def _page(gen, params, kept: int, ranked, first: int, take: int) -> list[int]:
    if take <= 0:
        return []
    if params.sort == "relevance" and ranked is not None:
        order, backwards = ranked, False
    elif params.sort in ("relevance", "year"):
        return _bits_from(kept, first, take)       # site order: newest year first
    else:
        field, _, direction = params.sort.partition("_")
        order = _derived(gen).order(gen, field)
        backwards = (direction == "asc") if field == "amount" else (direction == "desc")
    n = len(order)
    if kept == gen.all:
        if backwards:
            return order[max(0, n - first - take):n - first][::-1]
        return list(order[first:first + take])
    bits = kept.to_bytes(gen.nbytes, "little")
    page, seen = [], 0
    for p in (reversed(order) if backwards else order):
        if bits[p >> 3] >> (p & 7) & 1:
            if seen >= first:
                page.append(p)
                if len(page) == take:
                    break
            seen += 1
    return page


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


def in_mask(mask: int, positions) -> array:
    """The ``positions`` (in their order) whose bit is set in ``mask`` (``(mask >> p) & 1``
    per position copies the mask each time: 15,000 positions of a 100,000-bit mask took
    tens of milliseconds)."""
    import numpy as np
    at = np.asarray(positions, dtype=np.int64)
    if not len(at) or not mask:
        return array("i")
    flags = to_flags(mask, max(mask.bit_length(), int(at.max()) + 1))
    return array("i", at[flags[at]].astype(np.int32).tobytes())


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
    exact.sort(key=lambda x: (len(x[0]["name"]), x[0]["id"]))      # the shortest name first
    chosen = (exact + [x for x in found if x[1] != "exact"])[:MAX_UNIT_RESULTS]
    return [{"type": "unit", "id": u["id"], "title": u["name"], "url": u["url"], "match": label}
            for u, label in chosen]
