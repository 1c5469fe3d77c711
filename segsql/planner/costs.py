"""The cost rule: which segments share one query, from row counts measured once per run.

One wide GROUP BY pays a `CASE` per row for every aggregate of every segment; a selective
segment (one event name, a short window) is cheaper as its own filtered aggregation over
its anchored users (`anchors.py`): a vectorised filter and a small hash table. Neither wins
everywhere, so a run counts the rows per event name and window start (one aggregate query
per source) and estimates each way of grouping the segments with a linear model whose
constants were fitted on DuckDB (bench/README.md). The estimate only orders the choices;
every choice computes the same memberships.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace

from segsql.definitions.project import Definitions
from segsql.planner import plan_models
from segsql.planner.anchors import ANCHOR_ORDER, Anchor, common_anchors, ordered, segment_anchors
from segsql.planner.plan import Choice, MetricSpec, Plan

#: seconds per row a query reads from a source (a vectorised filter on name and time)
C_READ = 1.25e-8
#: seconds per row that reaches the GROUP BY (hashing it by user)
C_ROW = 3.5e-8
#: seconds per aggregate per aggregated row (one CASE each)
C_AGG = 3e-9
#: seconds per user a query outputs (joins, the stage table)
C_USER = 1.5e-7
#: seconds per flag per output user
C_FLAG = 4e-9
#: seconds per query (planning, a stage table, its diff)
C_QUERY = 0.03
#: a grouping other than fused must be estimated this much cheaper: fused is the form measured
#: best on most workloads, and the estimates are rough (bench/README.md)
MARGIN = 0.2

#: the ways of grouping segments a project may force (`planner: {strategy: ...}`); auto chooses
STRATEGIES = ("fused", "per_name", "grouped", "split")


@dataclass(frozen=True)
class Facts:
    """What a run measured: users, rows per source, and rows per name and window start."""

    users: int
    rows: Mapping[str, int]
    #: source → name (event name or product) → window start (None: all time) → seen rows since then
    by_name: Mapping[str, Mapping[str, Mapping[dt.datetime | None, int]]]

    def count(self, source: str, names: Iterable[str] | None, since: dt.datetime | None) -> int:
        """Seen rows of `source` with one of `names` (None: any) at or after `since` (None: ever)."""
        per_name = self.by_name.get(source, {})
        wanted = None if names is None else set(names)
        total = 0
        for name, counts in per_name.items():
            if wanted is None or name in wanted:
                total += counts.get(since, counts.get(None, 0))
        return total

    def users_of(self, rows: int) -> float:
        """The expected distinct users of `rows` rows spread evenly over the users."""
        return self.users * -math.expm1(-rows / self.users) if self.users else 0.0


@dataclass(frozen=True)
class ScanShape:
    """What one segment reads of one source: its aggregates, names and earliest start."""

    source: str
    specs: frozenset[MetricSpec]
    names: tuple[str, ...] | None
    start: dt.datetime | None


@dataclass(frozen=True)
class Shape:
    """One segment as the cost rule sees it."""

    name: str
    scans: tuple[ScanShape, ...]
    anchors: tuple[Anchor, ...]
    #: SQL segments, sequences, RFM and joined SQL segments stay in the one fused query
    pinned: bool

    @classmethod
    def of(cls, plan: Plan, anchors: Mapping[str, Anchor]) -> Shape:
        """The shape of a plan of one segment (planned alone), with that segment's anchors."""
        (node,) = plan.nodes
        scans = tuple(ScanShape(s.source, frozenset(m.spec for m in s.metrics), s.names, s.start) for s in plan.scans)
        pinned = node.kind == "sql" or bool(plan.passes) or bool(plan.sql_joins)
        return cls(node.name, scans, ordered(anchors), pinned)

    @property
    def anchor(self) -> Anchor | None:
        return self.anchors[0] if self.anchors else None


def segment_shapes(defs: Definitions, names: list[str], as_of: dt.datetime) -> list[Shape]:
    """Each segment planned alone, as the cost rule sees it."""
    tz = defs.config.timezone
    return [Shape.of(plan_models(defs, [n], as_of, anchored=True), segment_anchors(defs.segments, n, as_of, tz)) for n in names]


def group_anchor(shapes: Iterable[Shape]) -> Anchor | None:
    """The anchor all of a group's segments share (purchases first), None if they share none."""
    common = common_anchors({a.source: a for a in s.anchors} for s in shapes)
    return next((common[s] for s in ANCHOR_ORDER if s in common), None)


def group_cost(shapes: list[Shape], facts: Facts) -> float:
    """Estimated seconds of one query computing `shapes` together."""
    merged: dict[str, tuple[set[MetricSpec], set[str] | None, dt.datetime | None]] = {}
    for shape in shapes:
        for scan in shape.scans:
            if scan.source not in merged:
                merged[scan.source] = (set(scan.specs), None if scan.names is None else set(scan.names), scan.start)
                continue
            specs, names, start = merged[scan.source]
            specs |= scan.specs
            names = None if names is None or scan.names is None else names | set(scan.names)
            start = None if start is None or scan.start is None else min(start, scan.start)
            merged[scan.source] = (specs, names, start)
    cost = C_QUERY + C_READ * facts.users
    for source, (specs, names, start) in merged.items():
        rows = facts.count(source, names, start)
        cost += C_READ * facts.rows.get(source, 0) + (C_ROW + C_AGG * len(specs)) * rows
    anchor = group_anchor(shapes)
    if anchor is not None and anchor.source in merged:
        users = facts.users_of(facts.count(anchor.source, anchor.names, anchor.since))
    else:  # every user, and the ids of the rows the scans skip (or of every row, unscanned)
        users = facts.users
        for source, total in facts.rows.items():
            if source in merged:
                specs, names, start = merged[source]
                skipped = total - facts.count(source, names, start)
                cost += C_READ * total * (skipped > 0) + C_ROW * skipped
            else:
                cost += C_READ * total + C_ROW * total
    return cost + C_USER * users + C_FLAG * users * len(shapes)


Groups = list[list[Shape]]


def fused(shapes: list[Shape], facts: Facts | None = None) -> Groups:
    return [list(shapes)]


def split(shapes: list[Shape], facts: Facts | None = None) -> Groups:
    """One query per segment; the pinned ones stay together."""
    pinned = [s for s in shapes if s.pinned]
    return [[s] for s in shapes if not s.pinned] + ([pinned] if pinned else [])


def per_name(shapes: list[Shape], facts: Facts | None = None) -> Groups:
    """One query per anchor (source and names); the unanchored and pinned together in one."""
    groups: dict[tuple[str, tuple[str, ...] | None], list[Shape]] = {}
    rest: list[Shape] = []
    for shape in shapes:
        anchor = shape.anchor
        if shape.pinned or anchor is None:
            rest.append(shape)
        else:
            groups.setdefault((anchor.source, anchor.names), []).append(shape)
    return list(groups.values()) + ([rest] if rest else [])


def grouped(shapes: list[Shape], facts: Facts | None = None) -> Groups:
    """Per-name groups merged two at a time while a merge lowers the estimate (measured facts
    needed; without them the per-name groups)."""
    groups = per_name(shapes)
    if facts is None:
        return groups
    costs = [group_cost(g, facts) for g in groups]
    # the cost of each pair merged, kept between rounds: a merge changes only its own pairs
    together: dict[tuple[int, int], float] = {}
    ids = list(range(len(groups)))
    fresh = len(groups)
    while len(groups) > 1:
        best: tuple[float, int, int] | None = None
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                key = (ids[i], ids[j])
                if key not in together:
                    together[key] = group_cost(groups[i] + groups[j], facts)
                saving = costs[i] + costs[j] - together[key]
                if saving > 0 and (best is None or saving > best[0]):
                    best = (saving, i, j)
        if best is None:
            break
        _, i, j = best
        costs[i] = together[(ids[i], ids[j])]
        groups[i] = groups[i] + groups.pop(j)
        costs.pop(j)
        ids.pop(j)
        ids[i], fresh = fresh, fresh + 1  # a new group: its pairs are costed afresh
    return groups


GROUPINGS: dict[str, Callable[[list[Shape], Facts | None], Groups]] = {"fused": fused, "per_name": per_name, "grouped": grouped, "split": split}


def estimate(groups: Groups, facts: Facts) -> float:
    return sum(group_cost(g, facts) for g in groups)


def _names(groups: Groups, order: list[str]) -> tuple[tuple[str, ...], ...]:
    """Each group's names in selection order; the groups in the order of their first name."""
    index = {n: i for i, n in enumerate(order)}
    named = [tuple(sorted((s.name for s in g), key=index.__getitem__)) for g in groups if g]
    return tuple(sorted(named, key=lambda g: index[g[0]]))


def choose(shapes: list[Shape], strategy: str, facts: Facts | None) -> Choice:
    """The grouping to run: the forced one, else fused when nothing can be gained or nothing
    was measured, else the cheapest estimate if it is `MARGIN` below fused's."""
    order = [s.name for s in shapes]
    estimates = tuple((name, round(estimate(GROUPINGS[name](shapes, facts), facts), 3)) for name in STRATEGIES) if facts is not None else ()
    if strategy != "auto":
        return Choice(strategy, _names(GROUPINGS[strategy](shapes, facts), order), estimates, "forced")
    if len(shapes) <= 1:
        reason = "one segment"
    elif not needs_facts(shapes, "auto"):
        reason = "no segment is anchored on rows of its own"
    elif facts is None:
        reason = "no row counts measured: a run measures them"
    else:
        best = min(STRATEGIES, key=lambda name: (dict(estimates)[name], STRATEGIES.index(name)))
        if best != "fused" and dict(estimates)[best] <= (1 - MARGIN) * dict(estimates)["fused"]:
            return Choice(best, _names(GROUPINGS[best](shapes, facts), order), estimates, "the cheapest estimate")
        reason = f"no grouping is estimated {MARGIN:.0%} below fused"
    return Choice("fused", _names([shapes], order), estimates, reason)


def needs_facts(shapes: list[Shape], strategy: str) -> bool:
    """Would measured row counts change the choice? Only for auto (and grouped, which merges by
    them), with an anchored segment that is not pinned."""
    return strategy in ("auto", "grouped") and len(shapes) > 1 and any(s.anchor is not None and not s.pinned for s in shapes)


def run_plan(defs: Definitions, names: list[str], as_of: dt.datetime, shapes: list[Shape], facts: Facts | None = None) -> Plan:
    """The plan of a run's segments (anchored) with the grouping chosen for them."""
    plan = plan_models(defs, names, as_of, anchored=True)
    return replace(plan, choice=choose(shapes, defs.config.planner_strategy, facts))
