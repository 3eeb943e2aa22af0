"""The general reader on the seed 001 (天津市供热燃气管理事务中心 326301, 2025, 万元):
Word text, one cell per line, the unit's code and name on the line above each table."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from jixiao.importer import read_source
from jixiao.importer.base import ImportedUnit
from jixiao.importer.reader import Refusal

ROOT = Path(__file__).resolve().parent.parent
DOC = "001_0a362c379c5850c5.txt"
TEXT = (ROOT / "content" / "sources" / DOC).read_text(encoding="utf-8")
FIX = ROOT / "tests" / "fixtures" / "import"


@pytest.fixture(scope="module")
def projects():
    return read_source(str(ROOT / "content" / "sources" / DOC))


ANNUAL = [  # (name, 预算数 in 万元 as published, in yuan)
    ("市热燃中心2025年燃气供热站安全应急检查", "29.40", "294000"),
    ("市热燃中心2025年燃气行业设施运行安全监督检查", "59.30", "593000"),
    ("市热燃中心2025年天津市智慧供热监管平台2025-2026年采暖季运行维护", "104.00", "1040000"),
    ("市热燃中心2025年天津用气报装业务管理平台运行维护项目", "3.00", "30000"),
    ("市热燃中心2024年天津市城镇燃气智慧监管平台（一般债券）", "543.60", "5436000"),
    ("市热燃中心2025年关于《2024年开展燃气行业设施运行安全监督检查技术服务合同》尾款",
     "33.20", "332000"),
    ("市热燃中心2025年关于《2024年燃气供热站安全工作检查技术服务合同》尾款", "64.80", "648000"),
]


def test_counts(projects):
    assert len(projects) == 7
    assert {p.unit for p in projects} == {ImportedUnit(
        name="天津市供热燃气管理事务中心", code="326301", department=None, region="天津市")}
    assert {p.year for p in projects} == {2025}


def test_annual_amounts(projects):
    assert [(p.record["name"], p.record["funds"]["annual"]) for p in projects] == [
        (n, a) for n, a, _ in ANNUAL]
    for p, (_, wan, yuan) in zip(projects, ANNUAL):
        funds = p.record["funds"]
        assert funds["unit"] == "万元"
        assert Decimal(funds["annual"]) * 10000 == Decimal(yuan)
        assert funds["fiscal"] == wan
        assert funds["other"] is None and funds["total"] is None


def test_titles_and_year_note(projects):
    assert projects[2].record["source"]["title"] == (
        "市热燃中心2025年天津市智慧供热监管平台2025-2026年采暖季运行维护绩效目标表")
    from_above = "unit '天津市供热燃气管理事务中心' from the line above the table"
    assert [p.notes for p in projects][4] == [
        from_above, "title names 2024年; filed under the document's budget year 2025"]
    assert all(p.notes[0] == from_above for p in projects)
    for p in projects:
        assert (p.record["nature"], p.record["category"], p.record["start"], p.record["end"]) \
            == (None, None, None, None)


def test_goals_and_section(projects):
    r = projects[0].record
    text = ("压实燃气供热企业安全生产主体责任，进一步落实供热安全稳定运行监管责任，健全完善并落实"
            "长期有效的监督管理机制，坚决遏制和防范供热安全生产事故发生。")
    assert r["sections"] == [{"title": "预算规模及资金用途", "text": text}]
    assert r["goals"] == {"overall": None, "annual": "1." + text}
    # a paragraph break inside the 绩效目标 cell is kept
    annual = projects[4].record["goals"]["annual"].split("\n")
    assert len(annual) == 2
    assert annual[1] == "2.项目总概算1812.00万元，此次申报543.60万元"


def test_indicators_first_project(projects):
    ind = projects[0].record["indicators"]
    assert [(i["level1"], i["level2"], i["name"], i["description"], i["target"]) for i in ind] == [
        ("产出指标", "数量指标", "检查企业数量", "对一家企业检查一次为一家次", "≥192家次"),
        ("产出指标", "质量指标", "供应商工作监督", "对供应商的工作监督", "进行验收"),
        ("产出指标", "质量指标", "国家强制标准", "符合国家强制标准", "≥90%"),
        ("产出指标", "时效指标", "检查问题反馈时限", "检查结果反馈受检企业", "≤30日"),
        ("产出指标", "成本指标",
         "费用不超过预算29.38万元（包含专家费用17.04万元、车辆使用费用8.52万元、检查设备使用费用"
         "1.42万元、供热行业应急突发时间处置费用2.4万元）", "不超过预算29.38万元", "≤29.38万元"),
        ("效益指标", "社会效益指标", "检查复查率", "对检查的供热企业开展复查情况", "≥90%"),
        ("满意度指标", "服务对象满意度指标", "服务对象满意度", "签字确认企业数/全部检查企业数",
         "≥90%"),
    ]


def test_indicator_counts(projects):
    assert [len(p.record["indicators"]) for p in projects] == [7, 6, 12, 9, 6, 6, 7]
    ind = projects[3].record["indicators"]
    assert (ind[2]["name"], ind[2]["target"]) == ("项目验收合格率", "≥100百分比")


def test_row_without_target_is_refused():
    """The last row lost its 指标值: its description is not taken for the target."""
    (item,) = read_source(str(FIX / "truncated_001.txt"))
    assert item == Refusal(68, "indicator row with 2 cells, the header has 3 "
                               "(服务对象满意度 | 签字确认企业数/全部检查企业数)")
