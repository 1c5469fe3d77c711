"""SPEC 5.1 and the run path, on every engine: membership tables, entered_at, atomic replace."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from segsql.engines.base import Adapter
from segsql.errors import EngineError, RunFailure
from segsql.run.materialize import run_models
from segsql.run.session import Options, open_session
from tests.conftest import write_project

USERS_COLUMNS = [("external_id", "VARCHAR"), ("country", "VARCHAR"), ("age", "DOUBLE")]
EVENTS_COLUMNS = [("external_id", "VARCHAR"), ("event_name", "VARCHAR"), ("occurred_at", "TIMESTAMP")]
FILES = {
    "models/sources.yml": """
        users:
          table: main.users
          id: external_id
          attributes: {country: string, age: number}
        events:
          table: main.events
          user: external_id
          name: event_name
          time: occurred_at
    """,
    "models/segments.yml": """
        segments:
          - name: koreans
            where: {attribute: country, equals: KR}
          - name: not_korean
            where: {attribute: country, not_equals: KR}
          - name: adults_helper
            materialized: ephemeral
            where: {attribute: age, gte: 18}
          - name: korean_adults
            where:
              - segment: koreans
              - segment: adults_helper
    """,
}


def _session(tmp_path: Path, as_of: str):
    return open_session(Options(write_project(tmp_path / "p", FILES)), as_of, need_target=False)


def _members(adapter: Adapter, table: str) -> dict[str, dt.datetime]:
    return {str(r[0]): r[1] for r in adapter.fetch(f"SELECT external_user_id, entered_at FROM main.{table}")}


def _load(adapter: Adapter, users: list[tuple], events: list[tuple] = ()) -> None:
    adapter.load_rows("users", USERS_COLUMNS, users)
    adapter.load_rows("events", EVENTS_COLUMNS, list(events))


def test_membership_tables_hold_members_and_universe(tmp_path: Path, engine: Callable[[], Adapter]) -> None:
    adapter = engine()
    _load(adapter, [("u1", "KR", 30.0), ("u2", "JP", 10.0), ("u3", None, None)],
          [("u4", "app_open", dt.datetime(2026, 1, 1)), ("u5", "app_open", dt.datetime(2027, 1, 1))])
    session = _session(tmp_path, "2026-06-01T00:00:00Z")
    result = run_models(session, adapter, sorted(session.definitions.segments))
    assert result.ok, result.models
    assert set(_members(adapter, "seg_koreans")) == {"u1"}
    # u3 has a NULL country and u4 is only in events: both are users, so not_equals holds; u5's event is after as_of.
    assert set(_members(adapter, "seg_not_korean")) == {"u2", "u3", "u4"}
    assert set(_members(adapter, "seg_korean_adults")) == {"u1"}
    assert not adapter.table_exists("seg_adults_helper"), "ephemeral segments have no table"
    assert {s.name for s in result.models} == {"koreans", "not_korean", "korean_adults"}


def test_entered_at_is_kept_while_a_user_stays(tmp_path: Path, engine: Callable[[], Adapter]) -> None:
    adapter = engine()
    _load(adapter, [("u1", "KR", 30.0), ("u2", "KR", 30.0)])
    first = _session(tmp_path, "2026-06-01T00:00:00Z")
    run_models(first, adapter, ["koreans"])
    _load(adapter, [("u1", "KR", 30.0), ("u2", "JP", 30.0), ("u3", "KR", 30.0)])
    second = open_session(Options(tmp_path / "p"), "2026-06-02T00:00:00Z", need_target=False)
    result = run_models(second, adapter, ["koreans"])
    assert (result.models[0].size, result.models[0].entered, result.models[0].exited) == (2, 1, 1)
    members = _members(adapter, "seg_koreans")
    assert members == {"u1": dt.datetime(2026, 6, 1), "u3": dt.datetime(2026, 6, 2)}
    _load(adapter, [("u1", "KR", 30.0), ("u2", "KR", 30.0), ("u3", "KR", 30.0)])
    third = open_session(Options(tmp_path / "p"), "2026-06-03T00:00:00Z", need_target=False)
    run_models(third, adapter, ["koreans"])
    assert _members(adapter, "seg_koreans")["u2"] == dt.datetime(2026, 6, 3), "re-entering starts a new membership"


def test_duplicate_user_ids_fail_before_anything_is_written(tmp_path: Path, engine: Callable[[], Adapter]) -> None:
    adapter = engine()
    _load(adapter, [("u1", "KR", 30.0), ("u1", "JP", 31.0)])
    session = _session(tmp_path, "2026-06-01T00:00:00Z")
    with pytest.raises(RunFailure, match=r"main\.users .*'u1'"):
        run_models(session, adapter, ["koreans"])
    assert not adapter.table_exists("seg_koreans")


def test_failure_inside_the_commit_leaves_every_table_as_before(tmp_path: Path, engine: Callable[[], Adapter], monkeypatch: pytest.MonkeyPatch) -> None:
    adapter = engine()
    _load(adapter, [("u1", "KR", 30.0), ("u2", "JP", 30.0)])
    session = _session(tmp_path, "2026-06-01T00:00:00Z")
    run_models(session, adapter, ["koreans", "not_korean"])
    before = {t: _members(adapter, t) for t in ("seg_koreans", "seg_not_korean")}
    _load(adapter, [("u1", "JP", 30.0), ("u2", "KR", 30.0)])

    calls = {"inserts": 0}
    original = type(adapter).execute

    def failing_execute(self: Adapter, statement: object) -> None:
        sql = self.sql(statement)  # type: ignore[arg-type]
        if sql.upper().startswith("INSERT INTO MAIN.SEG_"):
            calls["inserts"] += 1
            if calls["inserts"] == 2:
                raise EngineError("injected failure in the middle of the commit")
        original(self, statement)  # type: ignore[arg-type]

    monkeypatch.setattr(type(adapter), "execute", failing_execute)
    later = open_session(Options(tmp_path / "p"), "2026-06-02T00:00:00Z", need_target=False)
    result = run_models(later, adapter, ["koreans", "not_korean"])
    monkeypatch.undo()
    assert not result.ok, calls
    assert calls["inserts"] == 2
    assert {t: _members(adapter, t) for t in before} == before
    assert not [r for r in adapter.fetch("SELECT table_name FROM information_schema.tables") if str(r[0]).lower().startswith("__segsql_")], "scratch tables are dropped"


def test_dry_run_writes_nothing(tmp_path: Path, engine: Callable[[], Adapter]) -> None:
    adapter = engine()
    _load(adapter, [("u1", "KR", 30.0)])
    session = _session(tmp_path, "2026-06-01T00:00:00Z")
    result = run_models(session, adapter, ["koreans"], dry_run=True)
    assert result.models[0].size == 1
    assert not adapter.table_exists("seg_koreans")
