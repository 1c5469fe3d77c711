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

from segsql.compiler import SegmentCompiler
from segsql.compiler.dialects import lit
from segsql.definitions.project import Definitions
from segsql.definitions.segments import Guards, Segment
from segsql.engines import Adapter
from segsql.reports.guards import check
from segsql.reports.previous import previous_definitions
from segsql.run.manifest import State
from segsql.run.session import Session
from segsql.run.source_check import source_types

ID = "external_user_id"
SAMPLE = 10


@dataclass(frozen=True)
class Side:
    count: int
    sample: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {"count": self.count, "sample": self.sample}


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

    @property
    def broken(self) -> list[SegmentDiff]:
        return [s for s in self.segments if s.guard_status == "broken"]

    def as_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of, "state": self.state, "status": "guard_failed" if self.broken else "ok", "segments": [s.as_dict() for s in self.segments]}


def _nobody() -> exp.Select:
    """A members query with no rows, for the side a new or removed segment does not have."""
    return exp.select(exp.alias_(exp.cast(exp.null(), exp.DataType.Type.VARCHAR), ID)).where(exp.false())


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


def _members(defs: Definitions, compiler: SegmentCompiler, name: str) -> exp.Select:
    return compiler.members(name) if name in defs.segments else _nobody()


def diff_state(session: Session, adapter: Adapter, state: State, names: list[str], removed: list[str]) -> StateDiff:
    """Old against new for the modified segments `names` and the `removed` ones, one query each."""
    new_defs = session.definitions
    old_defs = previous_definitions(state, new_defs)
    new_compiler = SegmentCompiler(new_defs, adapter.dialect, session.as_of, source_types(new_defs.sources, adapter))
    old_compiler = SegmentCompiler(old_defs, adapter.dialect, session.as_of, source_types(old_defs.sources, adapter))
    report = StateDiff(session.project.as_of, str(state.path))
    for name in [*names, *removed]:
        old_entry = state.segments.get(name)
        rows = adapter.fetch(comparison(_members(old_defs, old_compiler, name), _members(new_defs, new_compiler, name)))
        samples: dict[str, list[str]] = {"added": [], "removed": []}
        totals: dict[str, int] = {}
        for side, ident, total in rows:
            totals[str(side)] = int(total)
            if ident is not None:
                samples[str(side)].append(str(ident))
        seg = new_defs.segments.get(name)
        if seg is None:
            change, parts = "removed", ["membership", "metadata"]
        elif old_entry is None:
            change, parts = "new", ["membership", "metadata"]
        else:
            change = "modified"
            parts = [p for p, differs in (("membership", old_entry.get("membership_hash") != seg.membership_hash()), ("metadata", old_entry.get("metadata_hash") != seg.metadata_hash())) if differs]
        old_size = totals["old"] if old_entry is not None else None
        new_size = totals["new"] if seg is not None else None
        status, message = _guards(seg, totals["new"], old_size) if seg is not None else ("none", "")
        report.segments.append(SegmentDiff(
            name, change, parts, old_size, new_size,
            Side(totals.get("added", 0), sorted(samples["added"])), Side(totals.get("removed", 0), sorted(samples["removed"])), status, message,
        ))
    return report


def print_diff(report: StateDiff) -> None:
    """A table of the changes, then the sample ids each one adds (+) and removes (-)."""
    from segsql.reports.output import print_table, print_text

    if not report.segments:
        print_text(f"no segment changed against {report.state}")
        return
    rows = [
        (s.segment, s.change + (f" ({', '.join(s.parts)})" if s.change == "modified" else ""), s.old_size, s.new_size, f"+{s.added.count}", f"-{s.removed.count}", s.guard_status + (f": {s.guard_message}" if s.guard_message else ""))
        for s in report.segments
    ]
    print_table(f"changes against {report.state} at {report.as_of}", ["segment", "change", "old size", "new size", "added", "removed", "guards"], rows)
    for s in report.segments:
        for mark, side in (("+", s.added), ("-", s.removed)):
            if side.sample:
                more = f" and {side.count - len(side.sample)} more" if side.count > len(side.sample) else ""
                print_text(f"{s.segment} {mark} {', '.join(side.sample)}{more}")
