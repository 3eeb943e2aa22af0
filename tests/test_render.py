"""Units of filters.py and views.py: money, markdown, target annotations, merged indicator cells."""
from decimal import Decimal

import pytest

from jixiao.model import Indicator
from jixiao.filters import indicator_rows, markdown, money, target_note


@pytest.mark.parametrize("value,shown", [
    (Decimal("1234567.8"), "1,234,567.80"),
    (Decimal("294000.00"), "294,000.00"),
    (Decimal("29.3856"), "29.3856"),          # published precision is never rounded away
    (Decimal("0"), "0.00"),
    (0, "0.00"),
    (None, "—"),
])
def test_money(value, shown):
    assert money(value) == shown


def test_money_is_exact_for_large_amounts():
    assert money(Decimal("12345678901234567.89")) == "12,345,678,901,234,567.89"


def test_markdown_raw_html_is_off():
    html = markdown("# 标题\n\n<script>alert(1)</script>\n\n<b>粗</b>")
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html


@pytest.mark.parametrize("link", ["javascript:alert(1)", "JAVASCRIPT:alert(1)",
                                  "vbscript:msgbox(1)", "data:text/html;base64,PHNjcmlwdD4="])
def test_markdown_refuses_dangerous_links(link):
    html = markdown(f"[点我]({link})")
    assert "href" not in html


def test_markdown_keeps_ordinary_links():
    assert '<a href="/data/">数据</a>' in markdown("[数据](/data/)")


def ind(level1="产出指标", level2="数量指标", name="x", target=None):
    return Indicator(level1=level1, level2=level2, name=name, target=target)


@pytest.mark.parametrize("target,short,title", [
    ("≥192家次", "≥ 192 家次", "定量目标：不低于192家次"),
    ("=100(%)", "= 100 %", "定量目标：等于100%"),
    ("<=1月", "≤ 1 月", "定量目标：不高于1月"),
    ("365天", "365 天", "定量目标：365天"),
    ("及时", "定性：及时", None),
    ("不超过预算29.38万元", "≤ 29.38 万元（预算）", "定量目标：不高于29.38万元"),
])
def test_target_note(target, short, title):
    note = target_note(ind(target=target))
    assert (note["short"], note["title"]) == (short, title)


def test_target_note_empty():
    assert target_note(ind(target=None)) is None


def test_indicator_rows_merge_consecutive_cells():
    rows = indicator_rows([ind("产出", "数量"), ind("产出", "数量"), ind("产出", "质量"),
                           ind("效益", "社会"), ind("产出", "数量")])
    assert [(r["l1_span"], r["l2_span"]) for r in rows] == [(3, 2), (0, 0), (0, 1), (1, 1), (1, 1)]


@pytest.mark.parametrize("source,shown", [
    ("[点我](javascript:alert(1))", "<p>点我</p>"),
    ("看 <javascript:alert(1)> 这里", "<p>看  这里</p>"),
    ("![图](javascript:alert(1))", "<p>图</p>"),
])
def test_refused_links_keep_their_text_not_their_url(source, shown):
    assert markdown(source).strip() == shown


def test_target_units_names_each_unit_once_in_order():
    from jixiao.filters import target_units
    assert target_units(["≥90%", "=100(%)", "≥192家次", "及时", None, "≤1月"]) == ["%", "家次", "月"]
    assert target_units(["合格", None]) == []


def _funds(**amounts):
    from jixiao.model import Funds
    return Funds(**amounts)


@pytest.mark.parametrize("unit,annual,prior,word,amount,percent", [
    ("元", "500640.00", "461800.00", "增加", "38840.00", "+8.4%"),
    ("元", "5780460", "6446022", "减少", "665562", "-10.3%"),
    ("万元", "104.00", "104", "持平", "0", "±0.0%"),
    ("万元", "0.15", "0.10", "增加", "500.00", "+50.0%"),      # 万元 → yuan, exactly
    ("元", "100", "0", "增加", "100", None),                   # no percent of nothing
    ("元", "1", "3", "减少", "2", "-66.7%"),                   # half up, one place
])
def test_prior_change_is_exact(unit, annual, prior, word, amount, percent):
    from jixiao.filters import prior_change
    change = prior_change(_funds(unit=unit, annual=annual, prior_year_budget=prior))
    assert (change["word"], change["amount"], change["percent"]) == (word, Decimal(amount), percent)
    assert isinstance(change["amount"], Decimal)


def test_prior_change_needs_the_prior_budget():
    from jixiao.filters import prior_change
    assert prior_change(_funds(unit="元", annual="100", prior_year_spent="90")) is None


def test_published_source_files_are_the_documents_never_a_page(tmp_path):
    """What /sources/ publishes of content/sources/: the documents as the publisher saved
    them (.txt .pdf .xlsx .xls .docx), never an .html, which the site's origin would serve
    as one of its own pages."""
    from types import SimpleNamespace
    from jixiao.views import available_sources
    for name in ("a.txt", "b.pdf", "c.xlsx", "d.xls", "e.docx", "f.html", "g.htm", "h.csv"):
        (tmp_path / name).write_bytes(b"x")
    assert sorted(available_sources(SimpleNamespace(sources=tmp_path))) == [
        "a.txt", "b.pdf", "c.xlsx", "d.xls", "e.docx"]


def test_a_dicts_keys_and_methods_read_as_jinja_reads_them(tmp_path):
    """The environment's fast lookup of a view's keys: a key that is a dict's method name
    is the method (as jinja's getattr), another key its value, a missing one undefined."""
    import jinja2
    from jixiao.render import environment
    (tmp_path / "t.html").write_text(
        "{{ d.name }}|{{ d.items() | list | length }}|{{ d['items'] }}|{{ d.get('name') }}|"
        "{{ d.missing is defined }}|{{ o.a.b }}", "utf-8")
    env = environment(tmp_path)
    d = {"name": "单位<b>", "items": "键"}
    out = env.get_template("t.html").render(d=d, o={"a": {"b": 1}})
    assert out == "单位&lt;b&gt;|2|键|单位&lt;b&gt;|False|1"
    with pytest.raises(jinja2.UndefinedError, match="has no attribute 'missing'"):
        env.from_string("{{ d.missing }}").render(d=d)
