"""The funnel strategy (SPEC 4): every funnel of a run from one staged query, published in its commit.

`stage` runs `FunnelCompiler.users` once for all the run's funnels (one pass over each
source, whatever their number) into a temporary table, and from it each funnel's step
table and trends into small temporary tables; segments of the same run read the staged
users through `funnel:` leaves, so a funnel is evaluated once per run. If the engine
rejects the shared query, each funnel is staged alone to name the one that fails.
`prepare` creates the published tables (or adds columns a funnel gained: a step, a
breakdown); `write` replaces their rows with DML only, inside the run's one transaction.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from segsql.compiler.dialects import lit
from segsql.compiler.funnel_tables import step_table, trends_table
from segsql.compiler.funnels import FunnelCompiler
from segsql.definitions.funnels import Funnel
from segsql.definitions.names import funnel_tables
from segsql.definitions.project import Definitions
from segsql.errors import StatementFailure
from segsql.run.state import create_table, logical_type
from segsql.run.strategies.base import ModelResult, RunContext, Strategy
from segsql.util.words import plural


@dataclass
class FunnelResult(ModelResult):
    """A funnel's outcome: `size` is the number of users who entered it."""

    steps: int = 0
    completed: int = 0

    @property
    def note(self) -> str:
        if self.status != "success":
            return ""
        return f"{plural(self.size, 'user')} entered, {self.completed} reached step {self.steps}"


@dataclass
class Staged:
    funnel: Funnel
    #: the run's staged users of every funnel (a `funnel` column tells them apart)
    users: exp.Table
    steps: exp.Table
    trends: exp.Table | None


def funnels_read(defs: Definitions, names: list[str]) -> list[str]:
    """The funnels that `names` read through `funnel:` leaves (however deep, and through the
    audiences of other models): a run computes them too, so a segment never reads a stale result."""
    found: list[str] = []
    stack, seen = list(names), set()
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in defs.funnels and name not in names and name not in found:
            found.append(name)
        model = defs.models.get(name)
        stack.extend(model.dependencies() if model is not None else ())
    return sorted(found)


def users_columns(funnel: Funnel) -> list[tuple[str, str]]:
    return [("external_user_id", "VARCHAR"), ("furthest_step", "INT"), *((f"step_{j}_at", "TIMESTAMP") for j in range(1, len(funnel.steps) + 1))]


def step_columns(funnel: Funnel) -> list[tuple[str, str]]:
    breakdown = [("breakdown", "VARCHAR")] if funnel.breakdown is not None else []
    return [("step", "INT"), ("step_name", "VARCHAR"), *breakdown, ("users", "BIGINT"), ("conversion_from_previous", "DOUBLE"),
            ("conversion_from_first", "DOUBLE"), ("median_seconds_from_previous", "DOUBLE")]


def trends_columns(funnel: Funnel) -> list[tuple[str, str]]:
    breakdown = [("breakdown", "VARCHAR")] if funnel.breakdown is not None else []
    return [("period_start", "DATE"), *breakdown, ("entered", "BIGINT"), ("completed", "BIGINT"), ("conversion", "DOUBLE")]


class FunnelStrategy(Strategy):
    kind = "funnel"

    def __init__(self, ctx: RunContext, names: list[str]):
        super().__init__(ctx, names)
        self.results: dict[str, ModelResult] = {n: FunnelResult(n, self.kind, funnel_tables(ctx.defs.funnels[n], ctx.defs.config)[0]) for n in names}
        self.staged: dict[str, Staged] = {}

    def _compiler(self) -> FunnelCompiler:
        ctx = self.ctx
        return FunnelCompiler(ctx.defs, ctx.adapter.dialect, ctx.as_of, ctx.types, cluster_tables=ctx.cluster_tables, funnel_tables=ctx.funnel_tables)

    # -- stage -----------------------------------------------------------------------------------
    def stage(self) -> None:
        ctx = self.ctx
        ctx.progress(f"computing {plural(len(self.names), 'funnel')} in one query")
        started = time.monotonic()
        users = self._stage_users()
        ctx.timings["funnels query"] = time.monotonic() - started
        for i, name in enumerate(self.names):
            if name not in users:
                continue
            try:
                self.staged[name] = self._tables(ctx.defs.funnels[name], users[name], i)
            except StatementFailure as err:
                self.results[name].fail(f"{ctx.defs.funnels[name].location}: {err}")
            else:
                ctx.funnel_tables[name] = users[name]

    def _stage_users(self) -> dict[str, exp.Table]:
        """One query for every funnel; if the engine rejects it, one per funnel to isolate the failure."""
        ctx, compiler = self.ctx, self._compiler()
        started = time.monotonic()
        try:
            table = ctx.stage_table("funnels", compiler.users(self.names))
        except StatementFailure:
            pass
        else:
            for name in self.names:
                self.results[name].seconds = time.monotonic() - started
            return dict.fromkeys(self.names, table)
        tables = {}
        for i, name in enumerate(self.names):
            started = time.monotonic()
            try:
                tables[name] = ctx.stage_table(f"funnel{i}", compiler.users([name]))
            except StatementFailure as err:
                self.results[name].fail(f"{ctx.defs.funnels[name].location}: {err}")
            self.results[name].seconds = time.monotonic() - started
        return tables

    def _tables(self, funnel: Funnel, users: exp.Table, i: int) -> Staged:
        """The step table and the trends, small aggregations over the staged users; the counts."""
        ctx = self.ctx
        steps = ctx.stage_table(f"fs{i}", step_table(funnel, users, self._compiler().rules))
        trends = ctx.stage_table(f"ft{i}", trends_table(funnel, users, ctx.defs.config.timezone)) if funnel.trends else None
        k = len(funnel.steps)
        completed = exp.Sum(this=exp.Case(ifs=[exp.If(this=exp.EQ(this=exp.column("furthest_step"), expression=lit(k)), true=lit(1))], default=lit(0)))
        count = exp.select(exp.Count(this=exp.Star()), completed).from_(users.copy()).where(exp.EQ(this=exp.column("funnel"), expression=lit(funnel.name)))
        entered, done = ctx.adapter.fetch(count)[0]
        res = self.results[funnel.name]
        assert isinstance(res, FunnelResult)
        res.size, res.completed, res.steps = int(entered), int(done or 0), k
        return Staged(funnel, users, steps, trends)

    # -- prepare and write -----------------------------------------------------------------------
    def _passing(self) -> list[Staged]:
        return [s for name, s in self.staged.items() if self.results[name].status == "success"]

    def _published(self, staged: Staged) -> list[tuple[str, list[tuple[str, str]]]]:
        funnel = staged.funnel
        names = funnel_tables(funnel, self.ctx.defs.config)
        out = [(names[0], step_columns(funnel)), (names[1], users_columns(funnel))]
        return out + ([(names[2], trends_columns(funnel))] if funnel.trends else [])

    def prepare(self) -> None:
        """Create the published tables, or add the columns a funnel gained, before the commit."""
        ctx = self.ctx
        if ctx.dry_run:
            return
        for staged in self._passing():
            for table, columns in self._published(staged):
                existing = ctx.catalogue.get(table.lower())
                if existing is None:
                    create_table(ctx.adapter, table, columns)
                    continue
                for column, kind in columns:
                    if column not in existing:
                        definition = exp.ColumnDef(this=exp.to_identifier(column), kind=logical_type(ctx.adapter, kind))
                        ctx.adapter.execute(exp.Alter(this=ctx.adapter.table(table), kind="TABLE", actions=[definition]))

    def write(self) -> Iterator[exp.Expr]:
        """Each funnel's tables replaced in place: DML only, inside the run's transaction."""
        adapter = self.ctx.adapter
        for staged in self._passing():
            sources: list[exp.Table | exp.Select | None] = [staged.steps, self._users(staged), staged.trends]
            for (table, columns), source in zip(self._published(staged), sources, strict=False):
                assert source is not None
                names = [c for c, _ in columns]
                query = source if isinstance(source, exp.Select) else exp.select(*(exp.column(c) for c in names)).from_(source.copy())
                yield exp.delete(adapter.table(table))
                yield exp.insert(query, adapter.table(table), columns=names)

    def _users(self, staged: Staged) -> exp.Select:
        names = [c for c, _ in users_columns(staged.funnel)]
        return exp.select(*(exp.column(c) for c in names)).from_(staged.users.copy()).where(exp.EQ(this=exp.column("funnel"), expression=lit(staged.funnel.name)))

    def state(self) -> dict[str, dict[str, Any]]:
        return {s.funnel.name: {"membership_hash": s.funnel.membership_hash(), "size": self.results[s.funnel.name].size} for s in self._passing()}
