"""Fault injection: a run SIGKILLed before any of its statements leaves all-before or all-after,
and the next run converges, emitting every change exactly once (SPEC 5.2, DuckDB)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from tests.conftest import run_cli, write_project
from tests.kill_harness import assert_kills_converge, counted_run, snapshot
from tests.run.test_activation import FILES

AS_OF_1, AS_OF_2 = "2026-06-01T00:00:00Z", "2026-06-02T00:00:00Z"


def test_sigkill_at_every_statement_leaves_before_or_after_and_next_run_converges(tmp_path: Path) -> None:
    db = tmp_path / "p" / "kill.duckdb"
    root = write_project(tmp_path / "p", FILES, duckdb_path=str(db))
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE users AS SELECT * FROM (VALUES ('u1', 'KR', 30.0), ('u2', 'KR', 10.0), ('u3', 'JP', 40.0)) t(external_id, country, age)")
    con.close()
    assert run_cli("--project-dir", str(root), "run", "--as-of", AS_OF_1).code == 0
    con = duckdb.connect(str(db))
    con.execute("CREATE OR REPLACE TABLE users AS SELECT * FROM (VALUES ('u1', 'JP', 30.0), ('u2', 'KR', 19.0), ('u4', 'KR', 50.0)) t(external_id, country, age)")
    con.close()
    pristine = tmp_path / "before.duckdb"
    shutil.copy(db, pristine)
    before = snapshot(db)

    statements, _ = counted_run(root, AS_OF_2)
    after = snapshot(db)
    assert after != before and after["runs"] == before["runs"] + 1
    assert statements > 10
    assert_kills_converge(root, db, pristine, AS_OF_2, range(1, statements + 1), snapshot, before, after)
