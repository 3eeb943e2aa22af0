"""Chinese analysis for search: folding, tokens with positions, and query slots.

One tokenizer serves the index, the queries, the highlighter and the
"which indicators matched" check, so the four always agree.

* **Folding**, character by character: NFKC (full-width ``ＰＥＭＳ`` → ``PEMS``,
  ``％`` → ``%``), traditional → simplified from OpenCC's character table
  (``公積金`` → ``公积金``), lower case.  One character folds to a short string
  independently of its neighbours, so offsets in folded text map back to the
  original text exactly (the highlighter needs that).
* **Tokens**: every CJK character at position *i* emits the bigram
  ``c[i]c[i+1]`` (when the run goes on) *and* the unigram ``c[i]`` at the same
  position; a run of Latin letters and digits is one token (``pems``, ``365``,
  ``29`` ``38`` for ``29.38``); symbols such as ``≥ ≤ < > = %`` are tokens of
  their own (``>=`` folds to ``≥``).  Positions run on through all kinds, so a
  phrase over them means "adjacent, in this order".  Separate values of one
  field are ``SEPARATOR``-joined and a gap of positions keeps phrases from
  spanning two values.
* **Shingles** (index only): every 2–4 Latin/number/symbol tokens at consecutive
  positions are one more term, ``SHINGLE``-joined (``=100%`` → ``=␞100␞%``), so
  such a query part is one term lookup (``shingle``) instead of a position check.
* **Queries**: whitespace splits a query into *parts*; every part must match
  (AND).  A part becomes a sequence of slots that must sit at consecutive
  positions: a CJK run of n ≥ 2 characters gives its n-1 bigrams, plus the
  unigram of its last character when more tokens follow in the part; a single
  CJK character gives its unigram.  That is an exact run-of-characters match:
  ``绩效目标`` finds 绩效目标 and never 绩效…目标.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

SEPARATOR = "\x1f"          # joins the values of a multi-valued field
GAP = 16                    # positions skipped at a SEPARATOR

_CJK = (r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f\u3007")
_TOKEN = re.compile(rf"(?P<cjk>[{_CJK}]+)|(?P<word>[0-9a-z]+)|(?P<sym>>=|<=|[^\s0-9a-z{_CJK}])|(?P<sep>{SEPARATOR})")
_SYMBOL_CATEGORIES = {"Sm", "Sc"}
_EXTRA_SYMBOLS = set("%‰°#")
_FOLD_SYMBOL = {">=": "≥", "<=": "≤"}


@lru_cache(maxsize=1)
def _t2s() -> dict[str, str]:
    """OpenCC's traditional → simplified character table (first choice of each)."""
    import opencc
    table: dict[str, str] = {}
    path = Path(opencc.__file__).parent / "dictionary" / "TSCharacters.txt"
    for line in path.read_text("utf-8").splitlines():
        trad, _, simp = line.partition("\t")
        if len(trad) == 1 and simp:
            table[trad] = simp.split()[0]
    return table


class _FoldTable(dict):
    """A ``str.translate`` table computed lazily, one character at a time, and cached."""

    def __missing__(self, code: int) -> str:
        out = []
        for ch in unicodedata.normalize("NFKC", chr(code)):
            ch = _t2s().get(ch, ch)
            out.append(ch.lower())
        folded = "".join(out)
        # str.lower can itself produce something NFKC would change (rare); keep it stable
        self[code] = folded
        return folded


FOLD = _FoldTable()


def fold(text: str) -> str:
    """NFKC + traditional → simplified + lower case, character by character."""
    return text.translate(FOLD)


def fold_with_offsets(text: str) -> tuple[str, list[int]]:
    """The folded text, and for each folded character the index of its source character."""
    pieces, origin = [], []
    for i, ch in enumerate(text):
        f = FOLD[ord(ch)]
        pieces.append(f)
        origin.extend([i] * len(f))
    origin.append(len(text))
    return "".join(pieces), origin


@dataclass(frozen=True)
class Token:
    text: str
    pos: int
    start: int              # offsets in the *folded* text
    end: int


def tokens(folded: str, with_unigrams: bool = True):
    """Tokens of already folded text, in position order (see the module docstring)."""
    pos = 0
    for m in _TOKEN.finditer(folded):
        kind = m.lastgroup
        if kind == "cjk":
            run, base = m.group(), m.start()
            for i, ch in enumerate(run):
                if i + 1 < len(run):
                    yield Token(run[i:i + 2], pos, base + i, base + i + 2)
                if with_unigrams or i + 1 == len(run):
                    yield Token(ch, pos, base + i, base + i + 1)
                pos += 1
        elif kind == "word":
            yield Token(m.group(), pos, m.start(), m.end())
            pos += 1
        elif kind == "sym":
            s = m.group()
            if s in _FOLD_SYMBOL or s in _EXTRA_SYMBOLS or unicodedata.category(s) in _SYMBOL_CATEGORIES:
                yield Token(_FOLD_SYMBOL.get(s, s), pos, m.start(), m.end())
                pos += 1
            # other punctuation (，。：（）…) separates without a position of its own
        else:
            pos += GAP


SHINGLE = "\x1e"             # joins the tokens of a shingle (whitespace: never in a token)
MAX_SHINGLE = 4


def shingle(slots: "Slots") -> str | None:
    """The index term standing for ``slots`` when they are 2–MAX_SHINGLE Latin/number/symbol
    tokens: a run such as ``=100%`` is then one term lookup, not a position check over
    every project that holds ``=``, ``100`` and ``%``."""
    if 1 < len(slots) <= MAX_SHINGLE and not any(_is_cjk(s[0]) for s in slots):
        return SHINGLE.join(slots)
    return None


def term_positions(folded: str) -> dict[str, list[int]]:
    """Each token text of ``tokens(folded)`` → its positions, ascending, and the shingles.

    The same tokens, made without a ``Token`` per token: indexing calls this for every
    field of every project (a test checks that it agrees with ``tokens``).  Besides them,
    every 2–MAX_SHINGLE tokens that are not CJK and stand at consecutive positions are
    one more term, ``SHINGLE``-joined, at the position of the first (``shingle``).
    """
    out: dict[str, list[int]] = {}
    get = out.get
    pos = 0
    run: list[str] = []                 # the Latin/number/symbol tokens just before pos
    for m in _TOKEN.finditer(folded):
        kind = m.lastgroup
        if kind == "cjk":
            run = []
            run_ = m.group()
            last = len(run_) - 1
            for i, ch in enumerate(run_):
                p = pos + i
                have = get(ch)
                if have is None:
                    out[ch] = [p]
                else:
                    have.append(p)
                if i < last:
                    pair = run_[i:i + 2]
                    have = get(pair)
                    if have is None:
                        out[pair] = [p]
                    else:
                        have.append(p)
            pos += last + 1
            continue
        if kind == "word":
            text = m.group()
        elif kind == "sym":
            s = m.group()
            if not (s in _FOLD_SYMBOL or s in _EXTRA_SYMBOLS
                    or unicodedata.category(s) in _SYMBOL_CATEGORIES):
                continue            # punctuation: no position of its own
            text = _FOLD_SYMBOL.get(s, s)
        else:
            pos += GAP
            run = []
            continue
        have = get(text)
        if have is None:
            out[text] = [pos]
        else:
            have.append(pos)
        run.append(text)
        if len(run) > MAX_SHINGLE:
            del run[0]
        for k in range(2, len(run) + 1):
            term, start = SHINGLE.join(run[-k:]), pos - k + 1
            have = get(term)
            if have is None:
                out[term] = [start]
            else:
                have.append(start)
        pos += 1
    return out


Slots = tuple[str, ...]     # the token that must stand at each consecutive position


def part_slots(part: str) -> Slots:
    """The slots of one whitespace-free, folded query part (may be empty).

    Tokenized without inner unigrams, a CJK run of n characters gives n-1 bigrams
    and the unigram of its last character.  When that run ends the part, its last
    bigram already holds the last character, and the unigram is dropped: the
    document may go on with more characters after it.
    """
    toks = list(tokens(part, with_unigrams=False))
    if (len(toks) >= 2 and _is_cjk(toks[-1].text) and len(toks[-1].text) == 1
            and len(toks[-2].text) == 2 and toks[-2].start + 1 == toks[-1].start):
        toks.pop()
    return tuple(t.text for t in toks)


_CJK_CHAR = re.compile(rf"[{_CJK}]")


def _is_cjk(ch: str) -> bool:
    return bool(ch) and bool(_CJK_CHAR.match(ch))


@dataclass(frozen=True)
class ParsedQuery:
    """A folded query: the parts a document must all hold, each as slots."""
    text: str
    parts: tuple[str, ...]              # folded parts that produced slots
    slots: tuple[Slots, ...]

    @property
    def empty(self) -> bool:
        return not self.slots


def parse_query(q: str) -> ParsedQuery:
    """Escaped by default: no character of ``q`` is syntax, only whitespace separates."""
    parts, slots = [], []
    for part in fold(q).split():
        s = part_slots(part)
        if s and s not in slots:
            parts.append(part)
            slots.append(s)
    return ParsedQuery(q, tuple(parts), tuple(slots))


_CJK_RUN = re.compile(rf"[{_CJK}]+")
_WORD = re.compile(r"[0-9a-z]+")


def find_spans(folded: str, slots: Slots, part: str | None = None) -> list[tuple[int, int]]:
    """Spans (in folded text) where ``slots`` stand at consecutive positions.

    Given the ``part`` the slots came from, a part that is one CJK run is found
    with ``str.find`` (the same thing: every CJK character is a token); any
    other part is first checked cheaply (each slot must occur as a substring)
    before the text is tokenized.
    """
    if part is not None and _CJK_RUN.fullmatch(part):
        spans, i = [], folded.find(part)
        while i >= 0:
            spans.append((i, i + len(part)))
            i = folded.find(part, i + 1)
        return spans
    if part is not None and _WORD.fullmatch(part):
        # one Latin/number token: a maximal run of [0-9a-z] equal to it (what tokens() makes)
        if part not in folded:
            return []
        return [m.span() for m in re.finditer(rf"(?<![0-9a-z]){part}(?![0-9a-z])", folded)]
    if any(slot not in folded for slot in slots):
        return []
    at: dict[int, dict[str, Token]] = {}
    for t in tokens(folded):
        at.setdefault(t.pos, {})[t.text] = t
    spans = []
    for p, here in at.items():
        first = here.get(slots[0])
        if first is None:
            continue
        last = first
        for k, want in enumerate(slots[1:], 1):
            tok = at.get(p + k, {}).get(want)
            if tok is None:
                break
            last = tok
        else:
            spans.append((first.start, last.end))
    return sorted(spans)


def matches(folded: str, slots: Slots, part: str | None = None) -> bool:
    return bool(find_spans(folded, slots, part))
