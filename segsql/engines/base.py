"""What every engine adapter offers, and how to open one from a profile target.

Adapters take sqlglot expressions and table names — never definitions — and generate
SQL in their own dialect. Every message they raise is redacted of the target's secrets.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from sqlglot import exp

from segsql.errors import (
    ConnectionFailure,
    EngineError,
    InternalError,
    Location,
    StatementFailure,
    UsageError,
)
from segsql.util.engines import ENGINES


class TargetSpec(Protocol):
    """What an adapter reads of a profile target (`segsql.project.config.Target`)."""

    @property
    def name(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def settings(self) -> dict[str, Any]: ...
    @property
    def secrets(self) -> frozenset[str]: ...
    @property
    def location(self) -> Location | None: ...
    @property
    def schema(self) -> str | None: ...


#: Statements that change the schema: Snowflake commits them implicitly, so never inside a transaction.
DDL = (exp.Create, exp.Drop, exp.Alter, exp.TruncateTable)

#: Every statement sent to an engine, with its time: the CLI writes these to logs/segsql.log.
statement_log = logging.getLogger("segsql.engine")


def redact(text: str, secrets: frozenset[str]) -> str:
    """`text` with every secret replaced by ****, longest first so no fragment of one survives."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "****")
    return text


class Adapter:
    """Base adapter: SQL generation, redaction and the transaction protocol."""

    dialect = "duckdb"

    def __init__(self, schema: str | None, secrets: frozenset[str] = frozenset()):
        self.schema = schema
        self.secrets = secrets
        self.in_transaction = False

    # -- to implement ---------------------------------------------------------------------
    def _execute(self, sql: str) -> None:
        raise NotImplementedError

    def _fetch(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        raise NotImplementedError

    def _describe(self, sql: str) -> list[tuple[str, str]]:
        """(name, engine type name) of a query's result columns."""
        raise NotImplementedError

    def load_rows(self, table: str, columns: Sequence[tuple[str, str]], rows: Sequence[tuple[Any, ...]]) -> None:
        """Create-or-replace `table` and insert `rows`. Column types are logical: VARCHAR, BIGINT,
        DOUBLE, DECIMAL (20 digits, 8 after the point), BOOLEAN, TIMESTAMP (naive UTC),
        TIMESTAMPTZ, JSON (text) and VARCHAR[]."""
        raise NotImplementedError

    @classmethod
    def from_target(cls, target: TargetSpec, project_root: Path | None = None, run_id: str | None = None) -> Adapter:
        """Open a connection for a profile target (`project_root` anchors relative paths)."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def _connection_lost(self, err: Exception) -> bool:
        """Did `err` break the connection (rather than reject one statement)? Override per driver."""
        return False

    # -- shared ---------------------------------------------------------------------------
    def _begin(self) -> None:  # the same statements on every engine so far; override if not
        self.execute("BEGIN")

    def _commit(self) -> None:
        self.execute("COMMIT")

    def _rollback(self) -> None:
        self.execute("ROLLBACK")

    def redact(self, text: str) -> str:
        return redact(text, self.secrets)

    def sql(self, statement: exp.Expr | str) -> str:
        return statement if isinstance(statement, str) else statement.sql(self.dialect)

    @contextlib.contextmanager
    def _engine_errors(self) -> Iterator[None]:
        """Any driver exception becomes a redacted ConnectionFailure or StatementFailure."""
        try:
            yield
        except EngineError:
            raise
        except Exception as err:
            kind = ConnectionFailure if self._connection_lost(err) else StatementFailure
            raise kind(self.redact(f"{type(err).__name__}: {err}")) from None

    @contextlib.contextmanager
    def _statement(self, text: str) -> Iterator[None]:
        """The one place every statement passes: driver errors redacted, the statement and its
        time logged (redacted too), whether it succeeded or failed."""
        start = time.perf_counter()
        try:
            with self._engine_errors():
                yield
        except EngineError as err:
            statement_log.info("%s %.3fs failed: %s | %s", self.dialect, time.perf_counter() - start, str(err).splitlines()[0] if str(err) else "", self.redact(text))
            raise
        statement_log.info("%s %.3fs %s", self.dialect, time.perf_counter() - start, self.redact(text))

    def execute(self, statement: exp.Expr | str) -> None:
        if self.in_transaction and _is_ddl(statement):
            raise InternalError(f"DDL inside a transaction ({self.sql(statement)[:60]}…): Snowflake would commit it implicitly")
        text = self.sql(statement)
        with self._statement(text):
            self._execute(text)

    def fetch(self, statement: exp.Expr | str) -> list[tuple[Any, ...]]:
        return self.fetch_with_columns(statement)[1]

    def fetch_with_columns(self, statement: exp.Expr | str) -> tuple[list[str], list[tuple[Any, ...]]]:
        text = self.sql(statement)
        with self._statement(text):
            return self._fetch(text)

    def column_types(self, table: exp.Table) -> list[tuple[str, str]]:
        """(name, engine type name) of every column of a table, from a query that reads no rows."""
        text = self.sql(exp.select(exp.Star()).from_(table).limit(0))
        with self._statement(text):
            return self._describe(text)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction of DML only: commit on success, roll back on any exception."""
        self._begin()
        self.in_transaction = True
        try:
            yield
        except BaseException:
            self.in_transaction = False
            with contextlib.suppress(Exception):
                self._rollback()
            raise
        self.in_transaction = False
        self._commit()

    def table(self, name: str) -> exp.Table:
        """A table of segsql's own in the target schema."""
        return exp.table_(name, db=self.schema) if self.schema else exp.table_(name)

    def table_exists(self, name: str) -> bool:
        query = (
            exp.select(exp.func("COUNT", exp.Star()))
            .from_(exp.table_("tables", db="information_schema"))
            .where(exp.func("LOWER", exp.column("table_name")).eq(exp.Literal.string(name.lower())))
        )
        if self.schema:
            query = query.where(exp.func("LOWER", exp.column("table_schema")).eq(exp.Literal.string(self.schema.lower())))
        return bool(self.fetch(query)[0][0])

    def schema_tables(self) -> dict[str, set[str]]:
        """Lower-case name → lower-case column names of every table in the target schema, in one query."""
        query = exp.select(exp.column("table_name"), exp.column("column_name")).from_(exp.table_("columns", db="information_schema"))
        if self.schema:
            query = query.where(exp.func("LOWER", exp.column("table_schema")).eq(exp.Literal.string(self.schema.lower())))
        tables: dict[str, set[str]] = {}
        for table, column in self.fetch(query):
            tables.setdefault(str(table).lower(), set()).add(str(column).lower())
        return tables

    def __enter__(self) -> Adapter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _is_ddl(statement: exp.Expr | str) -> bool:
    if isinstance(statement, str):
        return statement.lstrip().split(None, 1)[0].upper() in ("CREATE", "DROP", "ALTER", "TRUNCATE") if statement.strip() else False
    return isinstance(statement, DDL)


def connect(target: TargetSpec, project_root: Path | None = None, run_id: str | None = None) -> Adapter:
    """Open the adapter that the engine registry names for the target's `type:` (its driver is
    imported only here, lazily).

    `run_id` names the command's run in the engine's session where it has a place for it
    (Snowflake's QUERY_TAG)."""
    spec = ENGINES.get(target.type)
    if spec is None:
        raise UsageError(f"running on {target.type!r} targets is not supported", hint=f"use one of: {', '.join(ENGINES)}; other dialects can still be compiled")
    module, _, name = spec.adapter.partition(":")
    adapter: type[Adapter] = getattr(importlib.import_module(module), name)
    return adapter.from_target(target, project_root, run_id)
