"""The cohort strategy (SPEC 8.2): every selected cohort in one staged query, then one table each.

`stage` computes all cohorts' rows in one query (`CohortCompiler.table`: one pass per source),
or one query per cohort if the engine rejects it, to isolate the failure; `prepare` creates
missing `cohort_<name>` tables and adds a new breakdown column (DDL, before the transaction);
`write` replaces each table's rows (DELETE, INSERT ... SELECT from the staged rows) inside the
run's one transaction, so readers see the old or the new triangle. A breakdown column that a
changed definition no longer has is dropped after the commit (`after_commit`): until then it
holds NULLs, and a run killed in between leaves it for the next run to drop.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from sqlglot import exp

from segsql.compiler.cohorts import CohortCompiler
from segsql.definitions.cohorts import Cohort
from segsql.errors import StatementFailure
from segsql.run.state import create_table
from segsql.run.strategies.base import ModelResult, RunContext, Strategy
from segsql.util.words import plural

#: the table's columns before and after the breakdown column (named as its attribute)
HEAD = [("cohort_start", "DATE")]
TAIL = [("period", "INT"), ("cohort_size", "BIGINT"), ("returned", "BIGINT"), ("retention", "DOUBLE")]


def table_columns(cohort: Cohort) -> list[tuple[str, str]]:
    breakdown = [(cohort.breakdown.name, "VARCHAR")] if cohort.breakdown is not None else []
    return [*HEAD, *breakdown, *TAIL]


class CohortStrategy(Strategy):
    kind = "cohort"

    def __init__(self, ctx: RunContext, names: list[str]):
        super().__init__(ctx, names)
        self.results = {n: ModelResult(n, self.kind, self._cohort(n).table) for n in names}
        #: cohort → the staged table holding its rows
        self.staged: dict[str, exp.Table] = {}
        #: cohort → columns its existing table has and the definition no longer writes
        self.stale: dict[str, list[str]] = {}

    def _cohort(self, name: str) -> Cohort:
        return self.ctx.defs.cohorts[name]

    def stage(self) -> None:
        ctx = self.ctx
        ctx.progress(f"staging {plural(len(self.names), 'cohort')} in one query")
        compiler = CohortCompiler(ctx.defs, ctx.adapter.dialect, ctx.as_of, ctx.types)
        started = time.monotonic()
        try:
            table = ctx.stage_table("cohorts", compiler.table(self.names))
            self.staged = dict.fromkeys(self.names, table)
        except StatementFailure:
            for i, name in enumerate(self.names):
                try:
                    self.staged[name] = ctx.stage_table(f"cohorts{i}", compiler.table([name]))
                except StatementFailure as err:
                    self.results[name].fail(f"{self._cohort(name).location}: {err}")
        elapsed = time.monotonic() - started
        ctx.timings["cohorts query"] = elapsed
        for table in dict.fromkeys(self.staged.values()):
            self._count(table)
        for name in self.names:
            self.results[name].seconds = elapsed

    def _count(self, staged: exp.Table) -> None:
        """Each cohort's users (the sum of its cohort sizes at period 0)."""
        size = exp.func("SUM", exp.column("cohort_size"))
        query = exp.select("cohort", exp.alias_(size, "size")).from_(staged.copy()).where(exp.column("period").eq(0)).group_by("cohort")
        for cohort, users in self.ctx.adapter.fetch(query):
            if str(cohort) in self.results:
                self.results[str(cohort)].size = int(users or 0)

    def _passing(self) -> list[str]:
        return [n for n in self.names if n in self.staged and self.results[n].status == "success"]

    def prepare(self) -> None:
        ctx = self.ctx
        if ctx.dry_run:
            return
        for name in self._passing():
            cohort = self._cohort(name)
            wanted = table_columns(cohort)
            found = ctx.catalogue.get(cohort.table.lower())
            if found is None:
                create_table(ctx.adapter, cohort.table, wanted)
                continue
            for column, kind in wanted:
                if column.lower() not in found:
                    ctx.adapter.execute(exp.Alter(this=ctx.adapter.table(cohort.table), kind="TABLE", actions=[exp.ColumnDef(this=exp.to_identifier(column), kind=exp.DataType.build(kind))]))
            self.stale[name] = sorted(set(found) - {c.lower() for c, _ in wanted})

    def write(self) -> Iterator[exp.Expr]:
        for name in self._passing():
            cohort = self._cohort(name)
            target = self.ctx.adapter.table(cohort.table)
            yield exp.delete(target)
            columns = [c for c, _ in table_columns(cohort)]
            values = [exp.column("breakdown") if c == (cohort.breakdown.name if cohort.breakdown else None) else exp.column(c) for c in columns]
            rows = exp.select(*values).from_(self.staged[name].copy()).where(exp.column("cohort").eq(name))
            yield exp.insert(rows, target, columns=columns)

    def after_commit(self) -> None:
        for name, columns in self.stale.items():
            for column in columns:
                drop = exp.Alter(this=self.ctx.adapter.table(self._cohort(name).table), kind="TABLE", actions=[exp.Drop(tables=[exp.column(column)], kind="COLUMN")])
                self.ctx.adapter.execute(drop)

    def state(self) -> dict[str, dict[str, Any]]:
        return {n: {"membership_hash": self._cohort(n).membership_hash(), "size": self.results[n].size} for n in self._passing()}
