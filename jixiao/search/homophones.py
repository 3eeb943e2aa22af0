"""Which characters read the same (toneless pinyin): the table behind “您是不是要找”.

    readings(ch) -> toneless readings of a character, the commonest first ('行' → xing, hang…)
    same_sound(reading) -> the characters that read so
    pinyin_key(text) -> a key that sorts Chinese text in pinyin order (lists sorted by name)

``homophones.txt`` is made from pypinyin's character dictionary by
``python -m jixiao.search.homophones`` (one line per reading: ``shuan 拴栓闩涮…``), so a
search server answers suggestions from a 100 KB table instead of importing pypinyin and
its phrase dictionary (56 MB).  ``tests/test_search_natural.py`` checks that it is current.
In a line, the characters before ``|`` have this reading as their commonest (pypinyin's
first), those after it as another one.
"""
from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

TABLE = Path(__file__).with_name("homophones.txt")


@lru_cache(maxsize=1)
def _table() -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    by_reading: dict[str, str] = {}
    primary: dict[str, str] = {}
    others: dict[str, list[str]] = {}
    for line in TABLE.read_text("utf-8").splitlines():
        reading, chars = line.split(" ", 1)
        first, _, rest = chars.partition("|")
        by_reading[reading] = first + rest
        for ch in first:
            primary[ch] = reading
        for ch in rest:
            others.setdefault(ch, []).append(reading)
    by_char = {ch: ((primary[ch],) if ch in primary else ()) + tuple(others.get(ch, ()))
               for ch in primary.keys() | others.keys()}
    return by_reading, by_char


def readings(ch: str) -> tuple[str, ...]:
    return _table()[1].get(ch, ())


def same_sound(reading: str) -> str:
    return _table()[0].get(reading, "")


@lru_cache(maxsize=1)
def all_readings() -> frozenset[str]:
    """Every toneless reading (the syllables a query typed in pinyin is made of)."""
    return frozenset(_table()[0])


# Where pypinyin's commonest reading is not the one names in budget tables use
_NAME_READINGS = {"长": "chang", "都": "du", "给": "ji", "曾": "zeng", "还": "huan"}
_NAME_PHRASES = {"重庆": "chong qing "}


def pinyin_key(text: str) -> str:
    """``text`` with each character that has a reading replaced by its commonest reading and
    a space (市政 → 'shi zheng '), others kept: sorts names as a pinyin index does.  A
    polyphone takes its commonest reading, or the one names use (长 chang, 都 du)."""
    by_char = _table()[1]
    for phrase, reading in _NAME_PHRASES.items():
        text = text.replace(phrase, reading)
    return "".join((_NAME_READINGS.get(ch) or by_char[ch][0]) + " " if ch in by_char else ch
                   for ch in text)


def make_table() -> str:
    """The table's text, from pypinyin (CJK Unified Ideographs only)."""
    from pypinyin.contrib.tone_convert import to_normal
    from pypinyin.pinyin_dict import pinyin_dict
    first: dict[str, list[str]] = {}
    other: dict[str, list[str]] = {}
    for code in sorted(pinyin_dict):
        ch = chr(code)
        if not "\u4e00" <= ch <= "\u9fff":
            continue
        for n, reading in enumerate(dict.fromkeys(to_normal(r)
                                                  for r in pinyin_dict[code].split(","))):
            (other if n else first).setdefault(reading, []).append(ch)
    return "".join(f"{r} {''.join(first.get(r, []))}|{''.join(other.get(r, []))}\n"
                   for r in sorted(first.keys() | other.keys()))


if __name__ == "__main__":
    TABLE.write_text(make_table(), "utf-8")
    print(f"wrote {TABLE}", file=sys.stderr)
