"""The row counts the cost rule needs, measured once per run (`planner/costs.py`)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlglot import exp

from segsql.compiler import SegmentCompiler
from segsql.compiler.behaviour import BehaviourCompiler
from segsql.compiler.dialects import lit
from segsql.compiler.source_tables import source_table
from segsql.planner import Plan
from segsql.planner.costs import Facts, Shape

if TYPE_CHECKING:  # the strategies import this module
    from segsql.run.strategies.base import RunContext


def _starts(shapes: list[Shape], source: str) -> list[dt.datetime]:
    """Every window start the shapes' scans and anchors of `source` read from."""
    starts = {scan.start for s in shapes for scan in s.scans if scan.source == source}
    starts |= {a.since for s in shapes for a in s.anchors if a.source == source}
    return sorted(t for t in starts if t is not None)


def measure_facts(ctx: RunContext, compiler: SegmentCompiler, plan: Plan, shapes: list[Shape]) -> Facts:
    """One grouped count per scanned source (rows per name and window start) and the users:
    a fraction of one scan's work, which lets the cost rule compare groupings."""
    behaviour = compiler.behaviour(plan)
    rows: dict[str, int] = {}
    by_name: dict[str, dict[str, dict[dt.datetime | None, int]]] = {}
    for source in sorted({scan.source for s in shapes for scan in s.scans}):
        starts = _starts(shapes, source)
        per_name = by_name.setdefault(source, {})
        for name, total, *since in ctx.adapter.fetch(behaviour.name_counts(source, starts)):
            per_name[str(name)] = {None: int(total), **{start: int(n) for start, n in zip(starts, since, strict=True)}}
        rows[source] = sum(counts[None] for counts in per_name.values())
    return Facts(_users(ctx, behaviour, rows), rows, by_name)


def _users(ctx: RunContext, behaviour: BehaviourCompiler, rows: dict[str, int]) -> int:
    """The users source's non-empty ids; without one, the distinct users of the largest source."""
    users = ctx.defs.sources.users
    if users is not None:
        ident = behaviour.rules.to_text(exp.column(users.id))
        query = exp.select(exp.Count(this=exp.Star())).from_(source_table(users.table, ctx.adapter.dialect)).where(exp.NEQ(this=ident, expression=lit("")))
        return int(ctx.adapter.fetch(query)[0][0])
    if not rows:
        return 0
    source = max(rows, key=rows.__getitem__)
    query = exp.select(exp.Count(this=exp.Distinct(expressions=[behaviour.user(source)]))).from_(behaviour.rows(source)).where(behaviour.seen(source))
    return int(ctx.adapter.fetch(query)[0][0])
