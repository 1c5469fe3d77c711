"""The plan prints itself (compile, run --dry-run, run_results.json), and --dialect reads the registry."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from segsql.compiler import COMPILE_DIALECTS
from tests.conftest import run_cli, write_project

AS_OF = "2026-11-22T12:00:00Z"
FILES = {
    "models/sources.yml": """
        users: {table: main.users, id: external_id, attributes: {country: string}}
        events: {table: main.events, user: external_id, name: event_name, time: occurred_at}
    """,
    "models/s.yml": """
        segments:
          - name: active_7d
            where: {event: app_open, within: {last_days: 7}}
          - name: lapsed
            where: {not: {event: app_open, within: {last_days: 30}}}
          - name: frequent
            where: {event: app_open, within: {last_days: 7}, count: {gte: 3}}
    """,
}


def _project(tmp_path: Path) -> Path:
    root = write_project(tmp_path / "p", FILES)
    con = duckdb.connect(str(root / "test.duckdb"))
    con.execute("CREATE TABLE users AS SELECT 'u1' AS external_id, 'KR' AS country")
    con.execute("CREATE TABLE events AS SELECT 'u1' AS external_id, 'app_open' AS event_name, TIMESTAMP '2026-11-20 10:00:00' AS occurred_at")
    con.close()
    return root


def test_compile_prints_the_plan_and_writes_it(tmp_path: Path) -> None:
    root = _project(tmp_path)
    result = run_cli("--project-dir", str(root), "compile", "--dialect", "duckdb", "--as-of", AS_OF)
    assert result.code == 0, result.output
    plan = (root / "target" / "compiled" / "plan.txt").read_text().splitlines()
    # one scan; "did / did not in a window" share the latest row, the count of three its own COUNT
    assert plan[0].startswith("scan events: 2 aggregates over app_open")
    assert any("latest time over app_open  — used by active_7d, lapsed" in line for line in plan), plan
    assert any("count over app_open in the last days 7  — used by frequent" in line for line in plan), plan
    assert "\n".join(plan) in result.out


def test_run_dry_run_prints_the_plan_and_run_results_carry_it(tmp_path: Path) -> None:
    root = _project(tmp_path)
    result = run_cli("--project-dir", str(root), "run", "--dry-run", "--as-of", AS_OF)
    assert result.code == 0, result.output
    assert "plan:" in result.out and "scan events: 2 aggregates" in result.out
    results = json.loads((root / "target" / "run_results.json").read_text())
    assert results["plan"][0].startswith("scan events: 2 aggregates")


def test_dialect_choices_come_from_the_registry(tmp_path: Path) -> None:
    root = _project(tmp_path)
    wrong = run_cli("--project-dir", str(root), "compile", "--dialect", "snowflak")
    assert wrong.code == 2 and "snowflake" in wrong.output and "Traceback" not in wrong.output
    every = run_cli("--project-dir", str(root), "compile", "--as-of", AS_OF)
    assert every.code == 0, every.output
    assert sorted(p.name for p in (root / "target" / "compiled").iterdir() if p.is_dir()) == sorted(COMPILE_DIALECTS)
