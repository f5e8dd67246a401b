"""What the site consists of on disk: pages, aliases, bundle files, feeds, static files."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from qed.publishing import relative_urls
from tests.conftest import build, page


def test_aliases_redirect_bundles_travel_and_a_sites_static_file_wins(make_site):
    site = make_site({
        "config.yaml": "title: T\nbaseURL: https://x.org/\n",
        "content/posts/b/index.md": "---\ntitle: B\ndate: 2024-01-02\naliases: [/old/b/]\n---\nBody\n",
        "content/posts/b/data.csv": "x,y\n",
        "static/css/main.css": "/* mine */\n",
    })
    build(site)
    public = site / "public"
    redirect = page(site, "old/b/index.html").find("link", rel="canonical")
    assert redirect.attrs["href"] == "https://x.org/posts/b/"
    assert (public / "posts/b/data.csv").read_text() == "x,y\n"
    assert (public / "css/main.css").read_text() == "/* mine */\n"


def test_feeds_list_a_sections_pages_newest_first(make_site):
    site = make_site({
        "config.yaml": "title: T\nbaseURL: https://x.org/\n",
        "content/posts/a.md": "---\ntitle: Old\ndate: 2024-01-01\n---\nx\n",
        "content/posts/b.md": "---\ntitle: New\ndate: 2024-02-01\n---\ny\n",
    })
    build(site)
    feed = ET.fromstring((site / "public/posts/index.xml").read_text(encoding="utf-8"))
    assert [item.findtext("title") for item in feed.iter("item")] == ["New", "Old"]
    sitemap = (site / "public/sitemap.xml").read_text(encoding="utf-8")
    assert "https://x.org/posts/a/" in sitemap and "https://x.org/posts/b/" in sitemap


def test_a_language_code_cannot_break_out_of_a_redirect_page(make_site):
    site = make_site({"config.yaml": 'title: T\nlanguageCode: en"><script>alert(1)</script>\n',
                      "content/a.md": "---\ntitle: A\naliases: [/old/]\n---\nx\n"})
    build(site)
    redirect = page(site, "old/index.html")
    assert redirect.find_all("script") == [] and redirect.find("html").attrs["lang"].startswith('en">')


def test_relative_urls_point_from_the_page_to_the_file_and_name_folder_indexes() -> None:
    html = ('<a href="/posts/x/#eq:1">x</a><img src="/img/a.png" srcset="/a.png 1x, /b.png 2x">'
            '<a href="//cdn.example/x">cdn</a><a href="https://e.org/">e</a><form action="/search/"></form>'
            '<pre>href="/kept/"</pre>')
    assert relative_urls(html, "../../") == (
        '<a href="../../posts/x/index.html#eq:1">x</a>'
        '<img src="../../img/a.png" srcset="../../a.png 1x, ../../b.png 2x">'
        '<a href="//cdn.example/x">cdn</a><a href="https://e.org/">e</a><form action="../../search/index.html"></form>'
        '<pre>href="/kept/"</pre>')
    assert relative_urls('<a href="/blog/">home</a>', "./", "/blog/") == '<a href="./index.html">home</a>'


def test_relative_urls_reach_every_html_file_of_the_build(make_site) -> None:
    site = make_site({"config.yaml": "title: T\nrelativeURLs: true\nbaseURL: https://e.org/blog/\n",
                      "content/posts/a.md": "---\ntitle: A\ntags: [x]\n---\nText.\n"})
    build(site)
    post = page(site, "posts/a/index.html")
    assert {link.attrs["href"] for link in post.find_all("link") if "stylesheet" in link.attrs["rel"]} >= {
        "../../css/main.css"}
    assert page(site, "index.html").find(class_="summary").find("a").attrs["href"] == "./posts/a/index.html"
    assert page(site, "tags/x/index.html").find("a", class_="site-title").attrs["href"] == "../../index.html"
    assert "https://e.org/blog/posts/a/" in (site / "public" / "index.xml").read_text(encoding="utf-8")
    assert page(site, "404.html").find("a", class_="site-title").attrs["href"] == "/blog/", "shown at any depth"
