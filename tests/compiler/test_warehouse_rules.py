"""The arithmetic of the bigquery, databricks and redshift rules, executed on DuckDB.

No engine of those kinds runs here. Where a construct is plain arithmetic that sqlglot
transpiles faithfully (md5 digits, degrees, epochs, the RANK form of CUME_DIST's
numerator), its SQL in the target dialect is read back, written as DuckDB and executed,
and must give what the SPEC's formula gives. The engine-specific JSON and array functions
have no DuckDB counterpart: golden files and re-parsing are their only checks.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from segsql.compiler.dialects import DialectRules
from segsql.compiler.registry import rules_for
from tests.reference import haversine_km, random_bucket

WAREHOUSES = ("bigquery", "databricks", "redshift")


def on_duckdb(expression: exp.Expression, dialect: str, table: str = "") -> list[tuple]:
    """Run `expression` as written for `dialect`, transpiled to DuckDB by sqlglot."""
    sql = exp.select(expression).sql(dialect) + table
    return duckdb.sql(sqlglot.transpile(sql, read=dialect, write="duckdb")[0]).fetchall()


@pytest.mark.parametrize("dialect", WAREHOUSES)
def test_bucket_is_the_md5_formula(dialect: str) -> None:
    ids = ["u1", "user-000042", "", "zz" * 40, "ffff"]
    got = [on_duckdb(rules_for(dialect).bucket(exp.Literal.string(i), "salt"), dialect)[0][0] for i in ids]
    assert got == [random_bucket(i, "salt") for i in ids]


@pytest.mark.parametrize("dialect", WAREHOUSES)
def test_haversine_uses_the_earth_radius_of_the_spec(dialect: str) -> None:
    distance = rules_for(dialect).haversine_km(exp.Literal.number(37.5665), exp.Literal.number(126.978), 35.1796, 129.0756)
    assert on_duckdb(distance, dialect)[0][0] == pytest.approx(haversine_km(37.5665, 126.978, 35.1796, 129.0756), rel=1e-12)


@pytest.mark.parametrize("dialect", ["bigquery", "redshift"])  # sqlglot does not read Databricks' TIMESTAMP_SECONDS back
@pytest.mark.parametrize(("unit", "value", "want"), [
    ("epoch_seconds", 1_795_348_800, dt.datetime(2026, 11, 22, 12)),
    ("epoch_millis", 1_700_000_123, dt.datetime(1970, 1, 20, 16, 13, 20, 123_000)),  # DuckDB multiplies an INTERVAL by INT32 only
])
def test_epoch_columns_decode_to_the_utc_instant(dialect: str, unit: str, value: int, want: dt.datetime) -> None:
    column = exp.cast(exp.Literal.number(value), exp.DataType.Type.BIGINT)
    assert on_duckdb(rules_for(dialect).to_utc(column, unit), dialect)[0][0] == want


def test_redshift_rank_form_counts_the_rows_at_or_below_like_the_range_frame() -> None:
    """Redshift has no RANGE frames: n − RANK() descending + 1 must equal the frame's count, ties included."""
    rows = " FROM (VALUES (3), (1), (3), (2), (5), (3), (1)) AS t(v) ORDER BY v"
    column = exp.column("v")
    assert on_duckdb(rules_for("redshift").count_at_or_below(column), "redshift", rows) == on_duckdb(DialectRules().count_at_or_below(column.copy()), "duckdb", rows)
