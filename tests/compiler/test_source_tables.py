"""SPEC 1: on DuckDB a source `table:` may be a file or glob (Parquet, CSV, JSON) relative to
the project folder; on any other target it is exit 2 at its sources.yml line."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from tests.conftest import run_cli, write_project

AS_OF = "2026-06-01T00:00:00Z"
SOURCES = """
users:
  table: data/users.csv
  id: external_id
  attributes: {country: string, age: number, signup_at: time}
events:
  table: "data/events/*.parquet"
  user: external_id
  name: event_name
  time: occurred_at
  properties: properties
purchases:
  table: data/purchases.jsonl
  user: external_id
  time: purchased_at
  product: product_id
  price: price
  properties: properties
"""
SEGMENTS = """
segments:
  - name: koreans
    where: {attribute: country, equals: KR}
  - name: recent_ios
    where: {event: app_open, where: [{property: platform, equals: ios}], within: {last_days: 7}}
  - name: spent_10
    where: {purchase: any, revenue: {gte: 10}}
  - name: couponers
    where: {purchase: any, where: [{property: coupon, exists: true}]}
  - name: korean_openers_sql
    sql: select e.external_id from {{ source('events') }} e join {{ source('users') }} u using (external_id) where u.country = 'KR'
"""


def _exports(root: Path) -> None:
    """What a warehouse export looks like: a CSV, a folder of Parquet parts, JSON lines."""
    (root / "data" / "events").mkdir(parents=True)
    (root / "data" / "users.csv").write_text("external_id,country,age,signup_at\nu1,KR,31,2026-01-05\nu2,JP,45,2025-03-01 10:00:00\nu3,KR,,2026-05-01 08:00:00\n", encoding="utf-8")
    db = duckdb.connect()
    parts = {
        "part-0.parquet": [("u1", "app_open", "2026-05-30 10:00:00", '{"platform": "ios"}'), ("u2", "app_open", "2026-04-01 10:00:00", '{"platform": "ios"}')],
        "part-1.parquet": [("u4", "app_open", "2026-05-31 10:00:00", '{"platform": "ios"}'), ("u3", "app_open", "2026-05-31 11:00:00", '{"platform": "web"}')],
    }
    for name, rows in parts.items():
        db.execute("CREATE OR REPLACE TABLE t (external_id VARCHAR, event_name VARCHAR, occurred_at TIMESTAMP, properties VARCHAR)")
        db.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", rows)
        db.execute("COPY t TO ? (FORMAT parquet)", [str(root / "data" / "events" / name)])
    db.close()
    purchases = [
        {"external_id": "u1", "purchased_at": "2026-05-20T10:00:00Z", "product_id": "p1", "price": 10.5, "properties": {"coupon": "SPRING"}},
        {"external_id": "u3", "purchased_at": "2026-05-21T10:00:00Z", "product_id": "p2", "price": 9.5, "properties": {"channel": "web"}},
        {"external_id": "u5", "purchased_at": "2026-06-02T10:00:00Z", "product_id": "p2", "price": 99.0, "properties": {"coupon": "LATE"}},
    ]
    (root / "data" / "purchases.jsonl").write_text("".join(json.dumps(p) + "\n" for p in purchases), encoding="utf-8")


def test_duckdb_reads_csv_parquet_glob_and_json_files_relative_to_the_project(tmp_path: Path) -> None:
    root = write_project(tmp_path / "shop", {"models/sources.yml": SOURCES, "models/segments.yml": SEGMENTS})
    _exports(root)
    run = run_cli("--project-dir", str(root), "run", "--as-of", AS_OF, "--format", "json")
    assert run.code == 0, run.output
    db = duckdb.connect(str(root / "test.duckdb"))
    members = {r["name"]: {row[0] for row in db.execute(f"SELECT external_user_id FROM main.seg_{r['name']}").fetchall()} for r in json.loads(run.out)["results"]}
    db.close()
    assert members == {
        "koreans": {"u1", "u3"},
        "recent_ios": {"u1", "u4"},  # u2's open is older than 7 days; u3 opened on the web
        "spent_10": {"u1"},  # u5's purchase is after as_of
        "couponers": {"u1"},
        "korean_openers_sql": {"u1", "u3"},
    }
    compiled = run_cli("--project-dir", str(root), "compile", "--check", "--as-of", AS_OF)
    assert compiled.code == 0, compiled.output
    sql = (root / "target" / "compiled" / "duckdb" / "recent_ios.sql").read_text(encoding="utf-8")
    assert "READ_PARQUET('data/events/*.parquet')" in sql and str(root) not in sql


def test_a_file_table_on_a_non_duckdb_target_is_exit_2_at_its_line(tmp_path: Path) -> None:
    profile = "segsql:\n  target: sf\n  outputs:\n    sf: {type: snowflake, account: a, user: u, password: p, database: D, schema: S}\n"
    root = write_project(tmp_path / "sf", {"profiles.yml": profile, "models/sources.yml": SOURCES, "models/segments.yml": SEGMENTS})
    for command in (["run"], ["show", "koreans"], ["ls"]):
        result = run_cli("--project-dir", str(root), *command)
        assert result.code == 2, result.output
        assert "models/sources.yml:2: table 'data/users.csv' is a file, which only a DuckDB target can read" in result.err
        assert "Traceback" not in result.output


def test_a_path_without_a_data_suffix_is_exit_2_at_its_line(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {"models/sources.yml": SOURCES.replace('"data/events/*.parquet"', "data/events/"), "models/segments.yml": SEGMENTS})
    result = run_cli("--project-dir", str(root), "compile")
    assert result.code == 2 and "models/sources.yml:6: table 'data/events/' looks like a file path" in result.err, result.output
