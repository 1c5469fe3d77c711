"""`segsql diff --state DIR`: the members a change adds and removes, before it ships.

For every segment `state:modified` selects against DIR's manifest, and every segment the
manifest has that the project no longer does, the old definition (rebuilt from the manifest)
and the new one (from the project) are compiled at the same `as_of` and compared in one
query per segment: new EXCEPT old, old EXCEPT new, their counts, the first ids of each, and
both sizes. Nothing is written. The new size is checked against the segment's guards as a
run would check it, with the old definition's size at this `as_of` as the previous size, so
the change's own effect is what `max_change_pct` judges.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from segsql.compiler.dialects import lit
from segsql.definitions.segments import Guards, Segment
from segsql.engines import Adapter
from segsql.reports.diff_sides import DiffSide, diff_sides
from segsql.reports.guards import check
from segsql.reports.model_diff import Group, ModelDiff, Side, no_rows, read_counts
from segsql.reports.model_diff import comparison as model_comparison
from segsql.reports.previous import previous_definitions
from segsql.run.manifest import State
from segsql.run.session import Session
from segsql.run.source_check import source_types

ID = "external_user_id"
SAMPLE = 10


@dataclass(frozen=True)
class SegmentDiff:
    segment: str
    #: new | modified | removed
    change: str
    #: what changed: membership and/or metadata (a new or removed segment: both)
    parts: list[str]
    old_size: int | None
    new_size: int | None
    added: Side
    removed: Side
    #: ok | broken | none (no guards, or the segment is removed or not a table)
    guard_status: str = "none"
    guard_message: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "segment": self.segment, "change": self.change, "parts": self.parts, "old_size": self.old_size, "new_size": self.new_size,
            "added": self.added.as_dict(), "removed": self.removed.as_dict(), "guards": {"status": self.guard_status, "message": self.guard_message},
        }


@dataclass
class StateDiff:
    as_of: str
    state: str
    segments: list[SegmentDiff] = field(default_factory=list)
    funnels: list[ModelDiff] = field(default_factory=list)
    clusters: list[ModelDiff] = field(default_factory=list)

    @property
    def broken(self) -> list[SegmentDiff]:
        return [s for s in self.segments if s.guard_status == "broken"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of, "state": self.state, "status": "guard_failed" if self.broken else "ok",
            "segments": [s.as_dict() for s in self.segments], "funnels": [f.as_dict() for f in self.funnels], "clusters": [c.as_dict() for c in self.clusters],
        }


def _ids(query: exp.Select, alias: str) -> exp.Select:
    return exp.select(exp.column(ID, table=alias)).from_(query.subquery(alias))


def comparison(old: exp.Select, new: exp.Select) -> exp.Select:
    """One query: `side`, `id`, `total` rows — the first SAMPLE ids of added and removed with
    their counts, and one row per side's size (id NULL)."""
    added = exp.except_(_ids(new.copy(), "n1"), _ids(old.copy(), "o1"))
    removed = exp.except_(_ids(old.copy(), "o2"), _ids(new.copy(), "n2"))
    parts: list[exp.Query] = []
    for side, query in (("added", added), ("removed", removed)):
        ranked = exp.select(
            exp.alias_(lit(side), "side"), exp.column(ID, table="d"),
            exp.alias_(exp.Window(this=exp.Count(this=exp.Star())), "total"),
            exp.alias_(exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=[exp.Ordered(this=exp.column(ID, table="d"))])), "rn"),
        ).from_(query.subquery("d"))
        parts.append(exp.select("side", ID, "total").from_(ranked.subquery(f"r_{side}")).where(exp.LTE(this=exp.column("rn"), expression=lit(SAMPLE))))
    for side, members in (("old", old), ("new", new)):
        size = exp.select(exp.alias_(lit(side), "side"), exp.alias_(exp.cast(exp.null(), exp.DataType.Type.VARCHAR), ID), exp.alias_(exp.Count(this=exp.Star()), "total"))
        parts.append(size.from_(members.subquery(f"s_{side}")))
    union: exp.Query = parts[0]
    for part in parts[1:]:
        union = exp.union(union, part, distinct=False)
    return exp.select(exp.Star()).from_(union.subquery("u"))


def _guards(seg: Segment, new_size: int, old_size: int | None) -> tuple[str, str]:
    if seg.materialized != "table" or seg.guards == Guards():
        return "none", ""
    result = check(seg, [new_size] + ([old_size] if old_size is not None else []))
    message = result.message.replace("the last run changed the size", "the change moves the size")
    return result.status, message


def _change(old: dict[str, Any] | None, new: Any) -> tuple[str, list[str]]:
    """new | modified | removed, and which hashes differ (a new or removed model: both)."""
    if new is None:
        return "removed", ["membership", "metadata"]
    if old is None:
        return "new", ["membership", "metadata"]
    differs = (("membership", old.get("membership_hash") != new.membership_hash()), ("metadata", old.get("metadata_hash") != new.metadata_hash()))
    return "modified", [p for p, d in differs if d]


def _segment(adapter: Adapter, state: State, old: DiffSide, new: DiffSide, name: str) -> SegmentDiff:
    old_entry = state.segments.get(name)
    rows = adapter.fetch(comparison(old.members(name), new.members(name)))
    samples: dict[str, list[str]] = {"added": [], "removed": []}
    totals: dict[str, int] = {}
    for side, ident, total in rows:
        totals[str(side)] = int(total)
        if ident is not None:
            samples[str(side)].append(str(ident))
    seg = new.defs.segments.get(name)
    change, parts = _change(old_entry, seg)
    old_size = totals["old"] if old_entry is not None else None
    new_size = totals["new"] if seg is not None else None
    status, message = _guards(seg, totals["new"], old_size) if seg is not None else ("none", "")
    return SegmentDiff(
        name, change, parts, old_size, new_size,
        Side(totals.get("added", 0), sorted(samples["added"])), Side(totals.get("removed", 0), sorted(samples["removed"])), status, message,
    )


def _funnel(adapter: Adapter, state: State, old: DiffSide, new: DiffSide, name: str) -> ModelDiff:
    """Entered, left, furthest step moved; users per step (furthest step >= k) old against new."""
    # a manifest written before funnels were in it has none: each is new (its old side empty)
    before, after = old.defs.funnels.get(name) if name in state.funnels else None, new.defs.funnels.get(name)
    counts = read_counts(adapter.fetch(model_comparison(old.funnel_rows(name) if before else no_rows(), new.funnel_rows(name))))
    change, parts = _change(state.funnels.get(name), after)
    steps = max(len(f.steps) for f in (before, after) if f is not None)
    groups = [
        Group(
            k, before.steps[k - 1].name if before and k <= len(before.steps) else None, after.steps[k - 1].name if after and k <= len(after.steps) else None,
            counts.at_least("old", k) if before and k <= len(before.steps) else None, counts.at_least("new", k) if after and k <= len(after.steps) else None,
        )
        for k in range(1, steps + 1)
    ]
    return ModelDiff(
        name, "funnel", change, parts, counts.size("old") if before else None, counts.size("new") if after else None,
        counts.side("added"), counts.side("removed"), counts.side("moved"), groups,
    )


def _cluster(adapter: Adapter, state: State, old: DiffSide, new: DiffSide, name: str) -> ModelDiff:
    """Clustered, no longer clustered, cluster number moved; each cluster's size and label old against new."""
    before, after = old.defs.clusters.get(name) if name in state.clusters else None, new.defs.clusters.get(name)
    counts = read_counts(adapter.fetch(model_comparison(old.cluster_rows(name) if before else no_rows(), new.cluster_rows(name))))
    change, parts = _change(state.clusters.get(name), after)
    numbers = sorted(set(counts.values["old"]) | set(counts.values["new"]))
    groups = [
        Group(
            c, before.label(c) if before else None, after.label(c) if after else None,
            counts.values["old"].get(c, 0) if before else None, counts.values["new"].get(c, 0) if after else None,
        )
        for c in numbers
    ]
    return ModelDiff(
        name, "cluster", change, parts, counts.size("old") if before else None, counts.size("new") if after else None,
        counts.side("added"), counts.side("removed"), counts.side("moved"), groups,
    )


def diff_state(session: Session, adapter: Adapter, state: State, names: list[str], removed: list[str]) -> StateDiff:
    """Old against new for the modified models `names` (segments, funnels, cluster models) and the
    `removed` ones: one query each, over cluster models computed once per side."""
    new_defs = session.definitions
    old_defs = previous_definitions(state, new_defs)
    types = (source_types(old_defs.sources, adapter), source_types(new_defs.sources, adapter))
    report = StateDiff(session.project.as_of, str(state.path))
    everything = [*names, *removed]
    with diff_sides(session, adapter, old_defs, everything, types) as (old, new):
        for name in everything:
            if name in new_defs.segments or name in state.segments:
                report.segments.append(_segment(adapter, state, old, new, name))
            elif name in new_defs.funnels or name in old_defs.funnels:
                report.funnels.append(_funnel(adapter, state, old, new, name))
            elif name in new_defs.clusters or name in old_defs.clusters:
                report.clusters.append(_cluster(adapter, state, old, new, name))
    return report
