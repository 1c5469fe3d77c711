"""PostgreSQL through psycopg 3 (SPEC 7: `type: postgres` with host, port, user, password, dbname, schema).

The connection runs in autocommit; `transaction()` issues BEGIN/COMMIT/ROLLBACK itself,
and PostgreSQL rolls DDL back with the rest. The session time zone is UTC, so naive
TIMESTAMP values are UTC instants and TIMESTAMPTZ values convert to UTC. JSON and
arrays are stored as JSONB (arrays as JSON arrays of strings).
"""

from __future__ import annotations

import decimal
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlglot import exp

from segsql.engines.base import Adapter, TargetSpec, redact
from segsql.errors import ConnectionFailure, UsageError

_PG_TYPES = {"VARCHAR": "VARCHAR", "BIGINT": "BIGINT", "DOUBLE": "DOUBLE PRECISION", "DECIMAL": "NUMERIC(20, 8)", "BOOLEAN": "BOOLEAN", "TIMESTAMP": "TIMESTAMP", "TIMESTAMPTZ": "TIMESTAMPTZ", "JSON": "JSONB", "VARCHAR[]": "JSONB"}
_CONNECT_KEYS = ("host", "port", "user", "password", "dbname", "sslmode", "connect_timeout", "application_name")


def _plain(value: Any) -> Any:
    """Driver values as the other engines return them: integral NUMERIC → int, other NUMERIC → float."""
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _copy_value(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "VARCHAR[]":
        return json.dumps(list(value))
    if kind == "JSON":
        return value if isinstance(value, str) else json.dumps(value)
    if kind == "TIMESTAMP" and getattr(value, "tzinfo", None) is not None:
        import datetime as dt

        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


class PostgresAdapter(Adapter):
    dialect = "postgres"

    def __init__(self, conn: Any, schema: str | None, secrets: frozenset[str] = frozenset()):
        super().__init__(schema, secrets)
        self.conn = conn
        self.execute("SET TimeZone = 'UTC'")
        if schema:
            self.execute(exp.Create(this=exp.table_(schema), kind="SCHEMA", exists=True))

    @classmethod
    def from_target(cls, target: TargetSpec, project_root: Path | None = None, run_id: str | None = None) -> PostgresAdapter:
        try:
            import psycopg
        except ImportError:
            raise UsageError("the PostgreSQL driver is not installed", hint="pip install 'segsql[postgres]'") from None
        settings = dict(target.settings)
        kwargs = {k: settings[k] for k in _CONNECT_KEYS if settings.get(k) not in (None, "")}
        if "password" in kwargs:
            kwargs["password"] = str(kwargs["password"])
        secrets = set(target.secrets)
        if kwargs.get("password"):
            secrets.add(kwargs["password"])
        frozen = frozenset(secrets)
        try:
            conn = psycopg.connect(autocommit=True, **kwargs)
        except Exception as err:
            message = f"cannot connect to PostgreSQL at {settings.get('host')!r}:{settings.get('port', 5432)} database {settings.get('dbname')!r}: {err}"
            raise ConnectionFailure(redact(message, frozen)) from None
        _text_json(conn)
        try:
            return cls(conn, target.schema or "public", frozen)
        except BaseException:
            conn.close()
            raise

    def _execute(self, sql: str) -> None:
        with self.conn.cursor() as cur:
            cur.execute(sql, prepare=False)

    def _fetch(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        with self.conn.cursor() as cur:
            cur.execute(sql, prepare=False)
            columns = [d.name.lower() for d in cur.description or []]
            return columns, [tuple(_plain(v) for v in r) for r in cur.fetchall()]

    def _describe(self, sql: str) -> list[tuple[str, str]]:
        with self.conn.cursor() as cur:
            cur.execute(sql, prepare=False)
            types = self.conn.adapters.types
            return [(d.name, info.name if (info := types.get(d.type_code)) else "") for d in cur.description or []]

    def load_rows(self, table: str, columns: Sequence[tuple[str, str]], rows: Sequence[tuple[Any, ...]]) -> None:
        """DROP IF EXISTS, CREATE TABLE, then one COPY ... FROM STDIN (JSON and arrays as JSONB)."""
        target = self.table(table)
        self.execute(exp.Drop(tables=[target], kind="TABLE", exists=True))
        schema = exp.Schema(this=target.copy(), expressions=[exp.ColumnDef(this=exp.to_identifier(n), kind=exp.DataType.build(_PG_TYPES[t], dialect="postgres")) for n, t in columns])
        self.execute(exp.Create(this=schema, kind="TABLE"))
        if not rows:
            return
        from psycopg import sql as pgsql

        names = pgsql.SQL(", ").join(pgsql.Identifier(n.lower()) for n, _ in columns)
        ident = pgsql.Identifier(self.schema.lower(), table.lower()) if self.schema else pgsql.Identifier(table.lower())
        statement = pgsql.SQL("COPY {} ({}) FROM STDIN").format(ident, names)
        with self._statement(f"{statement.as_string(self.conn)} -- {len(rows)} rows"), self.conn.cursor() as cur, cur.copy(statement) as copy:
            for row in rows:
                copy.write_row(tuple(_copy_value(v, t) for v, (_, t) in zip(row, columns, strict=True)))

    def close(self) -> None:
        try:
            self.conn.close()
        except Exception as err:  # closing a broken connection must not hide the real error
            raise ConnectionFailure(self.redact(str(err))) from None

    def _connection_lost(self, err: Exception) -> bool:
        return bool(self.conn.broken or self.conn.closed)


def _text_json(conn: Any) -> None:
    """Return JSON/JSONB values as text, as DuckDB and Snowflake do (not as parsed objects)."""
    from psycopg.types.json import set_json_loads

    set_json_loads(lambda data: data.decode("utf-8") if isinstance(data, bytes | bytearray | memoryview) else data, conn)
