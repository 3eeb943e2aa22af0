"""Script payloads in every string field and in markdown pages are shown as text, never markup."""
import re
from pathlib import Path

import pytest

from jixiao.pipeline import build

XSS = Path(__file__).parent / "fixtures" / "xss" / "content"
RAW = ["<script>window.__pwned", "<img src=x", "<svg onload", "javascript:", "data:text/html"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("xss") / "site"
    build(XSS, out, log=None)
    return out


def html_files(site):
    return sorted(site.rglob("*.html"))


def test_no_payload_survives_as_markup_in_any_page(site):
    pages = html_files(site)
    assert len(pages) >= 5
    for page in pages:
        text = page.read_text("utf-8")
        for raw in RAW:
            assert raw not in text, f"{page.relative_to(site)} contains raw {raw!r}"
        # every attribute value stays quoted: an injected quote would open a new attribute
        assert not re.search(r"""<[^>]*\s(onerror|onload)=""", text), page


def test_payload_is_visible_as_text_on_the_project_page(site):
    text = (site / "projects" / "xss-unit-2024-01" / "index.html").read_text("utf-8")
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in text
    assert "{{7*7}}" in text                      # no template injection either


def test_markdown_page_refuses_raw_html_and_script_links(site):
    text = (site / "about" / "index.html").read_text("utf-8")
    assert "&lt;script&gt;" in text
    assert 'href="javascript:' not in text and 'href="data:' not in text
