"""Dependency graphs as inline SVG: grandalf's Sugiyama layout places the nodes (layers by
dependency, crossings reduced); this module only draws boxes and arrows where it says."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

NODE_H, CHAR_W, PAD, GAP = 28, 7.2, 16, 40


@dataclass(frozen=True)
class Node:
    id: str
    label: str
    href: str | None = None
    kind: str = "segment"


class _Box:
    """The size grandalf asks of each vertex's view; it writes the centre into `xy`."""

    def __init__(self, w: float, h: float):
        self.w, self.h = w, h
        self.xy: tuple[float, float] = (0.0, 0.0)


def layout(nodes: Sequence[Node], edges: Iterable[tuple[str, str]]) -> dict[str, tuple[float, float, float]]:
    """Node id → (centre x, centre y, width); components side by side, dependencies above."""
    from grandalf.graphs import Edge, Graph, Vertex
    from grandalf.layouts import SugiyamaLayout

    vertices = {n.id: Vertex(n.id) for n in nodes}
    for n in nodes:
        vertices[n.id].view = _Box(len(n.label) * CHAR_W + 2 * PAD, NODE_H)
    graph = Graph(list(vertices.values()), [Edge(vertices[a], vertices[b]) for a, b in edges if a in vertices and b in vertices])
    placed: dict[str, tuple[float, float, float]] = {}
    offset = 0.0
    for component in sorted(graph.C, key=lambda c: -len(c.sV)):
        sugiyama = SugiyamaLayout(component)
        sugiyama.init_all()
        sugiyama.draw()
        xs = [(v.view.xy[0] - v.view.w / 2, v.view.xy[0] + v.view.w / 2) for v in component.sV]
        left, right = min(a for a, _ in xs), max(b for _, b in xs)
        for v in component.sV:
            placed[v.data] = (v.view.xy[0] - left + offset, v.view.xy[1], v.view.w)
        offset += right - left + GAP
    return placed


def svg(nodes: Sequence[Node], edges: Sequence[tuple[str, str]], highlight: str | None = None) -> str:
    """An SVG of the graph: an arrow from each dependency to its dependent; `highlight` bold."""
    if not nodes:
        return '<p class="muted">no models</p>'
    placed = layout(nodes, edges)
    width = max(x + w / 2 for x, _, w in placed.values()) + 2
    height = max(y for _, y, _ in placed.values()) + NODE_H / 2 + 2
    top = min(y for _, y, _ in placed.values()) - NODE_H / 2 - 2
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="graph" width="{width:.0f}" height="{height - top:.0f}" '
             f'viewBox="0 {top:.0f} {width:.0f} {height - top:.0f}" role="img" aria-label="dependency graph">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">'
             '<path d="M0,0 L10,5 L0,10 z" fill="#888"/></marker></defs>']
    for a, b in edges:
        if a in placed and b in placed:
            (x1, y1, _), (x2, y2, _) = placed[a], placed[b]
            parts.append(f'<line class="edge" x1="{x1:.1f}" y1="{y1 + NODE_H / 2:.1f}" x2="{x2:.1f}" y2="{y2 - NODE_H / 2:.1f}" stroke="#888" marker-end="url(#arrow)"/>')
    for n in nodes:
        x, y, w = placed[n.id]
        cls = "node current" if n.id == highlight else f"node {n.kind}"
        box = (f'<g class="{cls}" data-id="{html.escape(n.id)}"><rect x="{x - w / 2:.1f}" y="{y - NODE_H / 2:.1f}" width="{w:.1f}" height="{NODE_H}" rx="6"/>'
               f'<text x="{x:.1f}" y="{y + 4:.1f}" text-anchor="middle">{html.escape(n.label)}</text></g>')
        parts.append(f'<a href="{html.escape(n.href)}">{box}</a>' if n.href and n.id != highlight else box)
    parts.append("</svg>")
    return "".join(parts)


def neighbourhood(node: str, edges: Sequence[tuple[str, str]]) -> set[str]:
    """`node` with everything it depends on and everything that depends on it, transitively."""
    keep = {node}
    for forward in (True, False):
        frontier = [node]
        while frontier:
            current = frontier.pop()
            for a, b in edges:
                nxt = b if forward and a == current else a if not forward and b == current else None
                if nxt is not None and nxt not in keep:
                    keep.add(nxt)
                    frontier.append(nxt)
    return keep
