"""What the site consists of on disk: pages, aliases, bundle files, feeds, static files."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from tests.conftest import build, page, run_qed, write_files


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


def test_a_tag_that_would_overwrite_the_home_page_fails_the_build_and_keeps_the_site(make_site):
    site = make_site({"content/a.md": "---\ntitle: A\ntags: [x]\n---\nx\n"})
    build(site)
    home = (site / "public/index.html").read_text(encoding="utf-8")
    write_files(site, {"content/a.md": "---\ntitle: A\ntags: ['..', '../posts']\n---\nx\n"})
    result = run_qed(site)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert [line.split(": ")[0] for line in result.stderr.splitlines()[:2]] == ["content/a.md:3:1"] * 2
    assert (site / "public/index.html").read_text(encoding="utf-8") == home
