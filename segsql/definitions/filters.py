"""Typed filter nodes (SPEC section 3). Every node is frozen and carries its Location."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from segsql.errors import Location


@dataclass(frozen=True)
class Condition:
    """One operator applied to a typed value: `op` is always the positive twin.

    A negative operator (`not_equals`, `not_in`, ...) and `exists: false` are stored as
    their positive twin with `negated=True`, so the compiler applies the SPEC's rule
    "negative operator ≡ not of its twin" in exactly one place.
    """

    op: str
    value: Any
    negated: bool = False
    or_missing: bool = False


@dataclass(frozen=True)
class ValueRef:
    """Where a filtered value comes from: a column, optionally a dotted path into JSON."""

    name: str
    column: str
    type: str
    path: tuple[str, ...] = ()
    unit: str | None = None


@dataclass(frozen=True)
class AllOf:
    children: tuple[Filter, ...]
    location: Location


@dataclass(frozen=True)
class AnyOf:
    children: tuple[Filter, ...]
    location: Location


@dataclass(frozen=True)
class Not:
    child: Filter
    location: Location


@dataclass(frozen=True)
class AttributeFilter:
    value: ValueRef
    condition: Condition
    location: Location


@dataclass(frozen=True)
class SegmentRef:
    segment: str
    location: Location


@dataclass(frozen=True)
class RandomBucket:
    condition: Condition
    location: Location


@dataclass(frozen=True)
class Near:
    lat: float
    lon: float
    radius_km: float
    location: Location


Filter = AllOf | AnyOf | Not | AttributeFilter | SegmentRef | RandomBucket | Near


def walk(node: Filter) -> list[Filter]:
    """Every node of a filter tree, parents before children."""
    out: list[Filter] = [node]
    if isinstance(node, AllOf | AnyOf):
        for child in node.children:
            out.extend(walk(child))
    elif isinstance(node, Not):
        out.extend(walk(node.child))
    return out
