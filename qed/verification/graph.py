"""The `uses` graph as inline SVG: a layered layout computed here, readable without JavaScript.

Only claims joined by a `uses` edge are drawn (the table lists the rest). Layers run top to
bottom by dependency depth (a claim sits below everything it uses), so the drawing stays
narrow enough for an article column and a phone; inside a layer nodes are ordered by the
mean position of what they use, which keeps most edges short. Each node links to its claim;
the fill colour is the status, the label the claim's heading.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from qed.theorems import Claim

NODE_W, NODE_H = 150, 44
SLOT_GAP, LAYER_GAP, MARGIN = 12, 36, 8

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
    slot: float  # position inside the layer, centred against the widest layer

    @property
    def x(self) -> int:
        return round(MARGIN + self.slot * (NODE_W + SLOT_GAP))

    @property
    def y(self) -> int:
        return MARGIN + self.layer * (NODE_H + LAYER_GAP)


def connected(claims: list[Claim]) -> list[Claim]:
    """The claims that use, or are used by, another claim of the list, in their order."""
    keys = {c.key for c in claims}
    linked = {c.key for c in claims if any(d in keys for d in c.uses)}
    linked |= {d for c in claims for d in c.uses if d in keys}
    return [c for c in claims if c.key in linked]


def layout(claims: list[Claim], statuses: dict[str, str]) -> list[Node]:
    """Layer = longest `uses` chain below the claim; order in a layer by barycentre of its uses."""
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
    layers = [[c for c in claims if depths[c.key] == n] for n in range(max(depths.values(), default=-1) + 1)]
    widest = max((len(members) for members in layers), default=0)
    positions: dict[str, float] = {}
    nodes: list[Node] = []
    for number, members in enumerate(layers):
        order = {c.key: i for i, c in enumerate(members)}

        def barycentre(c: Claim, order: dict[str, int] = order) -> tuple[float, int]:
            placed = [positions[d] for d in c.uses if d in positions]
            return (sum(placed) / len(placed) if placed else float(order[c.key]), order[c.key])

        indent = (widest - len(members)) / 2
        for index, claim in enumerate(sorted(members, key=barycentre)):
            positions[claim.key] = indent + index
            nodes.append(Node(claim, statuses.get(claim.key, "unchecked"), number, indent + index))
    return nodes


def dependency_svg(claims: list[Claim], statuses: dict[str, str]) -> str:
    """An `<svg>` element of the connected claims and their `uses` edges ("" when none are)."""
    nodes = layout(connected(claims), statuses)
    if not nodes:
        return ""
    at = {n.claim.key: n for n in nodes}
    width = max(n.x for n in nodes) + NODE_W + MARGIN
    height = max(n.y for n in nodes) + NODE_H + MARGIN
    parts = [
        f'<svg class="qed-graph" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="Dependency graph of the claims">',
        '<defs><marker id="qed-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#666"/>'
        "</marker></defs>",
    ]
    for node in nodes:
        for dep in node.claim.uses:
            source = at.get(dep)
            if source is not None:
                parts.append(_edge_svg(source, node))
    parts += [_node_svg(node) for node in nodes]
    parts.append("</svg>")
    return "\n".join(parts)


def _edge_svg(source: Node, target: Node) -> str:
    """A curve from the bottom of the used claim to the top of the claim that uses it."""
    x1, y1 = source.x + NODE_W / 2, source.y + NODE_H
    x2, y2 = target.x + NODE_W / 2, target.y
    bend = (y2 - y1) / 2 if y2 > y1 else LAYER_GAP
    return (f'<path class="qed-edge" d="M {x1} {y1} C {x1} {y1 + bend}, {x2} {y2 - bend}, {x2} {y2}" '
            'fill="none" stroke="#666" marker-end="url(#qed-arrow)"/>')


def _node_svg(node: Node) -> str:
    claim = node.claim
    fill = STATUS_COLOURS.get(node.status, "#ffffff")
    title = claim.title or ""
    short = title if len(title) <= 22 else title[:21] + "…"
    tooltip = f"{claim.display}: {node.status}"
    shape = (f'<rect x="{node.x}" y="{node.y}" width="{NODE_W}" height="{NODE_H}" '
             f'rx="{6 if claim.kind != "definition" else 0}" fill="{fill}" stroke="#444"/>')
    text_x = node.x + NODE_W / 2
    lines = [f'<text x="{text_x}" y="{node.y + (18 if short else 27)}" text-anchor="middle" '
             f'font-size="13" font-weight="bold">{escape(claim.heading)}</text>']
    if short:
        lines.append(f'<text x="{text_x}" y="{node.y + 35}" text-anchor="middle" font-size="11">'
                     f"{escape(short)}</text>")
    return (f'<a href="{escape(claim.url)}" class="qed-node qed-status-{node.status}">'
            f"<title>{escape(tooltip)}</title>{shape}{''.join(lines)}</a>")
