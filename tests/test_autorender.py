"""Finding math as LoveIt, DoIt and FixIt do (qed/autorender.py): one fixture per rule, and
the real KaTeX auto-render in Chromium over the same posts' HTML as the judge."""

from __future__ import annotations

from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from qed.autorender import DOIT_DELIMITERS, LOVEIT_DELIMITERS, Delimiter, find_math
from qed.katex import DEBIAN_DIST, dist_at, user_cache_dir
from qed.markers import marker
from qed.math import PINNED_KATEX_VERSION
from tests.chromium import launched, needs_chromium

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "math" / "autorender"
# Goldmark's passthrough as FixIt's docs set it (every delimiter), and as DoIt's do (only \[ and \()
FIXIT_PASSTHROUGH = (Delimiter("\\[", "\\]", True), Delimiter("$$", "$$", True),
                     Delimiter("\\(", "\\)", False), Delimiter("$", "$", False))
DOIT_PASSTHROUGH = (Delimiter("\\[", "\\]", True), Delimiter("\\(", "\\)", False))


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def found(text: str, delimiters=LOVEIT_DELIMITERS, passthrough=(), **kwargs) -> list[tuple[str, bool]]:
    return [(f.tex, f.display) for f in find_math(text, delimiters, passthrough, **kwargs)]


def test_spaces_inside_dollars_are_math_and_leave_no_dollar():
    text = fixture("spaces.md")
    formulas = find_math(text, LOVEIT_DELIMITERS)
    assert [(f.tex, f.display) for f in formulas] == [(" S_{t+1} ", False), (" x ", False), ("y^2", False)]
    starts, ends = [0] + [f.end for f in formulas], [f.start for f in formulas] + [len(text)]
    rest = "".join(text[a:b] for a, b in zip(starts, ends, strict=True))
    assert "$" not in rest


def test_a_dollar_never_pairs_across_table_cells():
    assert found(fixture("tables.md")) == [("1 per y", False), ("a+b", False), ("\\alpha_1", False)]


def test_a_dollar_never_pairs_across_blocks():
    """Heading and paragraph, two list items, two paragraphs of a quote: none pair up."""
    assert found(fixture("blocks.md")) == [("c", False)]


def test_raw_html_blocks_keep_their_backslashes():
    """Goldmark leaves an HTML block alone: `\\\\` stays a row break there; outside, it is written twice."""
    assert found(fixture("html-block.md")) == [(" a \\\\ b ", True), (" c \\\\ d ", True)]


def test_ignored_tags_and_code_are_not_searched():
    assert found(fixture("ignored.md")) == [("k", False)]


def test_emphasis_goldmark_starts_inside_a_formula_splits_it():
    """Unescaped stars that open and close emphasis, or an underscore after punctuation, end
    a text node in the middle of the formula; escaped stars and a lone closer do not."""
    assert found(fixture("emphasis.md")) == [("x^*y + z^*", False), ("a^* + b^*", False), ("w", False)]


def test_links_and_images_are_elements():
    """A link's text is a node of its own and `](url)` no text; an image's alt text is no text."""
    assert found(fixture("links.md")) == [("n = 1", False), ("y", False), ("[0,1]", False)]


def test_passthrough_delimiters_pass_verbatim_and_close_at_the_first_closer():
    """FixIt: everything passes through; `\\$` inside a `$` formula closes it, as Goldmark's does."""
    formulas = find_math(fixture("passthrough.md"), (), FIXIT_PASSTHROUGH)
    assert [(f.tex, f.display, f.passthrough) for f in formulas] == [
        (" a \\\\ b \\_c ", False, True), ("x \\\\_y", False, True),
        (" \\begin{matrix} 1 \\\\ 2 \\end{matrix} ", True, True), ("p \\", False, True)]


def test_only_the_listed_delimiters_pass_through():
    """DoIt's example passes \\[ and \\( through; `$` goes through Goldmark's escapes to auto-render."""
    assert found(fixture("passthrough.md"), DOIT_DELIMITERS, DOIT_PASSTHROUGH) == [
        (" a \\\\ b \\_c ", False), ("x \\_y", False), (" \\begin{matrix} 1 \\\\ 2 \\end{matrix} ", True),
        ("p ", False)]


def test_without_passthrough_goldmark_eats_the_backslashes_of_brackets():
    """LoveIt without passthrough: `\\(` reaches the browser as `(` (no math), `\\\\_` as `\\_`."""
    assert found(fixture("passthrough.md")) == [("x \\_y", False), ("p ", False)]


def test_an_opener_without_closer_leaves_the_rest_of_its_text_node_as_text():
    assert found("a $x and \\\\(y\\\\) here\n\nthen \\\\(z\\\\)") == [("z", False)]


def test_a_shortcode_is_an_element_of_its_own():
    assert found(f"$a {marker('sc', '0')} b$ costs") == []
    assert found(f"$a$ {marker('sc', '0')} $b$") == [("a", False), ("b", False)]


def test_environments_keep_their_begin_and_end_and_doit_has_none():
    text = "\\begin{align} a \\\\\\\\ b \\end{align}"
    assert found(text) == [("\\begin{align} a \\\\ b \\end{align}", True)]
    assert found(text, DOIT_DELIMITERS) == []


def test_raw_shortcode_html_is_searched_as_written():
    html = "<span>\\[ a \\\\ b \\]</span><script>$x$</script> $y &lt; z$"
    assert found(html, html_only=True) == [(" a \\\\ b ", True), ("y < z", False)]


def test_the_span_of_a_formula_is_its_place_in_the_source():
    text = "x \\\\( a \\\\_b \\\\) y"
    (formula,) = find_math(text, LOVEIT_DELIMITERS)
    assert text[formula.start:formula.end] == "\\\\( a \\\\_b \\\\)" and formula.tex == " a \\_b "
    assert formula.shown == "\\( a \\_b \\)"


# -- the judge: KaTeX's own auto-render over the posts' HTML ------------------------------------------

def _auto_render_dist():
    for dist in (dist_at(DEBIAN_DIST, "debian"), dist_at(user_cache_dir() / PINNED_KATEX_VERSION, "cache")):
        if dist is not None and any((dist.root / "contrib" / n).is_file() for n in ("auto-render.min.js",
                                                                                   "auto-render.js")):
            return dist
    return None


@pytest.fixture(scope="module")
def browser():
    with launched() as chromium:
        yield chromium


@needs_chromium
@pytest.mark.skipif(_auto_render_dist() is None, reason="needs KaTeX's auto-render (CI installs libjs-katex)")
@pytest.mark.parametrize("name", ["spaces.md", "tables.md", "blocks.md", "html-block.md", "ignored.md",
                                  "emphasis.md", "links.md"])
def test_qed_finds_what_auto_render_finds_in_the_browser(name, browser):
    """The post through a CommonMark renderer (Goldmark's escapes, tables, raw HTML), then
    LoveIt's renderMathInElement in Chromium: its formulas are the ones qed finds."""
    dist = _auto_render_dist()
    contrib = dist.root / "contrib"
    auto_render = next(contrib / n for n in ("auto-render.min.js", "auto-render.js") if (contrib / n).is_file())
    body = MarkdownIt("commonmark", {"html": True}).enable("table").render(fixture(name))
    delimiters = [{"left": d.left, "right": d.right, "display": d.display} for d in LOVEIT_DELIMITERS]
    page = browser.new_page()
    try:
        page.set_content(f"<!DOCTYPE html><html><body>{body}</body></html>")
        page.add_script_tag(content=dist.js.read_text(encoding="utf-8"))
        page.add_script_tag(content=auto_render.read_text(encoding="utf-8"))
        seen = page.evaluate("""(delimiters) => {
            renderMathInElement(document.body, {delimiters: delimiters, strict: false});
            return [...document.querySelectorAll('.katex')].map(k => [
                k.querySelector('annotation').textContent, !!k.closest('.katex-display')]);
        }""", delimiters)
    finally:
        page.close()
    assert [tuple(pair) for pair in seen] == found(fixture(name))
