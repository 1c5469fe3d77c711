"""SPEC 8.2 through `run`, on every engine: `cohort_<name>` written in the run's one commit,
replaced by the next run, untouched by a failed or dry run, a changed breakdown column."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from segsql.engines.base import Adapter
from segsql.errors import EngineError
from segsql.run.materialize import run_models
from segsql.run.session import Options, open_session
from tests import cohort_harness as H
from tests import reference_cohorts as RC
from tests.conftest import run_cli

AS_OF = "2026-11-03T12:00:00+00:00"
COHORTS = [
    {"name": "monthly", "entry": {"purchase": "any"}, "return": {"purchase": "any"}, "period": "month", "periods": 3, "breakdown": "country"},
    {"name": "weekly", "entry": {"attribute": "signup_at"}, "return": {"event": "a"}, "period": "week", "periods": 4, "audience": "koreans"},
]
TABLES: dict[str, list[dict]] = {
    "main.users": [
        {"external_id": "u1", "country": "KR", "is_vip": True, "signup_at": datetime(2026, 10, 5, 3)},
        {"external_id": "u2", "country": "JP", "is_vip": False, "signup_at": datetime(2026, 10, 20)},
        {"external_id": "u3", "country": None, "is_vip": None, "signup_at": None},
    ],
    "main.events": [
        {"external_id": "u1", "event_name": "a", "occurred_at": datetime(2026, 10, 5, 4)},
        {"external_id": "u1", "event_name": "a", "occurred_at": datetime(2026, 10, 19)},
        {"external_id": "u2", "event_name": "a", "occurred_at": datetime(2026, 10, 21)},
    ],
    "main.purchases": [
        {"external_id": "u1", "purchased_at": datetime(2026, 9, 1, 3), "product_id": "p1", "price": 1.0},
        {"external_id": "u1", "purchased_at": datetime(2026, 10, 2), "product_id": "p1", "price": 1.0},
        {"external_id": "u2", "purchased_at": datetime(2026, 9, 15), "product_id": "p2", "price": 1.0},
        {"external_id": "u3", "purchased_at": datetime(2026, 10, 31, 12), "product_id": "p1", "price": 1.0},
        {"external_id": "u3", "purchased_at": datetime(2026, 11, 1, 12), "product_id": "p1", "price": 1.0},
        {"external_id": "ghost", "purchased_at": datetime(2026, 11, 2), "product_id": "p1", "price": 1.0},
    ],
}
TZ = "America/New_York"


def _session(root: Path, cohorts: list[dict] = COHORTS, as_of: str = AS_OF) -> Any:
    return open_session(Options(H.project(root, cohorts, TZ)), as_of, need_target=False)


def _table(adapter: Adapter, cohort: dict) -> list[dict]:
    columns, rows = adapter.fetch_with_columns(f"SELECT * FROM main.cohort_{cohort['name']}")
    names = [c.lower() for c in columns]
    breakdown = cohort.get("breakdown")
    records = [dict(zip(names, r, strict=True)) for r in rows]
    return sorted((RC.normalise({**r, "breakdown": r.get(breakdown) if breakdown else None}) for r in records), key=RC.key)


def test_run_writes_each_cohort_table_as_the_reference_computes_it(tmp_path: Path, engine: Callable[[], Adapter]) -> None:
    adapter = engine()
    H.load(adapter, TABLES)
    result = run_models(_session(tmp_path / "p"), adapter, ["koreans", "monthly", "weekly"])
    assert result.ok, [m.message for m in result.models]
    want = H.on_reference(COHORTS, TABLES, datetime.fromisoformat(AS_OF), TZ)
    for cohort in COHORTS:
        assert _table(adapter, cohort) == want[cohort["name"]]
    monthly = want["monthly"]
    assert {r["cohort_start"].month for r in monthly} == {8, 9, 10, 11} and any(r["returned"] for r in monthly if r["period"] > 0)
    sizes = {m.name: (m.kind, m.table, m.size) for m in result.models}
    assert sizes["monthly"] == ("cohort", "cohort_monthly", 4) and sizes["weekly"] == ("cohort", "cohort_weekly", 1)
    columns = [c.lower() for c, _ in adapter.column_types(adapter.table("cohort_monthly"))]
    assert columns == ["cohort_start", "country", "period", "cohort_size", "returned", "retention"]


def test_the_next_run_replaces_the_rows_and_a_changed_breakdown_replaces_its_column(tmp_path: Path, engine: Callable[[], Adapter]) -> None:
    adapter = engine()
    H.load(adapter, TABLES)
    assert run_models(_session(tmp_path / "a"), adapter, ["monthly"]).ok
    changed = [{**COHORTS[0], "breakdown": "is_vip", "periods": 1}]
    tables = {**TABLES, "main.purchases": TABLES["main.purchases"][:3]}
    H.load(adapter, tables)
    assert run_models(_session(tmp_path / "b", changed), adapter, ["monthly"]).ok
    assert _table(adapter, changed[0]) == H.on_reference(changed, tables, datetime.fromisoformat(AS_OF), TZ)["monthly"]
    columns = [c.lower() for c, _ in adapter.column_types(adapter.table("cohort_monthly"))]
    assert "country" not in columns and "is_vip" in columns


def test_a_failed_commit_or_a_dry_run_leaves_the_table_as_it_was(tmp_path: Path, engine: Callable[[], Adapter], monkeypatch: pytest.MonkeyPatch) -> None:
    adapter = engine()
    H.load(adapter, TABLES)
    assert run_models(_session(tmp_path / "a"), adapter, ["koreans", "monthly"]).ok
    before = _table(adapter, COHORTS[0])
    H.load(adapter, {**TABLES, "main.purchases": TABLES["main.purchases"][:2]})
    assert run_models(_session(tmp_path / "b"), adapter, ["monthly"], dry_run=True).ok
    assert _table(adapter, COHORTS[0]) == before
    original = type(adapter).execute

    def failing(self: Adapter, statement: object) -> None:
        if self.sql(statement).upper().startswith("INSERT INTO MAIN.SEGSQL_RUNS"):  # type: ignore[arg-type]
            raise EngineError("injected failure at the end of the commit")
        original(self, statement)  # type: ignore[arg-type]

    monkeypatch.setattr(type(adapter), "execute", failing)
    result = run_models(_session(tmp_path / "c"), adapter, ["koreans", "monthly"])
    monkeypatch.undo()
    assert not result.ok
    assert _table(adapter, COHORTS[0]) == before


def test_a_failed_audience_skips_the_cohort(tmp_path: Path, engine: Callable[[], Adapter]) -> None:
    adapter = engine()
    H.load(adapter, TABLES)
    root = H.project(tmp_path / "p", COHORTS, TZ)
    segments = root / "models" / "cohorts.yml"
    segments.write_text(segments.read_text().replace("name: koreans", "name: koreans\n  guards: {min_size: 5}"))
    result = run_models(open_session(Options(root), AS_OF, need_target=False), adapter, ["koreans", "weekly"])
    statuses = {m.name: (m.status, m.message) for m in result.models}
    assert statuses["koreans"][0] == "error" and statuses["weekly"] == ("skipped", "skipped: depends on koreans, which failed")
    assert not adapter.table_exists("cohort_weekly")


def test_segsql_run_selects_cohorts_and_lists_them_in_run_results(tmp_path: Path) -> None:
    from segsql.engines.duckdb import DuckDBAdapter

    root = H.project(tmp_path / "p", COHORTS, TZ)
    (root / "profiles.yml").write_text(f"segsql:\n  target: dev\n  outputs:\n    dev: {{type: duckdb, path: '{root / 'db.duckdb'}', schema: main}}\n")
    adapter = DuckDBAdapter(str(root / "db.duckdb"), "main")
    H.load(adapter, TABLES)
    adapter.close()
    done = run_cli("--project-dir", str(root), "run", "--as-of", AS_OF, "--select", "+weekly")
    assert done.code == 0, done.output
    results = json.loads((root / "target" / "run_results.json").read_text())["results"]
    assert [(r["name"], r["kind"], r["table"], r["size"]) for r in results] == [("koreans", "segment", "seg_koreans", 1), ("weekly", "cohort", "cohort_weekly", 1)]
    manifest = json.loads((root / "target" / "manifest.json").read_text())
    assert manifest["cohorts"]["monthly"]["table"] == "cohort_monthly"
    # its rendered definition rebuilds each cohort as the project has it (what `diff --state` reads)
    from segsql.reports.previous import previous_definitions
    from segsql.run.manifest import read_state

    state = read_state(root / "target")
    assert state is not None and all("definition" in e for e in state.cohorts.values())
    current = open_session(Options(root), AS_OF).definitions
    rebuilt = previous_definitions(state, current)
    assert rebuilt.cohorts == current.cohorts and sorted(rebuilt.cohorts) == sorted(manifest["cohorts"])
