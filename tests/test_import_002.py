"""The general reader on the seed 002 (9 units under 上海市住房和城乡建设管理委员会, 2020):
the older 2020 form (一级目标 / 二级目标 / 三级目标 / 指标目标值, 申报单位名称, 项目当年预算)
as tab-separated text, 28 tables in one file, the first without its header."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from jixiao.importer import read_source
from jixiao.importer.base import ImportedProject, SkippedRecord
from jixiao.importer.grid import text_grid
from jixiao.importer.reader import Refusal, read

SOURCES = Path(__file__).resolve().parent.parent / "content" / "sources"
DOC = "002_cce70094bf5820ab.txt"
TEXT = (SOURCES / DOC).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def parsed():
    return read_source(str(SOURCES / DOC))


@pytest.fixture(scope="module")
def projects(parsed):
    return [p for p in parsed if isinstance(p, ImportedProject)]


def by_name(projects, name):
    [p] = [p for p in projects if p.record["name"] == name]
    return p


# (name, 项目当年预算 as published), in document order
ANNUAL = [
    ("市级城市维护项目评审及其他管理费用", "5,000,000"),
    ("纳入预算的政府性支出", "8,144,703"),
    ("建筑市场综合监管和行业行政管理经费", "11,150,000"),
    ("建筑行业质量和安全生产监督管理经费", "15,297,220"),
    ("行政审批评估评审项目经费", "8,670,000"),
    ("改革工作经费", "20,218,561"),
    ("互联网业务运行费", "6,287,000"),
    ("区县管理部租赁费物业费", "15,630,300"),
    ("上海市住房公积金综合业务服务和管理平台", "5,032,840"),
    ("住房公积金管理信息系统（运维）", "7,597,939"),
    ("上海城市网格化管理信息系统运行维护项目(运维)", "7,098,090"),
    ("与热线运行相关的各类经常性专项业务活动", "8,488,100"),
    ("综合交通分析", "6,220,000"),
    ("2019年上海市道路合杆整治工程", "180,710,000"),
    ("2020年度道路照明老旧灯杆灯具整治工程", "13,900,000"),
    ("2020年度道路照明老旧设备整治工程", "11,000,000"),
    ("2020年上海市道路合杆整治工程", "276,530,000"),
    ("市管道道路照明电费", "194,460,000"),
    ("市管道路照明日常维护", "75,240,000"),
    ("城管执法人员教育培训", "5,780,460"),
    ("对区县住宅配套工程款补助", "260,000,000"),
    ("房屋物业管理监督管理", "26,470,288"),
    ("市级项目配套工程款", "100,000,000"),
    ("网络基础设施（交易中心） (运维)", "5,170,885"),
    ("网上一二手房管理", "5,000,000"),
    ("优秀历史建筑保护管理", "5,700,953"),
    ("存量房涉税评估", "19,970,000"),
]

UNITS = {
    "上海市住房和城乡建设管理委员会": 6,
    "上海市公积金管理中心": 4,
    "上海市城乡建设和交通发展研究院": 3,
    "上海市城市综合管理事务中心（上海市地下管线监察事务中心）": 6,
    "上海市城市管理行政执法局": 1,
    "上海市房屋管理局": 4,
    "上海市房地产交易中心": 1,
    "上海市房屋安全监察所": 1,
    "上海市房屋状况信息中心": 1,
}


def test_counts_and_skipped_record(parsed, projects):
    skipped = [p for p in parsed if isinstance(p, SkippedRecord)]
    assert len(projects) == 27
    assert len(skipped) == 1
    assert skipped[0].line == 3 and skipped[0].source.endswith(DOC)
    assert "header" in skipped[0].message and "lines 3-33" in skipped[0].message
    # the truncated record is not emitted under any name
    assert all(p.line > 33 for p in projects)


def test_units_years_and_lines(projects):
    counts: dict[str, int] = {}
    for p in projects:
        counts[p.unit.name] = counts.get(p.unit.name, 0) + 1
        assert p.year == 2020
        assert p.unit.region == "上海市"
        assert p.unit.code is None
        assert TEXT.split("\n")[p.line - 1].startswith("项目名称：")
    assert counts == UNITS


def test_annual_amounts_exact(projects):
    assert [p.record["name"] for p in projects] == [n for n, _ in ANNUAL]
    for p, (name, published) in zip(projects, ANNUAL):
        funds = p.record["funds"]
        assert funds["unit"] == "元"
        assert isinstance(funds["annual"], str)
        assert Decimal(funds["annual"]) == Decimal(published.replace(",", "")), name


def test_funds_fields():
    p = by_name([x for x in read_source(str(SOURCES / DOC)) if isinstance(x, ImportedProject)],
                "纳入预算的政府性支出")
    assert p.record["funds"] == {
        "unit": "元", "annual": "8144703", "total": "8144703", "fiscal": None,
        "appropriation": None, "carryover": None, "other": None,
        "prior_year_budget": "9683910", "prior_year_spent": "9683910"}


def test_empty_prior_year_is_null(projects):
    f = by_name(projects, "存量房涉税评估").record["funds"]
    assert f["total"] == "19970000" and f["prior_year_budget"] is None and f["prior_year_spent"] is None


def test_full_record_of_one_project(projects):
    p = by_name(projects, "市级城市维护项目评审及其他管理费用")
    r = p.record
    assert p.line == 38                      # its 项目名称
    assert r["nature"] is None and r["category"] == "其他一次性项目"
    assert (r["start"], r["end"]) == ("2020-01-01", "2020-12-31")
    assert r["goals"] == {"overall": "组织开展市级城市维护项目评审及其他管理工作，使项目具有可实施性。",
                          "annual": None}
    assert r["sections"] == [
        {"title": "是否含有政府购买服务", "text": "否"},
        {"title": "绩效类型", "text": "其他类"},
        {"title": "项目概况", "text": "市级城市维护项目评审及其他管理费用"},
        {"title": "立项依据", "text": "日常维护"},
        {"title": "项目设立的必要性", "text": "开展市级城市维护项目评审及其他管理工作"},
        {"title": "保证项目实施的制度、措施", "text": "2019年我委已通过公开招标形式确认市级城市维护项目评审单位，并于之签订合同。"},
        {"title": "项目实施计划", "text": "根据项目上报情况委托评审单位对项目进行技术、概算等方面评审。"},
    ]
    assert [(i["level1"], i["level2"], i["name"], i["target"]) for i in r["indicators"]] == [
        ("投入与管理", "投入管理", "预算资金到位率(%)", "=100%"),
        ("投入与管理", "实施管理", "资金使用合规性", "合规"),
        ("投入与管理", "资产管理", "立项依据充分性", "充分"),
        ("产出目标", "数量", "项目建设完成率(%)", "=100%"),
        ("产出目标", "质量", "验收达标率(%)", "=100%"),
        ("产出目标", "时效", "评审报告完成时间(月)", "<=1月"),
        ("效果目标", "社会效益", "评审结果应用率(%)", ">=100%"),
        ("效果目标", "满意度", "用户满意度(%)", ">=95%"),
        ("影响力目标", "长效管理", "长效管理制度建设", "健全"),
        ("影响力目标", "信息共享", "信息共享时效性", "及时"),
    ]
    assert all(i["description"] is None for i in r["indicators"])
    assert r["source"] == {"title": "财政项目支出绩效目标表(2020年度)", "document": None}


def test_indicators_keep_published_text(projects):
    ind = by_name(projects, "房屋物业管理监督管理").record["indicators"]
    assert len(ind) == 33
    assert ind[18] == {"level1": "产出目标", "level2": "数量", "name": "962121平台运行服务时长",
                       "description": None, "target": "365天24小时"}
    assert by_name(projects, "纳入预算的政府性支出").record["indicators"][-1]["target"] == (
        "缴款大于预算的，按预算批复100%收款； 缴款小于预算的，按缴款额100%收款")


def test_html_residue_removed_text_kept(projects):
    for p in projects:
        blob = repr(p.record)
        assert "<p>" not in blob and "</p>" not in blob
    r = by_name(projects, "互联网业务运行费").record
    overview = r["sections"][2]
    assert overview["title"] == "项目概况"
    assert overview["text"].startswith("本项目为历年常规性项目，由三个二级构成组成")
    assert overview["text"].endswith("实现足不出户办理公积金业务。")
    # not a tag: an ASCII '<' inside a title of a law stays
    r = by_name(projects, "行政审批评估评审项目经费").record
    assert "《上海市实施<中华人民共和国防震减灾法>办法》" in r["sections"][3]["text"]


def test_wrapped_cells_are_joined(projects):
    # lines 239 + 241: the label 总目标及阶段性目标 stands on the second line of its cell
    p = by_name(projects, "互联网业务运行费")
    goal = p.record["goals"]["overall"]
    assert goal.startswith("项目预期总目标：上海市公积金管理中心以公积金服务更有温度")
    assert "服务面更广的多功能服务渠道，积极贯彻落实“放管服”" in goal
    assert p.record["sections"][-1]["title"] == "项目实施计划"
    assert p.record["sections"][-1]["text"].endswith("（5）按照合同支付项目费用。")
    assert "---" not in goal                      # the '------------\t---' residue, dropped
    # line 819 continues line 817
    nec = by_name(projects, "房屋物业管理监督管理").record["sections"][4]
    assert nec["title"] == "项目设立的必要性"
    assert nec["text"].endswith("社区治理能力和业主自我管理水平显著提升，住宅小区行政管理效能和公共服务水平显著提升的目标。")
    # line 992 continues line 990 (…委托第 / 三方专业机构…)
    goal = by_name(projects, "优秀历史建筑保护管理").record["goals"]["overall"]
    assert "委托第三方专业机构实施，11月30日之前组织实施。五、" in goal


def test_department_not_guessed(projects):
    assert all(p.unit.department is None for p in projects)   # the form has no 主管部门


def _block(name):
    lines = TEXT.split("\n")
    start = next(i for i, ln in enumerate(lines) if ln.startswith("项目名称：\t" + name)) - 3
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("财政项目支出绩效目标表"))
    return lines[start:end]


def test_project_without_amount_is_refused():
    lines = _block("改革工作经费")
    lines = [ln for ln in lines if not ln.startswith("项目总预算")]
    assert read(text_grid("\n".join(lines)), "x.txt") == [
        Refusal(4, "no 年度资金 amount (年度资金总额 / 预算数 …) could be read")]


def test_indicator_without_target_is_refused():
    lines = _block("改革工作经费")
    i = next(i for i, ln in enumerate(lines) if ln.startswith("产出目标\t数量"))
    lines[i] = lines[i].rsplit("\t", 1)[0] + "\t"
    assert read(text_grid("\n".join(lines)), "x.txt") == [
        Refusal(i + 1, "indicator row without a target: '市管市政行业征地养老人员生活费发放人数'")]


def test_bad_amount_is_left_out_and_said():
    lines = _block("改革工作经费")
    i = next(i for i, ln in enumerate(lines) if ln.startswith("项目总预算"))
    lines[i] = lines[i].replace("20,218,561", "二千万", 1)
    [p] = read(text_grid("\n".join(lines)), "x.txt")
    assert p.record["funds"]["total"] is None and p.record["funds"]["annual"] == "20218561"
    assert f"line {i + 1}: total: '二千万' is not an amount; left out" in p.notes


def test_table_without_name_is_refused():
    lines = [ln for ln in _block("改革工作经费") if not ln.startswith("项目名称")]
    [refusal] = read(text_grid("\n".join(lines)), "x.txt")
    assert isinstance(refusal, Refusal) and "no 项目名称" in refusal.message
