"""Comparisons that no value can satisfy are mistakes, not empty segments.

`count: {lt: 0}`, `rfm: {recency: {gte: 6}}` or `random_bucket: {gte: 10000}` compile and
run fine and always give an empty segment, which a user finds out days later from a sync
that never fired. Counts, scores and buckets are whole numbers in a known range, so
whether the ANDed comparisons of one measure leave any value is decided exactly here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from segsql.definitions.filters import Condition
from segsql.definitions.reader import Node


def _whole(value: float) -> int | None:
    return int(value) if float(value).is_integer() else None


def possible(conditions: Sequence[Condition], low: int, high: float) -> bool:
    """Whether some whole number in [low, high] satisfies every condition (ANDed)."""
    if any(c.or_missing for c in conditions):
        return True  # also true where the value is missing
    lo, hi = float(low), float(high)
    candidates: set[int] | None = None
    excluded: set[float] = set()
    for c in conditions:
        if c.op == "exists":
            continue
        values = c.value if isinstance(c.value, tuple) else (c.value,)
        if c.negated:
            excluded |= {float(v) for v in values} if c.op in ("equals", "in") else set()
            continue
        if c.op in ("equals", "in"):
            whole = {w for w in (_whole(v) for v in values) if w is not None}
            candidates = whole if candidates is None else candidates & whole
        elif c.op == "gt":
            lo = max(lo, math.floor(c.value) + 1)
        elif c.op == "gte":
            lo = max(lo, math.ceil(c.value))
        elif c.op == "lt":
            hi = min(hi, math.ceil(c.value) - 1)
        elif c.op == "lte":
            hi = min(hi, math.floor(c.value))
        elif c.op == "between":
            lo, hi = max(lo, math.ceil(c.value[0])), min(hi, math.floor(c.value[1]))
    if lo > hi:
        return False
    if candidates is not None:
        return any(lo <= v <= hi and v not in excluded for v in candidates)
    return hi == math.inf or hi - lo + 1 > len(excluded) or any(v not in excluded for v in range(int(lo), int(hi) + 1))


def _written(node: Node) -> str:
    return ", ".join(f"{k}: {node.plain(str(k))}" for k in node.data)


def require_possible(node: Node, conditions: Sequence[Condition], what: str, low: int, high: float) -> None:
    """Raise at `node` when no whole number in [low, high] satisfies `conditions`."""
    if not possible(conditions, low, high):
        span = f"a whole number from {low} to {int(high)}" if high != math.inf else f"a whole number >= {low}"
        raise node.fail(f"`{{{_written(node)}}}` can never be true: {what} is {span}", f"fix the comparison so some {what} can satisfy it", str(next(iter(node.data))))


def require_in_range(node: Node, conditions: Sequence[Condition], what: str, low: int, high: int) -> None:
    """Every threshold lies in [low, high] (RFM scores: 1..5), and some score satisfies them."""
    for c in conditions:
        values = c.value if isinstance(c.value, tuple) else (c.value,)
        for v in values if c.op != "exists" else ():
            if not low <= v <= high:
                raise node.fail(f"{what} threshold {v:g} is outside {low}..{high}", f"{what}s are whole numbers from {low} to {high}: use a threshold in that range")
    require_possible(node, conditions, what, low, high)
