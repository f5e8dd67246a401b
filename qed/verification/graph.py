"""The `uses` graph as inline SVG: a layered layout computed here, readable without JavaScript.

Only claims joined by a `uses` edge are drawn (the table lists the rest). Layers run top to
bottom by dependency depth (a claim sits below everything it uses), so the drawing stays
narrow enough for an article column and a phone; an edge that skips layers has a lane of
its own in each layer it crosses (never behind a box); inside a layer boxes and lanes are
ordered by the mean position of what they come from, which keeps most edges short. Each
node links to its claim; the fill colour is the status, the label the claim's heading and
its title, wrapped.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from qed.theorems import Claim

NODE_W, NODE_H = 150, 44  # a node's width, and its height with one line of title
LINE_H, TITLE_CHARS, TITLE_LINES = 14, 22, 3  # a title wraps at words into at most 3 lines
WAY_W = 10  # the room a long edge takes in a layer it passes through
SLOT_GAP, LAYER_GAP, MARGIN = 10, 40, 8

STATUS_COLOURS = {
    "verified": "#c8ecc1",
    "expected-false": "#e3d7f5",
    "falsified": "#f6c4c4",
    "error": "#f6c4c4",
    "timeout": "#f8dcb4",
    "blocked": "#eeeeee",
    "unchecked": "#ffffff",
}


@dataclass(frozen=True)
class Node:
    claim: Claim
    status: str
    layer: int  # 0 = uses nothing drawn
    x: int  # left edge
    y: int  # top edge
    height: int = NODE_H


@dataclass(frozen=True)
class Drawing:
    """Where everything goes: the nodes, each edge as the points it passes, the size."""

    nodes: list[Node]
    edges: list[tuple[Node, Node, list[tuple[float, float]]]]  # (used, user, waypoints between them)
    width: int
    height: int


def connected(claims: list[Claim]) -> list[Claim]:
    """The claims that use, or are used by, another claim of the list, in their order."""
    keys = {c.key for c in claims}
    linked = {c.key for c in claims if any(d in keys for d in c.uses)}
    linked |= {d for c in claims for d in c.uses if d in keys}
    return [c for c in claims if c.key in linked]


def title_lines(title: str) -> list[str]:
    """A claim's title wrapped at words into at most TITLE_LINES lines (the last one cut with
    an ellipsis only when even that is not enough; the tooltip has it whole)."""
    lines: list[str] = []
    for word in title.split():
        if lines and len(lines[-1]) + 1 + len(word) <= TITLE_CHARS:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) > TITLE_LINES:
        lines = lines[:TITLE_LINES]
        lines[-1] = lines[-1][:TITLE_CHARS - 1] + "…"
    return [line if len(line) <= TITLE_CHARS else line[:TITLE_CHARS - 1] + "…" for line in lines]


def _depths(claims: list[Claim]) -> dict[str, int]:
    """Layer of each claim: the longest `uses` chain below it."""
    keys = {c.key for c in claims}
    by_key = {c.key: c for c in claims}
    depths: dict[str, int] = {}

    def depth(key: str, trail: frozenset[str]) -> int:
        if key in depths:
            return depths[key]
        deps = [d for d in by_key[key].uses if d in keys and d not in trail]
        depths[key] = 0 if not deps else 1 + max(depth(d, trail | {key}) for d in deps)
        return depths[key]

    for claim in claims:
        depth(claim.key, frozenset())
    return depths


def place(claims: list[Claim], statuses: dict[str, str]) -> Drawing:
    """A layered drawing: each claim below what it uses; an edge that spans several layers
    gets a lane of its own in each layer it crosses, so it never runs behind a box; inside a
    layer, boxes and lanes are ordered by the mean position of what they come from."""
    depths = _depths(claims)
    keys = {c.key for c in claims}
    lines = max((len(title_lines(c.title or "")) for c in claims), default=1)
    node_h = NODE_H + LINE_H * max(0, lines - 1)
    band = node_h + LAYER_GAP
    count = max(depths.values(), default=-1) + 1
    # Items of a layer: ("claim", key) or ("lane", (used, user)); what each comes from.
    layers: list[list[tuple[str, object]]] = [[] for _ in range(count)]
    above: dict[tuple[str, object], list[tuple[str, object]]] = {}
    for claim in claims:
        item = ("claim", claim.key)
        layers[depths[claim.key]].append(item)
        above[item] = []
        for dep in claim.uses:
            if dep not in keys or dep == claim.key or depths[dep] >= depths[claim.key]:
                continue
            previous: tuple[str, object] = ("claim", dep)
            for layer in range(depths[dep] + 1, depths[claim.key]):
                lane = ("lane", (dep, claim.key, layer))
                layers[layer].append(lane)
                above[lane] = [previous]
                previous = lane
            above[item].append(previous)

    def width_of(item: tuple[str, object]) -> int:
        return NODE_W if item[0] == "claim" else WAY_W

    widths = [sum(width_of(i) for i in members) + SLOT_GAP * max(0, len(members) - 1) for members in layers]
    widest = max(widths, default=0)
    centre: dict[tuple[str, object], float] = {}
    left: dict[tuple[str, object], float] = {}
    for number, members in enumerate(layers):
        order = {item: i for i, item in enumerate(members)}

        def barycentre(item: tuple[str, object], order: dict = order) -> tuple[float, int]:
            placed = [centre[a] for a in above[item] if a in centre]
            return (sum(placed) / len(placed) if placed else -1.0, order[item])

        x = MARGIN + (widest - widths[number]) / 2
        for item in sorted(members, key=barycentre):
            left[item], centre[item] = x, x + width_of(item) / 2
            x += width_of(item) + SLOT_GAP
    by_key = {c.key: c for c in claims}
    nodes = {key: Node(claim, statuses.get(key, "unchecked"), depths[key], round(left[("claim", key)]),
                       MARGIN + depths[key] * band, node_h) for key, claim in by_key.items()}
    edges = []
    for claim in claims:
        for dep in claim.uses:
            if dep in nodes and dep != claim.key and depths[dep] < depths[claim.key]:
                points = [(centre[("lane", (dep, claim.key, layer))], MARGIN + layer * band)
                          for layer in range(depths[dep] + 1, depths[claim.key])]
                edges.append((nodes[dep], nodes[claim.key], points))
    height = MARGIN * 2 + count * band - LAYER_GAP if count else 0
    return Drawing([nodes[c.key] for c in claims], edges, widest + 2 * MARGIN, height)


def layout(claims: list[Claim], statuses: dict[str, str]) -> list[Node]:
    """The boxes of `place`, in the claims' order."""
    return place(claims, statuses).nodes


def dependency_svg(claims: list[Claim], statuses: dict[str, str]) -> str:
    """An `<svg>` element of the connected claims and their `uses` edges ("" when none are)."""
    drawing = place(connected(claims), statuses)
    if not drawing.nodes:
        return ""
    width, height = drawing.width, drawing.height
    parts = [
        f'<svg class="qed-graph" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" aria-label="Dependency graph of the claims">',
        '<defs><marker id="qed-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path class="qed-arrow-head" d="M 0 0 L 10 5 L 0 10 z" '
        'fill="#5c6370"/></marker></defs>',
    ]
    parts += [_edge_svg(used, user, points) for used, user, points in drawing.edges]
    parts += [_node_svg(node) for node in drawing.nodes]
    parts.append("</svg>")
    return "\n".join(parts)


def _edge_svg(source: Node, target: Node, lanes: list[tuple[float, float]]) -> str:
    """From the bottom of the used claim to the top of the claim that uses it: a curve across
    each gap between layers, straight down the lane it has in each layer it crosses."""
    x, y = source.x + NODE_W / 2, source.y + source.height
    path = [f"M {x} {y}"]
    for lane_x, lane_top in [*lanes, (target.x + NODE_W / 2, target.y)]:
        bend = (lane_top - y) / 2
        path.append(f"C {x} {y + bend}, {lane_x} {lane_top - bend}, {lane_x} {lane_top}")
        x, y = lane_x, lane_top
        if (lane_x, lane_top) != (target.x + NODE_W / 2, target.y):
            y = lane_top + target.height
            path.append(f"L {x} {y}")
    return (f'<path class="qed-edge" d="{" ".join(path)}" fill="none" stroke="#5c6370" stroke-width="1.3" '
            'marker-end="url(#qed-arrow)"/>')


def _node_svg(node: Node) -> str:
    claim = node.claim
    fill = STATUS_COLOURS.get(node.status, "#ffffff")
    lines = title_lines(claim.title or "")
    tooltip = f"{claim.display}: {node.status}"
    shape = (f'<rect x="{node.x}" y="{node.y}" width="{NODE_W}" height="{node.height}" '
             f'rx="{6 if claim.kind != "definition" else 0}" fill="{fill}" stroke="#444"/>')
    text_x = node.x + NODE_W / 2
    top = node.y + (node.height - 18 - LINE_H * len(lines)) / 2 + 14
    parts = [f'<text x="{text_x}" y="{top:g}" text-anchor="middle" fill="#1d1f21" '
             f'font-size="13" font-weight="bold">{escape(claim.heading)}</text>']
    parts += [f'<text x="{text_x}" y="{top + 17 + LINE_H * i:g}" text-anchor="middle" fill="#1d1f21" '
              f'font-size="11">{escape(line)}</text>' for i, line in enumerate(lines)]
    return (f'<a href="{escape(claim.url)}" class="qed-node qed-status-{node.status}">'
            f"<title>{escape(tooltip)}</title>{shape}{''.join(parts)}</a>")
