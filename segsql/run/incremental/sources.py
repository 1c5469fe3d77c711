"""Every declared source as rows to fingerprint: an entity per row, a bucket, the columns read.

Change detection must not trust event times (a late row carries an old time, a deleted row
is gone), so it compares the rows themselves: each row is reduced to a hash of every column
sources.yml names, and rows are grouped into buckets — the UTC day of the row time for
events and purchases, a hash of the id for users, traits and catalogs — so that a run
compares a few thousand bucket sums and looks closer only inside buckets that differ.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlglot import exp

from segsql.compiler.column_types import ColumnTypes
from segsql.compiler.conditions import ConditionCompiler
from segsql.compiler.dialects import lit
from segsql.compiler.registry import rules_for
from segsql.compiler.source_tables import source_table
from segsql.definitions.sources import Column, Sources

#: the bucket of a row whose time is NULL (day buckets are days since 1970-01-01)
NULL_DAY = -1_000_000_000
#: buckets of id-bucketed sources (users, traits, catalogs)
ID_BUCKETS = 1024
#: the two hash components are taken modulo these primes: their sums stay exact even where an
#: engine (fakesnow) adds integers as doubles, and together they are ~60 bits of a row
PRIMES = (1_000_000_007, 998_244_353)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Fingerprinted:
    """One source as the fingerprint queries read it."""

    #: `events`, `purchases`, `users`, `trait:<name>`, `catalog:<name>`
    name: str
    table: exp.Table
    #: the user id (or the catalog key) of a row, as text
    entity: exp.Expr
    #: every column sources.yml names for this source
    columns: tuple[exp.Expr, ...]
    #: the row time as naive UTC (day buckets), None for id buckets
    time: exp.Expr | None

    @property
    def by_day(self) -> bool:
        return self.time is not None


def row_hash(dialect: str, columns: tuple[exp.Expr, ...], salt: int) -> exp.Expr:
    """A 64-bit hash of a row's columns on the target engine (`salt` gives an independent one).

    DuckDB's and Snowflake's HASH take many arguments and hash NULLs too; PostgreSQL hashes
    the text of a ROW, in which NULL and '' differ."""
    values = [c.copy() for c in columns] + [lit(salt)]
    if dialect == "postgres":
        text = exp.cast(exp.Anonymous(this="ROW", expressions=values), exp.DataType.Type.TEXT)
        return exp.Anonymous(this="hashtextextended", expressions=[text, lit(salt)])
    return exp.Anonymous(this="HASH", expressions=values)


def hash_parts(dialect: str, columns: tuple[exp.Expr, ...]) -> list[exp.Expr]:
    """The row's two hash components, each in (−p, p)."""
    return [exp.Mod(this=exp.paren(row_hash(dialect, columns, salt)), expression=lit(prime)) for salt, prime in enumerate(PRIMES)]


def bucket(dialect: str, source: Fingerprinted) -> exp.Expr:
    """The row's bucket: days since 1970 of its time (NULL_DAY for none), else a hash of its id."""
    rules = rules_for(dialect)
    if source.time is None:
        return exp.Mod(this=exp.paren(row_hash(dialect, (source.entity,), 7)), expression=lit(ID_BUCKETS))
    seconds = rules.seconds_between(rules.timestamp(EPOCH), source.time.copy())
    day = exp.cast(exp.Floor(this=exp.Div(this=seconds, expression=lit(86400.0))), exp.DataType.Type.BIGINT)
    return exp.func("COALESCE", day, lit(NULL_DAY))


def day_start(day: int) -> dt.datetime:
    return EPOCH + dt.timedelta(days=day)


def _time(conditions: ConditionCompiler, table: str, column: Column) -> exp.Expr:
    return conditions.time(exp.column(column.column), table, column.column, column.unit)


def fingerprinted(sources: Sources, dialect: str, types: ColumnTypes) -> list[Fingerprinted]:
    """Every declared source, in a fixed order."""
    rules = rules_for(dialect)
    conditions = ConditionCompiler(rules, EPOCH, types)

    def cols(names: list[str]) -> tuple[exp.Expr, ...]:
        return tuple(exp.column(n) for n in dict.fromkeys(names))

    def text(column: str) -> exp.Expr:
        return rules.to_text(exp.column(column))

    out: list[Fingerprinted] = []
    if sources.users is not None:
        u = sources.users
        names = [u.id, *(c.column for c in u.attributes.values()), *(c for c in (u.lat, u.lon) if c)]
        out.append(Fingerprinted("users", source_table(u.table, dialect), text(u.id), cols(names), None))
    if sources.events is not None:
        e = sources.events
        names = [e.user, e.name, e.time.column, *([e.properties] if e.properties else [])]
        out.append(Fingerprinted("events", source_table(e.table, dialect), text(e.user), cols(names), _time(conditions, e.table, e.time)))
    if sources.purchases is not None:
        p = sources.purchases
        names = [p.user, p.time.column, p.product, p.price, *(c for c in (p.quantity, p.properties) if c)]
        out.append(Fingerprinted("purchases", source_table(p.table, dialect), text(p.user), cols(names), _time(conditions, p.table, p.time)))
    for name, t in sorted(sources.traits.items()):
        names = [t.id, *(c.column for c in t.attributes.values()), *([t.updated_at.column] if t.updated_at else [])]
        out.append(Fingerprinted(f"trait:{name}", source_table(t.table, dialect), text(t.id), cols(names), None))
    for name, c in sorted(sources.catalogs.items()):
        names = [c.key, *(a.column for a in c.attributes.values())]
        out.append(Fingerprinted(f"catalog:{name}", source_table(c.table, dialect), text(c.key), cols(names), None))
    return out
