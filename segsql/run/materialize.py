"""`segsql run`: stage memberships, diff against current tables, replace them in one commit.

DDL (staging tables, first-time membership tables) happens before the transaction,
because Snowflake commits DDL implicitly; inside it there is only DML (DELETE + INSERT),
so readers see the old or the new membership and a failure leaves every table as it was.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from segsql.compiler import SegmentCompiler, flag_name
from segsql.compiler.dialects import rules_for
from segsql.compiler.query import ID_COLUMN, source_table
from segsql.engines import Adapter, EngineError
from segsql.errors import RunFailure
from segsql.run.session import Session

ENTERED_AT = "entered_at"


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


def _count(adapter: Adapter, query: exp.Select) -> int:
    return int(adapter.fetch(query)[0][0])


def run_segments(session: Session, adapter: Adapter, names: list[str], *, dry_run: bool = False) -> RunResult:
    """Materialize the `table` segments among `names` (ephemeral ones are inlined where used)."""
    started = time.monotonic()
    run_id = uuid.uuid4().hex[:12]
    target = session.project.target.name if session.project.target else "?"
    result = RunResult(run_id, session.as_of, target, dry_run)
    defs = session.definitions
    tables = [n for n in names if defs.segments[n].materialized == "table"]
    if not tables:
        return result
    check_users_unique(session, adapter)

    rules = rules_for(adapter.dialect)
    as_of = rules.timestamp(session.as_of)
    stage = adapter.table(f"__segsql_stage_{run_id}")
    scratch: list[exp.Table] = [stage]
    prefix = defs.config.segment_prefix
    try:
        compiler = SegmentCompiler(defs, adapter.dialect, session.as_of)
        adapter.execute(exp.Create(this=stage, kind="TABLE", expression=compiler.flags(tables)))
        swaps: list[tuple[exp.Table, exp.Table]] = []
        for i, name in enumerate(tables):
            tick = time.monotonic()
            seg_result = SegmentResult(name, prefix + name)
            member_table = adapter.table(prefix + name)
            if not adapter.table_exists(prefix + name) and not dry_run:
                columns = [
                    exp.ColumnDef(this=exp.to_identifier(ID_COLUMN), kind=exp.DataType.build("VARCHAR"), constraints=[exp.ColumnConstraint(kind=exp.NotNullColumnConstraint())]),
                    exp.ColumnDef(this=exp.to_identifier(ENTERED_AT), kind=exp.DataType.build(rules.timestamp_type)),
                ]
                adapter.execute(exp.Create(this=exp.Schema(this=member_table, expressions=columns), kind="TABLE", exists=True))
            exists = dry_run is False or adapter.table_exists(prefix + name)
            new = adapter.table(f"__segsql_new_{run_id}_{i}")
            scratch.append(new)
            flag = exp.column(flag_name(name), table="s")
            select = exp.select(exp.column(ID_COLUMN, table="s"))
            if exists:
                select = select.select(exp.Coalesce(this=exp.column(ENTERED_AT, table="o"), expressions=[as_of.copy()]).as_(ENTERED_AT))
                select = select.from_(stage.as_("s")).join(
                    member_table.as_("o"), on=exp.column(ID_COLUMN, table="o").eq(exp.column(ID_COLUMN, table="s")), join_type="left"
                )
            else:
                select = select.select(exp.alias_(as_of.copy(), ENTERED_AT)).from_(stage.as_("s"))
            adapter.execute(exp.Create(this=new, kind="TABLE", expression=select.where(flag)))
            seg_result.size = _count(adapter, exp.select(exp.func("COUNT", exp.Star())).from_(new))
            if exists:
                old_ids = exp.select(exp.column(ID_COLUMN)).from_(member_table)
                new_ids = exp.select(exp.column(ID_COLUMN)).from_(new)
                seg_result.entered = _count(adapter, exp.select(exp.func("COUNT", exp.Star())).from_(new).where(exp.not_(exp.column(ID_COLUMN).isin(query=old_ids))))
                seg_result.exited = _count(adapter, exp.select(exp.func("COUNT", exp.Star())).from_(member_table).where(exp.not_(exp.column(ID_COLUMN).isin(query=new_ids))))
            else:
                seg_result.entered = seg_result.size
            seg_result.seconds = time.monotonic() - tick
            result.segments.append(seg_result)
            swaps.append((member_table, new))
        if not dry_run:
            with adapter.transaction():
                for member_table, new in swaps:
                    adapter.execute(exp.delete(member_table))
                    adapter.execute(exp.insert(exp.select(exp.column(ID_COLUMN), exp.column(ENTERED_AT)).from_(new), member_table, columns=[ID_COLUMN, ENTERED_AT]))
    except EngineError as err:
        done = {s.name for s in result.segments}
        for name in tables:
            if name not in done:
                result.segments.append(SegmentResult(name, prefix + name))
        for seg_result in result.segments:
            seg_result.status = "error"
            seg_result.message = str(err)
    finally:
        for table in scratch:
            with contextlib.suppress(EngineError):
                adapter.execute(exp.Drop(tables=[table], kind="TABLE", exists=True))
        result.seconds = time.monotonic() - started
    return result
