"""The dependency drawing on the verification page: which claims it shows and where."""

from __future__ import annotations

import itertools

from qed.errors import Location
from qed.theorems import Claim
from qed.verification.graph import NODE_H, NODE_W, connected, dependency_svg, layout, place, title_lines
from tests.htmltree import parse_html


def claim(key: str, *uses: str, number: int = 1) -> Claim:
    return Claim(key=key, id=key, kind="theorem", number=str(number), title=key.title(), verify=None,
                 uses=tuple(uses), expect_false=False, location=Location("post.md", number, 1),
                 page_url="/post/")


def test_only_claims_joined_by_an_edge_are_drawn():
    claims = [claim("a"), claim("lonely"), claim("b", "a"), claim("c", "missing")]
    assert [c.key for c in connected(claims)] == ["a", "b"]
    assert dependency_svg([claim("x"), claim("y")], {}) == ""


def test_each_claim_sits_below_everything_it_uses_and_nodes_never_overlap():
    claims = [claim("base"), claim("side"), claim("mid", "base"), claim("top", "mid", "side"),
              claim("also", "base")]
    nodes = {n.claim.key: n for n in layout(claims, {})}
    for node in nodes.values():
        for used in node.claim.uses:
            assert nodes[used].y + NODE_H < node.y
    boxes = sorted((n.y, n.x) for n in nodes.values())
    for (y1, x1), (y2, x2) in itertools.pairwise(boxes):
        assert y1 != y2 or x2 - x1 >= NODE_W
    assert nodes["top"].y > nodes["mid"].y > nodes["base"].y


def test_a_chain_is_one_column_narrow_enough_for_a_phone():
    chain = [claim("a")] + [claim(f"c{i}", "a" if i == 0 else f"c{i - 1}", number=i + 2) for i in range(5)]
    svg = parse_html(dependency_svg(chain, {"a": "verified"}))
    root = svg.find("svg")
    assert int(root.attrs["width"]) < 360 and len({n.x for n in layout(chain, {})}) == 1
    assert len(svg.find_all("path", "qed-edge")) == 5
    assert [a.attrs["href"] for a in svg.find_all("a")][:2] == ["/post/#a", "/post/#c0"]
    assert "qed-status-verified" in svg.find_all("a")[0].attrs["class"]


def test_an_edge_that_skips_a_layer_passes_beside_the_boxes_of_that_layer():
    claims = [claim("a"), claim("b", "a"), claim("e", "b"), claim("c", "e", "a")]
    drawing = place(claims, {})
    (lanes,) = [points for used, user, points in drawing.edges if (used.claim.key, user.claim.key) == ("a", "c")]
    assert len(lanes) == 2, "a lane in each of the two layers between"
    for x, y in lanes:
        for node in drawing.nodes:
            assert not (node.y == y and node.x <= x <= node.x + NODE_W), "the lane runs beside every box"


def test_titles_wrap_at_words_instead_of_being_cut():
    assert title_lines("Partial derivatives of a differentiable function") == [
        "Partial derivatives of", "a differentiable", "function"]
    assert all(len(line) <= 22 for line in title_lines("Error terms are derivatives of the cost"))
    svg = parse_html(dependency_svg([claim("a"), claim("b", "a")], {}))
    assert "…" not in svg.text()
