"""The known layouts of published 绩效目标表 text.

Each module exposes ``NAME``, ``detect(text)`` and ``parse(text, source)``
(see ``jixiao.importer.base``).  Exactly one layout must claim a text.
Modules listed here are imported when present, so layouts can be added
one line at a time.
"""
from __future__ import annotations

import importlib

_MODULES = [
    "tabs_2024",    # 004: tab-separated rows (上海市 2024 form)
    "tables_2020",  # 002: tab-separated, older 2020 form
    "ocr_tabs",     # 003: tab-separated OCR of merged cells
]


def _load(names):
    mods = []
    for name in names:
        try:
            mods.append(importlib.import_module(f"{__name__}.{name}"))
        except ModuleNotFoundError as e:
            if e.name != f"{__name__}.{name}":
                raise          # a real import error inside the module
    return mods


LAYOUTS = _load(_MODULES)
