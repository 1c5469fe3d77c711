"""SPEC 8.4 under fault injection: a run that changes consent, SIGKILLed before any of its
statements, leaves all-before or all-after, and the next run converges, emitting every
consent change exactly once (DuckDB; see test_kill.py)."""

from __future__ import annotations

import shutil
import signal
from pathlib import Path

import duckdb

from tests.conftest import run_cli, write_project
from tests.run.test_consent import FILES, SEGMENTS
from tests.run.test_kill import AS_OF_1, AS_OF_2, killed_run, snapshot

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

    counting = killed_run(root, 10**9)
    assert counting.returncode == 0, counting.stderr
    statements = int(counting.stdout.split("STATEMENTS")[-1])
    after = snapshot(db)
    assert {c for _, _, _, c in after["changes"]} >= {"consent_given", "consent_withdrawn", "entered", "exited"}

    for kill_at in range(1, statements + 1):
        shutil.copy(pristine, db)
        killed = killed_run(root, kill_at)
        assert killed.returncode == -signal.SIGKILL, (kill_at, killed.stderr)
        state = snapshot(db)
        assert state in (before, after), f"killed before statement {kill_at}: a mix of before and after"
        assert run_cli("--project-dir", str(root), "run", "--as-of", AS_OF_2).code == 0
        final = snapshot(db)
        if state == before:
            assert final == after, f"killed before statement {kill_at}: the next run did not converge"
        else:
            assert final["changes"] == after["changes"] and final["cdi"] == after["cdi"], "consent changes are emitted exactly once"
