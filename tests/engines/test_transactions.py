"""The run's transaction holds DML only, and engine failures are told apart, on every engine."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlglot import exp

from segsql.engines.base import Adapter
from segsql.errors import ConnectionFailure, InternalError, StatementFailure


def test_ddl_inside_a_transaction_is_refused_and_rolled_back(engine: Callable[[], Adapter]) -> None:
    adapter = engine()
    adapter.load_rows("t", [("id", "VARCHAR")], [("a",)])
    with pytest.raises(InternalError, match="DDL inside a transaction"), adapter.transaction():
        adapter.execute(exp.insert(exp.select(exp.Literal.string("b")), adapter.table("t")))
        adapter.execute(exp.Create(this=adapter.table("u"), kind="TABLE", expression=exp.select(exp.Literal.number(1))))
    assert adapter.fetch(exp.select(exp.func("COUNT", exp.Star())).from_(adapter.table("t"))) == [(1,)], "the INSERT before the DDL was rolled back"
    assert not adapter.table_exists("u")
    assert not adapter.in_transaction


@pytest.mark.parametrize("ddl", ["DROP TABLE t", "  create table v (x int)", "ALTER TABLE t ADD COLUMN y INT"])
def test_ddl_written_as_text_is_refused_too(engine: Callable[[], Adapter], ddl: str) -> None:
    adapter = engine()
    adapter.load_rows("t", [("id", "VARCHAR")], [("a",)])
    with pytest.raises(InternalError), adapter.transaction():
        adapter.execute(ddl)
    assert adapter.table_exists("t")


def test_dml_commits_and_ddl_is_allowed_again_after_the_transaction(engine: Callable[[], Adapter]) -> None:
    adapter = engine()
    adapter.load_rows("t", [("id", "VARCHAR")], [("a",)])
    with adapter.transaction():
        adapter.execute(exp.insert(exp.select(exp.Literal.string("b")), adapter.table("t")))
    adapter.execute(exp.Drop(tables=[adapter.table("t")], kind="TABLE"))
    assert not adapter.table_exists("t")


def test_a_rejected_statement_is_a_statement_failure(engine: Callable[[], Adapter]) -> None:
    adapter = engine()
    with pytest.raises(StatementFailure):
        adapter.fetch(exp.select(exp.column("nope")).from_(adapter.table("missing_table")))


def test_a_lost_connection_is_a_connection_failure_not_a_statement_failure(tmp_path: object) -> None:
    from segsql.engines.duckdb import DuckDBAdapter

    adapter = DuckDBAdapter(":memory:")
    adapter.conn.close()
    with pytest.raises(ConnectionFailure):
        adapter.fetch(exp.select(exp.Literal.number(1)))
