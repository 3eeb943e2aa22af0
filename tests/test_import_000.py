"""The general reader on the seed 000 (上海市燃气管理事务中心, 2023, amounts in 元): PDF text,
one field per line, cells wrapped mid-word."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from jixiao.importer import read_source
from jixiao.importer.base import ImportedUnit
from jixiao.importer.reader import Refusal

ROOT = Path(__file__).resolve().parent.parent
DOC = "000_6493497f9c36302d.txt"
TEXT = (ROOT / "content" / "sources" / DOC).read_text(encoding="utf-8")
FIX = ROOT / "tests" / "fixtures" / "import"


@pytest.fixture(scope="module")
def projects():
    return read_source(str(ROOT / "content" / "sources" / DOC))


# (name, 年度资金申请总额 as published), in document order
ANNUAL = [
    ("分布式供能与燃气空调推进办经费", "90,000.00"),
    ("燃气行政执法办案经费和整治非法经营液化气联动平台经费", "50,000.00"),
    ("燃气事故应急处置及防灾减灾保障经费", "562,000.00"),
    ("信息化建设项目", "794,036.00"),
    ("2023年度燃气行业信息收集经费", "30,000.00"),
    ("燃气成本规制跟踪审计及收支审核", "1,000,000.00"),
    ("信息化运维项目", "428,650.00"),
    ("燃气行业文明测评费", "206,000.00"),
    ("燃气器具和泄漏报警保护装置监管专项经费", "476,000.00"),
    ("燃气行业安全宣传经费", "120,000.00"),
    ("燃气与安全管理业务经费", "80,000.00"),
]


def test_counts(projects):
    assert len(projects) == 11
    assert {p.unit for p in projects} == {ImportedUnit(
        name="上海市燃气管理事务中心", code=None, department="上海市住房和城乡建设管理委员会",
        region="上海市")}
    assert {p.year for p in projects} == {2023}
    # what the reader did is in the notes: lines joined where the PDF wrapped a cell
    notes = [n for p in projects for n in p.notes]
    assert notes and all("(a wrapped line)" in n for n in notes), notes


def test_names_and_annual_amounts(projects):
    assert [(p.record["name"], p.record["funds"]["annual"]) for p in projects] == [
        (name, amount.replace(",", "")) for name, amount in ANNUAL]
    for p, (_, amount) in zip(projects, ANNUAL):
        funds = p.record["funds"]
        assert funds["unit"] == "元"
        assert Decimal(funds["annual"]) == Decimal(amount.replace(",", ""))
        # 当年财政拨款 = the whole amount, 上年结转/其他 0.00, 项目资金总额/财政资金 empty
        assert funds["appropriation"] == funds["annual"]
        assert (funds["total"], funds["fiscal"], funds["carryover"], funds["other"]) == (
            None, None, "0.00", "0.00")


def test_header_fields(projects):
    for p in projects:
        r = p.record
        assert (r["start"], r["end"]) == ("2023-01-01", "2023-12-31")
        assert r["category"] in ("特定目标类", "其他运转类")
        assert r["source"] == {"title": "财政项目支出绩效目标申报表（2023年度）", "document": None}
        assert r["sections"] == []
    assert projects[6].record["nature"] == "其他经常性项目"
    assert projects[6].record["category"] == "其他运转类"
    assert [p.line for p in projects][:3] == [7, 74, 165]       # each 项目名称 line


def test_indicators_first_project(projects):
    ind = projects[0].record["indicators"]
    assert [(i["level1"], i["level2"], i["name"], i["target"]) for i in ind] == [
        ("产出指标", "数量指标", "依申请完成项目后评估", "完成"),
        ("产出指标", "数量指标", "完成本轮政策实施效果的调查和评估工作报告", "完成"),
        ("产出指标", "质量指标", "通过专家和工作小组评审", "通过"),
        ("产出指标", "时效指标", "后评估工作及时", "及时"),
        ("效益指标", "社会效益指标", "运行补贴，支持分布式供能项目", "=100(%)"),
        ("满意度指标", "服务对象满意度指标", "工作满意度", "满意"),
    ]
    assert all(i["description"] is None for i in ind)


def test_indicators_last_project(projects):
    ind = projects[10].record["indicators"]
    assert [(i["level2"], i["name"], i["target"]) for i in ind] == [
        ("数量指标", "安全评估对象", "≥4.00(家)"),
        ("数量指标", "安全评估报告", "≥4.00(份)"),
        ("数量指标", "重大隐患整改率", "=100.00(%)"),
        ("质量指标", "评估报告内容符合国家、本市相关标准", "符合"),
        ("时效指标", "评估报告最晚交付日", "现场评估之日起一月内"),
        ("社会效益指标", "较大以上事故发生", "=0.00(次)"),
        ("可持续影响指标", "评估结果向相关部门共享", "共享"),
        ("服务对象满意度指标", "被评估站点（企业）对评估结果认可度", "认可"),
    ]


def test_indicator_counts(projects):
    assert [len(p.record["indicators"]) for p in projects] == [6, 8, 9, 6, 7, 9, 8, 5, 8, 8, 8]


def test_goals(projects):
    # wrapped lines joined inside a sentence, without inventing characters
    assert projects[2].record["goals"] == {"overall": None, "annual": (
        "为各类燃气事故原因分析提供技术支撑，为事故原因、责任划分提供事实依据，为后续预防同类事故"
        "发生提供支持,确保各类燃气突发事故可以及时响应，有关信息及时获悉及报送")}
    # numbered points keep their own lines; a wrap before "、" is joined
    annual = projects[10].record["goals"]["annual"].split("\n")
    assert len(annual) == 8
    assert annual[1] == "2）委托有专业资质的第三方安全评估机构"
    assert annual[4] == "5）由第三方安全评估机构出具评估报告，内容包括运行状态、存在问题、整改意见等；"
    # a text the publisher labels 总目标 is the 项目总目标 (the label itself left out)
    assert projects[7].record["goals"] == {
        "overall": "继续蝉联“上海市文明行业”（全市“上海市文明行业”仅30个不到）。",
        "annual": None}
    assert projects[9].record["goals"]["overall"] == (
        "保证本市燃气事故死亡人数控制在0.075人/万户以内。")


def test_truncated_table_is_refused():
    assert read_source(str(FIX / "truncated_000.txt")) == [
        Refusal(57, "indicator row without a target: '后评估工作及时'")]


def test_header_without_amount_is_refused():
    """The 年度资金申请总额 line lost its amount: refused, not guessed from 当年财政拨款."""
    assert read_source(str(FIX / "no_amount_000.txt")) == [
        Refusal(24, "年度资金申请总额 has no amount (a lost line?)")]
