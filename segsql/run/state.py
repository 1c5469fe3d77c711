"""segsql's own tables in the target schema: run state, history, the change log, CDI.

They are created (DDL) before a run's transaction, so that inside it there is only DML —
Snowflake would commit any DDL implicitly.
"""

from __future__ import annotations

from collections.abc import Collection, Container

from sqlglot import exp

from segsql.engines import Adapter

RUNS = "segsql_runs"
HISTORY = "segsql_history"
CHANGES = "segsql_changes"
SEGMENT_ID, ENTERED_AT, SPLIT_GROUP = "external_user_id", "entered_at", "split_group"
#: SPEC 8.4: whether a member satisfied its segment's channels at the last run (NULL: rows from
#: before the segment had channels, when CDI synced every member — read as TRUE)
CONSENTED = "consented"

COLUMNS: dict[str, list[tuple[str, str]]] = {
    RUNS: [("run_id", "VARCHAR"), ("started_at", "TIMESTAMP"), ("finished_at", "TIMESTAMP"), ("as_of", "TIMESTAMP"),
           ("target", "VARCHAR"), ("status", "VARCHAR"), ("segments", "VARCHAR")],
    HISTORY: [("run_id", "VARCHAR"), ("segment", "VARCHAR"), ("as_of", "TIMESTAMP"), ("size", "BIGINT"), ("entered", "BIGINT"),
              ("exited", "BIGINT"), ("definition_hash", "VARCHAR")],
    CHANGES: [("run_id", "VARCHAR"), ("as_of", "TIMESTAMP"), ("segment", "VARCHAR"), ("external_user_id", "VARCHAR"),
              ("change", "VARCHAR"), ("split_group", "VARCHAR")],
}
CDI_COLUMNS = [("UPDATED_AT", "TIMESTAMP"), ("EXTERNAL_ID", "VARCHAR"), ("PAYLOAD", "VARCHAR")]


def logical_type(adapter: Adapter, kind: str) -> exp.DataType:
    """A segsql logical column type in the adapter's dialect (TIMESTAMP is naive UTC everywhere)."""
    if kind == "TIMESTAMP":
        return exp.DataType.build("TIMESTAMP_NTZ" if adapter.dialect == "snowflake" else "TIMESTAMP", dialect=adapter.dialect)
    return exp.DataType.build(kind)


def create_table(adapter: Adapter, name: str, columns: list[tuple[str, str]], not_null: tuple[str, ...] = ()) -> None:
    """CREATE TABLE IF NOT EXISTS with segsql's logical column types."""
    defs = [
        exp.ColumnDef(
            this=exp.to_identifier(col),
            kind=logical_type(adapter, kind),
            constraints=[exp.ColumnConstraint(kind=exp.NotNullColumnConstraint())] if col in not_null else [],
        )
        for col, kind in columns
    ]
    adapter.execute(exp.Create(this=exp.Schema(this=adapter.table(name), expressions=defs), kind="TABLE", exists=True))


def ensure_state_tables(adapter: Adapter, cdi_table: str, existing: Container[str]) -> None:
    """Create segsql's own tables that are not among `existing` (lower-case names)."""
    for name, columns in [*COLUMNS.items(), (cdi_table, CDI_COLUMNS)]:
        if name.lower() not in existing:
            create_table(adapter, name, columns)


def ensure_membership_table(adapter: Adapter, name: str, split: bool, columns: Collection[str] | None, consent: bool = False) -> set[str]:
    """The table a Braze CDI Segment Extension selects from; `split_group` added when a split
    appears, `consented` when channels do (SPEC 8.4).

    `columns` are the table's current (lower-case) columns, None when it does not exist; returns them after."""
    optional = ([(SPLIT_GROUP, "VARCHAR")] if split else []) + ([(CONSENTED, "BOOLEAN")] if consent else [])
    wanted = [(SEGMENT_ID, "VARCHAR"), (ENTERED_AT, "TIMESTAMP"), *optional]
    if columns is None:
        create_table(adapter, name, wanted, not_null=(SEGMENT_ID,))
        return {c for c, _ in wanted}
    found = set(columns)
    for column, kind in optional:
        if column not in found:
            adapter.execute(exp.Alter(this=adapter.table(name), kind="TABLE", actions=[exp.ColumnDef(this=exp.to_identifier(column), kind=exp.DataType.build(kind))]))
            found.add(column)
    return found
