"""Anchors: the rows of a source that every member of a segment must have.

A segment such as "at least 3 app_open in the last 7 days" has no member without an
`app_open` row of the last 7 days. Such a segment can be evaluated over the users of those
rows alone — a small, filtered aggregation — instead of over every user; the cost rule
(`costs.py`) and the anchored universe (`rules.choose_universe`) rest on this. Only what is
certain anchors: a negation, "did not", `or_missing` or `exists: false` never does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from segsql.definitions.filters import (
    AllOf,
    AnyOf,
    BehaviourFilter,
    Condition,
    Filter,
    Measure,
    SegmentRef,
)
from segsql.definitions.segments import Segment
from segsql.planner.windows import bounds

#: the sources an anchored universe may start from, best first (purchases are the fewer rows)
ANCHOR_ORDER = ("purchases", "events")
#: measures that are 0 (not missing) without a matching row
ZERO_WITHOUT_ROWS = ("count", "count_distinct", "sum", "revenue")
#: measures that are missing without a matching row
MISSING_WITHOUT_ROWS = ("avg", "min", "max", "first", "last")


@dataclass(frozen=True)
class Anchor:
    """Every member has a seen row of `source` with one of `names` (None: any) at or after `since` (None: ever)."""

    source: str
    names: tuple[str, ...] | None
    since: dt.datetime | None

    def merge(self, other: Anchor) -> Anchor:
        """The weaker anchor both imply: any of the names of either, since the earlier start."""
        names = None if self.names is None or other.names is None else tuple(sorted(set(self.names) | set(other.names)))
        since = None if self.since is None or other.since is None else min(self.since, other.since)
        return Anchor(self.source, names, since)

    def describe(self) -> str:
        rows = ("any row" if self.names is None else "|".join(self.names))
        return f"{self.source} {rows} {'all time' if self.since is None else 'since ' + self.since.isoformat()}"


Anchors = Mapping[str, Anchor]


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _holds_at_zero(cond: Condition) -> bool | None:
    """Does the positive comparison hold for the number 0? None when it cannot be told."""
    v = cond.value
    if cond.op == "between" and isinstance(v, tuple | list) and len(v) == 2 and all(_number(x) for x in v):
        return bool(v[0] <= 0 <= v[1])
    if cond.op == "in" and isinstance(v, tuple | list):
        return any(x == 0 for x in v)
    if not _number(v):
        return None
    checks = {"equals": v == 0, "gt": v < 0, "gte": v <= 0, "lt": v > 0, "lte": v >= 0}
    return checks.get(cond.op)


def needs_a_row(measure: Measure) -> bool:
    """True when no user without a matching row satisfies `measure`.

    A count, distinct count, sum or revenue is 0 without rows: it anchors when 0 fails the
    condition. An average, min, max, first or last is missing without rows: it anchors
    unless the condition accepts a missing value (a negation, `or_missing`, `exists: false`)."""
    cond = measure.condition
    if cond.or_missing:
        return False
    if measure.kind in ZERO_WITHOUT_ROWS:
        if cond.op == "exists":
            return False
        at_zero = _holds_at_zero(cond)
        return at_zero is not None and at_zero == cond.negated
    if measure.kind in MISSING_WITHOUT_ROWS:
        return not cond.negated
    return False


def filter_anchors(node: Filter | None, segments: Mapping[str, Segment], as_of: dt.datetime, timezone: str) -> dict[str, Anchor]:
    """Per source, the anchor every user matching `node` has (no entry: none is certain)."""
    if isinstance(node, BehaviourFilter):
        if not any(needs_a_row(m) for m in node.measures):
            return {}
        start, _ = bounds(node.window, as_of, timezone)
        return {node.source: Anchor(node.source, node.names, start)}
    if isinstance(node, AllOf):  # a member matches every child: any child's anchor holds
        out: dict[str, Anchor] = {}
        for child in node.children:
            for source, anchor in filter_anchors(child, segments, as_of, timezone).items():
                out[source] = out[source].merge(anchor) if source in out else anchor
        return out
    if isinstance(node, AnyOf):  # a member matches some child: every child must be anchored
        return common_anchors(filter_anchors(child, segments, as_of, timezone) for child in node.children)
    if isinstance(node, SegmentRef):
        return segment_anchors(segments, node.segment, as_of, timezone)
    return {}


def segment_anchors(segments: Mapping[str, Segment], name: str, as_of: dt.datetime, timezone: str) -> dict[str, Anchor]:
    """The anchors of a filter segment's members (a SQL segment's members have none)."""
    return filter_anchors(segments[name].where, segments, as_of, timezone)


def ordered(anchors: Mapping[str, Anchor]) -> tuple[Anchor, ...]:
    """Anchors best first (`ANCHOR_ORDER`)."""
    return tuple(anchors[s] for s in ANCHOR_ORDER if s in anchors)


def common_anchors(each: Iterable[Mapping[str, Anchor]]) -> dict[str, Anchor]:
    """The anchors every one of several segments has, per source (an empty list: none)."""
    parts = list(each)
    if not parts:
        return {}
    common = set.intersection(*(set(p) for p in parts))
    out: dict[str, Anchor] = {}
    for source in common:
        anchor = parts[0][source]
        for part in parts[1:]:
            anchor = anchor.merge(part[source])
        out[source] = anchor
    return out
