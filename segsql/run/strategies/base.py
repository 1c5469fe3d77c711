"""What every model kind's strategy offers a run, and the state a run shares with them.

A run computes each kind's results into scratch tables, then commits all of them in one
transaction. Snowflake commits DDL implicitly, so a strategy splits its work in two: DDL
(`stage`, `prepare`: scratch tables, first-time tables, loads) runs before the
transaction; `write` yields only DML, executed inside it — as SQLMesh's evaluation
strategies and dbt's materializations split their work.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from sqlglot import exp

from segsql.compiler.column_types import ColumnTypes
from segsql.definitions.project import Definitions
from segsql.engines import Adapter
from segsql.planner import Plan
from segsql.run.session import Session

Progress = Callable[[str], None]


@dataclass
class ModelResult:
    """One model's outcome, as `run_results.json` and the run table report it."""

    name: str
    kind: str
    table: str
    status: str = "success"
    size: int = 0
    entered: int = 0
    exited: int = 0
    #: the wall time of the query that computed it (shared by the models of one fused query)
    seconds: float = 0.0
    message: str = ""
    #: SPEC 9: "incremental" (only `recomputed` users were computed again) or "full", and why full
    refresh: str = "full"
    refresh_reason: str = ""
    recomputed: int | None = None

    def fail(self, message: str, status: str = "error") -> None:
        self.status = status
        self.message = message

    @property
    def note(self) -> str:
        """What the run output says of a passing model beyond its counts (a kind may say more)."""
        return ""


@dataclass
class RunContext:
    """What the strategies of one run share: the connection, the clock, scratch tables."""

    session: Session
    adapter: Adapter
    dry_run: bool
    resync: bool
    progress: Progress
    types: ColumnTypes = field(default_factory=ColumnTypes)
    #: lower-case table name → its lower-case columns, read once (segsql's own tables)
    catalogue: dict[str, set[str]] = field(default_factory=dict)
    scratch: list[exp.Table] = field(default_factory=list)
    #: step name → seconds, for the run's one-line timing report
    timings: dict[str, float] = field(default_factory=dict)
    #: cluster model → the table holding this run's result (SPEC 8.1), read by `cluster:` leaves
    cluster_tables: dict[str, exp.Table] = field(default_factory=dict)
    #: funnel → the table holding this run's staged users of it (SPEC 4), read by `funnel:` leaves
    funnel_tables: dict[str, exp.Table] = field(default_factory=dict)

    @property
    def defs(self) -> Definitions:
        return self.session.definitions

    @property
    def run_id(self) -> str:
        return self.session.run_id

    @property
    def as_of(self) -> dt.datetime:
        return self.session.as_of

    def scratch_table(self, label: str) -> exp.Table:
        """A table of the target schema the run drops when it ends, whatever happens."""
        table = self.adapter.table(f"__segsql_{label}_{self.run_id}")
        self.scratch.append(table)
        return table

    def stage_table(self, label: str, query: exp.Query) -> exp.Table:
        """A TEMPORARY table of the session (unqualified: DuckDB and PostgreSQL keep those in a
        schema of their own): not written to disk or logged, and gone if the run is killed."""
        table = exp.table_(f"__segsql_{label}_{self.run_id}")
        self.scratch.append(table)
        temporary = exp.Properties(expressions=[exp.TemporaryProperty()])
        self.adapter.execute(exp.Create(this=table, kind="TABLE", expression=query, properties=temporary))
        return table


class Strategy:
    """How one kind of model is computed and written; one instance per run and kind."""

    kind: ClassVar[str]

    def __init__(self, ctx: RunContext, names: list[str]):
        self.ctx = ctx
        self.names = names
        self.results: dict[str, ModelResult] = {}
        #: what the kind's query computes, when it has one (printed by --dry-run, in run_results.json)
        self.plan: Plan | None = None
        #: CDI rows this kind writes (or, in a dry run, would write)
        self.cdi_rows = 0

    def stage(self) -> None:
        """Compute every model into scratch tables and check it (DDL allowed)."""
        raise NotImplementedError

    def prepare(self) -> None:
        """After failures have spread to dependents: the remaining DDL before the commit."""
        raise NotImplementedError

    def write(self) -> Iterator[exp.Expr]:
        """The DML that publishes the passing models, run inside the run's one transaction."""
        raise NotImplementedError

    def after_commit(self) -> None:
        """After the commit: clean-up DDL that readers need not see atomically (none by default)."""

    def state(self) -> dict[str, dict[str, Any]]:
        """Per passing model what the run-state row records (definition hash, size)."""
        raise NotImplementedError
