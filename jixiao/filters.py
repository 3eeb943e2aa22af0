"""What templates format with: amounts (exact, and as people read them), markdown with raw
HTML off, target annotations, merged indicator cells.  ``FILTERS`` and ``GLOBALS`` are
what ``render.environment`` gives Jinja."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from markupsafe import Markup

from .derive import CATEGORY_LABELS
from .targets import parse_target

SITE_NAME = "财政项目支出绩效目标公开平台"
UNITS_SHOWN = 3            # units named per department on /departments/ (then "等 N 个")

OP_WORDS = {"≥": "不低于", "≤": "不高于", "=": "等于", ">": "高于", "<": "低于"}
FUND_LABELS = [
    ("annual", "年度资金申请总额"), ("total", "项目资金总额"), ("fiscal", "其中：财政资金"),
    ("appropriation", "当年财政拨款"), ("carryover", "上年结转资金"), ("other", "其他资金"),
    ("prior_year_budget", "同名项目上年预算额"), ("prior_year_spent", "同名项目上年预算执行数"),
]


def money(value: Decimal | int | None, places: int | None = None) -> str:
    """1234567.8 → 1,234,567.80 (exact: Decimal formatting, no floats).

    At least two places, more when the amount was published with more
    (29.3856 万元 stays 29.3856): an amount is never rounded for display.
    """
    if value is None:
        return "—"
    value = Decimal(value)
    if places is None:
        places = max(2, -value.as_tuple().exponent) if value.is_finite() else 2
    return f"{value:,.{places}f}"


_WAN, _YI = Decimal(10000), Decimal(100000000)


def readable(value: Decimal | int | None) -> str:
    """An amount in yuan as people read it: 3.6 万元, 13.91 亿元, 800 元.  Rounded to two
    places of its unit, marked 约 when that lost something; the exact yuan are one step
    away (the ``amount`` filter's title, the project page, the data files)."""
    if value is None:
        return "—"
    value = Decimal(value)
    unit, scale = ("亿元", _YI) if abs(value) >= _YI else ("万元", _WAN) if abs(value) >= _WAN \
        else ("元", Decimal(1))
    scaled = value / scale
    shown = scaled.quantize(Decimal("0.01"))
    text = f"{shown:,.2f}".rstrip("0").rstrip(".")
    return f"{'' if shown == scaled else '约 '}{text} {unit}"


def amount_html(value) -> Markup:
    """An amount as people read it (万元/亿元), the exact yuan in its title: a filter, not
    a macro (tens of thousands of list rows; a Jinja macro call costs ~10× a filter).
    Both texts are digits, commas and fixed words: nothing to escape."""
    return Markup(f'<span class="num" title="{money(value)} 元">{readable(value)}</span>')


def prior_change(funds) -> dict | None:
    """The year's money against the same-named project's prior-year budget (同名项目上年预算额),
    when the table publishes it: ``{"word": 增加/减少/持平, "amount": |difference| in yuan,
    "percent": "+8.5%" or None when the prior budget was 0}``.  Exact: Decimal throughout,
    the percentage rounded half up to one place."""
    prior = funds.yuan("prior_year_budget")
    if prior is None:
        return None
    diff = funds.annual_yuan - prior
    word = "增加" if diff > 0 else "减少" if diff < 0 else "持平"
    percent = None
    if prior:
        shown = (abs(diff) * 100 / prior).quantize(Decimal("0.1"), ROUND_HALF_UP)
        percent = f"{'+' if diff > 0 else '-' if diff < 0 else '±'}{shown}%"
    return {"word": word, "amount": abs(diff), "percent": percent, "prior": prior}


@lru_cache(maxsize=1)
def _markdown_it():
    """CommonMark with raw HTML off (made, and markdown-it imported, the first time a page
    needs it: a rebuild that renders no free page does not pay for the import).  A link to
    a refused scheme (javascript:, vbscript:, file:, data: other than images) keeps its
    text and loses its URL entirely — markdown-it alone would leave the whole
    ``[text](javascript:…)`` source visible on the page."""
    from markdown_it import MarkdownIt
    from markdown_it.token import Token
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    safe = md.validateLink                       # markdown-it's own scheme check
    md.validateLink = lambda url: True           # parse every link; judge it below

    def drop_unsafe(state):
        for block in state.tokens:
            for i, tok in enumerate(block.children or []):
                if tok.type == "link_open" and not safe(tok.attrGet("href") or ""):
                    depth, j = 0, i
                    while j < len(block.children):
                        t = block.children[j]
                        depth += t.nesting if t.type.startswith("link_") else 0
                        if t.type.startswith("link_") and depth == 0:
                            break
                        j += 1
                    # an autolink's text is the URL itself: drop it with the tags
                    drop = range(i, j + 1) if tok.markup == "autolink" else (i, j)
                    for k in drop:
                        block.children[k] = Token("text", "", 0, content="")
                elif tok.type == "image" and not safe(tok.attrGet("src") or ""):
                    block.children[i] = Token("text", "", 0, content=tok.content)

    md.core.ruler.push("drop_unsafe_links", drop_unsafe)
    return md


def markdown(text: str) -> str:
    """Markdown with raw HTML off; javascript:/vbscript:/file:/data: links are refused."""
    return _markdown_it().render(text)


def target_note(ind) -> dict | None:
    """The parsed target as a short annotation: ``≥ 192 家次``, titled ``定量目标：不低于192家次``.

    None when nothing was published.  Qualitative targets (及时, 合格) show their text
    and have no title.  The title holds no free text (only the operator in words, the
    number and the short unit), so published text never lands in an attribute.
    """
    return _note(ind.target)


@lru_cache(maxsize=1 << 16)
def _note(published: str | None) -> dict | None:
    """``target_note`` by the published text (templates only read the result)."""
    t = parse_target(published)
    if t.value is not None:
        short = " ".join(x for x in (t.op, str(t.value), t.unit) if x)
        title = f"定量目标：{OP_WORDS.get(t.op, '') if t.op else ''}{t.value}{t.unit or ''}"
        if t.text:
            short = f"{short}（{t.text}）"
        return {"kind": "quantitative", "short": short, "title": title}
    if t.text:
        short = f"{t.op} {t.text}" if t.op else t.text
        return {"kind": "qualitative", "short": f"定性：{short}", "title": None}
    return None


def target_units(targets) -> list[str]:
    """The measure units the published targets name (``≥90%`` → %, ``≥192家次`` → 家次),
    each once, in order: what the indicator pages say a name is counted in."""
    out: list[str] = []
    for published in targets:
        unit = parse_target(published).unit
        if unit and unit not in out:
            out.append(unit)
    return out



def indicator_rows(indicators) -> list[dict]:
    """Rows of the indicator table with the rowspans of merged level1/level2 cells.

    Consecutive rows with the same level1 (and level2) merge, as on the form;
    the published order is kept.
    """
    rows = [{"ind": ind, "l1_span": 0, "l2_span": 0} for ind in indicators]
    start1 = start2 = 0
    for i, row in enumerate(rows):
        ind = row["ind"]
        if i == 0 or ind.level1 != rows[i - 1]["ind"].level1:
            start1 = start2 = i
            row["l1_span"] = row["l2_span"] = 1
            continue
        rows[start1]["l1_span"] += 1
        if ind.level2 != rows[i - 1]["ind"].level2:
            start2 = i
            row["l2_span"] = 1
        else:
            rows[start2]["l2_span"] += 1
    return rows


FILTERS = {"money": money, "readable": readable, "amount": amount_html}
GLOBALS = {"site_name": SITE_NAME, "indicator_rows": indicator_rows, "target_note": target_note,
           "target_units": target_units, "fund_labels": FUND_LABELS,
           "category_labels": CATEGORY_LABELS, "units_shown": UNITS_SHOWN}
