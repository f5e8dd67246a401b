"""Numbering, labels and references of theorem-like blocks, and the claim templates."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jinja2
import pytest
from markdown_it import MarkdownIt

from qed.body import BodyContext
from qed.errors import Diagnostics, Location, SourceText
from qed.markers import find_markers, marker
from qed.shortcodes_builtin import run_in
from qed.theorems import PageClaims, TheoremSettings, reference_plugin
from tests.htmltree import same_html

LAYOUTS = Path(__file__).resolve().parents[1] / "theme" / "layouts"


def make_ctx(text: str = "", theorems: dict[str, Any] | None = None, body_offset: int = 0) -> BodyContext:
    config = SimpleNamespace(section=lambda name: dict(theorems or {}) if name == "theorems" else {},
                             base_url="https://example.org/notes/")
    ctx = BodyContext(
        source=SourceText("content/posts/x.md", text),
        page=SimpleNamespace(rel_permalink="/notes/posts/x/", title="X", source_path="posts/x.md",
                             body_offset=body_offset),
        site=SimpleNamespace(config=config),
        templates=None,
        diagnostics=Diagnostics(),
        markdown=lambda text, origin: f"<p>{text}</p>",
        markdown_inline=lambda text, origin: text,
    )
    ctx.claims = PageClaims(ctx)
    return ctx


def at(line: int) -> Location:
    return Location("content/posts/x.md", line, 1)


def test_shared_counter_numbers_all_kinds_in_one_sequence() -> None:
    ctx = make_ctx()
    a = ctx.claims.declare("theorem", {"id": "thm:a", "title": "Chain Rule"}, "x", at(1))
    b = ctx.claims.declare("lemma", {}, "y", at(2))
    p = ctx.claims.declare("proof", {}, "z", at(3))
    d = ctx.claims.declare("definition", {"id": "def:d"}, "w", at(4))
    assert (a.display, b.heading, p.heading, d.heading) == ("Theorem 1 (Chain Rule)", "Lemma 2", "Proof",
                                                            "Definition 3")
    assert ctx.labels["thm:a"].text == "Theorem 1"
    assert ctx.labels["thm:a"].url == "/notes/posts/x/#thm:a"
    assert a.base_path == "/notes/"
    assert ctx.claims.claims[0].key == "thm:a"
    assert not ctx.diagnostics.errors


def test_per_type_counter() -> None:
    ctx = make_ctx(theorems={"counter": "per-type"})
    numbers = [ctx.claims.declare(kind, {}, "", at(i)).heading
               for i, kind in enumerate(["theorem", "lemma", "theorem", "lemma", "corollary"], 1)]
    assert numbers == ["Theorem 1", "Lemma 1", "Theorem 2", "Lemma 2", "Corollary 1"]


def test_reset_per_section_numbers_within_h2_sections() -> None:
    text = "intro\n\n## One\n\nA\n\n```\n## not a heading\n```\n\nB\n\n## Two\n\nC\n"
    ctx = make_ctx(text, {"reset": "section"})
    lines = [5, 11, 15]
    assert [ctx.claims.declare("theorem", {}, "", at(n)).heading for n in lines] == [
        "Theorem 1.1", "Theorem 1.2", "Theorem 2.1"]


def test_sections_are_the_headings_markdown_sees_not_front_matter_or_code() -> None:
    front = "---\ntitle: X\n---\n"
    text = front + "A\n\n- item\n\n      ## code in the item\n\nSection\n-------\n\nB\n"
    ctx = make_ctx(text, {"reset": "section"}, body_offset=len(front))
    assert [ctx.claims.declare("theorem", {}, "", at(n)).heading for n in (4, 13)] == [
        "Theorem 0.1", "Theorem 1.1"]


def test_bad_settings_and_arguments_are_reported() -> None:
    diagnostics = Diagnostics()
    assert TheoremSettings.from_config({"counter": "both"}, diagnostics).counter == "shared"
    assert "theorems.counter" in diagnostics.errors[0].message
    ctx = make_ctx()
    ctx.claims.declare("theorem", {"verify": ""}, "", at(3))
    ctx.claims.declare("theorem", {"id": "9bad"}, "", at(4))
    ctx.claims.declare("theorem", {"expect": "maybe"}, "", at(5))
    ctx.claims.declare("proof", {"verify": "m:f"}, "", at(6))
    ctx.claims.declare("theorem", {"id": "thm:d"}, "", at(7))
    ctx.claims.declare("theorem", {"id": "thm:d"}, "", at(8))
    messages = [(e.location.line, e.message) for e in ctx.diagnostics.errors]
    assert any(line == 3 and "names nothing" in m for line, m in messages)
    assert any(line == 4 and "id '9bad'" in m for line, m in messages)
    assert any(line == 5 and "expect=" in m for line, m in messages)
    assert any(line == 6 and "proof cannot" in m for line, m in messages)
    assert any(line == 8 and "duplicate id" in m for line, m in messages)


def test_claim_arguments() -> None:
    ctx = make_ctx()
    c = ctx.claims.declare("theorem", {"id": "thm:c", "verify": "calc:check", "uses": "lem:a, def:b",
                                        "expect": "false", "samples": "5", "timeout": "2.5", "memory": "512"},
                           "body", at(1))
    assert (c.verify, c.uses, c.expect_false, c.samples, c.timeout, c.memory) == (
        "calc:check", ("lem:a", "def:b"), True, 5, 2.5, 512)
    positional = ctx.claims.declare("lemma", ["Named"], "", at(2))
    assert positional.title == "Named"
    anonymous = ctx.claims.declare("remark", {}, "", at(3))
    assert anonymous.id is None and anonymous.key.startswith("claim-posts-x.md-")


def test_admonition_title_gives_kind_and_title() -> None:
    ctx = make_ctx()
    ctx.claims.declare("theorem", {}, "", at(1))
    c = ctx.claims.declare("admonition", {"type": "note", "title": "Theorem 2 (Chain Rule)",
                                          "verify": "calc:f", "id": "thm:chain"}, "", at(2))
    assert (c.kind, c.title, c.heading) == ("theorem", "Chain Rule", "Theorem 2")
    wrong = ctx.claims.declare("admonition", {"title": "Lemma 7", "verify": "calc:f"}, "", at(3))
    assert wrong.heading == "Lemma 3"
    assert any("says Lemma 7" in w.message for w in ctx.diagnostics.warnings)
    assert ctx.claims.declare("admonition", {"title": "Note", "verify": "c:f"}, "", at(4)) is None


def render_md(text: str, ctx: BodyContext) -> str:
    md = MarkdownIt("commonmark").use(reference_plugin)
    return md.render(text, {"qed_ctx": ctx, "qed_origin": Location("content/posts/x.md", 10)})


def test_reference_plugin_emits_ref_markers_with_lines() -> None:
    ctx = make_ctx()
    html = render_md("By @thm:chain-rule and\n[](#lem:a), mail a@b.com, `@thm:code`.\n\n@thm:x.", ctx)
    assert find_markers(html, "ref") == [("ref", "thm:chain-rule"), ("ref", "lem:a"), ("ref", "thm:x")]
    assert [(i, loc.line) for i, loc in ctx.references] == [("thm:chain-rule", 10), ("lem:a", 11), ("thm:x", 13)]
    assert "a@b.com" in html and "<code>@thm:code</code>" in html
    plain = MarkdownIt("commonmark").use(reference_plugin).render("@thm:x")
    assert "@thm:x" in plain


@pytest.fixture()
def env() -> jinja2.Environment:
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(str(LAYOUTS)), autoescape=True)
    environment.filters["markdownify"] = lambda text: jinja2.utils.markupsafe.Markup(f"<p>{text}</p>")
    environment.filters["markdownify_inline"] = lambda text: jinja2.utils.markupsafe.Markup(text)
    environment.filters["run_in"] = lambda body, lead, tail: jinja2.utils.markupsafe.Markup(
        run_in(str(body), str(lead), str(tail)))
    environment.globals["marker"] = marker
    return environment


def test_theorem_template_renders_heading_body_and_badge_marker(env: jinja2.Environment) -> None:
    ctx = make_ctx()
    html = env.get_template("shortcodes/theorem.html").render(
        name="theorem", params={"id": "thm:chain", "title": "Chain <Rule>", "verify": "c:f"},
        inner="If $f$ ...", position=at(3), ctx=ctx)
    assert 'id="thm:chain"' in html and "Theorem 1</a>" in html
    assert "(Chain <Rule>)" in html  # title is markdown, rendered by markdownify_inline
    assert find_markers(html, "claim") == [("claim", "thm:chain"), ("claim", "thm:chain#links"),
                                            ("claim", "thm:chain#detail")]
    proof = env.get_template("shortcodes/proof.html").render(name="proof", params={}, inner="Easy.",
                                                             position=at(9), ctx=ctx)
    assert same_html(proof, '<div class="qed-proof"><p><em class="qed-proof-head">Proof.</em> Easy.'
                            '<span class="qed-qed" aria-hidden="true">∎</span></p></div>')


def test_every_kind_has_a_template(env: jinja2.Environment) -> None:
    for kind in ("theorem", "lemma", "proposition", "corollary", "definition", "example", "exercise",
                 "remark", "proof"):
        ctx = make_ctx()
        html = env.get_template(f"shortcodes/{kind}.html").render(
            name=kind, params={}, inner="x", position=at(1), ctx=ctx)
        assert ctx.claims.claims[0].kind == kind and html.strip()
