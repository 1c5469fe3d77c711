"""SPEC 8.4 under fault injection: a run that changes consent, SIGKILLed before any of its
statements, leaves all-before or all-after, and the next run converges, emitting every
consent change exactly once (DuckDB; see test_kill.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from tests.conftest import run_cli, write_project
from tests.kill_harness import assert_kills_converge, counted_run, snapshot
from tests.run.test_consent import FILES, SEGMENTS
from tests.run.test_kill import AS_OF_1, AS_OF_2

GATED = {**FILES, "models/segments.yml": SEGMENTS.split("  - name: koreans")[0]}
BEFORE = "('u1', 'KR', FALSE, 't'), ('u2', 'KR', TRUE, 't'), ('u3', 'JP', TRUE, 't'), ('u5', 'KR', TRUE, 't')"
AFTER = "('u1', 'KR', TRUE, 't'), ('u2', 'KR', FALSE, 't'), ('u4', 'KR', TRUE, 't'), ('u5', 'KR', TRUE, NULL)"


def _users(db: Path, values: str) -> None:
    con = duckdb.connect(str(db))
    con.execute(f"CREATE OR REPLACE TABLE users AS SELECT * FROM (VALUES {values}) t(external_id, country, email_opt_in, push_token)")
    con.close()


def test_sigkill_during_a_consent_change_leaves_before_or_after_and_converges(tmp_path: Path) -> None:
    db = tmp_path / "p" / "kill.duckdb"
    root = write_project(tmp_path / "p", GATED, duckdb_path=str(db))
    _users(db, BEFORE)
    assert run_cli("--project-dir", str(root), "run", "--as-of", AS_OF_1).code == 0
    _users(db, AFTER)
    pristine = tmp_path / "before.duckdb"
    shutil.copy(db, pristine)
    before = snapshot(db)

    statements, _ = counted_run(root, AS_OF_2)
    after = snapshot(db)
    assert {c for _, _, _, c in after["changes"]} >= {"consent_given", "consent_withdrawn", "entered", "exited"}
    assert_kills_converge(root, db, pristine, AS_OF_2, range(1, statements + 1), snapshot, before, after)
