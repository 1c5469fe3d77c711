"""`segsql run`: every selected model through its kind's strategy, then one commit.

Each strategy stages and checks its models (DDL allowed), failures spread to dependents
along the definitions' DAG, each strategy prepares what remains (DDL), and then one
transaction holds only DML: every strategy's writes and the run-state row. Snowflake
commits DDL implicitly, which is why the adapter refuses DDL inside the transaction.
Readers see the old or the new state, never a mix; a run killed at any instant leaves
every table as before, so the next run emits each change exactly once.

The catalogue is read once per run (segsql's own tables, the source columns' types).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import time
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from segsql.definitions.dag import dependents
from segsql.engines import Adapter
from segsql.errors import EngineError, RunFailure
from segsql.planner import Plan
from segsql.run.incremental.fingerprints import Fingerprints
from segsql.run.incremental.segments import IncrementalSegments, explain_full
from segsql.run.session import Session
from segsql.run.source_check import source_types
from segsql.run.state import RUNS, ensure_state_tables
from segsql.run.strategies import STRATEGIES
from segsql.run.strategies.base import ModelResult, Progress, RunContext, Strategy
from segsql.run.strategies.clusters import clusters_read
from segsql.run.strategies.funnels import funnels_read
from segsql.run.strategies.segments import SegmentStrategy, insert_values
from segsql.run.traits import check_traits_unique, first_duplicate
from segsql.util.words import plural


@dataclass
class RunResult:
    run_id: str
    as_of: dt.datetime
    target: str
    dry_run: bool
    models: list[ModelResult] = field(default_factory=list)
    cdi_rows: int = 0
    seconds: float = 0.0
    #: step → seconds, each shared step once (the fused query is one query for all segments)
    timings: dict[str, float] = field(default_factory=dict)
    plan: Plan | None = None

    @property
    def ok(self) -> bool:
        return all(m.status == "success" for m in self.models)

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "as_of": self.as_of.isoformat(),
            "target": self.target,
            "dry_run": self.dry_run,
            "status": "success" if self.ok else "error",
            "cdi_rows": self.cdi_rows,
            "elapsed_seconds": round(self.seconds, 3),
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "plan": self.plan.describe() if self.plan is not None else [],
            "results": [m.__dict__ for m in self.models],
        }


def refresh_label(model: ModelResult) -> str:
    """The run table's `refresh` cell: `incremental (N users)` or `full (why)`."""
    if model.refresh == "incremental":
        return f"incremental ({plural(model.recomputed or 0, 'user')})"
    return f"full ({model.refresh_reason})" if model.refresh_reason else "full"


def check_users_unique(session: Session, adapter: Adapter) -> None:
    """SPEC 1: the users source holds at most one row per id; fail before writing anything."""
    users = session.definitions.sources.users
    if users is None:
        return
    found = first_duplicate(adapter, users.table, users.id)
    if found is not None:
        raise RunFailure(f"the users source {users.table} has {found[1]} rows for id {found[0]!r}; it must hold at most one row per id — nothing was written")


class Run:
    """One run's working state; `execute()` does the whole sequence."""

    def __init__(self, session: Session, adapter: Adapter, names: list[str], *, dry_run: bool, resync: bool, progress: Progress | None, full_refresh: bool = False):
        self.ctx = RunContext(session, adapter, dry_run, resync, progress or (lambda _message: None))
        self.fingerprints = Fingerprints(self.ctx, full=full_refresh)
        self.full_refresh = full_refresh
        self.incremental: IncrementalSegments | None = None
        self.defs = session.definitions
        by_kind: dict[str, list[str]] = {}
        for name in [*names, *clusters_read(self.defs, names), *funnels_read(self.defs, names)]:
            by_kind.setdefault(self.defs.models[name].kind, []).append(name)
        self.strategies: list[Strategy] = [STRATEGIES[kind](self.ctx, by_kind[kind]) for kind in STRATEGIES if kind in by_kind]
        self.names = [n for s in self.strategies for n in s.names]
        target = session.project.target.name if session.project.target else "?"
        self.result = RunResult(session.run_id, session.as_of, target, dry_run)
        self.started = dt.datetime.now(dt.UTC)

    @property
    def results(self) -> dict[str, ModelResult]:
        return {name: res for s in self.strategies for name, res in s.results.items()}

    def _skip_dependents(self) -> None:
        """A failed model's dependents (of any kind) are skipped, not run on stale inputs."""
        results = self.results
        failed = sorted(n for n, r in results.items() if r.status != "success")
        for name in failed:
            for dep in sorted(dependents(self.defs.models, name) & set(results)):
                if results[dep].status == "success":
                    results[dep].fail(f"skipped: depends on {name}, which failed", status="skipped")

    def _commit(self) -> None:
        """Every strategy's DML and the run-state row, in one transaction."""
        ctx = self.ctx
        as_of_naive = ctx.as_of.replace(tzinfo=None)
        status = "success" if self.result.ok else "partial"
        definitions: dict[str, dict[str, Any]] = {}
        for strategy in self.strategies:
            definitions.update(strategy.state())
        with ctx.adapter.transaction():
            for strategy in self.strategies:
                for statement in strategy.write():
                    ctx.adapter.execute(statement)
            for statement in self.fingerprints.write():
                ctx.adapter.execute(statement)
            if self.incremental is not None:
                passing = [n for n, r in self.results.items() if r.status == "success"]
                for statement in self.incremental.write(passing):
                    ctx.adapter.execute(statement)
            finished = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            row = (ctx.run_id, self.started.replace(tzinfo=None), finished, as_of_naive, self.result.target, status, json.dumps(definitions, sort_keys=True))
            state_row = insert_values(ctx, RUNS, [row])
            assert state_row is not None
            ctx.adapter.execute(state_row)

    def _fingerprint(self) -> None:
        """SPEC 9: the sources' fingerprints, before any model reads them — a row loaded later is
        one the next run finds changed, so nothing is missed (DDL and staging, no writes yet).

        Only table segments run incrementally, so a run without any leaves the stored
        fingerprints and the segments' state as they are: both still name the last run that
        computed the segments, and the next one compares against that run's rows."""
        segments = next((s for s in self.strategies if isinstance(s, SegmentStrategy) and s.names), None)
        if segments is None:
            return
        started = time.monotonic()
        self.ctx.progress("fingerprinting the sources")
        self.fingerprints.ensure_tables()
        self.fingerprints.stage()
        self.incremental = segments.incremental = IncrementalSegments(self.ctx, self.fingerprints, segments.names, self.full_refresh)
        self.incremental.ensure_table()
        self.ctx.timings["fingerprints"] = time.monotonic() - started

    def execute(self) -> RunResult:
        tick = time.monotonic()
        ctx = self.ctx
        try:
            if not self.names:
                return self.result
            self.result.plan = next((s.plan for s in self.strategies if s.plan is not None), None)
            ctx.types = source_types(self.defs.sources, ctx.adapter)
            check_users_unique(ctx.session, ctx.adapter)
            check_traits_unique(self.defs.sources, ctx.adapter, dict.fromkeys(t for s in self.strategies if s.plan is not None for t in s.plan.traits))
            ctx.catalogue = ctx.adapter.schema_tables()
            if not ctx.dry_run:
                ensure_state_tables(ctx.adapter, self.defs.config.cdi_table, ctx.catalogue)
                self._fingerprint()
            for strategy in self.strategies:
                strategy.stage()
            # staging may have chosen how to group the segments (the cost rule): show that plan
            self.result.plan = next((s.plan for s in self.strategies if s.plan is not None), None)
            self._skip_dependents()
            explain_full(self.results, ctx.dry_run)
            for strategy in self.strategies:
                strategy.prepare()
            self.result.cdi_rows = sum(s.cdi_rows for s in self.strategies)
            if ctx.dry_run:
                return self.result
            passing = sum(r.status == "success" for r in self.results.values())
            ctx.progress(f"committing {passing} of {plural(len(self.names), 'model')} and {plural(self.result.cdi_rows, 'CDI row')}")
            started = time.monotonic()
            self._commit()
            ctx.timings["commit"] = time.monotonic() - started
            for strategy in self.strategies:  # committed: a failed clean-up is retried by the next run
                with contextlib.suppress(EngineError):
                    strategy.after_commit()
        except EngineError as err:
            for res in self.results.values():
                if res.status == "success":
                    res.fail(str(err))
        finally:
            self.result.models = [self.results[n] for n in self.names]
            self.result.timings = dict(ctx.timings)
            for table in ctx.scratch:
                with contextlib.suppress(EngineError):
                    ctx.adapter.execute(exp.Drop(tables=[table], kind="TABLE", exists=True))
            self.result.seconds = time.monotonic() - tick
        return self.result


def run_models(
    session: Session,
    adapter: Adapter,
    names: list[str],
    *,
    dry_run: bool = False,
    resync: bool = False,
    progress: Progress | None = None,
    full_refresh: bool = False,
) -> RunResult:
    """Materialize the selected models (ephemeral segments are inlined where they are used)."""
    return Run(session, adapter, names, dry_run=dry_run, resync=resync, progress=progress, full_refresh=full_refresh).execute()
