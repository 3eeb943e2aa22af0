"""Values derived from what was published: amounts in yuan, indicator categories."""
from __future__ import annotations

import re
from decimal import Decimal

_PER_UNIT = {"元": Decimal(1), "万元": Decimal(10000)}


def to_yuan(amount: Decimal | None, unit: str) -> Decimal | None:
    """An amount as published in ``unit`` (元 or 万元) as exact yuan, two places."""
    if amount is None:
        return None
    return (amount * _PER_UNIT[unit]).quantize(Decimal("0.01"))


# Facet values are stable ASCII; labels are what citizens read.
CATEGORY_LABELS = {
    "input": "投入与管理",
    "output": "产出",
    "cost": "成本",
    "benefit": "效益",
    "satisfaction": "满意度",
    "other": "其他",
}
CATEGORY_ORDER = list(CATEGORY_LABELS)

# level2 decides where the source's merged columns drifted; checked first.
_BY_LEVEL2 = [
    (r"满意", "satisfaction"),
    (r"^(经济|社会|生态环境|生态)成本", "cost"),
    (r"^(数量|质量|时效)", "output"),
    (r"^(经济|社会|生态环境|生态)效益|可持续影响", "benefit"),
    (r"^(投入|财务|实施|资产)管理", "input"),
]
_BY_LEVEL1 = [
    (r"^投入", "input"),
    (r"^(预期)?产出", "output"),
    (r"^成本", "cost"),
    (r"^(预期)?(效益|效果|影响)", "benefit"),
    (r"^满意", "satisfaction"),
]


def category(level1: str, level2: str) -> str:
    """The facet category of an indicator, from level2 first, then level1.

    The older form's 投入与管理 / 产出目标 / 效果目标 / 影响力目标 map too
    (效果目标 / 满意度 → satisfaction, 影响力目标 → benefit).
    """
    for pattern, value in _BY_LEVEL2:
        if re.search(pattern, level2 or ""):
            return value
    for pattern, value in _BY_LEVEL1:
        if re.search(pattern, level1 or ""):
            return value
    return "other"


def level_label(label: str | None) -> str:
    """数量 and 数量指标, 社会效益 and 社会效益指标 are one label: the form's ``…指标``
    spelling (the older form's 投入与管理, 产出目标 … keep theirs)."""
    label = (label or "").strip()
    return label if not label or label.endswith(("指标", "目标", "管理")) else label + "指标"


def natural_key(text: str) -> tuple:
    """``2. 技术评估会`` before ``10. 推进…``: numbers in a name compare as numbers (runs of
    decimal digits, as ``\d`` finds them: ``¹`` and ``①`` are digits to ``isdigit`` but no
    number ``int`` reads, so they stay text)."""
    return tuple(int(t) if k % 2 else t for k, t in enumerate(re.split(r"(\d+)", text or "")))
