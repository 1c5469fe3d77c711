"""The dialect registry: every compile target and the rules class that spells SQL for it.

The CLI's `--dialect` choice, `compile`'s targets, a SQL segment's `dialect:` and every
per-dialect rule read this one table, so a new target is one entry here plus its rules
class (`docs/extending.md`). The order is the order `compile` writes them in.
"""

from __future__ import annotations

from segsql.compiler.dialects import DialectRules, DuckDBRules, PostgresRules, SnowflakeRules
from segsql.compiler.dialects_warehouses import BigQueryRules, DatabricksRules, RedshiftRules

DIALECTS: dict[str, type[DialectRules]] = {
    "duckdb": DuckDBRules,
    "snowflake": SnowflakeRules,
    "postgres": PostgresRules,
    "redshift": RedshiftRules,
    "bigquery": BigQueryRules,
    "databricks": DatabricksRules,
}
COMPILE_DIALECTS = tuple(DIALECTS)


def rules_for(dialect: str) -> DialectRules:
    return DIALECTS[dialect]()
