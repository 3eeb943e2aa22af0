"""The importer framework: detection, ids, YAML output, all-or-nothing writes."""
from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from jixiao.importer import dump_yaml, run_import, unit_slug
from jixiao.importer.base import ImportedProject, ImportedUnit, SkippedRecord, region_of

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "content" / "sources"
FIX = ROOT / "tests" / "fixtures" / "import"
MINE = [str(SOURCES / n) for n in ("000_6493497f9c36302d.txt", "001_0a362c379c5850c5.txt",
                                   "004_4cdb7c3d6fac24f5.txt")]


def run(sources, out, force=False):
    o, e = io.StringIO(), io.StringIO()
    code = run_import([str(s) for s in sources], str(out), force, stdout=o, stderr=e)
    return code, o.getvalue(), e.getvalue()


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    out = tmp_path_factory.mktemp("imported")
    code, stdout, stderr = run(MINE, out)
    assert code == 0, stderr
    return out, stdout, stderr


def test_summary_line(imported):
    _, stdout, _ = imported
    assert stdout.strip().splitlines()[-1] == (
        f"imported 20 projects of 3 units (2023, 2024, 2025) from 3 documents into {imported[0]} "
        f"(23 files written, 0 unchanged)")


def test_report_lists_every_record(imported):
    """Per file, per project: where it starts, name, unit, year, yuan, indicators, its id."""
    _, stdout, _ = imported
    lines = stdout.splitlines()
    assert f"{MINE[1]}: 7 project(s)" in lines
    assert (f"  {MINE[2]}:30: 减污降碳工作专项经费 · 上海市减污降碳管理运行技术中心 · 2024 · "
            f"9,028,372.00 元 · 87 indicators → sh-jwjtglyxjszx-2024-02") in lines


def test_notes_are_warnings(imported):
    _, stdout, _ = imported
    assert ("    note: title names 2024年; filed under the document's budget year 2025"
            in stdout.splitlines())


def test_layout(imported):
    out = imported[0]
    files = sorted(tree(out))
    assert "tj-grrqglswzx/unit.yaml" in files
    assert "sh-rqglswzx/2023/sh-rqglswzx-2023-11.yaml" in files
    assert "sh-jwjtglyxjszx/2024/sh-jwjtglyxjszx-2024-02.yaml" in files
    assert len(files) == 3 + 20


def test_unit_yaml(imported):
    out = imported[0]
    assert (out / "tj-grrqglswzx" / "unit.yaml").read_text(encoding="utf-8") == (
        "id: tj-grrqglswzx\n"
        "name: 天津市供热燃气管理事务中心\n"
        "code: '326301'\n"
        "department: null\n"
        "region: 天津市\n")


def test_project_yaml_text(imported):
    text = (imported[0] / "sh-rqglswzx" / "2023" / "sh-rqglswzx-2023-01.yaml").read_text(
        encoding="utf-8")
    assert text.startswith(
        "id: sh-rqglswzx-2023-01\n"
        "year: 2023\n"
        "name: 分布式供能与燃气空调推进办经费\n"
        "unit: sh-rqglswzx\n"
        "nature: 其他一次性项目\n"
        "category: 特定目标类\n"
        "start: 2023-01-01\n"
        "end: 2023-12-31\n"
        "funds:\n"
        "  unit: 元\n"
        "  annual: 90000.00\n"
        "  total: null\n"
        "  fiscal: null\n"
        "  appropriation: 90000.00\n"
        "  carryover: 0.00\n"
        "  other: 0.00\n")
    assert text.endswith(
        "source:\n"
        "  title: 财政项目支出绩效目标申报表（2023年度）\n"
        "  document: 000_6493497f9c36302d.txt\n")
    # numbered points stay on their own lines, as a block scalar
    text2 = (imported[0] / "sh-rqglswzx" / "2023" / "sh-rqglswzx-2023-02.yaml").read_text(
        encoding="utf-8")
    assert "  annual: |-\n    1）2023年内将继续" in text2


def test_amounts_reload_exactly(imported):
    """Amounts are plain scalars whose text is the published decimal."""
    class TextLoader(yaml.SafeLoader):
        pass
    TextLoader.add_constructor("tag:yaml.org,2002:float",
                               lambda loader, node: Decimal(loader.construct_scalar(node)))
    data = yaml.load((imported[0] / "sh-jwjtglyxjszx" / "2024" / "sh-jwjtglyxjszx-2024-02.yaml")
                     .read_text(encoding="utf-8"), Loader=TextLoader)
    assert data["funds"]["annual"] == Decimal("9028372.00")
    assert str(data["funds"]["annual"]) == "9028372.00"


def test_deterministic(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert run(MINE, a)[0] == 0
    assert run(list(reversed(MINE)), b)[0] == 0
    assert tree(a) == tree(b)


def test_reimport_is_idempotent_and_edits_need_force(tmp_path):
    out = tmp_path / "out"
    assert run(MINE[:1], out)[0] == 0
    first = tree(out)
    gone = out / "sh-rqglswzx" / "2023" / "sh-rqglswzx-2023-05.yaml"
    gone.unlink()
    code, stdout, _ = run(MINE[:1], out)              # the same file again: the same records
    assert code == 0
    assert stdout.endswith("(1 files written, 10 unchanged)\n")
    assert tree(out) == first
    edited = out / "sh-rqglswzx" / "2023" / "sh-rqglswzx-2023-01.yaml"
    edited.write_text(edited.read_text("utf-8").replace("90000.00", "1.00"), "utf-8")
    code, stdout, stderr = run(MINE[:1], out)
    assert code == 1
    assert stdout == ""
    assert f"{edited}: exists (use --force to overwrite)" in stderr
    assert "import refused: 1 file(s) exist, nothing written" in stderr
    code, _, _ = run(MINE[:1], out, force=True)
    assert code == 0
    assert tree(out) == first


def test_import_joins_existing_units_and_numbers_after_them(tmp_path):
    """A second document of a unit already in content/ joins it (by name) and its
    projects take the next free numbers; the unit.yaml is left as it was."""
    out = tmp_path / "out"
    assert run(MINE[:1], out)[0] == 0
    unit_yaml = (out / "sh-rqglswzx" / "unit.yaml").read_text("utf-8")
    other = tmp_path / "other.txt"
    other.write_text(Path(MINE[0]).read_text("utf-8").replace("（2023年度）", "（2024年度）"),
                     "utf-8")
    code, stdout, stderr = run([other], out)
    assert code == 0, stderr
    assert (out / "sh-rqglswzx" / "2024" / "sh-rqglswzx-2024-11.yaml").exists()
    assert (out / "sh-rqglswzx" / "unit.yaml").read_text("utf-8") == unit_yaml
    assert not [p for p in out.iterdir() if p.name.startswith("sh-rqglswzx-")]


def test_unknown_layout_message(tmp_path):
    src = FIX / "unknown_layout.txt"
    code, stdout, stderr = run([src], tmp_path / "out")
    assert code == 1
    assert stderr.splitlines() == [
        f"{src}:1: not a 绩效目标表: no indicator table (一级指标 / 二级指标 / 三级指标 …)",
        "import failed: 1 problem(s), nothing written"]
    assert not (tmp_path / "out").exists()


def test_gbk_text_is_read(tmp_path):
    """Text saved by Chinese Windows (GBK) is decoded; this one is only a title."""
    src = FIX / "not_utf8.txt"
    code, _, stderr = run([src], tmp_path / "out")
    assert code == 1
    assert stderr.splitlines()[0] == (
        f"{src}:1: not a 绩效目标表: no indicator table (一级指标 / 二级指标 / 三级指标 …)")


def test_binary_is_refused(tmp_path):
    src = tmp_path / "x.txt"
    src.write_bytes(b"\x81\x30\xff\xfe\x00" * 10)
    code, _, stderr = run([src], tmp_path / "out")
    assert code == 1
    assert stderr.splitlines()[0].startswith(f"{src}:1: not UTF-8 text (byte 0x")


def test_layout_error_writes_nothing(tmp_path):
    """One bad table stops the whole run: the good documents are not written either."""
    bad = FIX / "truncated_000.txt"
    code, stdout, stderr = run(MINE + [str(bad)], tmp_path / "out")
    assert code == 1
    assert f"{bad}:57: indicator row without a target: '后评估工作及时'" in stderr
    assert not (tmp_path / "out").exists()


def test_missing_file(tmp_path):
    code, _, stderr = run([tmp_path / "nope.txt"], tmp_path / "out")
    assert code == 1
    assert f"{tmp_path / 'nope.txt'}:1: cannot read: No such file or directory" in stderr


def test_skipped_records_are_reported(tmp_path, monkeypatch):
    """What the reader returns is reported: a skipped table on stderr with its line, each
    record's notes under it in the report."""
    def fake(grid, source):
        unit = ImportedUnit(name="上海市青浦区某某中心", region="上海市青浦区")
        rec = {"name": "某项目", "funds": {"unit": "元", "annual": "1.00"},
               "goals": {}, "indicators": [{"level1": "产出指标", "level2": "数量指标",
                                            "name": "x", "target": "1"}]}
        return [SkippedRecord(source, 3, "record without header"),
                ImportedProject(unit=unit, year=2026, line=5, record=rec, notes=["n"])]

    monkeypatch.setattr("jixiao.importer.read", fake)
    src = tmp_path / "fake.txt"
    src.write_text("FAKE\n", encoding="utf-8")
    code, stdout, stderr = run([src], tmp_path / "out")
    assert code == 0, stderr
    assert f"{src}:3: skipped: record without header" in stderr
    assert "    note: n" in stdout.splitlines()
    assert (tmp_path / "out" / "sh-qp-mmzx" / "2026" / "sh-qp-mmzx-2026-01.yaml").exists()


def test_bad_record_is_reported(tmp_path, monkeypatch):
    """The importer checks what the reader made before anything is written."""
    def fake(grid, source):
        rec = {"name": "某项目", "funds": {"unit": "元", "annual": "1,000.00"}}
        return [ImportedProject(unit=ImportedUnit(name="某单位"), year=2026, line=7, record=rec)]

    monkeypatch.setattr("jixiao.importer.read", fake)
    src = tmp_path / "fake.txt"
    src.write_text("x\n", encoding="utf-8")
    code, _, stderr = run([src], tmp_path / "out")
    assert code == 1
    assert f"{src}:7: funds.annual: expected a decimal string, got '1,000.00'" in stderr


@pytest.mark.parametrize("name, slug", [
    ("上海市燃气管理事务中心", "sh-rqglswzx"),
    ("天津市供热燃气管理事务中心", "tj-grrqglswzx"),
    ("上海市减污降碳管理运行技术中心", "sh-jwjtglyxjszx"),
    ("上海市青浦区香花桥街道城市运行管理中心", "sh-qp-xhqjdcsyxglzx"),
    ("上海市城市综合管理事务中心（上海市地下管线监察事务中心）", "sh-cszhglswzx"),
])
def test_unit_slug(name, slug):
    assert unit_slug(name, region_of(name)) == slug


def test_region_of():
    assert region_of("上海市青浦区香花桥街道城市运行管理中心") == "上海市青浦区"
    assert region_of("上海市城市管理行政执法局") == "上海市"
    assert region_of("天津市供热燃气管理事务中心") == "天津市"
    assert region_of("某某单位") is None


def test_dump_yaml_multiline_and_unicode():
    assert dump_yaml({"a": "一\n二", "b": "≥90%"}) == "a: |-\n  一\n  二\nb: ≥90%\n"


def test_a_lost_appropriation_line_is_reported(tmp_path):
    """Delete 其中：当年财政拨款 from a 2023 table: the import says a line was probably lost."""
    src = tmp_path / "000.txt"
    lines = Path(MINE[0]).read_text("utf-8").split("\n")
    src.write_text("\n".join(ln for ln in lines if ln != "其中：当年财政拨款 90,000.00"), "utf-8")
    code, stdout, stderr = run([src], tmp_path / "out")
    assert code == 0, stderr
    assert ("    note: 当年财政拨款 has no amount, though 上年结转资金 and 其他资金 do: a lost line? "
            "(the year's 90000.00 leaves 90000.00 for it)") in stdout.splitlines()
    code, stdout, _ = run(MINE[:1], tmp_path / "whole")
    assert "lost line" not in stdout
