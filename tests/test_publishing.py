"""What the site consists of on disk: pages, aliases, bundle files, feeds, static files."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from qed.publishing import relative_urls
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


def test_symbolic_links_out_of_the_site_are_not_published_and_each_is_named(make_site, tmp_path):
    outside = write_files(tmp_path / "outside", {"secret.txt": "password\n", "keys/id_rsa": "private\n"})
    site = make_site({
        "content/posts/b/index.md": "---\ntitle: B\n---\nBody\n",
        "assets/logo.svg": "<svg/>\n",
        "assets/icons/a.svg": "<svg id='a'/>\n",
        "static/robots.txt": "User-agent: *\n",
    })
    links = {"static/secret.txt": outside / "secret.txt", "static/keys": outside / "keys",
             "content/posts/b/stolen.txt": outside / "secret.txt",
             "static/logo.svg": Path("../assets/logo.svg"), "static/icons": site / "assets/icons",
             "static/icons-again/loop": Path("..")}
    for link, target in links.items():
        (site / link).parent.mkdir(parents=True, exist_ok=True)
        (site / link).symlink_to(target)
    result = build(site)
    public = site / "public"
    assert not (public / "secret.txt").exists() and not (public / "keys").exists()
    assert not (public / "posts/b/stolen.txt").exists()
    warnings = sorted(line for line in result.stderr.splitlines() if line.startswith("warning:"))
    assert warnings == [
        f"warning: content/posts/b/stolen.txt: not published: a symbolic link to {outside / 'secret.txt'}, "
        "outside the site",
        f"warning: static/keys: not published: a symbolic link to {outside / 'keys'}, outside the site",
        f"warning: static/secret.txt: not published: a symbolic link to {outside / 'secret.txt'}, outside the site",
    ]
    assert (public / "logo.svg").read_text() == "<svg/>\n"  # links inside the site are followed
    assert (public / "icons/a.svg").read_text() == "<svg id='a'/>\n"
    assert not (public / "icons-again/loop").exists()  # a link back to a folder it is in: not again
    assert (public / "robots.txt").exists()


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
