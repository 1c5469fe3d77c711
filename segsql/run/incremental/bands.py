"""Which rows and attribute values can change a segment's verdict while no data changes.

Between the previous run's `as_of` (a0) and this one's (a1) a verdict can flip without any
row changing, because windows, "seen up to as_of" and relative time comparisons move with
`as_of`. For each such dependence this module names a band of instants: a user whose rows
(or attribute values) have a time inside one of them can change; a user with none cannot,
because every leaf reads the same rows and compares the same values at a0 and a1. A leaf it
cannot reason about this way (sequences, RFM and cluster scores, funnels, SQL, relative
comparisons of property values) makes the segment recompute fully: `Dependence.full`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from segsql.definitions.filters import (
    AllOf,
    AnyOf,
    AttributeFilter,
    BehaviourFilter,
    CatalogCondition,
    Condition,
    Near,
    Not,
    RandomBucket,
    RowCondition,
    SegmentRef,
    TraitFilter,
    ValueRef,
    Window,
)
from segsql.definitions.project import Definitions
from segsql.planner.windows import bounds

RELATIVE = ("more_than_days_ago", "less_than_days_ago", "more_than_days_in_future", "less_than_days_in_future")
#: why a leaf kind makes its segment run fully
FULL_LEAVES = {
    "RfmFilter": "an RFM leaf ranks users against each other",
    "SequenceFilter": "a sequence leaf (its paths are not bounded by bands yet)",
    "ClusterFilter": "a cluster leaf (k-means is global)",
    "FunnelFilter": "a funnel leaf (funnels are recomputed fully)",
}
#: a band of instants, both ends included
Band = tuple[dt.datetime, dt.datetime]


@dataclass
class Dependence:
    """What can flip a segment's verdict between a0 and a1 besides changed rows."""

    #: why the segment must be recomputed fully ("" when it need not)
    full: str = ""
    #: (source, event names or products — None: any) → bands of row times
    rows: dict[tuple[str, tuple[str, ...] | None], set[Band]] = field(default_factory=dict)
    #: (trait name or "" for users, the attribute) → bands of its time value
    attributes: dict[tuple[str, ValueRef], set[Band]] = field(default_factory=dict)
    #: catalogs the filter joins
    catalogs: set[str] = field(default_factory=set)
    #: segments read through `segment:` (transitively), for the definition hash
    reads: set[str] = field(default_factory=set)


def _span(x: dt.datetime, y: dt.datetime) -> Band:
    return (min(x, y), max(x, y))


def relative_bands(cond: Condition, a0: dt.datetime, a1: dt.datetime) -> set[Band]:
    """The instants where a relative time comparison's boundaries lie at a0 or a1 or between."""
    if cond.op not in RELATIVE:
        return set()
    days = dt.timedelta(days=float(cond.value))
    return {_span(a0 + k, a1 + k) for k in (-days, dt.timedelta(0), days)}


class _Walker:
    def __init__(self, defs: Definitions, a0: dt.datetime, a1: dt.datetime):
        self.defs, self.a0, self.a1 = defs, a0, a1
        self.tz = defs.config.timezone
        self.out = Dependence()

    def fail(self, reason: str) -> None:
        if not self.out.full:
            self.out.full = reason

    def window_bands(self, window: Window | None) -> set[Band]:
        """Rows entering or leaving the window, and rows becoming seen (time in (a0, a1])."""
        out = {_span(self.a0, self.a1)}
        s0, _ = bounds(window, self.a0, self.tz)
        s1, _ = bounds(window, self.a1, self.tz)
        if s0 is not None and s1 is not None and s0 != s1:
            out.add(_span(s0, s1))
        return out

    def segment(self, name: str) -> None:
        seg = self.defs.segments[name]
        if seg.sql is not None:
            self.fail(f"reads the SQL segment {name}")
            return
        assert seg.where is not None
        self.node(seg.where)

    def node(self, node: object) -> None:
        if isinstance(node, AllOf | AnyOf):
            for child in node.children:
                self.node(child)
        elif isinstance(node, Not):
            self.node(node.child)
        elif isinstance(node, SegmentRef):
            if node.segment not in self.out.reads:
                self.out.reads.add(node.segment)
                self.segment(node.segment)
        elif isinstance(node, AttributeFilter):  # TraitFilter too
            bands = relative_bands(node.condition, self.a0, self.a1)
            if bands:
                key = (node.trait if isinstance(node, TraitFilter) else "", node.value)
                self.out.attributes.setdefault(key, set()).update(bands)
        elif isinstance(node, BehaviourFilter):
            self.behaviour(node)
        elif not isinstance(node, RandomBucket | Near):
            self.fail(FULL_LEAVES.get(type(node).__name__, f"a {type(node).__name__} leaf"))

    def behaviour(self, node: BehaviourFilter) -> None:
        for cond in node.where:
            if isinstance(cond, CatalogCondition):
                self.out.catalogs.add(cond.catalog)
                if any(f.condition.op in RELATIVE for f in cond.filters):
                    self.fail("a catalog condition compares a time with as_of")
            elif isinstance(cond, RowCondition) and cond.condition.op in RELATIVE:
                self.fail("a row condition compares a time with as_of")
        bands = self.window_bands(node.window)
        for measure in node.measures:
            if measure.condition.op in RELATIVE:
                if measure.kind not in ("first", "last"):
                    self.fail(f"a {measure.kind} measure compares a property's time with as_of")
                bands |= relative_bands(measure.condition, self.a0, self.a1)
        self.out.rows.setdefault((node.source, node.names), set()).update(bands)


def dependence(defs: Definitions, name: str, a0: dt.datetime, a1: dt.datetime) -> Dependence:
    """What can flip segment `name` between a0 and a1 (a1 >= a0) without a row changing."""
    walker = _Walker(defs, a0, a1)
    walker.segment(name)
    return walker.out
