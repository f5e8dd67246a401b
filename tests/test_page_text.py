"""The finishing stage: markers resolved, and what is derived from a body (summary, words, search text)."""

from __future__ import annotations

from qed.body import Label
from qed.errors import Location
from tests.conftest import build, page


def test_a_title_with_math_is_typeset_on_its_page(make_site):
    site = make_site({"config.yaml": "title: T\n",
                      "content/p.md": '---\ntitle: "Why $a^2 \\\\ge 0$"\n---\nText.\n'})
    build(site)
    heading = page(site, "p/index.html").find("h1")
    assert heading.find("span", "katex") is not None
    assert [a.text() for a in heading.find_all("annotation")] == ["a^2 \\ge 0"]


def test_summary_stops_at_more_and_the_reading_time_counts_the_words(make_site):
    words = " ".join(["word"] * 450)
    site = make_site({"config.yaml": "title: T\n",
                      "content/posts/p.md": f"---\ntitle: P\n---\nFirst $x$.\n\n<!--more-->\n\n{words}\n"})
    build(site)
    [summary] = page(site, "index.html").find_all("article", class_="summary")
    assert "First" in summary.text() and "word" not in summary.text()
    assert page(site, "posts/p/index.html").find("span", class_="reading-time").text() == "3 min read"


def test_references_resolve_to_links_and_search_text_keeps_the_tex(make_site):
    site = make_site({"config.yaml": "title: T\nsearch: {enabled: true}\n",
                      "content/a.md": "---\ntitle: A\n---\n$$e = mc^2$$ {#eq:e}\n",
                      "content/b.md": "---\ntitle: B\n---\nBy \\eqref{eq:e}, $x_1$ holds.\n"})
    build(site)
    link = page(site, "b/index.html").find("a", class_="ref")
    assert link.attrs["href"].endswith("/a/#eq:e") and link.text() == "(1)"
    index = (site / "public" / "search" / "index.json").read_text(encoding="utf-8")
    assert "x_1" in index and "katex" not in index


def test_label_type_is_what_references_print():
    label = Label("thm:x", "Theorem 2", "/p/#thm:x", Location("p.md", 3, 1))
    assert (label.kind, label.text) == ("claim", "Theorem 2")


def test_a_title_with_math_is_text_not_html_everywhere_it_is_shown(make_site):
    title = "<script>alert(1)</script> and $x$"
    site = make_site({"config.yaml": "title: T\n",
                      "content/posts/p.md": f"---\ntitle: '{title}'\ndate: 2024-01-01\n---\nText.\n"})
    build(site)
    for shown in ("posts/p/index.html", "posts/index.html", "index.html"):
        tree = page(site, shown)
        assert not [s for s in tree.find_all("script") if "alert" in s.text()], shown
    heading = page(site, "posts/p/index.html").find("h1")
    assert "<script>alert(1)</script>" in heading.text() and heading.find("span", "katex") is not None
