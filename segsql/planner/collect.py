"""The first, literal plan of some models: every behavioural measure asked as written.

Leaves are met in the order the query evaluates them — each selected model's filter depth
first, a `segment:` reference inlined where it is read, then the segments that SQL
segments `ref()` — so the rules that follow number metrics and passes in a stable order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from segsql.definitions.filters import (
    AllOf,
    AnyOf,
    BehaviourFilter,
    Filter,
    Not,
    RfmFilter,
    SegmentRef,
    SequenceFilter,
    TraitFilter,
)
from segsql.definitions.project import Definitions
from segsql.definitions.segments import Segment
from segsql.planner.plan import Ask, Form, MetricSpec, Plan, SegmentNode
from segsql.planner.windows import bounds


def sql_flags_needed(segments: Mapping[str, Segment], names: Iterable[str]) -> tuple[str, ...]:
    """SQL segments that must be joined as flags: selected ones and those reached by `segment:`."""
    out: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        seg = segments[name]
        if seg.sql is not None:
            out.append(name)
            return
        for dep in seg.segment_dependencies():
            visit(dep)

    for name in names:
        visit(name)
    return tuple(out)


def sql_refs_reached(segments: Mapping[str, Segment], joins: Iterable[str]) -> list[str]:
    """Segments that the joined SQL segments `ref()`, depth first as their SQL is inlined:
    each reference, then the SQL segments that reference itself needs joined."""
    out: list[str] = []
    joined: set[str] = set()

    def join(name: str) -> None:
        if name in joined:
            return
        joined.add(name)
        seg = segments[name]
        for ref in seg.sql.refs() if seg.sql is not None else ():
            out.append(ref)
            for nested in sql_flags_needed(segments, [ref]):
                join(nested)

    for name in joins:
        join(name)
    return out


class _Collector:
    def __init__(self, defs: Definitions, as_of: dt.datetime):
        self.defs = defs
        self.as_of = as_of
        self.asks: list[Ask] = []
        self.pass_leaves: list[tuple[SequenceFilter | RfmFilter, str]] = []
        #: trait tables in the order first read (one join each)
        self.traits: dict[str, None] = {}

    def segment(self, name: str) -> None:
        seg = self.defs.segments[name]
        if seg.where is not None:
            self.filter(seg.where, name)

    def filter(self, node: Filter, model: str) -> None:
        if isinstance(node, AllOf | AnyOf):
            for child in node.children:
                self.filter(child, model)
        elif isinstance(node, Not):
            self.filter(node.child, model)
        elif isinstance(node, SegmentRef):
            self.segment(node.segment)
        elif isinstance(node, TraitFilter):
            self.traits[node.trait] = None
        elif isinstance(node, BehaviourFilter):
            start, _ = bounds(node.window, self.as_of, self.defs.config.timezone)
            for index, measure in enumerate(node.measures):
                value = measure.value if measure.kind in ("sum", "avg", "min", "max", "count_distinct") else None
                spec = MetricSpec(node.source, measure.kind, node.names, node.where, node.window, value)
                self.asks.append(Ask(node, index, model, spec, start))
        elif isinstance(node, SequenceFilter | RfmFilter):
            self.pass_leaves.append((node, model))


def collect(defs: Definitions, names: list[str], as_of: dt.datetime, form: Form) -> Plan:
    """The plan before any rule: one ask per measure, one entry per sequence and RFM leaf."""
    collector = _Collector(defs, as_of)
    for name in names:
        collector.segment(name)
    joins = sql_flags_needed(defs.segments, names)
    for ref in sql_refs_reached(defs.segments, joins):
        collector.segment(ref)
    channels = tuple(dict.fromkeys(c for n in names for c in defs.segments[n].channels)) if form == "flags" else ()
    for channel in channels:
        collector.filter(defs.channels[channel].where, f"consent:{channel}")
    nodes = tuple(
        SegmentNode(n, "sql" if defs.segments[n].sql is not None else "filter", defs.segments[n].materialized) for n in names
    )
    return Plan(
        form=form,
        as_of=as_of,
        nodes=nodes,
        asks=tuple(collector.asks),
        sql_joins=joins,
        pass_leaves=tuple(collector.pass_leaves),
        traits=tuple(collector.traits),
        channels=channels,
    )
