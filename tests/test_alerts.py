"""Alerts (`> [!NOTE]`, GitHub's and Obsidian's) drawn as admonitions by the theme's partial."""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt
from mdit_py_plugins.anchors import anchors_plugin

from qed.alerts import alerts_plugin
from tests.conftest import build, page
from tests.htmltree import parse_html


def make_md() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True}).use(anchors_plugin, max_level=6).use(alerts_plugin)


def test_github_alert_is_a_plain_admonition() -> None:
    tree = parse_html(make_md().render("> [!NOTE]\n> Useful *info*.\n\n> ordinary quote\n"))
    box = tree.find(class_="admonition")
    assert box.tag == "div" and "note" in box.attrs["class"].split()
    assert box.find(class_="admonition-title").text() == "Note"
    assert box.find(class_="admonition-content").find("em").text() == "info"
    assert tree.find("blockquote").text() == "ordinary quote"


@pytest.mark.parametrize(("sign", "is_open"), [("-", False), ("+", True)])
def test_obsidian_alert_with_title_and_fold_sign(sign: str, is_open: bool) -> None:
    tree = parse_html(make_md().render(f"> [!tip]{sign} A `code` title\n>\n> Body\n> more\n"))
    box = tree.find("details", class_="admonition")
    assert "tip" in box.attrs["class"].split() and ("open" in box.attrs) is is_open
    assert box.find("summary").find("code").text() == "code"
    assert box.find(class_="admonition-content").find("p").text() == "Body more"


def test_alert_with_unknown_type_and_no_body() -> None:
    box = parse_html(make_md().render("> [!Recipe] Pancakes\n")).find(class_="admonition")
    assert "recipe" in box.attrs["class"].split()
    assert box.find(class_="admonition-title").text() == "Pancakes"
    assert not box.find_all(class_="admonition-content")


def test_an_alert_in_a_page_uses_the_sites_own_admonition_partial(make_site) -> None:
    site = make_site({
        "content/posts/a.md": "---\ntitle: A\n---\n> [!NOTE]\n> Body\n",
        "layouts/partials/admonition.html": '<aside class="my-box {{ adm_type }}">{{ adm_body_html }}</aside>',
    })
    build(site)
    box = page(site, "posts/a/index.html").find("aside", class_="my-box")
    assert "NOTE" in box.attrs["class"] or "note" in box.attrs["class"]
    assert box.find("p").text() == "Body"
