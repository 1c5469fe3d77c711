"""Segments recomputed only for the users that can have changed (SPEC 9), exactly.

A segment runs incrementally when the last run that committed computed it (the state row
this module writes names that run, whose fingerprints are the stored ones) from the same
definition — its own, that of every segment it reads, the sources, the time zone, the salt
— at an `as_of` not after this one, its membership table exists, and `bands.dependence`
can name every way its verdict moves with `as_of`. Otherwise it is recomputed fully, and
the reason is reported.

The candidates are one set for every incremental segment of the run (a superset of each
one's is as exact as its own): users with added, late, deleted or updated rows in any
user-keyed source (the fingerprints), users with rows in a moving band of some leaf, users
whose time attributes cross a moving threshold, and users outside the users source with a
row that became seen (they may have joined the universe) — `candidates.py`. The segments' own query, with every source table
restricted to the candidates, gives their verdicts — a user's verdict reads only that
user's rows, and a candidate keeps all of its rows; the new membership is the old table
minus the candidates plus the candidates found members (`IncrementalMembership`), so
`entered_at`, CDI rows, the change log and history follow from the same diff as a full run.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlglot import exp

from segsql.compiler import SegmentCompiler
from segsql.compiler.dialects import lit
from segsql.compiler.registry import rules_for
from segsql.compiler.source_tables import source_table
from segsql.definitions.canonical import digest
from segsql.definitions.meaning import meaning
from segsql.planner import plan_models
from segsql.run.diff import Membership
from segsql.run.incremental.bands import Dependence, dependence
from segsql.run.incremental.candidates import candidates_query
from segsql.run.incremental.fingerprints import Fingerprints
from segsql.run.incremental.membership import ENTITY, IncrementalMembership
from segsql.run.state import CONSENTED, create_table
from segsql.run.strategies.base import ModelResult, RunContext

STATE = "segsql_incremental"
STATE_COLUMNS = [("segment", "VARCHAR"), ("definition_hash", "VARCHAR"), ("as_of", "TIMESTAMP"), ("run_id", "VARCHAR")]


def explain_full(results: dict[str, ModelResult], dry_run: bool) -> None:
    """Say why the models no incremental decision covered ran fully."""
    for res in results.values():
        if res.refresh_reason or res.refresh != "full":
            continue
        if res.kind == "cluster":
            res.refresh_reason = "cluster models are global"
        elif res.kind != "segment":
            res.refresh_reason = f"{res.kind}s are recomputed fully"
        elif dry_run:
            res.refresh_reason = "dry run"


def definition_hash(ctx: RunContext, name: str, reads: set[str]) -> str:
    """Everything a segment's members depend on besides the rows: its definition and those it reads."""
    defs = ctx.defs
    parts = [defs.segments[n].membership_hash() for n in [name, *sorted(reads)]]
    return digest([parts, meaning(defs.sources), defs.config.timezone, defs.config.bucket_salt])


@dataclass
class IncrementalSegments:
    """One run's incremental decision for its table segments, their candidates and their state."""

    ctx: RunContext
    fingerprints: Fingerprints
    names: list[str]
    full_refresh: bool = False
    #: segment → why it is recomputed fully ("" : incrementally)
    reasons: dict[str, str] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)
    candidates: exp.Table | None = None
    recomputed: int = 0
    previous_as_of: dt.datetime | None = None

    @property
    def incremental(self) -> list[str]:
        return [n for n in self.names if not self.reasons.get(n)]

    # -- deciding ---------------------------------------------------------------------------
    def decide(self) -> None:
        ctx = self.ctx
        stored: dict[str, tuple[str, dt.datetime, str]] = {}
        if STATE in ctx.catalogue:
            rows = ctx.adapter.fetch(exp.select("segment", "definition_hash", "as_of", "run_id").from_(ctx.adapter.table(STATE)))
            stored = {str(s): (str(h), a, str(r)) for s, h, a, r in rows}
        marker_runs = {self.fingerprints.previous_run.get(s.name) for s in self.fingerprints.sources}
        a1 = ctx.as_of
        dependences: dict[str, Dependence] = {}
        changed_catalogs = {s.removeprefix("catalog:") for s, b in self.fingerprints.changed_buckets.items() if b and s.startswith("catalog:")}
        changed_catalogs |= {s.removeprefix("catalog:") for s in self.fingerprints.whole if s.startswith("catalog:")}
        for name in self.names:
            seg = ctx.defs.segments[name]
            previous = stored.get(name)
            a0 = previous[1].replace(tzinfo=dt.UTC) if previous is not None else a1
            dep = dependence(ctx.defs, name, a0, a1)
            dependences[name] = dep
            self.hashes[name] = definition_hash(ctx, name, dep.reads)
            reason = ""
            columns = ctx.catalogue.get((ctx.defs.config.segment_prefix + name).lower())
            if self.full_refresh:
                reason = "--full-refresh"
            elif previous is None:
                reason = "not computed by the last run"
            elif previous[0] != self.hashes[name]:
                reason = "definition changed"
            elif len(marker_runs) != 1 or previous[2] not in marker_runs:
                reason = "source fingerprints are not from its last run"
            elif a0 > a1:
                reason = "as_of is before the last run's"
            elif seg.channels or CONSENTED in (columns or ()):
                reason = "consent channels"
            elif dep.full:
                reason = dep.full
            elif dep.catalogs & changed_catalogs:
                reason = f"catalog {sorted(dep.catalogs & changed_catalogs)[0]} changed"
            elif columns is None:
                reason = "no membership table"
            self.reasons[name] = reason
            if not reason:
                self.previous_as_of = a0
        if self.incremental:
            started = time.monotonic()
            self._stage_candidates([dependences[n] for n in self.incremental])
            ctx.timings["changed users"] = time.monotonic() - started

    # -- candidates -------------------------------------------------------------------------
    def _stage_candidates(self, deps: list[Dependence]) -> None:
        ctx = self.ctx
        assert self.previous_as_of is not None
        self.candidates = ctx.stage_table("candidates", candidates_query(ctx, self.fingerprints, deps, self.previous_as_of, ctx.as_of))
        self.recomputed = int(ctx.adapter.fetch(exp.select(exp.Count(this=exp.Star())).from_(self.candidates))[0][0])

    # -- the restricted query ---------------------------------------------------------------
    def restrict(self, query: exp.Query) -> exp.Query:
        """`query` with every user-keyed source table read only for the candidates."""
        assert self.candidates is not None
        defs, dialect = self.ctx.defs, self.ctx.adapter.dialect
        rules = rules_for(dialect)
        keyed = [(s.table, s.id) for s in (defs.sources.users,) if s is not None]
        keyed += [(s.table, s.user) for s in (defs.sources.events, defs.sources.purchases) if s is not None]
        keyed += [(t.table, t.id) for t in defs.sources.traits.values()]
        ids = {source_table(table, dialect).sql(dialect): column for table, column in keyed}
        for node in list(query.find_all(exp.Table)):
            bare = node.copy()
            bare.set("alias", None)
            column = ids.get(bare.sql(dialect))
            if column is None:
                continue
            alias = node.alias or bare.name or "src"
            wanted = exp.select(ENTITY).from_(self.candidates.copy())
            inner = exp.select(exp.Star()).from_(bare).where(rules.to_text(exp.column(column)).isin(query=wanted))
            node.replace(inner.subquery(alias))
        return query

    def fall_back(self, error: str) -> None:
        """The engine rejected a query of this module: every segment is recomputed fully."""
        for name in self.names:
            self.reasons[name] = self.reasons.get(name) or f"incremental query failed: {error.splitlines()[0] if error else '?'}"
        self.candidates = None

    def stage(self, compiler: SegmentCompiler) -> dict[str, exp.Table]:
        """Decide, find the candidates, and stage the incremental segments' flags for them in one table."""
        self.decide()
        names = self.incremental
        if not names:
            return {}
        plan = plan_models(self.ctx.defs, names, self.ctx.as_of, anchored=True)
        table = self.ctx.stage_table("stageinc", self.restrict(compiler.render(plan)))
        return dict.fromkeys(names, table)

    def membership(self, m: Membership) -> Membership:
        if m.segment.name not in self.incremental or self.candidates is None:
            return m
        inc = IncrementalMembership(m.segment, m.stage, m.table, m.exists, m.old_has_group, m.dialect)
        inc.old_has_consent = m.old_has_consent
        inc.candidates = self.candidates
        return inc

    def report(self, results: dict[str, ModelResult]) -> None:
        for name in self.names:
            res = results[name]
            res.refresh = "full" if self.reasons.get(name) else "incremental"
            res.refresh_reason = self.reasons.get(name, "")
            res.recomputed = self.recomputed if not self.reasons.get(name) else None

    # -- state ------------------------------------------------------------------------------
    def ensure_table(self) -> None:
        if STATE not in self.ctx.catalogue:
            create_table(self.ctx.adapter, STATE, STATE_COLUMNS)
            self.ctx.catalogue[STATE] = {c for c, _ in STATE_COLUMNS}

    def write(self, passing: list[str]) -> Iterator[exp.Expr]:
        """This run's segments as the next run's baseline (the others are not: their tables are older)."""
        table = self.ctx.adapter.table(STATE)
        yield exp.delete(table.copy())
        rules = rules_for(self.ctx.adapter.dialect)
        rows = [exp.Tuple(expressions=[lit(n), lit(self.hashes[n]), rules.timestamp(self.ctx.as_of), lit(self.ctx.run_id)]) for n in passing if n in self.hashes]
        if rows:
            yield exp.insert(exp.Values(expressions=rows), table.copy(), columns=[c for c, _ in STATE_COLUMNS])
