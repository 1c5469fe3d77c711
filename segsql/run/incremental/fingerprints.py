"""Fingerprints of every source, kept in the warehouse, and the entities whose rows changed.

Two levels per source, both written in the run's one commit (a failed or killed run leaves
the previous ones, so the next run compares against the last run that committed):

- `segsql_fingerprints`: per bucket (a UTC day of the row time, or a hash of the id) the row
  count and two sums of row hashes — one GROUP BY per source, a few thousand rows in all;
- `segsql_fingerprint_rows`: the same per (bucket, entity), rewritten only for the buckets
  whose level-1 row differs from the stored one.

An entity (a user id, a catalog key) whose level-2 row is new, gone or different has rows
that were added, deleted or updated since that run — whatever their times say: a late row
changes its old day's bucket, a deleted row's user is still in the stored level-2 row.
Each source also has a marker row naming the run that wrote it, so a run can tell a source
fingerprinted by the previous run from one never fingerprinted (or whose state was lost).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlglot import exp

from segsql.compiler.dialects import lit
from segsql.compiler.registry import rules_for
from segsql.run.incremental.sources import (
    NULL_DAY,
    Fingerprinted,
    bucket,
    day_start,
    fingerprinted,
    hash_parts,
)
from segsql.run.state import create_table
from segsql.run.strategies.base import RunContext

LEVEL1 = "segsql_fingerprints"
LEVEL2 = "segsql_fingerprint_rows"
COLUMNS1 = [("source", "VARCHAR"), ("bucket", "BIGINT"), ("n", "BIGINT"), ("h1", "DECIMAL(38,0)"), ("h2", "DECIMAL(38,0)"), ("run_id", "VARCHAR")]
COLUMNS2 = [("source", "VARCHAR"), ("bucket", "BIGINT"), ("entity", "VARCHAR"), ("n", "BIGINT"), ("h1", "DECIMAL(38,0)"), ("h2", "DECIMAL(38,0)")]
#: the bucket of each source's marker row (n = 0): which run last fingerprinted it
MARKER = -2_000_000_000
#: at most this many day ranges prune a level-2 scan by time; more read the whole source
MAX_RANGES = 64
_SUM = exp.DataType.build("DECIMAL(38,0)")


def _sums(parts: list[exp.Expr]) -> list[exp.Expr]:
    return [exp.alias_(exp.cast(exp.func("SUM", p), _SUM), f"h{i + 1}") for i, p in enumerate(parts)]


@dataclass
class Fingerprints:
    """One run's fingerprints: staged before the models (rows loaded after this are seen as changed
    by the next run), written in the run's commit."""

    ctx: RunContext
    #: --full-refresh: every bucket is rewritten
    full: bool = False
    sources: list[Fingerprinted] = field(default_factory=list)
    #: source → the buckets whose level-1 row changed (level 2 is rebuilt for these)
    changed_buckets: dict[str, set[int]] = field(default_factory=dict)
    #: sources whose level 2 is rebuilt whole (full refresh, or more buckets changed than are worth listing)
    whole: set[str] = field(default_factory=set)
    #: source → the run id of its stored marker (absent: never fingerprinted)
    previous_run: dict[str, str] = field(default_factory=dict)
    level1: exp.Table | None = None
    level2: exp.Table | None = None

    @property
    def dialect(self) -> str:
        return self.ctx.adapter.dialect

    def ensure_tables(self) -> None:
        """DDL before the run's transaction."""
        for name, columns in ((LEVEL1, COLUMNS1), (LEVEL2, COLUMNS2)):
            if name not in self.ctx.catalogue:
                create_table(self.ctx.adapter, name, columns)
                self.ctx.catalogue[name] = {c for c, _ in columns}

    # -- level 1 -------------------------------------------------------------------------------
    def stage(self) -> None:
        """Level 1 of every source, the buckets that differ from the stored ones, their level 2."""
        ctx = self.ctx
        self.sources = fingerprinted(ctx.defs.sources, self.dialect, ctx.types)
        if not self.sources:
            return
        parts = [self._level1_query(s) for s in self.sources]
        self.level1 = ctx.stage_table("fp1", parts[0] if len(parts) == 1 else exp.union(*parts, distinct=False))
        store = ctx.adapter.table(LEVEL1)
        markers = exp.select("source", "run_id").from_(store).where(exp.column("bucket").eq(lit(MARKER)))
        self.previous_run = {str(s): str(r) for s, r in ctx.adapter.fetch(markers)}
        for source, changed in ctx.adapter.fetch(self._changed_buckets_query()):
            self.changed_buckets.setdefault(str(source), set()).add(int(changed))
        # no marker: never fingerprinted, or the state was lost — its stored rows are not trusted
        self.whole = {s.name for s in self.sources if self.full or s.name not in self.previous_run}
        parts2 = [self._level2_query(s) for s in self.sources if s.name in self.whole or self.changed_buckets.get(s.name)]
        if parts2:
            self.level2 = ctx.stage_table("fp2", parts2[0] if len(parts2) == 1 else exp.union(*parts2, distinct=False))

    def _level1_query(self, source: Fingerprinted) -> exp.Select:
        b = bucket(self.dialect, source)
        select = exp.select(lit(source.name).as_("source"), b.as_("bucket"), exp.Count(this=exp.Star()).as_("n"), *_sums(hash_parts(self.dialect, source.columns)))
        return select.from_(source.table.copy()).group_by(b.copy())

    def _changed_buckets_query(self) -> exp.Select:
        assert self.level1 is not None
        names = [lit(s.name) for s in self.sources]
        old = exp.select("*").from_(self.ctx.adapter.table(LEVEL1)).where(exp.and_(exp.column("source").isin(*names), exp.column("bucket").neq(lit(MARKER))))
        n, o = "n", "o"
        on = exp.and_(exp.column("source", table=n).eq(exp.column("source", table=o)), exp.column("bucket", table=n).eq(exp.column("bucket", table=o)))
        differs = exp.or_(
            exp.column("source", table=n).is_(exp.null()),
            exp.column("source", table=o).is_(exp.null()),
            *(exp.column(c, table=n).neq(exp.column(c, table=o)) for c in ("n", "h1", "h2")),
        )
        select = exp.select(exp.func("COALESCE", exp.column("source", table=n), exp.column("source", table=o)), exp.func("COALESCE", exp.column("bucket", table=n), exp.column("bucket", table=o)))
        select = select.from_(self.level1.as_(n)).join(old.subquery(o), on=on, join_type="full")
        return select.where(differs)

    # -- level 2 -------------------------------------------------------------------------------
    def _bucket_filter(self, source: Fingerprinted, b: exp.Expr) -> exp.Expr | None:
        """Rows in the changed buckets of `source` (None: every row); day buckets also prune by time."""
        if source.name in self.whole:
            return None
        buckets = sorted(self.changed_buckets.get(source.name, ()))
        condition = b.isin(*(lit(x) for x in buckets))
        if source.time is None:
            return condition
        days = [d for d in buckets if d != NULL_DAY]
        ranges: list[list[int]] = []
        for d in days:  # a day's margin each side: the time ranges only prune, the bucket decides
            if ranges and d - 1 <= ranges[-1][1] + 1:
                ranges[-1][1] = d + 1
            else:
                ranges.append([d - 1, d + 1])
        if len(ranges) > MAX_RANGES:
            return condition
        rules_time = source.time
        rules = rules_for(self.dialect)
        spans: list[exp.Expr] = [
            exp.and_(exp.GTE(this=rules_time.copy(), expression=rules.timestamp(day_start(lo))), exp.LT(this=rules_time.copy(), expression=rules.timestamp(day_start(hi + 1))))
            for lo, hi in ranges
        ]
        if NULL_DAY in buckets:
            spans.append(exp.Is(this=rules_time.copy(), expression=exp.null()))
        return exp.and_(exp.or_(*spans), condition)

    def _level2_query(self, source: Fingerprinted) -> exp.Select:
        b = bucket(self.dialect, source)
        entity = source.entity
        select = exp.select(lit(source.name).as_("source"), b.as_("bucket"), entity.as_("entity"), exp.Count(this=exp.Star()).as_("n"), *_sums(hash_parts(self.dialect, source.columns)))
        select = select.from_(source.table.copy()).where(exp.and_(entity.copy().is_(exp.null()).not_(), entity.copy().neq(lit(""))))
        condition = self._bucket_filter(source, b)
        if condition is not None:
            select = select.where(condition)
        return select.group_by(b.copy(), entity.copy())

    def _rebuilt(self) -> exp.Expr:
        """True for a stored level-2 row of a bucket being rebuilt."""
        parts: list[exp.Expr] = []
        for s in self.sources:
            if s.name in self.whole:
                parts.append(exp.column("source").eq(lit(s.name)))
            elif self.changed_buckets.get(s.name):
                parts.append(exp.and_(exp.column("source").eq(lit(s.name)), exp.column("bucket").isin(*(lit(x) for x in sorted(self.changed_buckets[s.name])))))
        return exp.or_(*parts) if parts else exp.false()

    def _stored_level2(self) -> exp.Select:
        return exp.select("*").from_(self.ctx.adapter.table(LEVEL2)).where(self._rebuilt())

    def changed_entities(self) -> exp.Select:
        """(source, entity) of every entity whose rows were added, deleted or updated since the stored fingerprints."""
        n, o = "n", "o"
        if self.level2 is None:
            return exp.select(lit("").as_("source"), lit("").as_("entity")).where(exp.false())
        on = exp.and_(*(exp.column(c, table=n).eq(exp.column(c, table=o)) for c in ("source", "bucket", "entity")))
        differs = exp.or_(
            exp.column("source", table=n).is_(exp.null()),
            exp.column("source", table=o).is_(exp.null()),
            *(exp.column(c, table=n).neq(exp.column(c, table=o)) for c in ("n", "h1", "h2")),
        )
        if self.whole:  # rebuilt whole: nothing of the stored rows is trusted, every entity counts
            differs = exp.or_(differs, exp.column("source", table=n).isin(*(lit(w) for w in sorted(self.whole))))
        select = exp.select(
            exp.func("COALESCE", exp.column("source", table=n), exp.column("source", table=o)).as_("source"),
            exp.func("COALESCE", exp.column("entity", table=n), exp.column("entity", table=o)).as_("entity"),
        ).distinct()
        return select.from_(self.level2.as_(n)).join(self._stored_level2().subquery(o), on=on, join_type="full").where(differs)

    # -- the commit ----------------------------------------------------------------------------
    def write(self) -> Iterator[exp.Expr]:
        """DML for the run's transaction: level 1 and the markers replaced, level 2 of the changed buckets."""
        if self.level1 is None:
            return
        adapter = self.ctx.adapter
        store1, store2 = adapter.table(LEVEL1), adapter.table(LEVEL2)
        yield exp.delete(store1.copy())
        columns1 = [c for c, _ in COLUMNS1]
        run_id = lit(self.ctx.run_id)
        yield exp.insert(exp.select("source", "bucket", "n", "h1", "h2", run_id).from_(self.level1.copy()), store1.copy(), columns=columns1)
        markers = exp.Values(expressions=[exp.Tuple(expressions=[lit(s.name), lit(MARKER), lit(0), lit(0), lit(0), lit(self.ctx.run_id)]) for s in self.sources])
        yield exp.insert(markers, store1.copy(), columns=columns1)
        names = [lit(s.name) for s in self.sources]
        yield exp.delete(store2.copy(), where=exp.column("source").isin(*names).not_())
        if self.level2 is None:
            return
        yield exp.delete(store2.copy(), where=self._rebuilt())
        yield exp.insert(exp.select("*").from_(self.level2.copy()), store2.copy(), columns=[c for c, _ in COLUMNS2])
