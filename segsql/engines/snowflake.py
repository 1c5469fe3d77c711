"""Snowflake through snowflake-connector-python (tests run it on fakesnow).

`snowflake.connector.connect` is looked up on the module at call time, which is what
fakesnow patches. The session runs in UTC so TIMESTAMP_NTZ values are UTC instants.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

from sqlglot import exp

from segsql.engines.base import Adapter, EngineError
from segsql.errors import UsageError

_SF_TYPES = {"VARCHAR": "VARCHAR", "BIGINT": "NUMBER(38,0)", "DOUBLE": "FLOAT", "BOOLEAN": "BOOLEAN", "TIMESTAMP": "TIMESTAMP_NTZ", "TIMESTAMPTZ": "TIMESTAMP_TZ", "JSON": "VARIANT", "VARCHAR[]": "ARRAY"}
_CONNECT_KEYS = ("account", "user", "password", "role", "warehouse", "database", "schema", "authenticator", "token", "host", "port", "protocol")
_CHUNK = 500


class SnowflakeAdapter(Adapter):
    dialect = "snowflake"
    transactional_ddl = False

    def __init__(self, conn: Any, schema: str | None, secrets: frozenset[str]):
        super().__init__(schema, secrets)
        self.conn = conn

    @classmethod
    def from_target(cls, target: Any, query_tag: str = "segsql") -> SnowflakeAdapter:
        try:
            import snowflake.connector
        except ImportError:
            raise UsageError("the Snowflake driver is not installed", hint="pip install 'segsql[snowflake]'") from None
        settings = dict(target.settings)
        kwargs = {k: settings[k] for k in _CONNECT_KEYS if settings.get(k) not in (None, "")}
        secrets = set(target.secrets)
        if settings.get("private_key_path"):
            kwargs["private_key_file"] = settings["private_key_path"]
            env = settings.get("private_key_passphrase_env")
            if env and os.environ.get(env):
                kwargs["private_key_file_pwd"] = os.environ[env]
                secrets.add(os.environ[env])
        for key in ("password", "token"):
            if isinstance(kwargs.get(key), str) and kwargs[key]:
                secrets.add(kwargs[key])
        kwargs["session_parameters"] = {"TIMEZONE": "UTC", "QUERY_TAG": query_tag, "TIMESTAMP_TYPE_MAPPING": "TIMESTAMP_NTZ"}
        frozen = frozenset(secrets)
        try:
            conn = snowflake.connector.connect(**kwargs)
        except Exception as err:
            message = f"cannot connect to Snowflake account {settings.get('account')!r}: {err}"
            for secret in frozen:
                message = message.replace(secret, "****")
            raise EngineError(message) from None
        return cls(conn, target.schema, frozen)

    def _execute(self, sql: str) -> None:
        with self.conn.cursor() as cur:
            cur.execute(sql)

    def _fetch(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        with self.conn.cursor() as cur:
            cur.execute(sql)
            columns = [d[0].lower() for d in cur.description or []]
            return columns, [tuple(r) for r in cur.fetchall()]

    def _begin(self) -> None:
        self._execute("BEGIN")

    def _commit(self) -> None:
        self._execute("COMMIT")

    def _rollback(self) -> None:
        self._execute("ROLLBACK")

    def load_rows(self, table: str, columns: Sequence[tuple[str, str]], rows: Sequence[tuple[Any, ...]]) -> None:
        """CREATE OR REPLACE, then INSERT ... SELECT FROM VALUES in chunks (JSON via PARSE_JSON)."""
        target = self.table(table)
        schema = exp.Schema(this=target, expressions=[exp.ColumnDef(this=exp.to_identifier(n), kind=exp.DataType.build(_SF_TYPES[t], dialect="snowflake")) for n, t in columns])
        self.execute(exp.Create(this=schema, kind="TABLE", replace=True))
        for start in range(0, len(rows), _CHUNK):
            chunk = rows[start:start + _CHUNK]
            values = exp.values([tuple(_literal(v, t) for v, (_, t) in zip(row, columns, strict=True)) for row in chunk], alias="v", columns=[f"c{i}" for i in range(len(columns))])
            projections = []
            for i, (_, kind) in enumerate(columns):
                col = exp.column(f"c{i}", table="v")
                if kind in ("JSON", "VARCHAR[]"):
                    projections.append(exp.func("PARSE_JSON", col))
                elif kind in ("TIMESTAMP", "TIMESTAMPTZ"):
                    projections.append(exp.cast(col, exp.DataType.build(_SF_TYPES[kind], dialect="snowflake")))
                else:
                    projections.append(col)
            self.execute(exp.insert(exp.select(*projections).from_(values), target))

    def close(self) -> None:
        try:
            self.conn.close()
        except Exception as err:  # closing a broken connection must not hide the real error
            raise EngineError(self.redact(str(err))) from None


def _literal(value: Any, kind: str) -> exp.Expression:
    if value is None:
        return exp.null()
    if kind == "VARCHAR[]":
        return exp.Literal.string(json.dumps(list(value)))
    if kind in ("TIMESTAMP", "TIMESTAMPTZ"):
        return exp.Literal.string(value.isoformat(sep=" "))
    if kind == "BOOLEAN":
        return exp.Boolean(this=bool(value))
    if kind in ("BIGINT", "DOUBLE"):
        return exp.Literal.number(repr(value))
    return exp.Literal.string(str(value))
