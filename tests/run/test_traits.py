"""SPEC 8.3 on every engine: trait tables joined by id, checked like sources, and max_age as a guard."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from segsql.engines.base import Adapter
from segsql.errors import ProjectError, RunFailure
from segsql.run.materialize import RunResult, run_models
from segsql.run.session import Options, open_session
from tests.conftest import run_cli, write_project

SOURCES = """\
users:
  table: main.users
  id: external_id
  attributes: {country: string}
traits:
  churn:
    table: main.churn_scores
    id: user_id
    attributes: {score: number, band: string, vip: boolean}
    updated_at: scored_at
    max_age: {hours: 48}
  crm:
    table: main.crm
    id: external_id
    attributes: {plan: string}
    updated_at: synced_at
    max_age: {hours: 24}
"""
SEGMENTS = """\
segments:
  - name: at_risk
    where: {attribute: churn.score, gte: 0.7}
  - name: unscored
    where: {attribute: churn.score, exists: false}
  - name: korean_at_risk
    where: [{segment: at_risk}, {attribute: country, equals: KR}]
  - name: risky_inline
    materialized: ephemeral
    where: {attribute: churn.band, equals: high}
  - name: via_ephemeral
    where: {any: [{segment: risky_inline}, {attribute: country, equals: JP}]}
  - name: pros
    where: {attribute: crm.plan, equals: pro}
  - name: koreans
    where: {attribute: country, equals: KR}
"""
USERS = [("u1", "KR"), ("u2", "KR"), ("u3", "JP"), ("u4", None)]
SCORED = dt.datetime(2026, 6, 1, 0, 0)


def _project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "p", {"models/sources.yml": SOURCES, "models/segments.yml": SEGMENTS})


def _load(adapter: Adapter, churn: list[tuple[str | None, float | None, str | None, bool | None, dt.datetime | None]], crm_at: dt.datetime = SCORED) -> None:
    adapter.load_rows("users", [("external_id", "VARCHAR"), ("country", "VARCHAR")], USERS)
    adapter.load_rows("churn_scores", [("user_id", "VARCHAR"), ("score", "DOUBLE"), ("band", "VARCHAR"), ("vip", "BOOLEAN"), ("scored_at", "TIMESTAMP")], churn)
    adapter.load_rows("crm", [("external_id", "VARCHAR"), ("plan", "VARCHAR"), ("synced_at", "TIMESTAMP")], [("u3", "pro", crm_at)])


def _run(root: Path, adapter: Adapter, as_of: str) -> RunResult:
    session = open_session(Options(root), as_of, need_target=False)
    return run_models(session, adapter, sorted(session.definitions.segments))


def _members(adapter: Adapter, name: str) -> set[str]:
    return {str(r[0]) for r in adapter.fetch(f"SELECT external_user_id FROM main.seg_{name}")}


CHURN = [("u1", 0.9, "high", True, SCORED), ("u2", 0.2, "low", False, SCORED), ("u3", 0.75, "high", None, SCORED), ("nobody", 0.99, "high", True, SCORED)]


def test_trait_attributes_select_members_and_a_user_without_a_row_has_them_missing(tmp_path: Path, engine: Callable[[], Adapter]) -> None:
    adapter = engine()
    _load(adapter, CHURN)
    result = _run(_project(tmp_path), adapter, "2026-06-01T12:00:00Z")
    assert result.ok, [(m.name, m.message) for m in result.models]
    assert _members(adapter, "at_risk") == {"u1", "u3"}, "a trait row never adds a user (nobody)"
    assert _members(adapter, "unscored") == {"u4"}
    assert _members(adapter, "korean_at_risk") == {"u1"}
    assert _members(adapter, "via_ephemeral") == {"u1", "u3"}
    assert _members(adapter, "pros") == {"u3"}


def test_a_stale_table_fails_exactly_the_segments_that_use_it(tmp_path: Path, engine: Callable[[], Adapter]) -> None:
    adapter = engine()
    root = _project(tmp_path)
    _load(adapter, CHURN, crm_at=dt.datetime(2026, 6, 3, 12))
    assert _run(root, adapter, "2026-06-02T00:00:00Z").ok
    before = {name: _members(adapter, name) for name in ("at_risk", "unscored", "korean_at_risk", "via_ephemeral")}
    cdi_before = {str(r[0]): json.loads(r[1]) for r in adapter.fetch("SELECT EXTERNAL_ID, PAYLOAD FROM main.cdi_segment_updates")}

    # churn scored 2026-06-01 00:00 with max_age 48 h: stale after 2026-06-03 00:00; crm is fresh
    _load(adapter, [("u1", 0.1, "low", True, SCORED), ("u2", 0.95, "high", False, SCORED), ("u4", 0.8, "high", None, SCORED)], crm_at=dt.datetime(2026, 6, 3, 12))
    adapter.load_rows("users", [("external_id", "VARCHAR"), ("country", "VARCHAR")], [*USERS, ("u5", "KR")])
    result = _run(root, adapter, "2026-06-03T00:00:01Z")
    status = {m.name: m.status for m in result.models}
    assert {n for n, s in status.items() if s != "success"} == {"at_risk", "unscored", "korean_at_risk", "via_ephemeral"}
    message = next(m.message for m in result.models if m.name == "at_risk")
    assert "guard max_age (models/sources.yml:11)" in message and "main.churn_scores" in message
    assert "2026-06-01 00:00:00" in message and "48 h" in message
    assert {name: _members(adapter, name) for name in before} == before, "the failed segments' tables are kept"
    assert _members(adapter, "koreans") == {"u1", "u2", "u5"} and _members(adapter, "pros") == {"u3"}, "the others commit"
    cdi_after = {str(r[0]): json.loads(r[1]) for r in adapter.fetch("SELECT EXTERNAL_ID, PAYLOAD FROM main.cdi_segment_updates")}
    kept = {"at_risk", "unscored", "korean_at_risk", "via_ephemeral"}
    assert {u: {k: v for k, v in p.items() if k in kept} for u, p in cdi_after.items() if u in cdi_before} == {u: {k: v for k, v in p.items() if k in kept} for u, p in cdi_before.items()}
    assert cdi_after["u5"] == {"koreans": True}, "the failed segments' keys are not written for anyone"

    # exactly at the limit is fresh: as_of − newest = 48 h is not more than max_age
    assert _run(root, adapter, "2026-06-03T00:00:00Z").ok


def test_an_empty_trait_table_with_max_age_is_stale(tmp_path: Path, engine: Callable[[], Adapter]) -> None:
    adapter = engine()
    _load(adapter, [])
    result = _run(_project(tmp_path), adapter, "2026-06-01T12:00:00Z")
    failed = {m.name for m in result.models if m.status != "success"}
    assert failed == {"at_risk", "unscored", "korean_at_risk", "via_ephemeral"}
    assert "no row with an updated_at" in next(m.message for m in result.models if m.name == "unscored")


def test_a_duplicated_trait_id_fails_the_run_before_anything_is_written(tmp_path: Path, engine: Callable[[], Adapter]) -> None:
    adapter = engine()
    _load(adapter, [*CHURN, ("u1", 0.3, "low", None, SCORED)])
    with pytest.raises(RunFailure, match=r"trait table churn \(main.churn_scores\) has 2 rows for id 'u1'"):
        _run(_project(tmp_path), adapter, "2026-06-01T12:00:00Z")
    assert not adapter.table_exists("seg_at_risk")


def test_a_wrong_trait_column_is_exit_2_at_its_line(tmp_path: Path, engine: Callable[[], Adapter]) -> None:
    adapter = engine()
    _load(adapter, CHURN)
    root = write_project(tmp_path / "p", {"models/sources.yml": SOURCES.replace("updated_at: scored_at", "updated_at: score_at"), "models/segments.yml": SEGMENTS})
    with pytest.raises(ProjectError) as wrong:
        _run(root, adapter, "2026-06-01T12:00:00Z")
    assert str(wrong.value.location) == "models/sources.yml:10"
    assert "trait churn" in wrong.value.message and "did you mean 'scored_at'" in (wrong.value.hint or "").lower()


def test_the_cli_exits_1_on_a_stale_trait_table(tmp_path: Path) -> None:
    import duckdb

    db = tmp_path / "p" / "t.duckdb"
    root = write_project(tmp_path / "p", {"models/sources.yml": SOURCES, "models/segments.yml": SEGMENTS}, duckdb_path=str(db))
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE users AS SELECT 'u1' AS external_id, 'KR' AS country")
    con.execute("CREATE TABLE churn_scores AS SELECT 'u1' AS user_id, 0.9 AS score, 'high' AS band, TRUE AS vip, TIMESTAMP '2026-06-01 00:00:00' AS scored_at")
    con.execute("CREATE TABLE crm AS SELECT 'u1' AS external_id, 'pro' AS plan, TIMESTAMP '2026-06-09 00:00:00' AS synced_at")
    con.close()
    result = run_cli("--project-dir", str(root), "run", "--as-of", "2026-06-09T00:00:00Z")
    assert result.code == 1, result.output
    assert "guard max_age" in result.output and "Traceback" not in result.output
