"""Fault injection for funnels: a run SIGKILLed before any of its statements leaves the funnel's
step table, users and trends (and the segment reading it) all as before or all as after, and
the next run converges (SPEC 5: one all-or-nothing commit; DuckDB)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import duckdb

from tests import funnel_harness as H
from tests.conftest import run_cli, write_project
from tests.kill_harness import counted_run, kill_before
from tests.run.test_funnel_run import AS_OF, CHANGED, FUNNELS, SEGMENTS, TABLES

FUNNEL_TABLES = ("funnel_buy", "funnel_buy_users", "funnel_buy_trends", "seg_carted_not_bought")


def _load(db: Path, tables: dict[str, list[dict]]) -> None:
    from segsql.engines.duckdb import DuckDBAdapter

    with DuckDBAdapter(str(db), "main") as adapter:
        H.load(adapter, tables)


def snapshot(db: Path) -> dict[str, Any]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        out: dict[str, Any] = {t: sorted(con.execute(f"SELECT * FROM main.{t}").fetchall(), key=str) for t in FUNNEL_TABLES}
        out["runs"] = con.execute("SELECT COUNT(*) FROM main.segsql_runs").fetchone()
        return out
    finally:
        con.close()


def test_sigkill_at_every_statement_leaves_the_funnel_tables_before_or_after(tmp_path: Path) -> None:
    db = tmp_path / "p" / "kill.duckdb"
    root = write_project(tmp_path / "p", {"models/sources.yml": H.dump(H.SOURCES), "models/funnels.yml": H.dump({"funnels": FUNNELS, "segments": SEGMENTS[:1]})}, duckdb_path=str(db))
    _load(db, TABLES)
    assert run_cli("--project-dir", str(root), "run", "--as-of", AS_OF.isoformat()).code == 0
    _load(db, CHANGED)
    pristine = tmp_path / "before.duckdb"
    shutil.copy(db, pristine)
    before = snapshot(db)

    statements, _ = counted_run(root, AS_OF.isoformat())
    after = snapshot(db)
    assert all(after[t] != before[t] for t in FUNNEL_TABLES), "every table changes, so 'before or after' is a real check"
    assert statements > 10

    for kill_at in range(1, statements + 1):
        kill_before(root, db, pristine, kill_at, AS_OF.isoformat())
        state = snapshot(db)
        assert state in (before, after), f"killed before statement {kill_at}: a mix of before and after"
        if state == before:
            assert run_cli("--project-dir", str(root), "run", "--as-of", AS_OF.isoformat()).code == 0
            final = snapshot(db)
            assert {t: final[t] for t in FUNNEL_TABLES} == {t: after[t] for t in FUNNEL_TABLES}, f"killed before statement {kill_at}: the next run did not converge"
