"""`segsql run`: stage memberships, diff, guard, and commit everything in one transaction.

DDL (scratch tables, first-time tables) happens before the transaction because Snowflake
commits DDL implicitly; inside it there is only DML: each changed segment's leavers are
deleted and newcomers inserted (unchanged segments are not written), CDI rows of changed
users are replaced, and the change log, history and run state are appended. Readers see
the old or the new state, never a mix; a run killed at any instant leaves every table as
before, so the next run emits each change exactly once.

The catalogue is read once per run (segsql's own tables, the source columns' types); the
diff is counted for all segments in one query, and ids reach Python only where CDI payloads
are merged.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from segsql.compiler import SegmentCompiler
from segsql.compiler.column_types import ColumnTypes
from segsql.compiler.dialects import lit, rules_for
from segsql.compiler.query import source_table
from segsql.definitions.dag import dependents
from segsql.definitions.segments import Segment
from segsql.definitions.sources import (
    CatalogSource,
    EventsSource,
    PurchasesSource,
    Sources,
    UsersSource,
)
from segsql.engines import Adapter, EngineError
from segsql.errors import ProjectError, RunFailure
from segsql.run import cdi
from segsql.run.diff import Counts, Membership
from segsql.run.session import Session
from segsql.run.state import (
    CDI_COLUMNS,
    CHANGES,
    COLUMNS,
    HISTORY,
    RUNS,
    SPLIT_GROUP,
    ensure_membership_table,
    ensure_state_tables,
)

Progress = Callable[[str], None]

#: changed users whose old CDI payloads are looked up per query (bounds a big run's memory)
CDI_LOOKUP_BATCH = 100_000


@dataclass
class SegmentResult:
    name: str
    table: str
    status: str = "success"
    size: int = 0
    entered: int = 0
    exited: int = 0
    #: its share of the shared staging and diff queries
    seconds: float = 0.0
    message: str = ""


@dataclass
class RunResult:
    run_id: str
    as_of: dt.datetime
    target: str
    dry_run: bool
    segments: list[SegmentResult] = field(default_factory=list)
    cdi_rows: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(s.status == "success" for s in self.segments)

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "as_of": self.as_of.isoformat(),
            "target": self.target,
            "dry_run": self.dry_run,
            "status": "success" if self.ok else "error",
            "cdi_rows": self.cdi_rows,
            "elapsed_seconds": round(self.seconds, 3),
            "results": [s.__dict__ for s in self.segments],
        }


def check_users_unique(session: Session, adapter: Adapter) -> None:
    """SPEC 1: the users source holds at most one row per id; fail before writing anything."""
    users = session.definitions.sources.users
    if users is None:
        return
    ident = rules_for(adapter.dialect).to_text(exp.column(users.id))
    query = (
        exp.select(ident.as_("id"), exp.func("COUNT", exp.Star()).as_("n"))
        .from_(source_table(users.table, adapter.dialect))
        .group_by(ident.copy())
        .having(exp.GT(this=exp.func("COUNT", exp.Star()), expression=exp.Literal.number(1)))
        .order_by(exp.column("id"))
        .limit(1)
    )
    rows = adapter.fetch(query)
    if rows:
        raise RunFailure(f"the users source {users.table} has {rows[0][1]} rows for id {rows[0][0]!r}; it must hold at most one row per id — nothing was written")


def source_types(sources: Sources, adapter: Adapter) -> ColumnTypes:
    """Every source table's column types, one query per table that reads no rows.

    It is also the check that every declared table can be read, so a wrong `table:` is one
    error at its line in sources.yml before anything is computed or written.
    """
    declared: list[UsersSource | EventsSource | PurchasesSource | CatalogSource] = [s for s in (sources.users, sources.events, sources.purchases) if s is not None]
    declared += list(sources.catalogs.values())
    found = {}
    for source in declared:
        if source.table in found:
            continue
        try:
            found[source.table] = adapter.column_types(source_table(source.table, adapter.dialect))
        except EngineError as err:
            reason = str(err).strip().splitlines()[0] if str(err).strip() else "unreadable"
            raise ProjectError(
                f"source table {source.table} cannot be read on this target ({reason})",
                source.location,
                hint="create the table (segsql seed --demo for the demo data), fix `table:`, or grant SELECT on it",
            ) from None
    return ColumnTypes.from_engine(found, rules_for(adapter.dialect))


class Run:
    """One run's working state; `execute()` does the whole sequence."""

    def __init__(self, session: Session, adapter: Adapter, names: list[str], *, dry_run: bool, resync: bool, progress: Progress | None):
        self.session = session
        self.adapter = adapter
        self.defs = session.definitions
        self.dry_run = dry_run
        self.resync = resync
        self.progress = progress or (lambda _message: None)
        self.run_id = session.run_id
        self.rules = rules_for(adapter.dialect)
        self.as_of = self.rules.timestamp(session.as_of)
        self.names = [n for n in names if self.defs.segments[n].materialized == "table"]
        target = session.project.target.name if session.project.target else "?"
        self.result = RunResult(self.run_id, session.as_of, target, dry_run)
        self.results = {n: SegmentResult(n, self.defs.config.segment_prefix + n) for n in self.names}
        self.scratch: list[exp.Table] = []
        self.started = dt.datetime.now(dt.UTC)
        #: lower-case table name → its lower-case columns, read once (segsql's own tables)
        self.catalogue: dict[str, set[str]] = {}
        self.types = ColumnTypes()

    # -- helpers -------------------------------------------------------------------------------
    def _scratch(self, label: str) -> exp.Table:
        table = self.adapter.table(f"__segsql_{label}_{self.run_id}")
        self.scratch.append(table)
        return table

    def _fail(self, name: str, message: str, status: str = "error") -> None:
        self.results[name].status = status
        self.results[name].message = message

    # -- staging ---------------------------------------------------------------------------------
    def _stage_table(self, label: str, query: exp.Query) -> exp.Table:
        """A TEMPORARY table of the session (unqualified: DuckDB and PostgreSQL keep those in a
        schema of their own): not written to disk or logged, and gone if the run is killed."""
        table = exp.table_(f"__segsql_{label}_{self.run_id}")
        self.scratch.append(table)
        temporary = exp.Properties(expressions=[exp.TemporaryProperty()])
        self.adapter.execute(exp.Create(this=table, kind="TABLE", expression=query, properties=temporary))
        return table

    def stage(self) -> dict[str, exp.Table]:
        """One fused query for every segment; if it fails, one per segment to isolate the failure."""
        compiler = SegmentCompiler(self.defs, self.adapter.dialect, self.session.as_of, self.types)
        try:
            return dict.fromkeys(self.names, self._stage_table("stage", compiler.flags(self.names)))
        except EngineError:
            pass
        tables = {}
        for i, name in enumerate(self.names):
            try:
                own = self._stage_table(f"stage{i}", compiler.flags([name]))
                tables[name] = own
            except EngineError as err:
                self._fail(name, f"{self.defs.segments[name].location}: {err}")
        return tables

    def membership(self, name: str, stage: exp.Table) -> Membership:
        """The segment's table, created (or given `split_group`) first unless this is a dry run."""
        seg = self.defs.segments[name]
        table_name = self.defs.config.segment_prefix + name
        columns = self.catalogue.get(table_name.lower())
        if not self.dry_run:
            columns = ensure_membership_table(self.adapter, table_name, seg.split is not None, columns)
        exists = columns is not None
        return Membership(seg, stage, self.adapter.table(table_name), exists, exists and SPLIT_GROUP in (columns or ()), self.adapter.dialect)

    def count(self, memberships: list[Membership]) -> None:
        """Size, entered, exited and regrouped of every segment in one query (one per segment to isolate a failure)."""
        try:
            self._count(memberships)
            return
        except EngineError:
            if len(memberships) == 1:
                raise
        for m in memberships:
            try:
                self._count([m])
            except EngineError as err:
                self._fail(m.segment.name, f"{m.segment.location}: {err}")

    def _count(self, memberships: list[Membership]) -> None:
        parts = [m.count_query(i) for i, m in enumerate(memberships)]
        query = parts[0] if len(parts) == 1 else exp.union(*parts, distinct=False, copy=False)
        for index, size, entered, exited, regrouped in self.adapter.fetch(query):
            m = memberships[int(index)]
            m.counts = Counts(int(size), int(entered), int(exited), int(regrouped))
            res = self.results[m.segment.name]
            res.size, res.entered, res.exited = m.counts.size, m.counts.entered, m.counts.exited

    # -- guards ---------------------------------------------------------------------------------
    def guard(self, name: str) -> None:
        """SPEC 5.4: min_size, max_size, max_change_pct (of the previous size, when it is > 0)."""
        seg, res = self.defs.segments[name], self.results[name]
        g = seg.guards
        previous = res.size - res.entered + res.exited
        if g.min_size is not None and res.size < g.min_size:
            self._fail(seg.name, f"guard min_size: {res.size} members, fewer than {g.min_size}")
        elif g.max_size is not None and res.size > g.max_size:
            self._fail(seg.name, f"guard max_size: {res.size} members, more than {g.max_size}")
        elif g.max_change_pct is not None and previous > 0:
            change = abs(res.size - previous) * 100 / previous
            if change > g.max_change_pct:
                self._fail(seg.name, f"guard max_change_pct: size changed {change:.1f}% ({previous} → {res.size}), limit {g.max_change_pct:g}%")

    # -- CDI -------------------------------------------------------------------------------------
    def cdi_changes(self, memberships: list[Membership]) -> dict[str, dict[str, Any]]:
        """{user: {cdi_attribute: true | group | false | null}} for this run's synced changes.

        Only changed segments are queried, one list at a time, so memory holds the merged
        changes rather than every segment's lists at once."""
        changes: dict[str, dict[str, Any]] = {}
        for m in memberships:
            seg, counts = m.segment, m.counts or Counts()
            if not seg.cdi:
                continue
            key, holdout = seg.cdi_attribute, seg.split.holdout if seg.split else None

            def synced(group: str | None, seg: Segment = seg, holdout: str | None = holdout) -> Any:
                return True if seg.split is None else (None if group == holdout else group)

            if counts.entered:
                for user, group in self.adapter.fetch(m.entered_query()):
                    if seg.split is None or group != holdout:
                        changes.setdefault(str(user), {})[key] = synced(group)
            if counts.exited:
                for user, group in self.adapter.fetch(m.exited_query()):
                    if seg.split is None:
                        changes.setdefault(str(user), {})[key] = False
                    elif group != holdout:
                        changes.setdefault(str(user), {})[key] = None
            if counts.regrouped and seg.split is not None:
                for user, before, after in self.adapter.fetch(m.regrouped_query()):
                    if before != after and not (before == holdout and after == holdout):
                        changes.setdefault(str(user), {})[key] = synced(after)
            if self.resync:
                for user, group in self.adapter.fetch(m.members_query()):
                    if seg.split is None or group != holdout:
                        changes.setdefault(str(user), {}).setdefault(key, synced(group))
        return changes

    def cdi_rows(self, changes: dict[str, dict[str, Any]]) -> list[cdi.CdiRow]:
        if not changes:
            return []
        cdi_table = self.adapter.table(self.defs.config.cdi_table)
        latest = self.adapter.fetch(exp.select(exp.func("MAX", exp.column("UPDATED_AT"))).from_(cdi_table))[0][0]
        if latest is not None:  # an empty table (a first run) has no old payloads to look up
            self._merge_old_payloads(cdi_table, changes)
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        return cdi.build_rows(changes, now, latest)

    def _merge_old_payloads(self, cdi_table: exp.Table, changes: dict[str, dict[str, Any]]) -> None:
        """Overlay this run's changes on each changed user's old payloads, `CDI_LOOKUP_BATCH` users at a time.

        A run that changes a million users would otherwise hold every old payload in Python at
        once (the fetched rows and their parsed copies: ~0.4 GiB at 1M users)."""
        users = self._scratch("cdiusers")
        ordered = sorted(changes)
        for start in range(0, len(ordered), CDI_LOOKUP_BATCH):
            batch = ordered[start:start + CDI_LOOKUP_BATCH]
            self.adapter.load_rows(users.name, [("external_id", "VARCHAR")], [(u,) for u in batch])
            old = self.adapter.fetch(
                exp.select(exp.column("EXTERNAL_ID", table="c"), exp.column("PAYLOAD", table="c")).from_(cdi_table.as_("c"))
                .join(users.as_("u"), on=exp.column("external_id", table="u").eq(exp.column("EXTERNAL_ID", table="c")))
                .order_by(exp.column("UPDATED_AT", table="c"))
            )
            cdi.merge_payloads(((str(u), str(p)) for u, p in old), changes)

    # -- commit ---------------------------------------------------------------------------------
    def commit(self, memberships: list[Membership], rows: list[cdi.CdiRow]) -> None:
        """Everything of the run in one transaction of DML statements."""
        cdi_table = self.adapter.table(self.defs.config.cdi_table)
        cdi_scratch = self._scratch("cdi") if rows else None
        if cdi_scratch is not None:
            self.adapter.load_rows(cdi_scratch.name, CDI_COLUMNS, rows)
        as_of_naive = self.session.as_of.replace(tzinfo=None)
        changed = [m for m in memberships if m.counts and m.counts.changed]
        status = "success" if self.result.ok else "partial"
        definitions = {m.segment.name: {"membership_hash": m.segment.membership_hash(), "size": self.results[m.segment.name].size} for m in memberships}
        with self.adapter.transaction():
            for m in changed:  # the log first: it compares the new members with the old table
                if m.counts and (m.counts.entered or m.counts.exited):
                    self.adapter.execute(m.change_log(self.adapter.table(CHANGES), self.run_id, self.as_of))
            for m in changed:
                for statement in m.apply(self.as_of):
                    self.adapter.execute(statement)
            if cdi_scratch is not None:
                self.adapter.execute(exp.delete(cdi_table, where=exp.column("EXTERNAL_ID").isin(query=exp.select("EXTERNAL_ID").from_(cdi_scratch))))
                self.adapter.execute(exp.insert(exp.select("UPDATED_AT", "EXTERNAL_ID", "PAYLOAD").from_(cdi_scratch), cdi_table, columns=["UPDATED_AT", "EXTERNAL_ID", "PAYLOAD"]))
            history = [(self.run_id, m.segment.name, as_of_naive, self.results[m.segment.name].size, self.results[m.segment.name].entered,
                        self.results[m.segment.name].exited, m.segment.membership_hash()) for m in memberships]
            self._insert_values(HISTORY, history)
            finished = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            self._insert_values(RUNS, [(self.run_id, self.started.replace(tzinfo=None), finished, as_of_naive, self.result.target, status, json.dumps(definitions, sort_keys=True))])

    def _insert_values(self, table: str, rows: list[tuple[Any, ...]]) -> None:
        """One INSERT ... VALUES of every row (none: no statement)."""

        def literal(value: Any) -> exp.Expr:
            if isinstance(value, dt.datetime):
                return self.rules.timestamp(value.replace(tzinfo=dt.UTC))
            return lit(value)

        if rows:
            values = exp.Values(expressions=[exp.Tuple(expressions=[literal(v) for v in row]) for row in rows])
            self.adapter.execute(exp.insert(values, self.adapter.table(table), columns=[c for c, _ in COLUMNS[table]], copy=False))

    # -- the sequence -----------------------------------------------------------------------------
    def execute(self) -> RunResult:
        tick = time.monotonic()
        try:
            if not self.names:
                return self.result
            self.types = source_types(self.defs.sources, self.adapter)
            check_users_unique(self.session, self.adapter)
            self.catalogue = self.adapter.schema_tables()
            if not self.dry_run:
                ensure_state_tables(self.adapter, self.defs.config.cdi_table, self.catalogue)
            self.progress(f"staging {len(self.names)} segments in one query")
            started = time.monotonic()
            stages = self.stage()
            memberships: list[Membership] = []
            for name in self.names:
                if name not in stages:
                    continue
                try:
                    memberships.append(self.membership(name, stages[name]))
                except EngineError as err:
                    self._fail(name, f"{self.defs.segments[name].location}: {err}")
            self.progress(f"diffing {len(memberships)} segments in one query")
            if memberships:
                self.count(memberships)
            memberships = [m for m in memberships if m.counts is not None]
            share = (time.monotonic() - started) / max(len(memberships), 1)
            for m in memberships:
                self.guard(m.segment.name)
                self.results[m.segment.name].seconds = share
            failed = {n for n, r in self.results.items() if r.status != "success"}
            for name in sorted(failed):
                for dep in sorted(dependents(self.defs.segments, name) & set(self.names)):
                    if self.results[dep].status == "success":
                        self._fail(dep, f"skipped: depends on {name}, which failed", status="skipped")
            self.result.segments = [self.results[n] for n in self.names]
            passing = [m for m in memberships if self.results[m.segment.name].status == "success"]
            changes = self.cdi_changes(passing)
            if self.dry_run:
                self.result.cdi_rows = sum(len(cdi.chunk(v)) for v in changes.values())
                return self.result
            rows = self.cdi_rows(changes)
            del changes  # a first run's changes name every member: free them before the commit
            self.result.cdi_rows = len(rows)
            self.progress(f"committing {len(passing)} segments and {len(rows)} CDI rows")
            self.commit(passing, rows)
        except EngineError as err:
            for res in self.results.values():
                if res.status == "success":
                    self._fail(res.name, str(err))
            self.result.segments = [self.results[n] for n in self.names]
        finally:
            for table in self.scratch:
                with contextlib.suppress(EngineError):
                    self.adapter.execute(exp.Drop(tables=[table], kind="TABLE", exists=True))
            self.result.seconds = time.monotonic() - tick
        return self.result


def run_segments(
    session: Session,
    adapter: Adapter,
    names: list[str],
    *,
    dry_run: bool = False,
    resync: bool = False,
    progress: Progress | None = None,
) -> RunResult:
    """Materialize the `table` segments among `names` (ephemeral ones are inlined where used)."""
    return Run(session, adapter, names, dry_run=dry_run, resync=resync, progress=progress).execute()
