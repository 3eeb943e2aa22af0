"""Search on a static host: the browser's script (templates/static/search-engine.js), run
under Node.js on the static index, answers exactly what the server answers.

Parity is whole documents, not only the first ten results: totals, order, tiers, match
labels, highlights, matched indicators, unit results, facets with counts, suggestions,
paging, sorting, amount ranges and the messages for bad parameters, over the judged
queries, the natural queries and variations of them.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from itertools import islice
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import pytest

from conftest import ROOT
from jixiao.search import ParamError, index, open_backend, parse_params, static_index
from jixiao.search.params import SORTS
from test_search import JUDGED, catalog  # noqa: F401  (catalog: the judged content's fixture)
from test_search_natural import QUERIES as NATURAL

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="needs Node.js to run the browser's script")
ANSWER = ROOT / "tests" / "static" / "answer.js"


@pytest.fixture(scope="module")
def site(catalog, tmp_path_factory):
    out = tmp_path_factory.mktemp("static-search")
    index(catalog, out)
    static_index.write(out)
    return out


def browser_answers(site: Path, queries: list[str]) -> list[dict]:
    done = subprocess.run([NODE, str(ANSWER), str(site)], input=json.dumps(queries),
                          capture_output=True, text=True, check=True, timeout=600)
    return [json.loads(line) for line in done.stdout.splitlines()]


def server_answer(backend, qs: str) -> dict:
    try:
        doc = backend.search(parse_params(parse_qs(qs, keep_blank_values=True)))
    except ParamError as e:
        return {"error": str(e)}
    return json.loads(json.dumps(doc, ensure_ascii=False))


def qs(**args) -> str:
    return urlencode([(k, x) for k, v in args.items() for x in (v if isinstance(v, list) else [v])])


def query_strings(catalog) -> list[str]:
    words = list(dict.fromkeys(JUDGED + [q["q"] for q in NATURAL]))
    units = sorted(catalog.units)[:3]
    out = [qs(q=w) for w in words]
    out += [qs(q=w, page=2, page_size=5) for w in words[::3]]
    out += [qs(q=w, sort=s) for s in SORTS for w in ("", "燃气", "管理", "绩效目标")]
    out += [qs(q=w, sort=s, page=3, page_size=7) for s in SORTS for w in ("", "服务")]
    out += [qs(q=w, year=y) for w in ("燃气", "服务", "") for y in ("2023", "2020", "1999")]
    out += [qs(q=w, unit=u) for w in ("服务", "") for u in units]
    out += [qs(q=w, category=c) for w in ("满意度", "数量", "") for c in ("satisfaction", "output")]
    out += [qs(q="服务", year=["2023", "2020"], category="output")]
    out += [qs(q=w, amount_min=lo, amount_max=hi) for w in ("", "服务")
            for lo, hi in (("10", ""), ("", "50"), ("5", "120.5"), ("0", "0"), ("3", "3"))]
    out += [qs(q=w, amount_min="20", sort="amount_asc") for w in ("", "管理")]
    # what citizens also type: spacing, width, traditional, emoji, pinyin, years, typos
    out += [qs(q=w) for w in ("  燃气  安全 ", "ＰＥＭＳ", "公積金　平台", "😀", "??", "的的的",
                              "2023", "2023年度", "2020年 公积金", "zhufang", "gongjijin pingtai",
                              "xiaohuoshuan", "热限", "消火拴维修", "<script>", "a" * 30,
                              "电动车 技防", "燃气中心 宣传", "≥ 90%", ">=90%", "100%", "1.5万元")]
    # bad parameters: the same message
    out += ["page=0", "page=abc", "sort=nope", "year=20x3", "amount_min=abc",
            "amount_min=9&amount_max=1", "q=a&q=b", qs(q="燃" * 201), "category=nope"]
    return out


def test_the_browser_answers_as_the_server_does(site, catalog):
    queries = query_strings(catalog)
    backend = open_backend(site)
    differ = []
    for q, got in zip(queries, browser_answers(site, queries), strict=True):
        want = server_answer(backend, q)
        if got != want:
            differ.append((q, {k for k in want.keys() | got.keys() if want.get(k) != got.get(k)}))
    assert not differ, f"{len(differ)} of {len(queries)} differ: {list(islice(differ, 10))}"
    assert len(queries) > 250


def test_the_browser_lists_as_many_facet_values_as_the_server(catalog, tmp_path, monkeypatch):
    """The facet limit travels in the static index: with 2, both list the same values and
    count the same left out."""
    from jixiao.search import engine
    monkeypatch.setattr(engine, "FACET_LIMIT", 2)
    monkeypatch.setattr(static_index, "FACET_LIMIT", 2)
    index(catalog, tmp_path)
    static_index.write(tmp_path)
    backend = open_backend(tmp_path)
    last = backend.search(parse_params({}))["facets"]["unit"][0]["value"]
    queries = [qs(q=""), qs(q="管理"), qs(q="", unit=sorted(catalog.units)[-1]), qs(q="服务", unit=last)]
    for q, got in zip(queries, browser_answers(tmp_path, queries), strict=True):
        want = server_answer(backend, q)
        assert got == want, q
    assert "facets_more" in want


def test_first_ten_of_every_judged_query_in_the_servers_order(site):
    """What the issue names as parity, said on its own."""
    backend = open_backend(site)
    queries = [qs(q=w, page_size=10) for w in JUDGED]
    for q, got in zip(queries, browser_answers(site, queries), strict=True):
        want = server_answer(backend, q)
        assert [r["id"] for r in got["results"]] == [r["id"] for r in want["results"]], q


def test_a_generation_is_written_beside_the_previous_one(site, catalog, tmp_path):
    root = site / static_index.FOLDER
    name = json.loads((root / "current.json").read_text())["generation"]
    assert static_index.write(site) == name                 # same content: same folder
    # made again from the catalog's documents (what a small site's build does): the same
    assert static_index.write(site, catalog) == name
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == [name]
    folder = root / name
    assert {"meta.json", "projects.bin", "names.txt", "sort.json", "homophones.txt"} <= \
        {p.name for p in folder.iterdir()}
    assert len(list((folder / "d").iterdir())) == len(catalog.projects)
    assert all(p.read_bytes()[:2] == b"\x1f\x8b" for p in folder.rglob("*") if p.is_file())
