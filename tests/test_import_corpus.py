"""The general reader on real tables of publishers other than the seeds'.

tests/fixtures/corpus/ holds each table as found (its source address on its first
line) with a hand-written expectation; ``python -m jixiao.importer.corpus`` prints the
same scores.  The bar: ≥ 90 % right, and never a wrong record — a table read with a
wrong name, unit, year, amount, indicator count or target must be refused instead.
"""
from __future__ import annotations

import io
import random
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from jixiao.importer import annual_yuan, read_source, run_import
from jixiao.importer.base import SkippedRecord
from jixiao.importer.corpus import compare, score, tables
from jixiao.importer.grid import text_grid
from jixiao.importer.reader import Refusal, read

CORPUS = Path(__file__).resolve().parent / "fixtures" / "corpus"
SEED_PUBLISHERS = ("上海市燃气管理事务中心", "天津市供热燃气管理事务中心", "香花桥街道",
                   "上海市减污降碳管理运行技术中心", "上海市住房和城乡建设管理委员会")


@pytest.fixture(scope="module")
def outcomes():
    return score(CORPUS)


def test_corpus_is_real_and_sourced():
    files = tables(CORPUS)
    publishers = set()
    for path in files:
        if path.suffix == ".txt":
            head = path.read_text("utf-8").splitlines()[:3]
            assert head[0].startswith("# source: http"), path.name
            assert head[1].startswith("# publisher: "), path.name
            publisher = head[1][len("# publisher: "):].split(" (")[0]
            assert not any(s in publisher for s in SEED_PUBLISHERS), path.name
            if not publisher.startswith("unknown"):
                publishers.add(publisher)
    assert len([p for p in files if p.suffix == ".txt"]) >= 20
    assert len(publishers) >= 12
    assert {p.suffix for p in files} >= {".txt", ".html", ".xlsx", ".docx", ".pdf"}


def test_never_wrong(outcomes):
    wrong = [f"{o.path.name}: {o.detail}" for o in outcomes if o.verdict == "wrong"]
    assert wrong == []


def test_at_least_ninety_percent_right(outcomes):
    right = sum(1 for o in outcomes if o.verdict == "right")
    assert right >= 0.9 * len(outcomes), [(o.path.name, o.detail) for o in outcomes
                                          if o.verdict != "right"]


@pytest.mark.parametrize("name", [f"f-ah-jinan-tyj-2025-wangqiu.{ext}"
                                  for ext in ("html", "xlsx", "xls", "csv", "docx", "pdf")]
                         + ["g-ah-jinan-tyj-2025-wangqiu-export.xls"])
def test_each_file_format_reads_the_same_table(name):
    """The .html/.xlsx/.xls/.csv (GBK)/.docx/.pdf made by make_formats.py from one real table, and its
    web page saved as .xls (as budget systems export), read exactly as its text does: same
    record, same amounts as published, same indicators in the same order."""
    from_text = read_source(str(CORPUS / "c-ah-jinan-tyj-2025-wangqiu.txt"))
    from_file = read_source(str(CORPUS / name))
    assert len(from_file) == 1 and not isinstance(from_file[0], Refusal), from_file
    a, b = from_text[0], from_file[0]
    assert (b.record["name"], b.unit.name, b.unit.department, b.year) == \
        (a.record["name"], a.unit.name, a.unit.department, a.year)
    assert b.record["funds"] == a.record["funds"]
    assert [(i["level1"], i["level2"], i["name"], i["target"]) for i in b.record["indicators"]] == \
        [(i["level1"], i["level2"], i["name"], i["target"]) for i in a.record["indicators"]]
    assert b.record["goals"] == a.record["goals"]


def test_import_command_on_a_folder_of_real_tables(tmp_path):
    """The whole corpus folder in one command: the refused tables stop it, with reasons."""
    out, err = io.StringIO(), io.StringIO()
    code = run_import([str(CORPUS)], str(tmp_path / "content"), False, stdout=out, stderr=err)
    assert code == 1
    assert "nothing written" in err.getvalue()
    assert "self-evaluation table" in err.getvalue()
    assert not (tmp_path / "content").exists()


def test_import_of_good_tables_writes_units_and_records(tmp_path):
    good = [CORPUS / "c-hn-yueyangxian-nync-2022-gbznt.txt",
            CORPUS / "f-ah-jinan-tyj-2025-wangqiu.xlsx",
            CORPUS / "n-sc-jingyan-mata-2023-cunzu.txt"]
    out, err = io.StringIO(), io.StringIO()
    code = run_import([str(p) for p in good], str(tmp_path), False, stdout=out, stderr=err)
    assert code == 0, err.getvalue()
    report = out.getvalue()
    assert "岳阳县2022年高标准农田建设项目 · 农田建设服务中心 · 2022 · 8,540,000.00 元 · 12 indicators" \
        in report
    assert "note: line 28: annual: read 854 from '854万(" in report      # what was inferred
    units = {yaml.safe_load(p.read_text("utf-8"))["name"]: p.parent.name
             for p in tmp_path.glob("*/unit.yaml")}
    assert set(units) == {"农田建设服务中心", "六安市金安区体育局", "井研县马踏镇人民政府"}
    mata = yaml.safe_load((tmp_path / units["井研县马踏镇人民政府"] / "unit.yaml").read_text("utf-8"))
    assert mata["code"] == "820001"
    # and the records pass the site's own validation
    from jixiao.validate import load_content
    (tmp_path / "pages").mkdir()
    load_content(tmp_path)


def _mutations(text: str, rng: random.Random):
    lines = text.split("\n")
    body = [k for k, ln in enumerate(lines) if ln.strip() and not ln.startswith("#")]
    for _ in range(6):
        k = rng.choice(body)
        yield "drop", "\n".join(lines[:k] + lines[k + 1:])
        yield "cut", "\n".join(lines[:k])
        j = rng.choice(body)
        swapped = list(lines)
        swapped[k], swapped[j] = swapped[j], swapped[k]
        yield "swap", "\n".join(swapped)


@pytest.mark.parametrize("path", [p for p in tables(CORPUS) if p.suffix == ".txt"],
                         ids=lambda p: p.stem)
def test_mutated_tables_never_crash_and_never_pass_a_changed_amount_silently(path):
    """Lines dropped, the table cut short, lines swapped: the reader refuses, skips or
    reads, never raises, and never reads another amount than the table's as if nothing
    happened: a record read from a mutated table either has the annual amount expected
    for it or says why (a note).  (A dropped indicator row in the middle of a table cannot
    be told from a table that has one row less: that is not claimed.)"""
    rng = random.Random(path.name)
    expected = yaml.safe_load(path.with_name(path.stem + ".expected.yaml").read_text("utf-8"))
    known = {p["name"]: p for p in expected.get("projects") or []}
    text = path.read_text("utf-8")
    for kind, mutated in _mutations(text, rng):
        items = read(text_grid(mutated), str(path))
        assert items, kind
        for item in items:
            if isinstance(item, (Refusal, SkippedRecord)):
                continue
            assert item.record["name"], kind
            was = known.get(item.record["name"])
            if was and annual_yuan(item) != Decimal(was["annual_yuan"]):
                assert item.notes, (kind, item.record["name"])


def test_compare_flags_every_field():
    """The scorer itself: each kind of difference is reported."""
    p = read_source(str(CORPUS / "c-hn-yueyangxian-nync-2022-gbznt.txt"))
    exp = yaml.safe_load((CORPUS / "c-hn-yueyangxian-nync-2022-gbznt.expected.yaml")
                         .read_text("utf-8"))["projects"]
    assert compare(p, exp) == []
    for field, value in [("name", "x"), ("unit", "x"), ("year", 1999),
                         ("annual_yuan", "1.00"), ("indicators", 1)]:
        bad = [dict(exp[0], **{field: value})]
        assert compare(p, bad), field
    bad = [dict(exp[0], samples=[["年增粮食", "3501公斤"]])]
    assert compare(p, bad) == ["project 1: '年增粮食' has target '3500公斤', expected '3501公斤'"]


def test_a_short_unit_name_under_another_department_is_another_unit(tmp_path):
    """农田建设服务中心 exists in many counties: the same name under another 主管部门 is a
    new unit, not the one already in content/."""
    src = CORPUS / "c-hn-yueyangxian-nync-2022-gbznt.txt"
    assert run_import([str(src)], str(tmp_path), False, stdout=io.StringIO(),
                      stderr=io.StringIO()) == 0
    other = tmp_path / "other.txt"
    other.write_text(src.read_text("utf-8").replace("岳阳县农业农村局", "华容县农业农村局"), "utf-8")
    err = io.StringIO()
    assert run_import([str(other)], str(tmp_path), False, stdout=io.StringIO(), stderr=err) == 0, \
        err.getvalue()
    depts = sorted(yaml.safe_load(p.read_text("utf-8"))["department"]
                   for p in tmp_path.glob("*/unit.yaml"))
    assert depts == ["华容县农业农村局", "岳阳县农业农村局"]


def _rows_of(p) -> list[list[str]]:
    """A read record written back as the national form's rows (merged labels once)."""
    r, f = p.record, p.record["funds"]
    rows = [["项目支出绩效目标表"], [f"({p.year}年度)"], ["项目名称", r["name"]],
            ["主管部门", p.unit.department or "某局", "实施单位", p.unit.name],
            [f"项目资金({f['unit']})", "年度资金总额", f["annual"], "其中:财政拨款", f["annual"]],
            ["年度目标", (r["goals"]["annual"] or r["goals"]["overall"] or "完成任务").replace("\n", "")],
            ["一级指标", "二级指标", "三级指标", "指标值"]]
    last = (None, None)
    for i in r["indicators"]:
        l1 = i["level1"] if i["level1"] != last[0] else ""
        l2 = i["level2"] if (i["level1"], i["level2"]) != last else ""
        rows.append([c for c in (l1, l2) if c] + [i["name"], i["target"]])
        last = (i["level1"], i["level2"])
    return rows


SHAPES = {
    "pipe rows": lambda rows: "\n".join("| " + " | ".join(r) + " |" for r in rows),
    "tab rows": lambda rows: "\n".join("\t".join(r) for r in rows),
    "one cell per line": lambda rows: "\n\n".join("\n".join(r) for r in rows),
    "closed cells": lambda rows: "\n".join("\n".join(c + " |" for c in r) + "\n||||" for r in rows),
    "blank-separated lines": lambda rows: "\n".join("  ".join(r) for r in rows),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_every_corpus_table_reads_the_same_in_every_text_shape(shape):
    """The reader does not depend on the shape a table was found in: each record of the
    corpus, written back in another shape, reads to the same name, unit, amount and
    indicator rows."""
    for path in tables(CORPUS):
        expected = yaml.safe_load(path.with_name(path.stem + ".expected.yaml").read_text("utf-8"))
        if expected["expect"] != "right" or path.suffix != ".txt":
            continue
        for p in read_source(str(path)):
            if isinstance(p, Refusal):
                continue                       # a table the reader refuses as found
            (q,) = read(text_grid(SHAPES[shape](_rows_of(p))), "t.txt")
            assert not isinstance(q, Refusal), (path.name, q)
            assert (q.record["name"], q.unit.name, q.record["funds"]["annual"], q.year) == \
                (p.record["name"], p.unit.name, p.record["funds"]["annual"], p.year), path.name
            assert [(i["level1"], i["level2"], i["name"], i["target"]) for i in q.record["indicators"]] \
                == [(i["level1"], i["level2"], i["name"], i["target"]) for i in p.record["indicators"]]


def test_an_old_or_unknown_binary_is_refused_with_what_to_do(tmp_path):
    """.doc/.wps cannot be read: the refusal says to save as .docx.  A file named .xls that
    is neither Excel's binary format, an .xlsx nor a web page is refused, not guessed at."""
    doc = tmp_path / "表.doc"
    doc.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    assert read_source(str(doc)) == [
        Refusal(1, ".doc is an old binary format: save it as .docx and import that")]
    bogus = tmp_path / "表.xls"
    bogus.write_bytes(b"\x00\x01 not a sheet")
    assert read_source(str(bogus)) == [Refusal(1, "not a spreadsheet: this .xls file is neither "
                                                  "Excel's binary format, nor .xlsx, nor a web page")]
    broken = tmp_path / "坏.xls"
    broken.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    [refusal] = read_source(str(broken))
    assert isinstance(refusal, Refusal) and refusal.message.startswith("cannot read this xls file")
