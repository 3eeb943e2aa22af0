"""Which characters read the same (toneless pinyin): the table behind “您是不是要找”.

    readings(ch) -> toneless readings of a character ('栓' → ['shuan'])
    same_sound(reading) -> the characters that read so

``homophones.txt`` is made from pypinyin's character dictionary by
``python -m jixiao.search.homophones`` (one line per reading: ``shuan 拴栓闩涮…``), so a
search server answers suggestions from a 100 KB table instead of importing pypinyin and
its phrase dictionary (56 MB).  ``tests/test_search_natural.py`` checks that it is current.
"""
from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

TABLE = Path(__file__).with_name("homophones.txt")


@lru_cache(maxsize=1)
def _table() -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    by_reading: dict[str, str] = {}
    by_char: dict[str, list[str]] = {}
    for line in TABLE.read_text("utf-8").splitlines():
        reading, chars = line.split(" ", 1)
        by_reading[reading] = chars
        for ch in chars:
            by_char.setdefault(ch, []).append(reading)
    return by_reading, {ch: tuple(rs) for ch, rs in by_char.items()}


def readings(ch: str) -> tuple[str, ...]:
    return _table()[1].get(ch, ())


def same_sound(reading: str) -> str:
    return _table()[0].get(reading, "")


def make_table() -> str:
    """The table's text, from pypinyin (CJK Unified Ideographs only)."""
    from pypinyin.contrib.tone_convert import to_normal
    from pypinyin.pinyin_dict import pinyin_dict
    out: dict[str, list[str]] = {}
    for code in sorted(pinyin_dict):
        ch = chr(code)
        if not "\u4e00" <= ch <= "\u9fff":
            continue
        for reading in dict.fromkeys(to_normal(r) for r in pinyin_dict[code].split(",")):
            out.setdefault(reading, []).append(ch)
    return "".join(f"{r} {''.join(chars)}\n" for r, chars in sorted(out.items()))


if __name__ == "__main__":
    TABLE.write_text(make_table(), "utf-8")
    print(f"wrote {TABLE}", file=sys.stderr)
