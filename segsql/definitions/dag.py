"""The dependency graph between models of every kind: unknown references, cycles, order.

Any definition with a name, a location and `dependencies()` is a node (a `Model`): a
segment reads segments; a funnel, cohort or cluster model will read its audience segment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from segsql.errors import Location, ProjectError
from segsql.util.suggest import suggest


class Model(Protocol):
    """What the DAG needs of a definition of any kind."""

    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def location(self) -> Location: ...
    def dependencies(self) -> tuple[str, ...]: ...
    def dependency_locations(self) -> list[tuple[str, Location]]: ...


def check_references(segments: Mapping[str, Model]) -> None:
    """Every `segment:` leaf, `ref()` and audience must name a model of the project."""
    for seg in segments.values():
        for name, loc in seg.dependency_locations():
            if name not in segments:
                raise ProjectError(
                    f"{seg.kind} {seg.name!r} references unknown segment {name!r}",
                    loc,
                    suggest(name, sorted(segments), what="segment"),
                )


def check_cycles(segments: Mapping[str, Model]) -> None:
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
                    f"models reference each other in a cycle: {' -> '.join(cycle)}",
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


def topological_order(segments: Mapping[str, Model], names: Iterable[str]) -> list[str]:
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


def dependents(segments: Mapping[str, Model], name: str) -> set[str]:
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
