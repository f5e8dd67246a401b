"""The body stage: one page's body to a `RenderedBody` that holds nothing of the page or the site."""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

import pytest

from qed.bodies import BodyTools, RenderedBody, create_body_tools, render_body
from qed.config import load_config
from qed.content import ContentOptions, Page, Site, load_site
from qed.errors import Diagnostics, SourceText
from qed.markers import find_markers
from qed.templates import create_environment
from tests.conftest import write_files
from tests.fuzz import cases, fixture_texts
from tests.growth import assert_grows_linearly, cpu_seconds


def rendered(tmp_path: Path, body: str, front: str = "title: P") -> RenderedBody:
    """The body stage's record of `content/posts/p.md`, rendered in this process."""
    site_root = write_files(tmp_path / "site", {"config.yaml": "title: T\nbaseURL: /notes/\n",
                                                "content/posts/p.md": f"---\n{front}\n---\n{body}"})
    diagnostics = Diagnostics()
    site = load_site(load_config(site_root, diagnostics), ContentOptions(), diagnostics)
    page = next(p for p in site.all_pages if p.source_path == "posts/p.md")
    tools = create_body_tools(site, create_environment(site_root, site.base_url), diagnostics)
    return render_body(page, site, tools)


def empty_page(tmp_path: Path, config: str = "title: T\n") -> tuple[Page, Site, BodyTools]:
    """A site with one empty post, and the body stage's tools: bodies are swapped in per test."""
    files = {"config.yaml": config, "content/posts/p.md": "---\ntitle: P\n---\n"}
    site_root = write_files(tmp_path / "site", files)
    diagnostics = Diagnostics()
    site = load_site(load_config(site_root, diagnostics), ContentOptions(), diagnostics)
    page = next(p for p in site.all_pages if p.source_path == "posts/p.md")
    return page, site, create_body_tools(site, create_environment(site_root, site.base_url), diagnostics)


def with_body(page: Page, text: str) -> Page:
    return dataclasses.replace(page, file=SourceText(page.file.path, text), body_offset=0)


def test_a_record_survives_pickling_unchanged(tmp_path):
    """What crosses a process boundary or goes into the cache is the record itself: no detaching."""
    body = rendered(tmp_path, "Hello $x^2$.\n\n{{< admonition note >}}Inside $y$.{{< /admonition >}}\n")
    assert pickle.loads(pickle.dumps(body)) == body
    assert [f.tex for _, f in body.math.ordered()] == ["x^2", "y"]
    assert [kind for kind, _ in find_markers(body.content)] == ["math", "sc"]
    assert body.errors == () and body.source_path == "posts/p.md"


def test_equation_labels_are_numbered_in_document_order_with_the_pages_url(tmp_path):
    text = "$$a$$ {#eq:a}\n\n{{< raw >}}$$b \\label{eq:b}$${{< /raw >}}\n\nSee \\eqref{eq:b}.\n"
    body = rendered(tmp_path, text)
    assert {label.id: (label.text, label.url) for label in body.labels} == {
        "eq:a": ("(1)", "/notes/posts/p/#eq:a"), "eq:b": ("(2)", "/notes/posts/p/#eq:b")}
    assert [label_id for label_id, _ in body.references] == ["eq:b"]


def test_a_label_defined_twice_on_a_page_is_an_error_at_the_second(tmp_path):
    body = rendered(tmp_path, "$$a$$ {#eq:a}\n\n$$b$$ {#eq:a}\n")
    [error] = body.errors
    assert "duplicate id 'eq:a'" in error.message and error.location.line == 6


def test_math_in_the_title_is_protected_with_the_body(tmp_path):
    body = rendered(tmp_path, "Text.\n", front='title: "Why $a^2 \\\\ge 0$"')
    assert [kind for kind, _ in find_markers(body.title_html)] == ["math"]
    assert body.math.formulas[-1].tex == "a^2 \\ge 0"


def test_claims_come_back_with_their_page(tmp_path):
    body = rendered(tmp_path, '{{< theorem id="thm:a" >}}$1 = 1${{< /theorem >}}\n')
    [claim] = body.claims
    assert (claim.id, claim.number, claim.page_url) == ("thm:a", "1", "/notes/posts/p/")
    assert [label.id for label in body.labels] == ["thm:a"]


def test_fuzzed_bodies_give_located_messages_never_an_exception(tmp_path):
    """Bounded fuzz of the whole body stage (shortcodes, math, markdown, theorems) with the
    default theme's shortcodes, seeded from the fixtures: every outcome is HTML plus
    messages at a line of the page."""
    page, site, tools = empty_page(tmp_path)
    seeds = fixture_texts("shortcodes/loveit-showcase.md", "math/backpropagation-loveit.md")
    for number, text in enumerate(cases(seeds, 150)):
        body = render_body(with_body(page, text), site, tools)
        lines = text.count("\n") + 1
        for message in (*body.errors, *body.warnings):
            assert message.location is not None and message.location.path == page.file.path, (number, message)
            assert 1 <= message.location.line <= lines, (number, message)


# What made scanners quadratic once (issue 13), each repeated to fill a body.
GROWTH_UNITS = {
    "unclosed inline $ before digits": "$1 ",
    "unclosed \\[": "\\[ ",
    "unclosed \\(": "\\( ",
    "unclosed \\begin{align}": "\\begin{align} ",
    "backticks after code blocks": "```\ncode\n```\n\n` $x ",
    "identical headings": "# Same\n\n",
    "unknown shortcodes": "{{< nosuch >}} ",
    "nested shortcodes": "{{< admonition >}}",
}


@pytest.mark.parametrize("unit", GROWTH_UNITS.values(), ids=GROWTH_UNITS.keys())
def test_the_body_stage_grows_linearly_from_10_kB_to_1_MB(tmp_path, unit):
    """Ten times the text may cost about ten times the time, never a hundred: each step of
    10 kB -> 100 kB -> 1 MB is compared with the one before (a ratio, not a time limit),
    and the step to 1 MB is only taken when the one to 100 kB was linear."""
    page, site, tools = empty_page(tmp_path)

    def seconds(size: int) -> float:
        body_page = with_body(page, (unit * (size // len(unit) + 1))[:size])
        return cpu_seconds(lambda: render_body(body_page, site, tools))

    assert_grows_linearly(seconds)


# A Hugo site on LoveIt with Goldmark's passthrough as Hugo's documentation sets it up:
# math is found as the theme finds it (qed.autorender), passthrough first.
THEME_CONFIG = """title: T
theme: LoveIt
markup:
  goldmark:
    extensions:
      passthrough:
        enable: true
        delimiters:
          block: [['\\[', '\\]'], ['$$', '$$']]
          inline: [['\\(', '\\)']]
"""
# What made the theme's rule quadratic once (issue 13): (text before, unit repeated to fill a body).
THEME_GROWTH_UNITS = {
    "formulas with spaces": ("", "$ x $ between words "),
    "dollars in table rows": ("", "| $a and | b$ or | $c |\n"),
    "passthrough and environments unclosed": ("", "\\( \\[ \\begin{align} "),
    "inline HTML unclosed": ("", "a <!-- $ <? $ <!x $ "),
    "HTML block tags without their end": ("<div>\n", "<a $ <!-- $ "),
}


@pytest.mark.parametrize(("prefix", "unit"), THEME_GROWTH_UNITS.values(), ids=THEME_GROWTH_UNITS.keys())
def test_math_found_as_the_theme_finds_it_grows_linearly_from_10_kB_to_1_MB(tmp_path, prefix, unit):
    page, site, tools = empty_page(tmp_path, THEME_CONFIG)
    assert tools.math_settings.find == "auto-render" and len(tools.math_settings.passthrough) == 3

    def seconds(size: int) -> float:
        body_page = with_body(page, (prefix + unit * (size // len(unit) + 1))[:size])
        return cpu_seconds(lambda: render_body(body_page, site, tools))

    assert_grows_linearly(seconds)
