"""The body stage: one page's body to a `RenderedBody` that holds nothing of the page or the site."""

from __future__ import annotations

import pickle
from pathlib import Path

from qed.bodies import RenderedBody, create_body_tools, render_body
from qed.config import load_config
from qed.content import ContentOptions, load_site
from qed.errors import Diagnostics
from qed.markers import find_markers
from qed.templates import create_environment
from tests.conftest import write_files


def rendered(tmp_path: Path, body: str, front: str = "title: P") -> RenderedBody:
    """The body stage's record of `content/posts/p.md`, rendered in this process."""
    site_root = write_files(tmp_path / "site", {"config.yaml": "title: T\nbaseURL: /notes/\n",
                                                "content/posts/p.md": f"---\n{front}\n---\n{body}"})
    diagnostics = Diagnostics()
    site = load_site(load_config(site_root, diagnostics), ContentOptions(), diagnostics)
    page = next(p for p in site.all_pages if p.source_path == "posts/p.md")
    tools = create_body_tools(site, create_environment(site_root, site.base_url), diagnostics)
    return render_body(page, site, tools)


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
