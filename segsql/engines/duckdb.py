"""The embedded DuckDB engine (the default)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlglot import exp

from segsql.engines.base import Adapter, TargetSpec, redact
from segsql.errors import ConnectionFailure, Location, ProjectError, StatementFailure

_DUCK_TYPES = {"VARCHAR": "VARCHAR", "BIGINT": "BIGINT", "DOUBLE": "DOUBLE", "DECIMAL": "DECIMAL(20, 8)", "BOOLEAN": "BOOLEAN", "TIMESTAMP": "TIMESTAMP", "TIMESTAMPTZ": "TIMESTAMPTZ", "JSON": "JSON", "VARCHAR[]": "VARCHAR[]"}


def _json_default(value: Any) -> str:
    """Times as ISO text; a Decimal as its plain digits (DuckDB reads the string exactly)."""
    if isinstance(value, Decimal):
        return format(value, "f")
    return value.isoformat(sep=" ") if hasattr(value, "isoformat") else str(value)


class DuckDBAdapter(Adapter):
    """DuckDB in a file or in memory; the session time zone is UTC so TIMESTAMPTZ casts give UTC."""

    dialect = "duckdb"

    def __init__(self, path: str, schema: str | None = "main", secrets: frozenset[str] = frozenset()):
        super().__init__(schema, secrets)
        import duckdb

        self.path = path
        try:
            self.conn = duckdb.connect(path)
        except duckdb.Error as err:
            raise ConnectionFailure(self.redact(f"cannot open DuckDB database {path!r}: {err}")) from None
        self.execute("SET TimeZone = 'UTC'")
        if schema and schema != "main":
            self.execute(exp.Create(this=exp.table_(schema), kind="SCHEMA", exists=True))

    @classmethod
    def from_target(cls, target: TargetSpec, project_root: Path | None = None, run_id: str | None = None) -> DuckDBAdapter:
        path = str(target.settings.get("path", ":memory:"))
        if path != ":memory:" and not os.path.isabs(path) and project_root is not None:
            path = str(Path(project_root) / path)
        if path != ":memory:" and not Path(path).parent.is_dir():
            # DuckDB creates the file but not its folder: a typo in `path:` is the user's to fix
            raise ProjectError(f"the DuckDB path {redact(path, target.secrets)!r} is in a folder that does not exist", target.location, hint="create the folder or fix `path:` in the target")
        adapter = cls(path, target.schema or "main", target.secrets)
        if target.settings.get("memory_limit") not in (None, ""):
            adapter.limit_memory(str(target.settings["memory_limit"]), target.location)
        if project_root is not None:  # file sources (`table: data/*.parquet`) are relative to the project
            search = exp.EQ(this=exp.column("file_search_path"), expression=exp.Literal.string(str(Path(project_root).resolve())))
            adapter.execute(exp.Set(expressions=[exp.SetItem(this=search)]))
        return adapter

    def limit_memory(self, limit: str, location: Location | None = None) -> None:
        """DuckDB's `memory_limit` (default 80 % of RAM): past it, sorts, joins and materialised
        CTEs spill to disk, so a run of many funnels stays within the limit instead of the RAM."""
        item = exp.SetItem(this=exp.EQ(this=exp.column("memory_limit"), expression=exp.Literal.string(limit)))
        try:
            self.execute(exp.Set(expressions=[item]))
        except StatementFailure as err:
            raise ProjectError(f"the DuckDB memory_limit {limit!r} is not a size: {err}", location, hint="write it as DuckDB does, e.g. memory_limit: 2GB") from None

    def _execute(self, sql: str) -> None:
        self.conn.execute(sql)

    def _fetch(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        cursor = self.conn.execute(sql)
        columns = [d[0] for d in cursor.description or []]
        return columns, cursor.fetchall()

    def _describe(self, sql: str) -> list[tuple[str, str]]:
        return [(d[0], str(d[1])) for d in self.conn.execute(sql).description or []]

    def load_rows(self, table: str, columns: Sequence[tuple[str, str]], rows: Sequence[tuple[Any, ...]]) -> None:
        """Bulk load through a temporary newline-delimited JSON file (much faster than INSERTs)."""
        target = self.table(table)
        schema = exp.Schema(this=target, expressions=[exp.ColumnDef(this=exp.to_identifier(n), kind=exp.DataType.build(_DUCK_TYPES[t], dialect="duckdb")) for n, t in columns])
        self.execute(exp.Create(this=schema, kind="TABLE", replace=True))
        if not rows:
            return
        with tempfile.NamedTemporaryFile("w", suffix=".ndjson", delete=False, encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(dict(zip((n for n, _ in columns), row, strict=True)), default=_json_default))
                handle.write("\n")
            path = handle.name
        try:
            spec = exp.Struct(expressions=[exp.PropertyEQ(this=exp.Literal.string(n), expression=exp.Literal.string("VARCHAR" if t == "JSON" else _DUCK_TYPES[t])) for n, t in columns])
            reader = exp.func("read_json", exp.Literal.string(path), exp.PropertyEQ(this=exp.to_identifier("columns"), expression=spec), exp.PropertyEQ(this=exp.to_identifier("format"), expression=exp.Literal.string("newline_delimited")))
            select = exp.select(*(exp.cast(exp.column(n), exp.DataType.build(_DUCK_TYPES[t], dialect="duckdb")) for n, t in columns)).from_(reader)
            self.execute(exp.insert(select, target))
        finally:
            os.unlink(path)

    def close(self) -> None:
        self.conn.close()

    def _connection_lost(self, err: Exception) -> bool:
        import duckdb

        return isinstance(err, duckdb.ConnectionException)
