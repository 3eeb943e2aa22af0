"""Site settings (content/site.yaml): checked with locations, shown in every footer, the
public address used by sitemap.xml, and the build day on the home page and /data/."""
import shutil
from pathlib import Path

import pytest

from jixiao.pipeline import build
from jixiao.problems import ContentError
from jixiao.settings import Settings, build_date, read_settings

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "site" / "content"


def _content(tmp_path, text: str | None) -> Path:
    content = tmp_path / "content"
    shutil.copytree(FIXTURE, content)
    (content / "site.yaml").unlink(missing_ok=True)
    if text is not None:
        (content / "site.yaml").write_text(text, "utf-8")
    return content


@pytest.mark.parametrize("text,where", [
    ("licence: x\ncolour: red\n", "2:1: site: unknown setting 'colour'"),
    ("licence_url: ftp://x\n", "1:14: licence_url: expected an address"),
    ("base_url: javascript:alert(1)\n", "1:11: base_url: expected an address"),
    ("contact_url: mailto:nobody\n", "1:14: contact_url: expected an address"),
    ("licence: [1, 2]\n", "1:10: licence: expected text"),
    ("contact: " + "很" * 201 + "\n", "1:10: contact: 201 characters; at most 200"),
    ("- a\n- b\n", "1:1: site: expected a mapping"),
    ("static_search: sometimes\n", "1:16: static_search: expected true or false"),
])
def test_bad_settings_are_located(tmp_path, text, where):
    content = _content(tmp_path, text)
    settings, problems = read_settings(content)
    assert settings == Settings() or problems
    assert any(str(p).endswith(where) or where in str(p) for p in problems), [str(p) for p in problems]
    with pytest.raises(ContentError):
        build(content, tmp_path / "site", log=None)
    assert not (tmp_path / "site" / "index.html").exists()


def test_settings_show_in_every_footer_and_the_address_in_the_sitemap(tmp_path, monkeypatch):
    monkeypatch.delenv("JIXIAO_BASE_URL", raising=False)
    content = _content(tmp_path, "base_url: https://jixiao.example.gov.cn/\n"
                                 "licence: 可自由再利用<b>\nlicence_url: https://example.org/l\n"
                                 "contact: 预算科\ncontact_url: mailto:ys@example.gov.cn\n")
    out = tmp_path / "site"
    build(content, out, log=None)
    pages = list(out.rglob("*.html"))
    assert len(pages) > 20
    for page in pages:
        html = page.read_text("utf-8")
        assert '许可：<a href="https://example.org/l" rel="license">可自由再利用&lt;b&gt;</a>' in html, page
        assert '<a href="mailto:ys@example.gov.cn">预算科</a>' in html, page
    assert "<loc>https://jixiao.example.gov.cn/</loc>" in (out / "sitemap.xml").read_text("utf-8")
    monkeypatch.setenv("JIXIAO_BASE_URL", "https://preview.example.org")
    build(content, out, log=None)
    assert "<loc>https://preview.example.org/</loc>" in (out / "sitemap.xml").read_text("utf-8")


def test_the_build_day_is_on_the_home_page_and_data_and_reproducible(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764547200")          # 2025-12-01 00:00 UTC
    assert build_date().isoformat() == "2025-12-01"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764518400")          # 2025-11-30 16:00 UTC …
    assert build_date().isoformat() == "2025-12-01"                 # … is 12-01 in Beijing
    content = _content(tmp_path, None)
    out = tmp_path / "site"
    build(content, out, log=None)
    for page in ("index.html", "data/index.html"):
        assert '数据更新于 <time datetime="2025-12-01">2025年12月1日</time>' in (
            out / page).read_text("utf-8")
    assert "数据更新于" not in (out / "units" / "index.html").read_text("utf-8")
    assert "许可：" not in (out / "index.html").read_text("utf-8")  # none set: no footer line
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764633600")          # the next day
    build(content, out, log=None)
    assert "2025年12月2日" in (out / "index.html").read_text("utf-8")


def test_build_warns_only_without_a_public_address(tmp_path, monkeypatch, capsys):
    from jixiao.cli import main
    monkeypatch.delenv("JIXIAO_BASE_URL", raising=False)
    content = _content(tmp_path, None)
    main(["build", "--content", str(content), "--out", str(tmp_path / "a")])
    assert "no public address" in capsys.readouterr().err
    (content / "site.yaml").write_text("base_url: https://x.example.gov.cn\n", "utf-8")
    main(["build", "--content", str(content), "--out", str(tmp_path / "b")])
    assert "no public address" not in capsys.readouterr().err


def test_the_search_servers_page_has_the_same_footer(tmp_path):
    """The production server reads only the free pages and the settings of the content."""
    from wsgiref.util import setup_testing_defaults
    from jixiao.serve import make_app
    from jixiao.validate import load_pages
    content = _content(tmp_path, "licence: 可自由再利用\ncontact: 预算科\n")
    out = tmp_path / "site"
    build(content, out, log=None)
    app = make_app(out, pages=load_pages(content))
    env = {}
    setup_testing_defaults(env)
    env["PATH_INFO"], env["QUERY_STRING"] = "/search/", "q=%E7%AE%A1%E7%90%86"
    html = b"".join(app(env, lambda status, headers: None)).decode("utf-8")
    assert "许可：可自由再利用" in html and "联系我们：预算科" in html
