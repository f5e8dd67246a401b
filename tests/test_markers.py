"""Markers: inert placeholders, made by one helper, that user text can never imitate."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from qed.markers import (
    escape_text,
    find_markers,
    marker,
    marker_pattern,
    resolve_markers,
    strip_markers,
    unescape_text,
    unwrap_block_markers,
)
from tests.conftest import build, page

PRIVATE = "\ue000\ue001\ue002"


@given(st.text(alphabet=st.sampled_from([*PRIVATE, "a", "0", "1", "2", ":", "m"]), max_size=40))
def test_escaped_user_text_holds_no_marker_and_comes_back_exactly(text):
    escaped = escape_text(text)
    assert find_markers(escaped) == [] and "\ue000" not in escaped and "\ue001" not in escaped
    assert unescape_text(escaped) == text


def test_markers_resolve_nested_and_unknown_kinds_wait():
    text = f"a {marker('sc', '0')} b {marker('later', 'x')}"
    resolved = resolve_markers(text, {"sc": lambda key: f"<i>{marker('math', '1')}</i>", "math": lambda k: "M" + k})
    assert resolved == f"a <i>M1</i> b {marker('later', 'x')}"
    assert strip_markers(resolved) == "a <i>M1</i> b "


def test_marker_pattern_matches_only_its_kind():
    pattern = re.compile(marker_pattern("math", r"\d+"))
    assert pattern.fullmatch(marker("math", "12")).group(1) == "12"
    assert pattern.search(marker("sc", "12")) is None


def test_a_block_marker_alone_in_a_paragraph_loses_the_paragraph():
    html = f"<p>{marker('sc', '0')}</p><p>x {marker('sc', '1')}</p>"
    assert unwrap_block_markers(html, frozenset({"sc"})) == f"{marker('sc', '0')}<p>x {marker('sc', '1')}</p>"


def test_marker_characters_written_by_a_user_show_as_written(make_site):
    fake = "\ue000math:0\ue001 and \ue000sc:0\ue001 and \ue002"
    site = make_site({"config.yaml": "title: T\n",
                      "content/p.md": f"---\ntitle: P\n---\n$x$ then {fake}\n\n    code {fake}\n\n"
                                      "{{< admonition note >}}inside{{< /admonition >}}\n"})
    build(site)
    html = (site / "public" / "p" / "index.html").read_text(encoding="utf-8")
    assert html.count(fake) == 2 and "\ue000" + "alert" not in html
    tree = page(site, "p/index.html")
    assert len(tree.find_all("span", "katex")) == 1 and len(tree.find_all(class_="admonition")) == 1
