"""The general reader on the seed 004 (上海市减污降碳管理运行技术中心, 2024, 元): the
2024 form as tab-separated text, copied page by page (merged labels drifted, the goal
texts outside the table, sentences broken by pages)."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from jixiao.importer import read_source
from jixiao.importer.base import ImportedUnit
from jixiao.importer.reader import Refusal

ROOT = Path(__file__).resolve().parent.parent
DOC = "004_4cdb7c3d6fac24f5.txt"
TEXT = (ROOT / "content" / "sources" / DOC).read_text(encoding="utf-8")
FIX = ROOT / "tests" / "fixtures" / "import"


@pytest.fixture(scope="module")
def projects():
    return read_source(str(ROOT / "content" / "sources" / DOC))


def test_counts(projects):
    assert len(projects) == 2
    assert {p.unit for p in projects} == {ImportedUnit(
        name="上海市减污降碳管理运行技术中心", code=None, department="上海市生态环境局",
        region="上海市")}
    assert {p.year for p in projects} == {2024}


def test_header_and_amounts(projects):
    one, two = (p.record for p in projects)
    assert (one["name"], one["nature"], one["category"]) == (
        "交通工具购置及更新", "其他一次性项目", "特定目标类")
    assert two["name"] == "减污降碳工作专项经费"
    assert Decimal(one["funds"]["annual"]) == Decimal("360000.00")
    assert Decimal(two["funds"]["annual"]) == Decimal("9028372.00")
    assert two["funds"] == {"unit": "元", "annual": "9028372.00", "total": None, "fiscal": None,
                            "appropriation": "9028372.00", "carryover": "0.00", "other": "0.00",
                            "prior_year_budget": None, "prior_year_spent": None}
    assert (one["start"], one["end"]) == ("2024-01-01", "2024-12-31")
    assert one["source"]["title"] == "财政项目支出绩效目标申报表(2024年度)"


def test_indicators_first_project(projects):
    ind = projects[0].record["indicators"]
    assert [(i["level1"], i["level2"], i["name"], i["target"]) for i in ind] == [
        ("产出指标", "数量指标", "行驶公里数", "≥15000.00(公里)"),
        ("产出指标", "质量指标", "行驶安全性", "无违章无事故"),
        ("产出指标", "时效指标", "接送准点率", "≥95.00(%)"),
        ("效益指标", "生态效益指标", "节能减排", "低油耗"),
        ("效益指标", "可持续影响指标", "车辆使用管理办法", "完善"),
        ("满意度指标", "服务对象满意度指标", "乘用人员满意度", "满意"),
    ]


def test_goals_first_project(projects):
    goals = projects[0].record["goals"]
    assert goals["overall"].startswith("根据公务用车采购实施方案，购置1辆业务用车")
    assert goals["annual"].startswith("经费主要用于新增公务车辆购置。")


def test_goals_second_project(projects):
    goals = projects[1].record["goals"]
    overall = goals["overall"].split("\n")
    assert [line[:4] for line in overall] == ["固定源：", "移动源：", "碳排放："]
    annual = goals["annual"].split("\n")
    assert len(annual) == 11                       # the 11 sub-projects
    assert annual[0].startswith("- 管理运行——“三监联动”管理运行技术支持——")
    # the sentence broken by the page (and the 项目 绩效 目标 label) is joined
    assert ("《上海市固定污染源生态环境监督管理办法》《上海市固定污染源信息库建设及动态管理规定》"
            "等要求") in annual[7]
    assert annual[8].startswith("9 固定源—建设项目竣工环保自主验收效果抽查评估—")
    assert "项目\n绩效" not in goals["annual"]


def test_indicators_second_project(projects):
    ind = projects[1].record["indicators"]
    assert len(ind) == 87
    by_level = {}
    for i in ind:
        by_level[(i["level1"], i["level2"])] = by_level.get((i["level1"], i["level2"]), 0) + 1
    assert by_level == {
        ("成本指标", "经济成本指标"): 5, ("成本指标", "社会成本指标"): 1,
        ("产出指标", "数量指标"): 26, ("产出指标", "质量指标"): 15, ("产出指标", "时效指标"): 13,
        ("效益指标", "经济效益指标"): 3, ("效益指标", "社会效益指标"): 8,
        ("效益指标", "生态效益指标"): 9, ("效益指标", "可持续影响指标"): 6,
        ("满意度指标", "服务对象满意度指标"): 1}
    names = [(i["name"], i["target"]) for i in ind]
    # the numbering of the sub-projects is part of the indicator name
    assert ("5. 配置核查数", "=242.00(个)") in names
    assert names[:6] == [
        ("1与2. 预算编制合理性", "合理"),
        ("1与2. 预算执行率", "=100.00(%)"),
        ("1与2. 合同金额控制率", "≤100.00(%)"),
        ("3-7. 成本控制率", "小于预算拨付金额"),
        ("9-11. 预算执行率", ">90.00(%)"),
        ("5. 本市新生产机动车和非道路移动机械生产企业检查比率", "全覆盖"),
    ]
    assert names[-1] == ("1-11 参与人员满意度", "满意")
    # rows closing a page before the 时效指标 label that opens the next page
    [t] = [i for i in ind if i["name"] == "1与2. 项目完成及时性"]
    assert (t["level1"], t["level2"], t["target"]) == ("产出指标", "时效指标", "及时")
    notes = projects[1].notes
    assert "lines 119-121: rows at the end of a page belong to 时效指标 (its merged label is " \
        "printed on the next page, line 123)" in notes
    assert any(n.startswith("line 42: overall and annual goals stand as paragraphs") for n in notes)
    assert "lines 77-103 (26 rows): 二级指标 数量指标 stands under 一级指标 成本指标; the form puts " \
        "it under 产出指标 (a merged label drifted)" in notes


def test_row_without_target_is_an_error():
    assert read_source(str(FIX / "truncated_004.txt")) == [
        Refusal(20, "indicator row without a target: '行驶安全性'")]
