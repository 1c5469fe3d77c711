"""`segsql run`: stage memberships, diff, guard, and commit everything in one transaction.

DDL (scratch tables, first-time tables) happens before the transaction because Snowflake
commits DDL implicitly; inside it there is only DML: each passing segment's rows are
replaced (DELETE + INSERT), CDI rows of changed users are replaced, and the change log,
history and run state are appended. Readers see the old or the new state, never a mix;
a run killed at any instant leaves every table as before, so the next run emits each
change exactly once.
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

from segsql.compiler import SegmentCompiler, flag_name
from segsql.compiler.dialects import lit, rules_for
from segsql.compiler.query import source_table
from segsql.definitions.dag import dependents
from segsql.definitions.segments import Segment
from segsql.engines import Adapter, EngineError
from segsql.errors import RunFailure
from segsql.run import cdi
from segsql.run.session import Session
from segsql.run.state import (
    CDI_COLUMNS,
    CHANGES,
    COLUMNS,
    ENTERED_AT,
    HISTORY,
    RUNS,
    SEGMENT_ID,
    SPLIT_GROUP,
    ensure_membership_table,
    ensure_state_tables,
)

Progress = Callable[[str], None]


@dataclass
class SegmentResult:
    name: str
    table: str
    status: str = "success"
    size: int = 0
    entered: int = 0
    exited: int = 0
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


@dataclass
class Staged:
    """One segment after staging: its new members' scratch table and its diff."""

    segment: Segment
    table: exp.Table
    new: exp.Table
    entered: list[tuple[str, str | None]] = field(default_factory=list)
    exited: list[tuple[str, str | None]] = field(default_factory=list)
    regrouped: list[tuple[str, str | None, str | None]] = field(default_factory=list)


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


def split_group_sql(segment: Segment, dialect: str) -> exp.Expression:
    """SPEC 2: the bucket of md5(salt || id) picks the group; group i takes the next 100·p_i buckets."""
    assert segment.split is not None
    rules = rules_for(dialect)
    bucket = rules.bucket(exp.column(SEGMENT_ID, table="s"), segment.split.salt)
    ifs, upper = [], 0.0
    for group, pct in segment.split.groups:
        upper += pct * 100
        ifs.append(exp.If(this=exp.LT(this=bucket.copy(), expression=lit(round(upper, 6))), true=lit(group)))
    return exp.Case(ifs=ifs)


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

    # -- helpers -------------------------------------------------------------------------------
    def _scratch(self, label: str) -> exp.Table:
        table = self.adapter.table(f"__segsql_{label}_{self.run_id}")
        self.scratch.append(table)
        return table

    def _fail(self, name: str, message: str, status: str = "error") -> None:
        self.results[name].status = status
        self.results[name].message = message

    def _ids(self, query: exp.Select) -> list[tuple[Any, ...]]:
        return self.adapter.fetch(query)

    # -- staging ---------------------------------------------------------------------------------
    def stage(self) -> dict[str, exp.Table]:
        """One fused query for every segment; if it fails, one per segment to isolate the failure."""
        compiler = SegmentCompiler(self.defs, self.adapter.dialect, self.session.as_of)
        stage = self._scratch("stage")
        try:
            self.adapter.execute(exp.Create(this=stage, kind="TABLE", expression=compiler.flags(self.names)))
            return dict.fromkeys(self.names, stage)
        except EngineError:
            pass
        tables = {}
        for i, name in enumerate(self.names):
            own = self._scratch(f"stage{i}")
            try:
                self.adapter.execute(exp.Create(this=own, kind="TABLE", expression=compiler.flags([name])))
                tables[name] = own
            except EngineError as err:
                self._fail(name, f"{self.defs.segments[name].location}: {err}")
        return tables

    def diff(self, name: str, stage: exp.Table, index: int) -> Staged:
        """New members with entered_at (and split group), and who entered, left or changed group."""
        seg = self.defs.segments[name]
        table_name = self.defs.config.segment_prefix + name
        member = self.adapter.table(table_name)
        exists = self.adapter.table_exists(table_name)
        if not self.dry_run:
            ensure_membership_table(self.adapter, table_name, seg.split is not None)
            exists = True
        old_has_group = exists and SPLIT_GROUP in self.adapter.columns(table_name)
        new = self._scratch(f"new{index}")
        group = split_group_sql(seg, self.adapter.dialect) if seg.split else exp.cast(exp.null(), "VARCHAR")
        select = exp.select(exp.column(SEGMENT_ID, table="s"))
        if exists:
            select = select.select(exp.Coalesce(this=exp.column(ENTERED_AT, table="o"), expressions=[self.as_of.copy()]).as_(ENTERED_AT))
            select = select.from_(stage.as_("s")).join(member.as_("o"), on=exp.column(SEGMENT_ID, table="o").eq(exp.column(SEGMENT_ID, table="s")), join_type="left")
        else:
            select = select.select(exp.alias_(self.as_of.copy(), ENTERED_AT)).from_(stage.as_("s"))
        select = select.select(exp.alias_(group, SPLIT_GROUP)).where(exp.column(flag_name(name), table="s"))
        self.adapter.execute(exp.Create(this=new, kind="TABLE", expression=select))
        staged = Staged(seg, member, new)
        self.results[name].size = int(self.adapter.fetch(exp.select(exp.func("COUNT", exp.Star())).from_(new))[0][0])
        old_group = exp.column(SPLIT_GROUP, table="o") if old_has_group else exp.cast(exp.null(), "VARCHAR")
        if exists:
            joined = exp.column(SEGMENT_ID, table="o").eq(exp.column(SEGMENT_ID, table="n"))
            staged.entered = [(str(r[0]), r[1]) for r in self._ids(
                exp.select(exp.column(SEGMENT_ID, table="n"), exp.column(SPLIT_GROUP, table="n")).from_(new.as_("n"))
                .join(member.as_("o"), on=joined, join_type="left").where(exp.column(SEGMENT_ID, table="o").is_(exp.null())))]
            staged.exited = [(str(r[0]), r[1]) for r in self._ids(
                exp.select(exp.column(SEGMENT_ID, table="o"), old_group.copy()).from_(member.as_("o"))
                .join(new.as_("n"), on=joined.copy(), join_type="left").where(exp.column(SEGMENT_ID, table="n").is_(exp.null())))]
            if seg.split is not None:
                staged.regrouped = [(str(r[0]), r[1], r[2]) for r in self._ids(
                    exp.select(exp.column(SEGMENT_ID, table="n"), old_group.copy(), exp.column(SPLIT_GROUP, table="n")).from_(new.as_("n"))
                    .join(member.as_("o"), on=joined.copy()).where(exp.func("COALESCE", old_group.copy(), lit("")).neq(exp.func("COALESCE", exp.column(SPLIT_GROUP, table="n"), lit("")))))]
        else:
            staged.entered = [(str(r[0]), r[1]) for r in self._ids(exp.select(SEGMENT_ID, SPLIT_GROUP).from_(new))]
        self.results[name].entered = len(staged.entered)
        self.results[name].exited = len(staged.exited)
        return staged

    # -- guards ---------------------------------------------------------------------------------
    def guard(self, staged: Staged) -> None:
        """SPEC 5.4: min_size, max_size, max_change_pct (of the previous size, when it is > 0)."""
        seg, res = staged.segment, self.results[staged.segment.name]
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
    def cdi_changes(self, staged: list[Staged]) -> dict[str, dict[str, Any]]:
        """{user: {cdi_attribute: true | group | false | null}} for this run's synced changes."""
        changes: dict[str, dict[str, Any]] = {}
        for st in staged:
            seg = st.segment
            if not seg.cdi:
                continue
            key, holdout = seg.cdi_attribute, seg.split.holdout if seg.split else None

            def synced(group: str | None, seg: Segment = seg, holdout: str | None = holdout) -> Any:
                return True if seg.split is None else (None if group == holdout else group)

            for user, group in st.entered:
                if seg.split is None or group != holdout:
                    changes.setdefault(user, {})[key] = synced(group)
            for user, group in st.exited:
                if seg.split is None:
                    changes.setdefault(user, {})[key] = False
                elif group != holdout:
                    changes.setdefault(user, {})[key] = None
            for user, before, after in st.regrouped:
                if before != after and not (before == holdout and after == holdout):
                    changes.setdefault(user, {})[key] = synced(after)
            if self.resync:
                rows = self._ids(exp.select(SEGMENT_ID, SPLIT_GROUP).from_(st.new))
                for user, group in rows:
                    if seg.split is None or group != holdout:
                        changes.setdefault(str(user), {}).setdefault(key, synced(group))
        return changes

    def cdi_rows(self, changes: dict[str, dict[str, Any]]) -> list[cdi.CdiRow]:
        if not changes:
            return []
        cdi_table = self.adapter.table(self.defs.config.cdi_table)
        users = self._scratch("cdiusers")
        self.adapter.load_rows(users.name, [("external_id", "VARCHAR")], [(u,) for u in sorted(changes)])
        old = self.adapter.fetch(
            exp.select(exp.column("EXTERNAL_ID", table="c"), exp.column("PAYLOAD", table="c")).from_(cdi_table.as_("c"))
            .join(users.as_("u"), on=exp.column("external_id", table="u").eq(exp.column("EXTERNAL_ID", table="c")))
            .order_by(exp.column("UPDATED_AT", table="c"))
        )
        latest = self.adapter.fetch(exp.select(exp.func("MAX", exp.column("UPDATED_AT"))).from_(cdi_table))[0][0]
        merged = cdi.merge_payloads([(str(u), str(p)) for u, p in old], changes)
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        return cdi.build_rows(merged, now, latest)

    # -- commit ---------------------------------------------------------------------------------
    def commit(self, staged: list[Staged], rows: list[cdi.CdiRow]) -> None:
        """Everything of the run in one transaction of DML statements."""
        cdi_scratch = self._scratch("cdi")
        self.adapter.load_rows(cdi_scratch.name, CDI_COLUMNS, [(r.updated_at, r.external_id, r.payload) for r in rows])
        changes = self._scratch("changes")
        as_of_naive = self.session.as_of.replace(tzinfo=None)
        change_rows = [
            (self.run_id, as_of_naive, st.segment.name, user, kind, group)
            for st in staged
            for kind, items in (("entered", st.entered), ("exited", st.exited))
            for user, group in items
        ]
        self.adapter.load_rows(changes.name, COLUMNS[CHANGES], change_rows)
        cdi_table = self.adapter.table(self.defs.config.cdi_table)
        status = "success" if self.result.ok else "partial"
        definitions = {st.segment.name: {"membership_hash": st.segment.membership_hash(), "size": self.results[st.segment.name].size} for st in staged}
        with self.adapter.transaction():
            for st in staged:
                columns = [SEGMENT_ID, ENTERED_AT] + ([SPLIT_GROUP] if st.segment.split else [])
                self.adapter.execute(exp.delete(st.table))
                self.adapter.execute(exp.insert(exp.select(*columns).from_(st.new), st.table, columns=columns))
            if rows:
                self.adapter.execute(exp.delete(cdi_table, where=exp.column("EXTERNAL_ID").isin(query=exp.select("EXTERNAL_ID").from_(cdi_scratch))))
                self.adapter.execute(exp.insert(exp.select("UPDATED_AT", "EXTERNAL_ID", "PAYLOAD").from_(cdi_scratch), cdi_table, columns=["UPDATED_AT", "EXTERNAL_ID", "PAYLOAD"]))
            self.adapter.execute(exp.insert(exp.select(*(c for c, _ in COLUMNS[CHANGES])).from_(changes), self.adapter.table(CHANGES)))
            for st in staged:
                res = self.results[st.segment.name]
                values = (self.run_id, st.segment.name, as_of_naive, res.size, res.entered, res.exited, st.segment.membership_hash())
                self._insert_values(HISTORY, values)
            finished = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            self._insert_values(RUNS, (self.run_id, self.started.replace(tzinfo=None), finished, as_of_naive, self.result.target, status, json.dumps(definitions, sort_keys=True)))

    def _insert_values(self, table: str, values: tuple[Any, ...]) -> None:
        def literal(value: Any) -> exp.Expression:
            if isinstance(value, dt.datetime):
                return self.rules.timestamp(value.replace(tzinfo=dt.UTC))
            return lit(value)

        row = exp.Tuple(expressions=[literal(v) for v in values])
        self.adapter.execute(exp.insert(exp.Values(expressions=[row]), self.adapter.table(table), columns=[c for c, _ in COLUMNS[table]]))

    # -- the sequence -----------------------------------------------------------------------------
    def execute(self) -> RunResult:
        tick = time.monotonic()
        try:
            if not self.names:
                return self.result
            check_users_unique(self.session, self.adapter)
            if not self.dry_run:
                ensure_state_tables(self.adapter, self.defs.config.cdi_table)
            self.progress(f"staging {len(self.names)} segments in one query")
            stages = self.stage()
            staged: list[Staged] = []
            for i, name in enumerate(self.names):
                if name not in stages:
                    continue
                started = time.monotonic()
                self.progress(f"diffing {name}")
                try:
                    st = self.diff(name, stages[name], i)
                except EngineError as err:
                    self._fail(name, f"{self.defs.segments[name].location}: {err}")
                    continue
                self.guard(st)
                self.results[name].seconds = time.monotonic() - started
                staged.append(st)
            failed = {n for n, r in self.results.items() if r.status != "success"}
            for name in sorted(failed):
                for dep in sorted(dependents(self.defs.segments, name) & set(self.names)):
                    if self.results[dep].status == "success":
                        self._fail(dep, f"skipped: depends on {name}, which failed", status="skipped")
            self.result.segments = [self.results[n] for n in self.names]
            passing = [st for st in staged if self.results[st.segment.name].status == "success"]
            changes = self.cdi_changes(passing)
            if self.dry_run:
                self.result.cdi_rows = sum(len(cdi.chunk(v)) for v in changes.values())
                return self.result
            rows = self.cdi_rows(changes)
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
