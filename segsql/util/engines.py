"""The engine registry: every `type:` a profile target may have, in one table.

The project layer checks a target's settings against it and the engines layer opens the
adapter it names, so adding an engine is one entry here plus its adapter class (and its
dialect rules in `segsql.compiler.registry`). Adapters are named by import path, so that
no driver is imported before a command connects.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EngineSpec:
    #: the profile's `type:`, also the sqlglot dialect the adapter writes
    name: str
    #: "module:Class" of the adapter, imported when a command connects
    adapter: str
    settings: tuple[str, ...]
    required: tuple[str, ...] = ()


ENGINES: dict[str, EngineSpec] = {
    spec.name: spec
    for spec in (
        EngineSpec("duckdb", "segsql.engines.duckdb:DuckDBAdapter", ("type", "path", "schema", "memory_limit")),
        EngineSpec(
            "snowflake",
            "segsql.engines.snowflake:SnowflakeAdapter",
            (
                "type", "account", "user", "password", "private_key_path", "private_key_passphrase",
                "private_key_passphrase_env", "authenticator", "token", "role", "warehouse", "database",
                "schema", "host", "port", "protocol", "login_timeout",
            ),
            ("account",),
        ),
        EngineSpec(
            "postgres",
            "segsql.engines.postgres:PostgresAdapter",
            ("type", "host", "port", "user", "password", "dbname", "schema", "sslmode", "connect_timeout", "application_name"),
            ("host", "user", "dbname"),
        ),
    )
}
