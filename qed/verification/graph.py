"""The `uses` graph as inline SVG: a layered layout computed here, readable without JavaScript.

Columns are dependency depth (a claim sits right of everything it uses); inside a column
nodes are ordered by the mean row of what they use, which keeps most edges short. Each
node links to its claim; the fill colour is the status, the label the claim's heading.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from qed.theorems import Claim

NODE_W, NODE_H = 168, 44
COL_GAP, ROW_GAP, MARGIN = 56, 14, 10

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
    column: int
    row: int

    @property
    def x(self) -> int:
        return MARGIN + self.column * (NODE_W + COL_GAP)

    @property
    def y(self) -> int:
        return MARGIN + self.row * (NODE_H + ROW_GAP)


def layout(claims: list[Claim], statuses: dict[str, str]) -> list[Node]:
    """Column = longest `uses` chain below the claim; row order by barycentre of its uses."""
    keys = {c.key for c in claims}
    by_key = {c.key: c for c in claims}
    column: dict[str, int] = {}

    def depth(key: str, trail: frozenset[str]) -> int:
        if key in column:
            return column[key]
        deps = [d for d in by_key[key].uses if d in keys and d not in trail]
        column[key] = 0 if not deps else 1 + max(depth(d, trail | {key}) for d in deps)
        return column[key]

    for claim in claims:
        depth(claim.key, frozenset())
    rows: dict[str, float] = {}
    nodes: list[Node] = []
    for col in range(max(column.values(), default=-1) + 1):
        members = [c for c in claims if column[c.key] == col]
        order = {c.key: i for i, c in enumerate(members)}

        def barycentre(c: Claim, order: dict[str, int] = order) -> tuple[float, int]:
            placed = [rows[d] for d in c.uses if d in rows]
            return (sum(placed) / len(placed) if placed else float(order[c.key]), order[c.key])

        for row, claim in enumerate(sorted(members, key=barycentre)):
            rows[claim.key] = row
            nodes.append(Node(claim, statuses.get(claim.key, "unchecked"), col, row))
    return nodes


def dependency_svg(claims: list[Claim], statuses: dict[str, str]) -> str:
    """An `<svg>` element of the claims and their `uses` edges ("" when there are no claims)."""
    nodes = layout(claims, statuses)
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
            if source is None:
                continue
            x1, y1 = source.x + NODE_W, source.y + NODE_H / 2
            x2, y2 = node.x, node.y + NODE_H / 2
            bend = (x2 - x1) / 2 if x2 > x1 else COL_GAP
            parts.append(f'<path class="qed-edge" d="M {x1} {y1} C {x1 + bend} {y1}, {x2 - bend} {y2}, '
                         f'{x2} {y2}" fill="none" stroke="#666" marker-end="url(#qed-arrow)"/>')
    parts += [_node_svg(node) for node in nodes]
    parts.append("</svg>")
    return "\n".join(parts)


def _node_svg(node: Node) -> str:
    claim = node.claim
    fill = STATUS_COLOURS.get(node.status, "#ffffff")
    title = claim.title or ""
    short = title if len(title) <= 24 else title[:23] + "…"
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
