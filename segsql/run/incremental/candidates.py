"""The query of a run's candidates (SPEC 9): every user whose verdict can have changed.

Users with added, late, deleted or updated rows in a user-keyed source (the fingerprints);
users with a row of the right names inside a band that moves with `as_of`; users whose
time attribute lies inside such a band; and users not in the users source with a row that
became seen (time in (a0, a1]): they may have joined the universe — a user of the users
source was in it already.

Each band is its own `time BETWEEN lo AND hi` scan, so that an engine prunes by time (zone
maps, micro-partitions) instead of testing every row against every band; the parts are
UNION ALLed and deduplicated once.
"""

from __future__ import annotations

import datetime as dt

from sqlglot import exp

from segsql.compiler.conditions import ConditionCompiler
from segsql.compiler.dialects import lit
from segsql.compiler.registry import rules_for
from segsql.compiler.source_tables import source_table
from segsql.definitions.sources import EventsSource, PurchasesSource
from segsql.run.incremental.bands import Band, Dependence
from segsql.run.incremental.fingerprints import Fingerprints
from segsql.run.incremental.membership import ENTITY
from segsql.run.strategies.base import RunContext


def candidates_query(ctx: RunContext, fingerprints: Fingerprints, deps: list[Dependence], a0: dt.datetime, a1: dt.datetime) -> exp.Query:
    """SELECT DISTINCT entity of every candidate (never NULL)."""
    changed = fingerprints.changed_entities().subquery("f")
    parts: list[exp.Select] = [
        exp.select(exp.column(ENTITY, table="f").as_(ENTITY)).from_(changed).where(exp.not_(exp.column("source", table="f").like(lit("catalog:%"))))
    ]
    rows: dict[tuple[str, tuple[str, ...] | None], set[Band]] = {}
    attributes: dict[tuple[str, object], set[Band]] = {}
    for dep in deps:
        for key, bands in dep.rows.items():
            rows.setdefault(key, set()).update(bands)
        for akey, bands in dep.attributes.items():
            attributes.setdefault(akey, set()).update(bands)
    conditions = ConditionCompiler(rules_for(ctx.adapter.dialect), ctx.as_of, ctx.types)
    for name in ("events", "purchases"):
        parts += _row_parts(ctx, conditions, name, rows, (a0, a1))
    parts += _attribute_parts(ctx, conditions, attributes)
    query: exp.Query = parts[0] if len(parts) == 1 else exp.union(*parts, distinct=False)
    return exp.select(ENTITY).distinct().from_(query.subquery("u")).where(exp.column(ENTITY).is_(exp.null()).not_())


def _row_parts(ctx: RunContext, conditions: ConditionCompiler, source_name: str, rows: dict[tuple[str, tuple[str, ...] | None], set[Band]], seen: Band) -> list[exp.Select]:
    """One scan per band of one behavioural source: the users with a row of the names that need it."""
    defs, dialect = ctx.defs, ctx.adapter.dialect
    rules = rules_for(dialect)
    src: EventsSource | PurchasesSource | None = defs.sources.events if source_name == "events" else defs.sources.purchases
    if src is None:
        return []
    when = conditions.time(exp.column(src.time.column, table="r"), src.table, src.time.column, src.time.unit)
    name_column = src.name if isinstance(src, EventsSource) else src.product
    # band → the names whose rows in it matter (None: every row)
    names_of: dict[Band, set[str] | None] = {}
    for (source, names), bands in rows.items():
        if source != source_name:
            continue
        for band in bands:
            wanted = names_of.get(band, set())
            names_of[band] = None if names is None or wanted is None else wanted | set(names)
    ident = rules.to_text(exp.column(src.user, table="r"))
    table = exp.alias_(source_table(src.table, dialect), "r", table=True)

    def scan(band: Band) -> exp.Select:
        return exp.select(ident.copy().as_(ENTITY)).from_(table.copy()).where(exp.Between(this=when.copy(), low=rules.timestamp(band[0]), high=rules.timestamp(band[1])))

    out = []
    for band, only in sorted(names_of.items(), key=lambda item: item[0]):
        select = scan(band)
        if only is not None:
            select = select.where(rules.to_text(exp.column(name_column, table="r")).isin(*(lit(n) for n in sorted(only))))
        out.append(select)
    users = defs.sources.users
    joined = scan(seen)
    if users is not None:  # became seen: may have joined the universe, unless the users source had it
        known = exp.select(lit(1)).from_(exp.alias_(source_table(users.table, dialect), "k", table=True)).where(rules.to_text(exp.column(users.id, table="k")).eq(ident.copy()))
        joined = joined.where(exp.not_(exp.Exists(this=known)))
    out.append(joined)
    return out


def _attribute_parts(ctx: RunContext, conditions: ConditionCompiler, attributes: dict[tuple[str, object], set[Band]]) -> list[exp.Select]:
    """Users (or trait rows) whose time attribute lies inside a band."""
    defs, dialect = ctx.defs, ctx.adapter.dialect
    rules = rules_for(dialect)
    out = []
    for (trait, ref), bands in sorted(attributes.items(), key=str):
        source = defs.sources.traits[trait] if trait else defs.sources.users
        if source is None:
            continue
        value = conditions.value(ref, "a", source.table).sql  # type: ignore[arg-type]
        spans = exp.or_(*(exp.Between(this=value.copy(), low=rules.timestamp(lo), high=rules.timestamp(hi)) for lo, hi in sorted(bands)))
        table = exp.alias_(source_table(source.table, dialect), "a", table=True)
        out.append(exp.select(rules.to_text(exp.column(source.id, table="a")).as_(ENTITY)).from_(table).where(spans))
    return out
