"""The general reader, one rule at a time (the corpus test checks it on whole real tables).

The header rows below are taken from real published forms (named in each test); the
indicator rows are kept short.
"""
from __future__ import annotations

import pytest

from jixiao.importer.grid import text_grid
from jixiao.importer.reader import Refusal, read

INDICATORS = """一级指标 | 二级指标 | 三级指标 | 指标值
产出指标 | 数量指标 | 筛查人数 | ≥3000人
效益指标 | 社会效益指标 | 传染病疫情处置率 | 100%
满意度指标 | 服务对象满意度指标 | 群众满意度 | ≥90%"""


def one(text: str):
    items = read(text_grid(text), "t.txt")
    assert len(items) == 1, items
    return items[0]


def test_funds_as_a_header_row_with_values_below():
    """芜湖市卫生健康委 2019 form: three source labels in one row, their amounts in the next."""
    p = one("""2019年度芜湖市特殊人群病种筛查经费预算项目支出绩效目标申报明细表
项目名称 | 特殊人群病种筛查经费
起始日期:2019年  1 月 1日 | 结束日期:  2021 年 12  月31日
项目总预算(万元) | 75.00 | 项目当年预算(万元) | 25.00
项目资金来源情况(万元) | 其中:上级财政补助资金 | 其中:同级财政资金 | 其他
 | 0.00 | 25.00 | 0.00
申报单位名称 | 芜湖市疾病预防控制中心
""" + INDICATORS)
    assert not isinstance(p, Refusal), p
    f = p.record["funds"]
    assert (f["unit"], f["total"], f["annual"], f["other"]) == ("万元", "75.00", "25.00", "0.00")
    assert p.year == 2019
    assert (p.record["start"], p.record["end"]) == ("2019-01-01", "2021-12-31")
    assert p.unit.name == "芜湖市疾病预防控制中心"


def test_label_value_pairs_in_one_row_skip_empty_values():
    """上海市 2024 form: 项目资金总额 has no amount, the next label of the row has one."""
    p = one("""财政项目支出绩效目标申报表
(2024年度)
项目名称 | 交通工具购置及更新 | 项目性质 | 其他一次性项目
主管部门 | 上海市生态环境局 | 实施单位 | 上海市减污降碳管理运行技术中心
项目资金 (元) | 项目资金总额 |  | 年度资金申请总额 | 360,000.00
 | 其中:财政资金 |  | 其中:当年财政拨款 | 360,000.00
""" + INDICATORS)
    f = p.record["funds"]
    assert (f["unit"], f["total"], f["annual"], f["appropriation"]) == ("元", None, "360000.00",
                                                                      "360000.00")
    assert p.record["nature"] == "其他一次性项目"


def test_glued_cells_are_split_at_the_forms_labels():
    """武汉市青山区教育局 2020: cells of a row glued without separators."""
    p = one("""绩效目标表
(2020年度)
项目名称农村义务教育薄弱学校改造补助资金
项目主管部门青山区教育局项目执行单位化工区学校
资金情况
(万元)
年度资金总额:16
总体目标年度目标
全面改善农村义务教育薄弱学校办学条件。
绩效指标一级指标二级指标指标内容指标值
产出指标数量指标农村义务教育学校改造覆盖率100%
质量指标校舍维修改造质量合格率100%
效益指标可持续影响指标义务教育优质均衡发展情况稳步提高
社会公众或服务对象满意度指标学生家长满意度≥90%""")
    assert (p.unit.name, p.unit.department) == ("化工区学校", "青山区教育局")
    assert [(i["level2"], i["name"], i["target"]) for i in p.record["indicators"]] == [
        ("数量指标", "农村义务教育学校改造覆盖率", "100%"),
        ("质量指标", "校舍维修改造质量合格率", "100%"),
        ("可持续影响指标", "义务教育优质均衡发展情况", "稳步提高"),
        ("社会公众或服务对象满意度指标", "学生家长满意度", "≥90%")]
    assert any("cells glued" in n for n in p.notes)          # the split is reported


@pytest.mark.parametrize("rows, level1, level2", [
    ("产出指标 | 数量指标 | 场次 | 10场\n成本指标 | 项目总成本 | ≤5万元", "产出指标", "成本指标"),
    ("成本指标 | 经济成本指标 | 项目总成本 | ≤5万元", "成本指标", "经济成本指标"),
])
def test_cost_label_is_level1_or_level2_by_what_follows(rows, level1, level2):
    p = one("项目支出绩效目标表\n(2023年度)\n项目名称 | 送戏下乡\n实施单位 | 某县文化馆\n"
            "年度资金总额(万元) | 5\n一级指标 | 二级指标 | 三级指标 | 指标值\n" + rows)
    last = p.record["indicators"][-1]
    assert (last["level1"], last["level2"]) == (level1, level2)


def test_separate_operator_value_and_unit_columns_make_one_target():
    """井研县马踏镇 2023 list form: 指标性质 | 指标值 | 度量单位."""
    p = one("""| 部门预算项目绩效目标申报表(2023年度) | ||
| 金额单位:元 | ||
| 单位名称 | 项目名称 | 预算数 | 年度目标 | 一级指标 | 二级指标 | 三级指标 | 指标性质 | 指标值 | 度量单位 | 权重 | 指标方向性 |
| 820001-井研县马踏镇人民政府 | 村组干部报酬 | 3,309,840.00 | 按时发放 | 产出指标 | 数量指标 | 村组干部230人 | ≥ | 230 | 个 | 10 | 正向指标 |
| 满意度指标 | 服务对象满意度指标 | 人民群众满意度 | ≥ | 95 | % | 10 | 正向指标 |""")
    assert [i["target"] for i in p.record["indicators"]] == ["≥230个", "≥95%"]
    assert (p.unit.name, p.unit.code) == ("井研县马踏镇人民政府", "820001")
    assert p.record["funds"]["annual"] == "3309840.00"


HEADER = "项目支出绩效目标表\n(2023年度)\n项目名称 | 送戏下乡\n实施单位 | 某县文化馆\n"


@pytest.mark.parametrize("text, reason", [
    (HEADER + "年度资金总额 | 5\n" + INDICATORS, "unit of amounts"),
    ("项目名称 | 送戏下乡\n实施单位 | 某县文化馆\n年度资金总额(万元) | 5\n" + INDICATORS,
     "no year"),
    (HEADER + "年度资金总额(万元) | 5\n" + INDICATORS + "\n满意度指标 |", "truncated"),
    (HEADER + "年度资金总额(万元) | 5\n" + INDICATORS + "\n满意度指标", "split or cut"),
    (HEADER + "年度资金总额(万元) | 5\n一级指标 | 二级指标 | 三级指标 | 指标值 | 实际完成值\n"
     "产出指标 | 数量指标 | 场次 | 10场 | 10场", "self-evaluation"),
    (HEADER + "年度资金总额(万元) | 5\n" + INDICATORS + "\n数量指标 | 观众人数", "without a target"),
    (HEADER + "年度资金总额(万元) | 5\n说明 | 无", "no indicator table"),
    ("2023年部门整体支出绩效目标\n年度目标 | 完成全年工作\n" + INDICATORS, "no 项目名称"),
])
def test_refusals_name_the_reason(text, reason):
    item = read(text_grid(text), "t.txt")[0]
    assert isinstance(item, Refusal), item
    assert reason in item.message


def test_amount_with_its_unit_in_the_cell():
    """湘潭市环境卫生管理处 2023: ``250万`` in a cell, no 单位 line."""
    p = one("2023年项目支出绩效目标申报表\n项目支出名称 | 雾炮车降尘抑尘服务\n"
            "预算部门 | 湘潭市环境卫生管理处\n年度本级 预算金额 | 250万\n" + INDICATORS)
    assert (p.record["funds"]["unit"], p.record["funds"]["annual"]) == ("万元", "250")
    assert p.unit.name == "湘潭市环境卫生管理处"


def test_narrative_form_with_its_unit_above_the_name():
    """芜湖市卫生健康委 2019, as the web page stores it (text lines, cells apart by blanks):
    the unit above 项目名称, amounts as a header row with values below, the goal inside
    a narrative cell."""
    p = one("""2019年度芜湖市特殊人群病种筛查经费预算项目支出绩效目标申报明细表
(2019年度)
申报单位名称:(盖章) 芜湖市疾病预防控制中心
       项目名称 特殊人群病种筛查经费
      项目属性        延续项目                                新增项目
起始日期:2019年  1 月 1日 结束日期:  2021 年 12  月31日
项目总预算(万元) 75.00      项目当年预算(万元) 25.00
项目资金来源情况(万元) 其中:上级财政补助资金 其中:同级财政资金 其他
0.00  25.00  0.00
项目绩效目标(含项目概况、设立依据、必要性及预期目标) 项目概况:用于开展特殊人群病种筛查工作。  预期目标:依法做好防控工作。
一级指标 二级指标 三级指标 指标值
产出指标 数量指标 筛查人数 ≥3000人
效益指标 社会效益指标 传染病疫情处置率 100%
满意度指标 服务对象满意度指标 群众满意度 ≥90%""")
    assert (p.unit.name, p.year, p.record["name"]) == ("芜湖市疾病预防控制中心", 2019, "特殊人群病种筛查经费")
    f = p.record["funds"]
    assert (f["unit"], f["total"], f["annual"], f["other"]) == ("万元", "75.00", "25.00", "0.00")
    assert p.record["goals"]["annual"] == "依法做好防控工作。"
    assert p.record["sections"] == [{"title": "项目概况", "text": "用于开展特殊人群病种筛查工作。"}]
    assert [i["target"] for i in p.record["indicators"]] == ["≥3000人", "100%", "≥90%"]


def test_long_term_and_annual_blocks_side_by_side_read_the_annual_block():
    """东莞市交通运输局 2019 (批复表, Guangdong form): each row holds the 中期 block and the
    年度 block; labels carry the form's hints (数量指标(或建筑规模指标)).  The header and
    the first rows are the real table's (tests/fixtures/corpus/e-gd-…); the stored page
    was cut before its last rows, so the last row here is made up for the test."""
    from pathlib import Path
    real = Path(__file__).resolve().parent / "fixtures" / "corpus" / \
        "e-gd-dongguan-2019-jiaotong-truncated.txt"
    text = "\n".join(real.read_text("utf-8").split("\n")[:21]) + \
        "\n满意度指标 | 服务对象满意度指标 | 镇街满意度 | ≥90% | 服务对象满意度指标 | 镇街满意度 | ≥90% | ||||"
    p = one(text)
    assert (p.record["name"], p.unit.name, p.year) == ("镇际联网路升级改造工程一期", "东莞市交通运输局", 2019)
    assert (p.record["funds"]["unit"], p.record["funds"]["annual"], p.record["funds"]["total"]) == \
        ("万元", "919.00", "284500.00")
    assert [(i["level1"], i["level2"], i["target"]) for i in p.record["indicators"]] == [
        ("预期产出指标", "数量指标", "3"), ("预期产出指标", "质量指标", "±3%以内"),
        ("预期产出指标", "时效指标", "及时"), ("预期产出指标", "预算控制指标", "≥90%"),
        ("效果指标", "社会、经济、生态效益指标", "0%"), ("满意度指标", "服务对象满意度指标", "≥90%")]
    assert p.record["goals"]["overall"] == "新建或改造道路,共29个项目,规划里程169公里。"
