"""The planner's rules: small pure functions Plan → Plan, applied in the order of `RULES`.

Each rule does one rewrite (as sqlglot's optimizer passes do), so each is tested on a
small plan and a new optimisation is one more function in the tuple. Every rule keeps
the meaning of every leaf; only the amount of work changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace

from segsql.definitions.filters import Measure, RfmFilter
from segsql.planner.plan import (
    Metric,
    MetricSpec,
    Numbering,
    Plan,
    RfmPass,
    Scan,
    SequencePass,
    SharedPass,
)
from segsql.planner.windows import bounds

Rule = Callable[[Plan, str], Plan]
#: the per-source order of scans in a plan (and in its SQL)
SOURCES = ("events", "purchases")


def existence(measure: Measure) -> bool | None:
    """True if `measure` only asks "at least one matching row", False if only "none", else None.

    A count is a whole number ≥ 0, so `gte: 1`, `gt: 0` and `not_equals: 0` all mean "at least
    one", and `equals: 0`, `lt: 1`, `lte: 0` all mean "none"."""
    cond = measure.condition
    if measure.kind != "count" or cond.or_missing or not isinstance(cond.value, int | float) or isinstance(cond.value, bool):
        return None
    v = cond.value
    at_least_one = {"gte": 0 < v <= 1, "gt": 0 <= v < 1}.get(cond.op, False)
    none = {"lt": 0 < v <= 1, "lte": 0 <= v < 1, "equals": v == 0}.get(cond.op, False)
    if not (at_least_one or none):
        return None
    return at_least_one != cond.negated


def latest_row_for_existence(plan: Plan, timezone: str) -> Plan:
    """"At least one / none in a window ending at as_of" becomes "the latest matching row is at
    or after the window's start": one MAX per kind of row, shared by every such window and by
    `last`, where a COUNT per window would each keep its own state per user."""
    asks = []
    for ask in plan.asks:
        occurred = existence(ask.leaf.measures[ask.index])
        _, end = bounds(ask.spec.window, plan.as_of, timezone)
        if occurred is not None and end is None:
            ask = replace(ask, spec=replace(ask.spec, kind="last", window=None, value=None), latest=occurred)
        asks.append(ask)
    return replace(plan, asks=tuple(asks))


def group_into_scans(plan: Plan, timezone: str) -> Plan:
    """One grouped scan per source; equal specs (whoever asked) become one metric column."""
    metrics: dict[str, dict[MetricSpec, list[str]]] = {}
    for ask in plan.asks:
        # an average is its sum compared against value × the count of its values (SPEC 3.4)
        # (its sum is the sum's metric: one column for `sum` and `avg` of the same values)
        specs = [replace(ask.spec, kind="sum"), replace(ask.spec, kind="avg_count")] if ask.spec.kind == "avg" else [ask.spec]
        for spec in specs:
            users = metrics.setdefault(spec.source, {}).setdefault(spec, [])
            if ask.model not in users:
                users.append(ask.model)
    scans = tuple(
        Scan(source, f"__scan_{source}", tuple(Metric(f"m{i}", spec, tuple(used)) for i, (spec, used) in enumerate(metrics[source].items())))
        for source in sorted(metrics, key=SOURCES.index)
    )
    return replace(plan, scans=scans)


def push_down_rows(plan: Plan, timezone: str) -> Plan:
    """A scan reads only the names its metrics need, and only since the earliest start they need."""
    scans = []
    for scan in plan.scans:
        asks = [a for a in plan.asks if a.spec.source == scan.source]
        names: set[str] | None = set()
        start: dt.datetime | None = dt.datetime.max.replace(tzinfo=dt.UTC)
        for ask in asks:
            names = None if names is None or ask.spec.names is None else names | set(ask.spec.names)
            start = None if start is None or ask.since is None else min(start, ask.since)
        scans.append(replace(scan, names=tuple(sorted(names)) if names is not None else None, start=start))
    return replace(plan, scans=tuple(scans))


def share_passes(plan: Plan, timezone: str) -> Plan:
    """Sequences and RFM windows become per-user passes keyed by their meaning; every sequence
    reads one numbering of the events (not one per sequence)."""
    passes: list[SharedPass] = []
    sequences: dict[object, int] = {}
    rfms: dict[object, int] = {}
    numberings: dict[str, str] = {}

    def add(p: SharedPass) -> int:
        passes.append(p)
        return len(passes) - 1

    for leaf, model in plan.pass_leaves:
        if isinstance(leaf, RfmFilter):
            if leaf.window in rfms:
                old_rfm = passes[rfms[leaf.window]]
                assert isinstance(old_rfm, RfmPass)
                passes[rfms[leaf.window]] = replace(old_rfm, used_by=_with(old_rfm.used_by, model))
            else:
                rfms[leaf.window] = add(RfmPass(f"__rfm_{len(passes)}", leaf.window, (model,)))
            continue
        steps = (*leaf.steps, *((leaf.then_not,) if leaf.then_not is not None else ()))
        for source in sorted({step.source for step in steps}, key=SOURCES.index):
            if source not in numberings:
                numberings[source] = f"__seq_rows_{len(passes)}" if source == "events" else f"__seq_purchase_rows_{len(passes)}"
                add(Numbering(numberings[source], source))
        if leaf in sequences:
            old = passes[sequences[leaf]]
            assert isinstance(old, SequencePass)
            passes[sequences[leaf]] = replace(old, used_by=_with(old.used_by, model))
        else:
            used = tuple((s, numberings[s]) for s in sorted({step.source for step in steps}, key=SOURCES.index))
            sequences[leaf] = add(SequencePass(f"__seq_{len(passes)}", leaf, used, (model,)))
    return replace(plan, passes=tuple(passes))


def choose_universe(plan: Plan, timezone: str) -> Plan:
    """The fused form starts from the users of an anchor's scan when every segment needs such a
    row (nobody else can be a member), else joins users and the scans (each read once) when
    there are scans to join."""
    if plan.form != "flags" or not plan.scans:
        return replace(plan, universe="union")
    anchor = next((a for a in plan.anchors if plan.scan(a.source) is not None), None)
    if anchor is not None:
        return replace(plan, universe="anchored", anchor=anchor)
    return replace(plan, universe="full_join")


def read_every_seen_row(plan: Plan, timezone: str) -> Plan:
    """When the universe is users FULL JOIN the scans (a model over every user), each scan reads
    every seen row: its metrics pick their rows by their own conditions, so the source is read
    once, where a scan of some rows needs a second pass for the ids of the rows it skips. Not in
    `RULES`: for segments, which keep few users, reading only some rows is the better bet; cluster
    features (`compiler/clusters.py`) are wanted for every user of the audience."""
    if plan.universe != "full_join":
        return plan
    return replace(plan, scans=tuple(replace(scan, names=None, start=None) for scan in plan.scans))


def _with(models: tuple[str, ...], model: str) -> tuple[str, ...]:
    return models if model in models else (*models, model)


RULES: tuple[Rule, ...] = (
    latest_row_for_existence,
    group_into_scans,
    push_down_rows,
    share_passes,
    choose_universe,
)


def optimize(plan: Plan, timezone: str, rules: tuple[Rule, ...] = RULES) -> Plan:
    for rule in rules:
        plan = rule(plan, timezone)
    return plan


__all__ = ["RULES", "existence", "optimize", "read_every_seen_row"]
