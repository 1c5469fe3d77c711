"""Fault injection: a run SIGKILLed before any of its statements leaves all-before or all-after,
and the next run converges, emitting every change exactly once (SPEC 5.2, DuckDB)."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import duckdb

from tests.conftest import run_cli, write_project
from tests.run.test_activation import FILES

AS_OF_1, AS_OF_2 = "2026-06-01T00:00:00Z", "2026-06-02T00:00:00Z"
KILLER = textwrap.dedent("""
    import atexit, os, signal, sys
    from segsql.engines.duckdb import DuckDBAdapter
    kill_at, count = int(sys.argv[1]), [0]
    original = DuckDBAdapter._execute
    def execute(self, sql):
        count[0] += 1
        if count[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        original(self, sql)
    DuckDBAdapter._execute = execute
    atexit.register(lambda: print("STATEMENTS", count[0]))
    from segsql.cli.main import main
    main(["--project-dir", sys.argv[2], "run", "--as-of", sys.argv[3]])
""")


def snapshot(db: Path) -> dict[str, Any]:
    """Everything a run writes, without run ids and sync times (they differ between runs)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()]
        out: dict[str, Any] = {}
        for t in sorted(tables):
            if t.startswith("seg_"):
                out[t] = sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=str)
        if "cdi_segment_updates" in tables:
            out["cdi"] = sorted(con.execute("SELECT EXTERNAL_ID, PAYLOAD FROM cdi_segment_updates").fetchall())
            out["changes"] = sorted(con.execute("SELECT as_of, segment, external_user_id, change FROM segsql_changes").fetchall(), key=str)
            out["history"] = sorted(con.execute("SELECT segment, as_of, size, entered, exited FROM segsql_history").fetchall(), key=str)
            out["runs"] = con.execute("SELECT COUNT(*) FROM segsql_runs").fetchone()[0]
        return out
    finally:
        con.close()


def killed_run(root: Path, kill_at: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", KILLER, str(kill_at), str(root), AS_OF_2], capture_output=True, text=True, check=False)


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

    counting = killed_run(root, 10**9)
    assert counting.returncode == 0, counting.stderr
    statements = int(counting.stdout.split("STATEMENTS")[-1])
    after = snapshot(db)
    assert after != before and after["runs"] == before["runs"] + 1
    assert statements > 10

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
            assert final["changes"] == after["changes"], "changes are emitted exactly once"
            assert final["cdi"] == after["cdi"]
