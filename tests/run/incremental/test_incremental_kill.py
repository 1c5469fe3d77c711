"""Fault injection (SPEC 9): an incremental run SIGKILLed before one of its statements leaves
every table as before or as after, and the next run — incremental against the last committed
run — converges to what the uninterrupted run wrote, emitting each change once (DuckDB)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from segsql.engines.duckdb import DuckDBAdapter
from tests import incremental_harness as H
from tests.conftest import run_cli, write_project
from tests.kill_harness import assert_kills_converge, counted_run, snapshot
from tests.run.test_kill import AS_OF_1, AS_OF_2

NOW = dt.datetime(2026, 5, 31, 20)


def test_sigkill_of_an_incremental_run_leaves_before_or_after_and_the_next_run_converges(tmp_path: Path) -> None:
    db = tmp_path / "p" / "kill.duckdb"
    root = write_project(tmp_path / "p", {"models/sources.yml": H.SOURCES, "models/segments.yml": H.SEGMENTS}, duckdb_path=str(db))
    adapter = DuckDBAdapter(str(db), "main")
    H.load(adapter, {
        "users": [("u1", "KR", 30.0, NOW), ("u2", "JP", 20.0, NOW - dt.timedelta(days=4)), ("u3", "KR", 40.0, None)],
        "events": [("u1", "open", NOW - dt.timedelta(days=2), '{"k": 2}'), ("u3", "view", NOW, None), ("u2", "open", NOW - dt.timedelta(days=6), '{"k": 1}')],
        "purchases": [("u1", NOW - dt.timedelta(days=1), "p1", 35.0)],
        "products": [("p1", "shoes"), ("p2", "hats")],
    })
    adapter.close()
    assert run_cli("--project-dir", str(root), "run", "--as-of", AS_OF_1).code == 0
    adapter = DuckDBAdapter(str(db), "main")
    H.append(adapter, "events", [("u3", "open", NOW - dt.timedelta(days=3), '{"k": 2}'), ("u4", "open", NOW + dt.timedelta(hours=2), None)])
    adapter.execute("DELETE FROM main.purchases WHERE external_id = 'u1'")
    adapter.execute("UPDATE main.users SET country = 'JP' WHERE external_id = 'u1'")
    adapter.close()
    pristine = tmp_path / "before.duckdb"
    shutil.copy(db, pristine)
    before = snapshot(db)

    statements, output = counted_run(root, AS_OF_2)
    assert "incremental" in output, "the run being killed is an incremental one"
    after = snapshot(db)
    assert after != before and after["runs"] == before["runs"] + 1

    points = sorted({*range(1, statements + 1, max(1, statements // 10)), *range(max(1, statements - 12), statements + 1)})
    assert_kills_converge(root, db, pristine, AS_OF_2, points, snapshot, before, after)
