"""Snowflake through snowflake-connector-python (tests run it on fakesnow).

`snowflake.connector.connect` is looked up on the module at call time, which is what
fakesnow patches. The session runs in UTC with TIMESTAMP_NTZ as the default timestamp
type, so every naive timestamp segsql writes or compares is a UTC instant; JSON is held
in VARIANT. Snowflake commits DDL implicitly, so the adapter refuses DDL inside a transaction and the
run puts only DML inside its one transaction.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlglot import exp

from segsql import __version__
from segsql.engines.base import Adapter, TargetSpec, redact
from segsql.errors import ConnectionFailure, ProjectError, UsageError

_SF_TYPES = {"VARCHAR": "VARCHAR", "BIGINT": "NUMBER(38,0)", "DOUBLE": "FLOAT", "DECIMAL": "NUMBER(20,8)", "BOOLEAN": "BOOLEAN", "TIMESTAMP": "TIMESTAMP_NTZ", "TIMESTAMPTZ": "TIMESTAMP_TZ", "JSON": "VARIANT", "VARCHAR[]": "ARRAY"}
#: Profile settings passed to `connect` under the same name (the rest are translated below).
_CONNECT_KEYS = ("account", "user", "password", "role", "warehouse", "database", "schema", "authenticator", "token", "host", "port", "protocol", "login_timeout")
_CHUNK = 500


def query_tag(run_id: str | None) -> str:
    """The session's QUERY_TAG: names segsql and the run, so warehouse admins can find its queries."""
    tag = {"app": "segsql", "version": __version__}
    if run_id:
        tag["run_id"] = run_id
    return json.dumps(tag, separators=(",", ":"))


def connect_kwargs(target: TargetSpec, run_id: str | None = None) -> tuple[dict[str, Any], frozenset[str]]:
    """The keyword arguments of `snowflake.connector.connect` for a profile target, and the secrets among them."""
    settings = dict(target.settings)
    kwargs: dict[str, Any] = {k: settings[k] for k in _CONNECT_KEYS if settings.get(k) not in (None, "")}
    secrets = set(target.secrets)
    for key in ("password", "token"):
        if key in kwargs:
            kwargs[key] = str(kwargs[key])
            secrets.add(kwargs[key])
    if settings.get("private_key_path"):
        path = Path(str(settings["private_key_path"])).expanduser()
        if not path.is_file():
            raise ProjectError(f"private_key_path {str(path)!r} of target {target.name!r} is not a file", target.location, "point it at the PEM file of the key pair")
        kwargs["private_key_file"] = str(path)
        passphrase = _passphrase(target, settings)
        if passphrase:
            kwargs["private_key_file_pwd"] = passphrase
            secrets.add(passphrase)
    kwargs["session_parameters"] = {"TIMEZONE": "UTC", "TIMESTAMP_TYPE_MAPPING": "TIMESTAMP_NTZ", "QUERY_TAG": query_tag(run_id)}
    return kwargs, frozenset(s for s in secrets if s)


def _passphrase(target: TargetSpec, settings: dict[str, Any]) -> str | None:
    """`private_key_passphrase` (usually `{{ env_var(...) }}`) or the variable named by `private_key_passphrase_env`."""
    if settings.get("private_key_passphrase"):
        return str(settings["private_key_passphrase"])
    env = settings.get("private_key_passphrase_env")
    if not env:
        return None
    if not os.environ.get(str(env)):
        raise ProjectError(f"environment variable {str(env)!r} (private_key_passphrase_env of target {target.name!r}) is not set", target.location, f"export {env}=... or remove private_key_passphrase_env")
    return os.environ[str(env)]


def _quiet_driver_logs() -> None:
    """The connector logs through `logging`; without a handler Python's last-resort handler
    would print its warnings, unredacted, to stderr. A NullHandler stops that (an
    application that configures logging still gets the records)."""
    logger = logging.getLogger("snowflake")
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())


class SnowflakeAdapter(Adapter):
    dialect = "snowflake"

    def __init__(self, conn: Any, schema: str | None, secrets: frozenset[str]):
        super().__init__(schema, secrets)
        self.conn = conn

    @classmethod
    def from_target(cls, target: TargetSpec, project_root: Path | None = None, run_id: str | None = None) -> SnowflakeAdapter:
        try:
            import snowflake.connector
        except ImportError:
            raise UsageError("the Snowflake driver is not installed", hint="pip install 'segsql[snowflake]'") from None
        _quiet_driver_logs()
        kwargs, secrets = connect_kwargs(target, run_id)
        try:
            conn = snowflake.connector.connect(**kwargs)
        except Exception as err:
            message = f"cannot connect to Snowflake account {target.settings.get('account')!r}: {err}"
            raise ConnectionFailure(redact(message, secrets)) from None
        return cls(conn, target.schema, secrets)

    def _execute(self, sql: str) -> None:
        with self.conn.cursor() as cur:
            cur.execute(sql)

    def _fetch(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        with self.conn.cursor() as cur:
            cur.execute(sql)
            columns = [d[0].lower() for d in cur.description or []]
            return columns, [tuple(r) for r in cur.fetchall()]

    def _describe(self, sql: str) -> list[tuple[str, str]]:
        from snowflake.connector.constants import FIELD_ID_TO_NAME

        with self.conn.cursor() as cur:
            cur.execute(sql)
            return [(d[0], FIELD_ID_TO_NAME[d[1]]) for d in cur.description or []]

    def load_rows(self, table: str, columns: Sequence[tuple[str, str]], rows: Sequence[tuple[Any, ...]]) -> None:
        """CREATE OR REPLACE, then INSERT ... SELECT FROM VALUES in chunks (JSON via PARSE_JSON)."""
        target = self.table(table)
        schema = exp.Schema(this=target, expressions=[exp.ColumnDef(this=exp.to_identifier(n), kind=exp.DataType.build(_SF_TYPES[t], dialect="snowflake")) for n, t in columns])
        self.execute(exp.Create(this=schema, kind="TABLE", replace=True))
        for start in range(0, len(rows), _CHUNK):
            chunk = rows[start:start + _CHUNK]
            values = exp.values([tuple(_literal(v, t) for v, (_, t) in zip(row, columns, strict=True)) for row in chunk], alias="v", columns=[f"c{i}" for i in range(len(columns))])
            projections: list[exp.Expr] = []
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
            raise ConnectionFailure(self.redact(str(err))) from None

    def _connection_lost(self, err: Exception) -> bool:
        return bool(self.conn.is_closed())


def _literal(value: Any, kind: str) -> exp.Expr:
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
    if kind == "DECIMAL":  # plain digits: a literal with an exponent would be a FLOAT
        return exp.Literal.number(format(value, "f"))
    return exp.Literal.string(str(value))
