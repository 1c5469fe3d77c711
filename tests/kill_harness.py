"""SIGKILL fault injection shared by the kill tests: the real CLI's `run`, killed just before its
N-th statement to the engine, on a fresh copy of the database as it was before that run."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import duckdb

from tests.conftest import run_cli

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
#: kill_at beyond any run's statements: the run goes through and reports how many it sent
NEVER = 10**9


def killed_run(root: Path, kill_at: int, as_of: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", KILLER, str(kill_at), str(root), as_of], capture_output=True, text=True, check=False)


def counted_run(root: Path, as_of: str) -> tuple[int, str]:
    """Run to the end; the number of statements it sent and its output."""
    done = killed_run(root, NEVER, as_of)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split("STATEMENTS")[-1]), done.stdout


def kill_before(root: Path, db: Path, pristine: Path, kill_at: int, as_of: str) -> None:
    """Restore the database from `pristine`, then run and kill before statement `kill_at`."""
    shutil.copy(pristine, db)
    db.with_name(db.name + ".wal").unlink(missing_ok=True)  # a killed run's log must not replay onto the copy
    killed = killed_run(root, kill_at, as_of)
    assert killed.returncode == -signal.SIGKILL, (kill_at, killed.stderr)


def assert_kills_converge(root: Path, db: Path, pristine: Path, as_of: str, points: Iterable[int], snapshot: Callable[[Path], dict[str, Any]], before: dict[str, Any], after: dict[str, Any]) -> None:
    """Killed before each of `points`: every table as before or as after, and the next run
    converges to `after`, emitting each change (and CDI row) exactly once."""
    for kill_at in points:
        kill_before(root, db, pristine, kill_at, as_of)
        state = snapshot(db)
        assert state in (before, after), f"killed before statement {kill_at}: a mix of before and after"
        assert run_cli("--project-dir", str(root), "run", "--as-of", as_of).code == 0
        final = snapshot(db)
        if state == before:
            assert final == after, f"killed before statement {kill_at}: the next run did not converge"
        else:
            assert final["changes"] == after["changes"] and final["cdi"] == after["cdi"], "changes are emitted exactly once"


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
