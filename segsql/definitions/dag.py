"""The dependency graph between segments: unknown references, cycles, topological order."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from segsql.definitions.segments import Segment
from segsql.errors import ProjectError
from segsql.util.suggest import suggest


def check_references(segments: Mapping[str, Segment]) -> None:
    """Every `segment:` leaf and `ref()` must name a segment of the project."""
    for seg in segments.values():
        for name, loc in seg.dependency_locations():
            if name not in segments:
                raise ProjectError(
                    f"segment {seg.name!r} references unknown segment {name!r}",
                    loc,
                    suggest(name, sorted(segments), what="segment"),
                )


def check_cycles(segments: Mapping[str, Segment]) -> None:
    """A cycle is an error that names every segment on it."""
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    stack: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        stack.append(name)
        for dep in segments[name].dependencies():
            if state.get(dep) == 1:
                cycle = [*stack[stack.index(dep):], dep]
                raise ProjectError(
                    f"segments reference each other in a cycle: {' -> '.join(cycle)}",
                    segments[name].location,
                    "remove one of the references",
                )
            if state.get(dep) is None:
                visit(dep)
        stack.pop()
        state[name] = 2

    for name in sorted(segments):
        if state.get(name) is None:
            visit(name)


def topological_order(segments: Mapping[str, Segment], names: Iterable[str]) -> list[str]:
    """`names` and everything they depend on, dependencies first, ties by name."""
    order: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        for dep in sorted(segments[name].dependencies()):
            visit(dep)
        order.append(name)

    for name in sorted(names):
        visit(name)
    return order


def dependents(segments: Mapping[str, Segment], name: str) -> set[str]:
    """Every segment that reads `name`, directly or through others."""
    out: set[str] = set()
    frontier = [name]
    while frontier:
        current = frontier.pop()
        for seg in segments.values():
            if current in seg.dependencies() and seg.name not in out:
                out.add(seg.name)
                frontier.append(seg.name)
    return out
