"""Typed filter nodes (SPEC section 3). Every node is frozen and carries its Location.

A location is where a node was written, not what it means: it takes no part in equality,
hashing or repr, so two leaves written alike on different lines are the same leaf to the
planner (one shared measure) and to the membership hash (a comment line changes nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
    location: Location = field(compare=False, repr=False)


@dataclass(frozen=True)
class AnyOf:
    children: tuple[Filter, ...]
    location: Location = field(compare=False, repr=False)


@dataclass(frozen=True)
class Not:
    child: Filter
    location: Location = field(compare=False, repr=False)


@dataclass(frozen=True)
class AttributeFilter:
    value: ValueRef
    condition: Condition
    location: Location = field(compare=False, repr=False)


@dataclass(frozen=True)
class TraitFilter(AttributeFilter):
    """`attribute: <trait>.<name>`: an attribute of a trait table (SPEC 8.3), joined by id;
    a user without a row there has it missing."""

    trait: str = ""


@dataclass(frozen=True)
class SegmentRef:
    segment: str
    location: Location = field(compare=False, repr=False)


@dataclass(frozen=True)
class ClusterFilter:
    """`cluster: {model: m, in: [whales, 2]}`: members of those clusters of a cluster model
    (SPEC 8.1), by label or by number."""

    model: str
    values: tuple[int | str, ...]
    location: Location = field(compare=False, repr=False)


@dataclass(frozen=True)
class FunnelFilter:
    """`funnel: checkout` with `furthest_step: {gte: 2}` (SPEC 3.7): users whose furthest step
    in the funnel satisfies the comparison; 0 for users who never entered it."""

    funnel: str
    condition: Condition
    location: Location = field(compare=False, repr=False)


@dataclass(frozen=True)
class RandomBucket:
    condition: Condition
    location: Location = field(compare=False, repr=False)


@dataclass(frozen=True)
class Near:
    lat: float
    lon: float
    radius_km: float
    location: Location = field(compare=False, repr=False)




def walk(node: Filter) -> list[Filter]:
    """Every node of a filter tree, parents before children."""
    out: list[Filter] = [node]
    if isinstance(node, AllOf | AnyOf):
        for child in node.children:
            out.extend(walk(child))
    elif isinstance(node, Not):
        out.extend(walk(node.child))
    return out


# -- behaviour (SPEC 3.4–3.7) -------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """A time window; `last_days`/`last_hours` are resolved against `as_of` by the compiler.

    kind is "last_days" (from 00:00 of day N in the project time zone), "last_hours", or
    "range" ([since, until), either open). Every window also ends at `as_of`.
    """

    kind: str
    amount: float = 0
    since: Any = None
    until: Any = None


@dataclass(frozen=True)
class RowCondition:
    """A `where:` condition on one event or purchase row: a JSON property or a real column."""

    value: ValueRef
    condition: Condition


@dataclass(frozen=True)
class CatalogCondition:
    """True when the catalog has a row with this key that satisfies the attribute filters."""

    catalog: str
    key: ValueRef
    filters: tuple[AttributeFilter, ...]


@dataclass(frozen=True)
class Measure:
    """An aggregate over matching occurrences, compared with `condition`.

    kind: count, sum, avg, min, max, count_distinct, first, last, revenue.
    """

    kind: str
    condition: Condition
    value: ValueRef | None = None


@dataclass(frozen=True)
class BehaviourFilter:
    """An event filter (SPEC 3.4) or a purchase filter (3.5) over its source table.

    `names` holds event names (or product ids for purchases); None means any.
    """

    source: str
    names: tuple[str, ...] | None
    where: tuple[RowCondition | CatalogCondition, ...]
    window: Window | None
    measures: tuple[Measure, ...]
    location: Location = field(compare=False, repr=False)


@dataclass(frozen=True)
class SequenceStep:
    """One step of a sequence (or its then_not): a row of `source` with one of `names`
    (event names; product ids for purchases, None meaning any) where every condition holds."""

    names: tuple[str, ...] | None
    where: tuple[RowCondition | CatalogCondition, ...]
    within_previous_s: float | None = None
    after_previous_s: float | None = None
    source: str = "events"


@dataclass(frozen=True)
class SequenceFilter:
    """Ordered behaviour (SPEC 3.6)."""

    steps: tuple[SequenceStep, ...]
    window: Window | None
    max_span_s: float | None
    then_not: SequenceStep | None
    then_not_s: float | None
    location: Location = field(compare=False, repr=False)


@dataclass(frozen=True)
class RfmFilter:
    """RFM scores over purchases in a window (SPEC 3.7); omitted parts are not tested."""

    recency: tuple[Condition, ...]
    frequency: tuple[Condition, ...]
    monetary: tuple[Condition, ...]
    window: Window
    location: Location = field(compare=False, repr=False)


Filter = AllOf | AnyOf | Not | AttributeFilter | SegmentRef | ClusterFilter | FunnelFilter | RandomBucket | Near | BehaviourFilter | SequenceFilter | RfmFilter
