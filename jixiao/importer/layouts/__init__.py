"""The known layouts of published 绩效目标表 text.

Each module exposes ``NAME``, ``detect(text)`` and ``parse(text, source)``
(see ``jixiao.importer.base``).  At most one layout may claim a text; a text no
layout claims is read by the general reader (``reader.py``), which reads the seeds
000 and 001 and every other publisher's tables.  What is left here are the
repairs three seed documents need (drifted merged cells, OCR, the 2020 form).
"""
from __future__ import annotations

import importlib

_MODULES = [
    "tables_2020",  # 002: tab-separated, older 2020 form
]


def _load(names):
    return [importlib.import_module(f"{__name__}.{name}") for name in names]


LAYOUTS = _load(_MODULES)
