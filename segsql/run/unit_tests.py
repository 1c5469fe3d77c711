"""`segsql test`: each unit test on its own in-memory DuckDB, whatever the target.

The given rows become tables at the very names sources.yml declares (a three-part
Snowflake name gets an attached in-memory catalog), so SQL segments that name their
tables run unchanged; the project's definitions are compiled for DuckDB at the test's
frozen `as_of`, with SQL segments read in the dialect they were written for (the
target's, unless they say otherwise). A Snowflake project is thereby tested locally.
A funnel test runs the funnel's own query (`FunnelCompiler.users`, as `run` stages it) and
checks each listed user's furthest step; its members are the users who entered the funnel.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field, replace
from typing import Any

from sqlglot import exp

from segsql.compiler import SegmentCompiler
from segsql.compiler.column_types import ColumnTypes
from segsql.compiler.dialects import lit
from segsql.compiler.funnels import FunnelCompiler
from segsql.definitions.project import Definitions
from segsql.definitions.unit_tests import TableRows, UnitTest
from segsql.engines import Adapter, EngineError
from segsql.errors import ProjectError
from segsql.run.session import Session
from segsql.run.source_check import source_types

#: ids printed per side of a failing comparison
SHOWN_IDS = 10


@dataclass
class TestResult:
    name: str
    model: str
    path: str
    line: int | None
    status: str = "pass"
    message: str = ""
    seconds: float = 0.0
    size: int | None = None
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    #: a funnel test's users whose furthest step is not the expected one: user → (expected, actual)
    wrong_steps: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": "test", "name": self.name, "model": self.model, "path": self.path, "line": self.line,
            "status": self.status, "message": self.message, "seconds": round(self.seconds, 3), "size": self.size,
            "missing": self.missing[:SHOWN_IDS], "unexpected": self.unexpected[:SHOWN_IDS],
            "furthest_step": {u: {"expected": e, "actual": a} for u, (e, a) in sorted(self.wrong_steps.items())[:SHOWN_IDS]},
        }


def _shown(ids: list[str]) -> str:
    more = f" … and {len(ids) - SHOWN_IDS} more" if len(ids) > SHOWN_IDS else ""
    return ", ".join(ids[:SHOWN_IDS]) + more


def _local_definitions(defs: Definitions, target_dialect: str) -> Definitions:
    """SQL segments read in the dialect they were written in (the target's unless they say)."""
    segments = {
        name: replace(seg, sql=replace(seg.sql, dialect=seg.sql.dialect or target_dialect)) if seg.sql is not None else seg
        for name, seg in defs.segments.items()
    }
    return replace(defs, segments=segments)


def _value(value: Any, kind: str) -> exp.Expr:
    if value is None:
        return exp.null()
    if isinstance(value, dt.datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), exp.DataType.build("TIMESTAMP"))
    if isinstance(value, list):
        return exp.cast(exp.Array(expressions=[exp.null() if v is None else lit(v) for v in value]), exp.DataType.build("VARCHAR[]", dialect="duckdb"))
    if kind == "JSON":
        return exp.cast(exp.Literal.string(value), exp.DataType.build("JSON", dialect="duckdb"))
    return lit(value)


def _create(adapter: Adapter, rows: TableRows, source_dialect: str, attached: set[str]) -> None:
    """CREATE the table where sources.yml says it is, and INSERT the given rows."""
    try:
        table = exp.to_table(rows.table, dialect=source_dialect)
    except Exception:
        raise ProjectError(f"table {rows.table!r} cannot be built for a unit test", rows.location, "give it as [database.]schema.table") from None
    if table.catalog and table.catalog.lower() not in attached:
        adapter.execute(exp.Attach(this=exp.alias_(exp.Literal.string(":memory:"), table.catalog)))
        attached.add(table.catalog.lower())
    if table.db:
        adapter.execute(exp.Create(this=exp.Table(this=exp.to_identifier(table.db), db=exp.to_identifier(table.catalog) if table.catalog else None), kind="SCHEMA", exists=True))
    columns = [exp.ColumnDef(this=exp.to_identifier(name), kind=exp.DataType.build(kind, dialect="duckdb")) for name, kind in rows.columns]
    adapter.execute(exp.Create(this=exp.Schema(this=table.copy(), expressions=columns), kind="TABLE"))
    if rows.rows:
        kinds = [kind for _, kind in rows.columns]
        values = exp.Values(expressions=[exp.Tuple(expressions=[_value(v, k) for v, k in zip(row, kinds, strict=True)]) for row in rows.rows])
        adapter.execute(exp.insert(values, table.copy(), columns=[name for name, _ in rows.columns]))


def _check(test: UnitTest, members: set[str], result: TestResult, steps: dict[str, int] | None = None) -> None:
    """Compare with `expect`; `steps`: a funnel test's furthest step per entered user."""
    expect = test.expect
    problems: list[str] = []
    if expect.furthest_step is not None and steps is not None:
        result.wrong_steps = {u: (k, steps.get(u, 0)) for u, k in expect.furthest_step if steps.get(u, 0) != k}
        if result.wrong_steps:
            shown = [f"{u} is {a}, expected {e}" for u, (e, a) in sorted(result.wrong_steps.items())]
            problems.append(f"furthest_step of {len(shown)} user(s) differs: {_shown(shown)}")
    if expect.members is not None:
        wanted = set(expect.members)
        result.missing = sorted(wanted - members)
        result.unexpected = sorted(members - wanted)
        if result.missing:
            problems.append(f"expected members not found ({len(result.missing)}): {_shown(result.missing)}")
        if result.unexpected:
            problems.append(f"members not expected ({len(result.unexpected)}): {_shown(result.unexpected)}")
    if expect.not_members is not None:
        found = sorted(set(expect.not_members) & members)
        result.unexpected = sorted(set(result.unexpected) | set(found))
        if found:
            problems.append(f"not_members that are members ({len(found)}): {_shown(found)}")
    if expect.size is not None and expect.size != len(members):
        problems.append(f"size is {len(members)}, expected {expect.size}")
    if problems:
        result.status = "fail"
        actual = sorted(members)
        if steps is not None:
            listed = [f"{u}: {steps[u]}" for u in actual]
            result.message = "; ".join(problems) + f" (actual furthest steps of the {len(listed)} entered user(s): {_shown(listed) or 'none'})"
        else:
            result.message = "; ".join(problems) + f" (actual members ({len(actual)}): {_shown(actual) or 'none'})"


def _furthest_steps(defs: Definitions, test: UnitTest, adapter: Adapter, types: ColumnTypes) -> dict[str, int]:
    """The furthest step of every user who entered the funnel (the query `run` stages)."""
    staged = FunnelCompiler(defs, "duckdb", test.as_of, types).users([test.model]).subquery("f")
    query = exp.select("external_user_id", "furthest_step").from_(staged).where(exp.column("funnel").eq(lit(test.model)))
    return {str(user): int(step) for user, step in adapter.fetch(query)}


def run_unit_test(session: Session, test: UnitTest) -> TestResult:
    """One test on a fresh in-memory DuckDB; an engine error is the test's error, not the command's."""
    from segsql.engines.duckdb import DuckDBAdapter

    result = TestResult(test.name, test.model, test.location.file, test.location.line)
    started = time.monotonic()
    defs = _local_definitions(session.definitions, session.dialect)
    try:
        with DuckDBAdapter(":memory:", "main") as adapter:
            attached: set[str] = set()
            for rows in test.given:
                _create(adapter, rows, session.dialect, attached)
            types = source_types(defs.sources, adapter)
            steps = _furthest_steps(defs, test, adapter, types) if test.kind == "funnel" else None
            if steps is not None:
                members = set(steps)
            else:
                members = {str(row[0]) for row in adapter.fetch(SegmentCompiler(defs, "duckdb", test.as_of, types).members(test.model))}
        result.size = len(members)
        _check(test, members, result, steps)
    except (EngineError, ProjectError) as err:
        result.status = "error"
        result.message = str(err)
    result.seconds = time.monotonic() - started
    return result


def run_unit_tests(session: Session, names: list[str]) -> list[TestResult]:
    return [run_unit_test(session, session.definitions.unit_tests[name]) for name in names]
