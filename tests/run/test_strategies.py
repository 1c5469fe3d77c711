"""The run's strategy protocol: a lost connection stops the run, a rejected statement is isolated."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from segsql.engines.duckdb import DuckDBAdapter
from segsql.errors import ConnectionFailure, StatementFailure
from segsql.run.materialize import run_models
from segsql.run.session import Options, open_session
from tests.conftest import write_project

FILES = {
    "models/sources.yml": "users: {table: main.users, id: external_id, attributes: {country: string}}\n",
    "models/s.yml": "segments:\n  - name: a\n    where: {attribute: country, equals: KR}\n  - name: b\n    where: {attribute: country, equals: JP}\n",
}


class FailingStage(DuckDBAdapter):
    """Fails every CREATE of a staging table with the given error, counting the attempts."""

    def __init__(self, path: str, error: type[Exception]):
        super().__init__(path, "main")
        self.error = error
        self.stage_attempts = 0

    def _execute(self, sql: str) -> None:
        if sql.startswith("CREATE TEMPORARY TABLE __segsql_stage"):
            self.stage_attempts += 1
            raise self.error("engine says no")
        super()._execute(sql)


def _run(tmp_path: Path, error: type[Exception]) -> tuple[FailingStage, list[tuple[str, str, str]]]:
    adapter = FailingStage(str(tmp_path / "e.duckdb"), error)
    adapter.load_rows("users", [("external_id", "VARCHAR"), ("country", "VARCHAR")], [("u1", "KR"), ("u2", "JP")])
    session = open_session(Options(write_project(tmp_path / "p", FILES)), "2026-06-01T00:00:00Z", need_target=False)
    result = run_models(session, adapter, ["a", "b"])
    return adapter, [(m.name, m.status, m.message) for m in result.models]


def test_a_lost_connection_is_not_retried_model_by_model(tmp_path: Path) -> None:
    adapter, results = _run(tmp_path, ConnectionFailure)
    assert adapter.stage_attempts == 1, "one fused attempt, no per-segment retries on a dead connection"
    assert [(n, s) for n, s, _ in results] == [("a", "error"), ("b", "error")]
    assert not adapter.table_exists("seg_a")
    assert adapter.fetch("SELECT COUNT(*) FROM main.segsql_runs") == [(0,)], "nothing committed"


def test_a_rejected_statement_is_isolated_segment_by_segment(tmp_path: Path) -> None:
    adapter, results = _run(tmp_path, StatementFailure)
    assert adapter.stage_attempts == 3, "the fused query, then one query per segment"
    assert all(status == "error" and "models/s.yml" in message for _, status, message in results)


def test_the_run_table_reports_shared_steps_once(tmp_path: Path) -> None:
    adapter = DuckDBAdapter(str(tmp_path / "e.duckdb"), "main")
    adapter.load_rows("users", [("external_id", "VARCHAR"), ("country", "VARCHAR")], [("u1", "KR")])
    session = open_session(Options(write_project(tmp_path / "p", FILES)), "2026-06-01T00:00:00Z", need_target=False)
    result = run_models(session, adapter, ["a", "b"])
    assert result.ok
    assert set(result.timings) == {"fingerprints", "segments query", "diff", "commit"}
    assert result.models[0].seconds == result.models[1].seconds > 0, "one fused query: one time"
    plan = result.as_dict()["plan"]
    assert plan[-2].startswith("universe:")
    assert plan[-1] == "strategy: fused — 1 query (no segment is anchored on rows of its own)"


EVENTS = {
    "models/sources.yml": "users: {table: main.users, id: external_id, attributes: {country: string}}\n"
    "events: {table: main.events, user: external_id, name: event_name, time: occurred_at}\n",
    "models/s.yml": "segments:\n  - name: a\n    where: {event: open, count: {gte: 2}}\n  - name: b\n    where: {event: buy, within: {last_days: 7}}\n"
    "  - name: c\n    where: {not: {event: buy}}\n",
}


class CountingStage(DuckDBAdapter):
    def __init__(self, path: str):
        super().__init__(path, "main")
        self.stages: list[str] = []

    def _execute(self, sql: str) -> None:
        if sql.startswith("CREATE TEMPORARY TABLE __segsql_stage"):
            self.stages.append(sql.split()[3])
        super()._execute(sql)


def _events_run(tmp_path: Path, strategy: str) -> tuple[CountingStage, Any]:
    adapter = CountingStage(str(tmp_path / f"{strategy}.duckdb"))
    adapter.load_rows("users", [("external_id", "VARCHAR"), ("country", "VARCHAR")], [("u1", "KR"), ("u2", "JP"), ("u3", "US")])
    rows = [("u1", "open", "2026-05-01"), ("u1", "open", "2026-05-02"), ("u2", "open", "2026-05-30"), ("u2", "buy", "2026-05-30"), ("u3", "buy", "2026-01-01")]
    adapter.load_rows("events", [("external_id", "VARCHAR"), ("event_name", "VARCHAR"), ("occurred_at", "TIMESTAMP")], rows)
    files = {**EVENTS, "segsql_project.yml": f"name: p\nplanner: {{strategy: {strategy}}}\n"}
    session = open_session(Options(write_project(tmp_path / strategy, files)), "2026-06-01T00:00:00Z", need_target=False)
    return adapter, run_models(session, adapter, ["a", "b", "c"])


@pytest.mark.parametrize(("strategy", "stages"), [("auto", None), ("fused", 1), ("per_name", 3), ("split", 3)])
def test_each_group_of_segments_is_staged_by_its_own_query(tmp_path: Path, strategy: str, stages: int | None) -> None:
    adapter, result = _events_run(tmp_path, strategy)
    assert result.ok
    assert {m.name: m.size for m in result.models} == {"a": 1, "b": 1, "c": 1}
    plan = result.plan.describe()
    assert ("row counts" in result.timings) == (strategy == "auto"), "only auto measures row counts"
    choice = next(line for line in plan if line.startswith("strategy: "))
    if stages is None:  # auto: whatever it chose, with every estimate
        assert any(line.startswith("estimates: fused ") for line in plan)
        stages = len(result.plan.choice.groups)
    assert len(adapter.stages) == stages and choice.startswith(f"strategy: {strategy if strategy != 'auto' else result.plan.choice.strategy} — {stages} quer")
