"""`segsql explain NAME`: Braze's segment funnel — the size after each top-level filter.

For an `all:` segment, step k is the segment made of its first k filters; for an `any:`
segment, step k is the first k branches OR-ed, so each step's growth is what that branch
adds. Every step is a segment of its own in one fused query (the plan shares the scans),
counted in one SELECT; the last step is the segment itself.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlglot import exp

from segsql.compiler import SegmentCompiler, flag_name
from segsql.definitions.filters import (
    AllOf,
    AnyOf,
    AttributeFilter,
    BehaviourFilter,
    Filter,
    Not,
    SegmentRef,
)
from segsql.engines import Adapter
from segsql.errors import UsageError
from segsql.run.session import Session
from segsql.run.source_check import source_types


@dataclass(frozen=True)
class Step:
    index: int
    filter: str
    size: int
    #: all: share of the previous step kept; any: members this branch adds
    share_kept: float | None
    added: int | None

    def as_dict(self) -> dict[str, object]:
        return {"step": self.index, "filter": self.filter, "size": self.size, "share_kept": self.share_kept, "added": self.added}


@dataclass(frozen=True)
class Explanation:
    segment: str
    as_of: str
    combinator: str
    steps: list[Step]

    def as_dict(self) -> dict[str, object]:
        return {"segment": self.segment, "as_of": self.as_of, "combinator": self.combinator, "steps": [s.as_dict() for s in self.steps]}


def describe(node: Filter) -> str:
    """A one-line name for a filter: its kind and what it tests."""
    if isinstance(node, AttributeFilter):
        return f"attribute {node.value.name} {'not ' if node.condition.negated else ''}{node.condition.op} {node.condition.value!r}"
    if isinstance(node, BehaviourFilter):
        return f"{node.source} {', '.join(node.names) if node.names else 'any'}"
    if isinstance(node, SegmentRef):
        return f"segment {node.segment}"
    names = {AllOf: "all of", AnyOf: "any of", Not: "not"}
    return names.get(type(node), type(node).__name__.removesuffix("Filter").lower())


def explain_segment(session: Session, adapter: Adapter, name: str) -> Explanation:
    defs = session.definitions
    seg = defs.segments[name]
    if seg.where is None:
        raise UsageError(f"segment {name!r} is a SQL segment: it has no filters to explain", hint="explain a segment with where:")
    where = seg.where
    children: tuple[Filter, ...] = where.children if isinstance(where, AllOf | AnyOf) else (where,)
    combinator = "any" if isinstance(where, AnyOf) else "all"
    cls = AnyOf if combinator == "any" else AllOf
    steps = {f"explain_step_{k}": replace(seg, name=f"explain_step_{k}", where=cls(children[:k], where.location) if k > 1 or isinstance(where, AllOf | AnyOf) else where, materialized="ephemeral", cdi=False, split=None)
             for k in range(1, len(children) + 1)}
    local = replace(defs, segments={**defs.segments, **steps})
    compiler = SegmentCompiler(local, adapter.dialect, session.as_of, source_types(defs.sources, adapter))
    flags = compiler.flags(list(steps)).subquery("f")
    counts = [exp.func("SUM", exp.Case(ifs=[exp.If(this=exp.column(flag_name(n), table="f"), true=exp.Literal.number(1))], default=exp.Literal.number(0))).as_(f"n{i}") for i, n in enumerate(steps)]
    row = adapter.fetch(exp.select(*counts).from_(flags))[0]
    sizes = [int(v or 0) for v in row]
    out = []
    for k, (child, size) in enumerate(zip(children, sizes, strict=True), start=1):
        before = sizes[k - 2] if k > 1 else None
        share = round(size / before, 4) if combinator == "all" and before else None
        added = size - (before or 0) if combinator == "any" else None
        out.append(Step(k, describe(child), size, share, added))
    return Explanation(name, session.project.as_of, combinator, out)
