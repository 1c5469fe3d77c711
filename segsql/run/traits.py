"""Trait tables at run time (SPEC 8.3): one row per id, and fresh enough to be used.

A trait table is LEFT JOINed by id, so a duplicated id would count a user twice; it is
checked like the users source before anything is written. With `max_age`, the newest
`updated_at` must be at most that long before `as_of`: a stale score fails the segments
that read it, as a guard does (their tables and CDI keys kept, the run exits 1), while
every other segment commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlglot import exp

from segsql.compiler.column_types import ColumnTypes
from segsql.compiler.conditions import ConditionCompiler
from segsql.compiler.dialects import lit
from segsql.compiler.registry import rules_for
from segsql.compiler.source_tables import source_table
from segsql.definitions.sources import Sources, TraitSource
from segsql.engines import Adapter
from segsql.errors import RunFailure


def first_duplicate(adapter: Adapter, table: str, id_column: str) -> tuple[str, int] | None:
    """An id that `table` holds more than once (the smallest), with its row count; None if none."""
    ident = rules_for(adapter.dialect).to_text(exp.column(id_column))
    count = exp.func("COUNT", exp.Star())
    query = (
        exp.select(ident.as_("id"), count.as_("n"))
        .from_(source_table(table, adapter.dialect))
        .group_by(ident.copy())
        .having(exp.GT(this=count.copy(), expression=exp.Literal.number(1)))
        .order_by(exp.column("id"))
        .limit(1)
    )
    rows = adapter.fetch(query)
    return (str(rows[0][0]), int(rows[0][1])) if rows else None


def check_traits_unique(sources: Sources, adapter: Adapter, names: Iterable[str]) -> None:
    """Each trait table a run reads holds at most one row per id; else fail, writing nothing."""
    for name in names:
        trait = sources.traits[name]
        found = first_duplicate(adapter, trait.table, trait.id)
        if found is not None:
            raise RunFailure(
                f"the trait table {name} ({trait.table}) has {found[1]} rows for id {found[0]!r}; it must hold at most one row per id — nothing was written",
                trait.location,
            )


def _freshness(trait: TraitSource, adapter: Adapter, as_of: dt.datetime, types: ColumnTypes) -> str | None:
    """Why `trait` is too old to use at `as_of` (None: fresh, or it has no max_age)."""
    if trait.max_age_hours is None or trait.updated_at is None:
        return None
    rules = rules_for(adapter.dialect)
    limit = dt.timedelta(hours=trait.max_age_hours)
    column = trait.updated_at
    moment = ConditionCompiler(rules, as_of, types).time(exp.column(column.column), trait.table, column.column, column.unit)
    recent = exp.Count(this=exp.Case(ifs=[exp.If(this=exp.GTE(this=moment.copy(), expression=rules.timestamp(as_of - limit)), true=lit(1))]))
    query = exp.select(exp.alias_(exp.Max(this=moment), "newest"), exp.alias_(recent, "recent")).from_(source_table(trait.table, adapter.dialect))
    newest, fresh = adapter.fetch(query)[0]
    if fresh:
        return None
    hours = f"{trait.max_age_hours:g}"
    if newest is None:
        return f"trait table {trait.name} ({trait.table}) has no row with an updated_at, so it cannot be fresher than max_age {hours} h — fill it, or drop max_age"
    shown = newest.isoformat(sep=" ") if isinstance(newest, dt.datetime) else str(newest)
    return (
        f"trait table {trait.name} ({trait.table}) is stale: its newest updated_at is {shown} UTC, "
        f"more than max_age {hours} h before as_of {as_of.strftime('%Y-%m-%d %H:%M:%S')} UTC — refresh the table, or run with an earlier --as-of"
    )


def stale_traits(sources: Sources, adapter: Adapter, names: Iterable[str], as_of: dt.datetime, types: ColumnTypes) -> dict[str, str]:
    """trait name → why it is stale (a guard's message, naming where max_age is set), for
    each of `names` whose max_age `as_of` exceeds."""
    out = {}
    for name in names:
        trait = sources.traits[name]
        reason = _freshness(trait, adapter, as_of, types)
        if reason is not None:
            out[name] = f"guard max_age ({trait.max_age_location}): {reason}"
    return out
