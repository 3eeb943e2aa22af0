"""The general reader on the seed 003 (上海市青浦区香花桥街道城市运行管理中心, 2026): the
2024 form read by OCR, tab-separated (``ocr.repair`` takes the OCR noise out first)."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from jixiao.importer import ocr, read_source
from jixiao.importer.base import LEVEL1_OF, ImportedProject, ImportedUnit
from jixiao.importer.grid import text_grid
from jixiao.importer.reader import Refusal, read

SOURCES = Path(__file__).resolve().parent.parent / "content" / "sources"
DOC = "003_aaa9a1b340ae4bd4.txt"
TEXT = (SOURCES / DOC).read_text(encoding="utf-8")
UNIT = "上海市青浦区香花桥街道城市运行管理中心"


@pytest.fixture(scope="module")
def projects():
    out = read_source(str(SOURCES / DOC))
    assert all(isinstance(p, ImportedProject) for p in out)
    return out


def by_name(projects, name):
    [p] = [p for p in projects if p.record["name"] == name]
    return p


# (name after OCR repair, 年度资金申请总额 as published), in document order
ANNUAL = [
    ("网格平台服务管理项目经费", "8,000.00"),
    ("公益性岗位从业队伍专项经费", "51,639,942.00"),
    ("市政消火栓维修保养经费", "500,640.00"),
    ("城市综合管理专项经费", "4,650,000.00"),
    ("《一网统管》工作经费", "361,200.00"),
    ("城运食堂第三方管理服务经费", "225,000.00"),
    ("安全生产委员会办公室工作经费", "150,000.00"),
    ("香花桥街道地下空间日常管理督查经费", "84,000.00"),
    ("拆违办队伍专项经费", "2,860,077.00"),
    ("电动自行车治理技防升级改造项目", "205,445.00"),
    ("微型消防站建设经费", "2,977,600.00"),
    ("电动自行车治理技防升级改造项目 (一次性)", "348,948.00"),
    ("城运联勤队员设备更新经费", "148,200.00"),
]


def test_only_003_is_taken_as_ocr():
    claimed = {f.name for f in sorted(SOURCES.glob("*.txt"))
               if ocr.repair(text_grid(f.read_text(encoding="utf-8"))).ocr}
    assert claimed == {DOC}


def test_counts_unit_year(projects):
    assert len(projects) == 13
    assert {p.unit for p in projects} == {ImportedUnit(
        name=UNIT, code=None, department="上海市青浦区香花桥街道办事处", region="上海市青浦区")}
    assert {p.year for p in projects} == {2026}
    for p in projects:
        assert TEXT.split("\n")[p.line - 1].startswith("项目名称")
        assert (p.record["start"], p.record["end"]) == ("2026-01-01", "2026-12-31")


def test_annual_amounts_exact(projects):
    assert [p.record["name"] for p in projects] == [n for n, _ in ANNUAL]
    for p, (name, published) in zip(projects, ANNUAL):
        f = p.record["funds"]
        assert f["unit"] == "元"
        assert Decimal(f["annual"]) == Decimal(published.replace(",", "")), name
        assert f["appropriation"] == f["annual"]
        assert (f["total"], f["fiscal"], f["carryover"], f["other"]) == (None, None, "0.00", "0.00")
        assert f["prior_year_budget"] is None and f["prior_year_spent"] is None
    assert by_name(projects, "公益性岗位从业队伍专项经费").record["funds"]["annual"] == "51639942.00"


def test_ocr_spaces_removed_real_spaces_kept(projects):
    p = projects[0]
    assert p.record["nature"] == "经常性专项业务费"          # '经常性专项业 务费'
    assert p.record["category"] is None
    assert p.record["goals"]["annual"].startswith("各镇街道在 2022 年全面推进")   # digit-word spaces kept
    mfs = by_name(projects, "微型消防站建设经费").record["indicators"]
    assert ("社区微型消防站日常工作时间", "24 小时") in [(i["name"], i["target"]) for i in mfs]
    assert by_name(projects, "《一网统管》工作经费").record["category"] == "特定目标类"


def test_full_indicator_list_first_project(projects):
    r = projects[0].record
    assert r["goals"]["overall"] is None
    assert [(i["level1"], i["level2"], i["name"], i["target"]) for i in r["indicators"]] == [
        ("成本指标", "经济成本指标", "积分兑换经费", "≤8000.00(每年)"),
        ("产出指标", "数量指标", "市民上报案件积分兑现率", "=100.00(%)"),
        ("产出指标", "质量指标", "积分兑换规范性", "规范"),
        ("产出指标", "时效指标", "服务时效", "及时"),
        ("效益指标", "社会效益指标", "案件上报处置率", "=100%"),
        ("效益指标", "可持续影响指标", "信息化工作机制", "健全"),
        ("满意度指标", "服务对象满意度指标", "居民满意度", "≥85%"),
    ]
    notes = " ".join(projects[0].notes)
    # two level1 labels in one cell (成本指标 产出指标): the row's 二级指标 decides
    assert "line 17: 二级指标 经济成本指标 stands under 一级指标 产出指标" in notes
    # 时效指标 in the 一级指标 column (line 20) is read as the 二级指标 it is
    assert "line 23" in notes and "LaTeX" in notes


def test_full_indicator_list_hydrants(projects):
    p = by_name(projects, "市政消火栓维修保养经费")
    assert [(i["level1"], i["level2"], i["name"], i["target"]) for i in p.record["indicators"]] == [
        ("成本指标", "经济成本指标", "市政消防栓保养费", "≤220.00(元/个)"),
        ("产出指标", "数量指标", "市政消防栓数", "=812.00(个)"),
        ("产出指标", "数量指标", "市政消火栓维修费", "≤322000.00(元)"),
        ("产出指标", "质量指标", "消防栓保养、维修合格率", "合格"),
        ("产出指标", "质量指标", "消防栓日常保养率", "=100%"),
        ("产出指标", "时效指标", "消防栓维修及时率", "及时"),
        ("效益指标", "社会效益指标", "保障人民财产安全", "=100%"),
        ("效益指标", "社会效益指标", "长效管理机制", "建立健全"),
        ("满意度指标", "服务对象满意度指标", "居民满意度", "≥95%"),
    ]
    notes = "\n".join(p.notes)
    # 效益指标 printed on the 时效指标 row: repaired from level2
    assert "line 66" in notes and "效益指标" in notes and "产出指标" in notes
    # a money target under 数量指标 (line 63) is kept as published


def test_latex_targets(projects):
    targets = {(p.record["name"], i["name"]): i["target"]
               for p in projects for i in p.record["indicators"]}
    assert targets[("网格平台服务管理项目经费", "居民满意度")] == "≥85%"          # $>=85\%$
    assert targets[("市政消火栓维修保养经费", "居民满意度")] == "≥95%"           # $\geq 95\%$
    assert targets[("电动自行车治理技防升级改造项目 (一次性)", "社区群众满意度")] == "≥85%"
    assert targets[("城市综合管理专项经费", "社区居民满意度")] == ">=85%"         # not LaTeX: as published
    assert not any("$" in t or "\\" in t for t in targets.values())
    assert ocr.target("≤ 8000.00 (每年)") == "≤8000.00(每年)"


def test_drift_repairs_and_undecidable_rows(projects):
    p = by_name(projects, "《一网统管》工作经费")
    ind = p.record["indicators"]
    assert len(ind) == 16
    # unlabelled rows inherit the merged labels above them
    assert (ind[4]["level2"], ind[4]["name"], ind[4]["target"]) == ("质量指标", "各类无职能部门案件结案率", "=80.00(%)")
    assert (ind[9]["level1"], ind[9]["level2"], ind[9]["name"]) == ("效益指标", "生态效益指标", "市容环境相关案件减少数")
    assert (ind[10]["level1"], ind[10]["level2"]) == ("效益指标", "可持续影响指标")
    # 队伍履职能力 under 服务对象满意度指标 (line 119) is kept as published
    assert [(i["level2"], i["target"]) for i in ind if i["name"] == "队伍履职能力"] == [
        ("服务对象满意度指标", "提升")]
    p = by_name(projects, "安全生产委员会办公室工作经费")
    assert p.record["indicators"][4] == {"level1": "产出指标", "level2": "时效指标", "name": "完成周期",
                                         "description": None, "target": "全年"}
    assert any("line 160" in n for n in p.notes)


def test_goals_html_and_empty(projects):
    g = by_name(projects, "城市综合管理专项经费").record["goals"]
    assert g["overall"] is None
    assert "<p>" not in g["annual"] and "和谐。\n用购买服务来执行" in g["annual"]
    p = by_name(projects, "城运食堂第三方管理服务经费")
    assert p.record["goals"] == {"overall": None, "annual": None}
    assert p.notes[1:] == ["no 年度目标 / 绩效目标 text found"]


def test_all_levels_standard(projects):
    for p in projects:
        for i in p.record["indicators"]:
            assert LEVEL1_OF[i["level2"]] == i["level1"]
            assert i["description"] is None and i["name"] and i["target"]
        assert p.record["source"] == {"title": "财政项目支出绩效目标申报表(2026年度)",
                                      "document": None}     # the importer names the file
        assert p.record["sections"] == []


def _block(n):
    lines = TEXT.split("\n")
    starts = [i for i, ln in enumerate(lines) if ln.startswith("财政项目支出绩效目标申报表")]
    return lines[starts[n]: starts[n + 1]]


def test_indicator_without_target_raises():
    lines = _block(2)
    i = next(i for i, ln in enumerate(lines) if "消防栓日常保养率" in ln)
    lines[i] = lines[i].replace("=100%", "")
    assert read(text_grid("\n".join(lines)), "x.txt") == [
        Refusal(i + 1, "indicator row without a target: '消防栓日常保养率'")]


def test_project_without_amount_raises():
    lines = _block(2)
    i = next(i for i, ln in enumerate(lines) if "年度资金申请总额" in ln)
    lines[i] = lines[i].replace("500,640.00", "")
    assert read(text_grid("\n".join(lines)), "x.txt") == [
        Refusal(i + 1, "年度资金申请总额: has no amount (a lost line?)")]


from hypothesis import given, strategies as st  # noqa: E402

_cells = st.text(alphabet=st.sampled_from(list("指标满意度 0123456789.%()（）≤≥=元a b，")), max_size=30)


@given(_cells)
def test_clean_only_removes_spaces(cell):
    out = ocr.clean(cell)
    assert out.replace(" ", "") == cell.replace(" ", "").strip()
    assert ocr.clean(out) == out                            # idempotent
    assert ocr.target(ocr.target(cell)) == ocr.target(cell)
