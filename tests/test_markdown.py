"""Markdown: CommonMark plus Hugo's extensions, heading ids, code highlighting, the TOC."""

from qed.markdown import HeadingIds, MarkdownOptions, build_toc, create_markdown, render_markdown, slugify
from qed.markers import marker
from tests.htmltree import parse_html, same_html

MD = create_markdown(MarkdownOptions())


def render(text, ids=None, **kw):
    return render_markdown(MD, text, ids or HeadingIds(), **kw)


def test_extensions_a_hugo_post_uses():
    doc = parse_html(render("| a | b |\n|---|---|\n| 1 | 2 |\n\n~~gone~~\n\n- [x] done\n\nTerm\n: meaning\n\n"
                            "Note[^1].\n\n[^1]: The note."))
    assert [td.text() for td in doc.find_all("td")] == ["1", "2"]
    assert doc.find("s").text() == "gone"
    assert doc.find("input").attrs["type"] == "checkbox"
    assert doc.find("dd").text() == "meaning"
    assert doc.find("section", class_="footnotes").text().startswith("The note.")


def test_heading_ids_are_github_style_and_unique_across_calls():
    ids = HeadingIds()
    first = parse_html(render("## The Chain Rule!\n\n## The Chain Rule!", ids))
    second = parse_html(render("## The chain rule", ids))
    assert [h.attrs["id"] for h in first.find_all("h2")] == ["the-chain-rule", "the-chain-rule-1"]
    assert second.find("h2").attrs["id"] == "the-chain-rule-2"


def test_an_explicit_id_taking_a_numbered_one_is_skipped_by_later_headings():
    doc = parse_html(render("## Same\n\n## Other {#same-1}\n\n## Same\n\n## Same\n\n## Same-1\n"))
    assert [h.attrs["id"] for h in doc.find_all("h2")] == ["same", "same-1", "same-2", "same-3", "same-1-1"]


def test_explicit_heading_id_and_class():
    html = render("## Backprop {#bp .important}")
    assert same_html(html, '<h2 id="bp" class="important">Backprop</h2>')


def test_markers_survive_markdown_untouched():
    m = marker("math", "0")
    html = render(f"*x* {m} and {m}_{m}")
    assert html.count(m) == 3


def test_fenced_code_is_highlighted_with_css_classes():
    doc = parse_html(render("```python\ndef f(x):\n    return x\n```"))
    code = doc.find("div", class_="highlight").find("code")
    assert code.attrs["data-lang"] == "python"
    assert code.find("span", class_="k").text() == "def"


def test_raw_html_passes_by_default_and_can_be_turned_off():
    assert "<kbd>" in render("<kbd>Ctrl</kbd>")
    safe = create_markdown(MarkdownOptions(unsafe=False))
    assert "<kbd>" not in render_markdown(safe, "<kbd>Ctrl</kbd>", HeadingIds())


def test_table_of_contents_nests_by_level():
    ids = HeadingIds()
    render("# Title\n\n## A\n\n### A.1\n\n## B", ids, collect_toc=True)
    assert same_html(build_toc(ids.headings), '<nav id="TableOfContents" aria-label="Contents">'
                     '<ul><li><a href="#a">A</a><ul>'
                     '<li><a href="#a1">A.1</a></li></ul></li><li><a href="#b">B</a></li></ul></nav>')


def test_slugify_drops_markers_and_punctuation():
    assert slugify(f"Proof of {marker('math', '3')} (sketch)") == "proof-of--sketch"
