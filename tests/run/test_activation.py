"""SPEC 5.2–5.4 and splits, on every engine: CDI rows, change log, history, guards, splits."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from segsql.engines.base import Adapter
from segsql.run.cdi import MAX_KEYS, build_rows, chunk, stamps
from segsql.run.materialize import RunResult, run_models
from segsql.run.session import Options, open_session
from segsql.run.strategies import segments as segment_strategy
from tests.conftest import write_project

FILES = {
    "models/sources.yml": "users: {table: main.users, id: external_id, attributes: {country: string, age: number}}\n",
    "models/segments.yml": """
segments:
  - name: koreans
    where: {attribute: country, equals: KR}
    guards: {max_size: 1000}
  - name: adults
    cdi_attribute: is_adult
    where: {attribute: age, gte: 18}
  - name: korean_adults
    where: [{segment: koreans}, {segment: adults}]
  - name: quiet
    cdi: false
    where: {attribute: country, equals: JP}
  - name: test_cells
    where: {attribute: age, exists: true}
    split:
      salt: cells_2026
      groups: {holdout: 20, variant_a: 40, variant_b: 40}
      holdout: holdout
""",
}
USER_COLUMNS = [("external_id", "VARCHAR"), ("country", "VARCHAR"), ("age", "DOUBLE")]


def bucket(salt: str, user: str) -> int:
    return int(hashlib.md5((salt + user).encode()).hexdigest()[:8], 16) % 10000


def expected_group(user: str) -> str:
    b = bucket("cells_2026", user)
    return "holdout" if b < 2000 else "variant_a" if b < 6000 else "variant_b"


class Harness:
    """Runs the project at successive as_of instants and tracks the expected CDI state."""

    def __init__(self, tmp_path: Path, adapter: Adapter, files: dict[str, str] = FILES):
        self.adapter = adapter
        self.root = write_project(tmp_path / "p", files)
        self.expected: dict[str, dict[str, Any]] = {}
        self.members: dict[str, dict[str, str | None]] = {}
        self.day = 0

    def load(self, users: list[tuple[str, str | None, float | None]]) -> None:
        self.adapter.load_rows("users", USER_COLUMNS, users)

    def run(self, **kwargs: Any) -> RunResult:
        self.day += 1
        session = open_session(Options(self.root), f"2026-06-{self.day:02d}T00:00:00Z", need_target=False)
        return run_models(session, self.adapter, sorted(session.definitions.segments), **kwargs)

    def table(self, name: str) -> dict[str, str | None]:
        columns = self.adapter.schema_tables()[f"seg_{name}"]
        group = "split_group" if "split_group" in columns else "NULL"
        return {str(r[0]): r[1] for r in self.adapter.fetch(f"SELECT external_user_id, {group} FROM main.seg_{name}")}

    def cdi(self) -> list[tuple[dt.datetime, str, dict[str, Any]]]:
        return [(r[0], str(r[1]), json.loads(r[2])) for r in self.adapter.fetch("SELECT UPDATED_AT, EXTERNAL_ID, PAYLOAD FROM main.cdi_segment_updates ORDER BY UPDATED_AT")]

    def fold_expected(self, synced: dict[str, tuple[str, bool]]) -> None:
        """Independent diff of memberships: entering → true/group, leaving → false/null, holdout never."""
        for name, (key, split) in synced.items():
            before, after = self.members.get(name, {}), self.table(name)
            for user in sorted(set(before) | set(after)):
                old, new = before.get(user, "absent"), after.get(user, "absent")
                if old == new:
                    continue
                if not split:
                    self.expected.setdefault(user, {})[key] = user in after
                    continue
                was, now = old not in ("absent", "holdout"), new not in ("absent", "holdout")
                if now:
                    self.expected.setdefault(user, {})[key] = new
                elif was:
                    self.expected.setdefault(user, {})[key] = None
            self.members[name] = after


SYNCED = {"koreans": ("koreans", False), "adults": ("is_adult", False), "korean_adults": ("korean_adults", False), "test_cells": ("test_cells", True)}


@pytest.mark.parametrize("lookup_batch", [100_000, 1], ids=["one_lookup", "a_lookup_per_user"])
def test_cdi_rows_are_the_folded_membership_diffs_over_several_runs(tmp_path: Path, engine: Callable[[], Adapter], lookup_batch: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(segment_strategy, "CDI_LOOKUP_BATCH", lookup_batch)
    h = Harness(tmp_path, engine())
    snapshots = [
        [("u1", "KR", 30.0), ("u2", "KR", 10.0), ("u3", "JP", 40.0), ("u4", None, None)],
        [("u1", "KR", 30.0), ("u2", "KR", 19.0), ("u3", "KR", 40.0), ("u5", "US", 25.0)],
        [("u1", "JP", 30.0), ("u2", "KR", 19.0), ("u3", "KR", 40.0), ("u5", "US", None)],
        [("u1", "JP", 30.0), ("u2", "KR", 19.0), ("u3", "KR", 40.0), ("u5", "US", None)],  # no change
    ]
    previous_rows: list[tuple[dt.datetime, str, dict[str, Any]]] = []
    for users in snapshots:
        h.load(users)
        result = h.run()
        assert result.ok, result.models
        h.fold_expected(SYNCED)
        rows = h.cdi()
        state: dict[str, dict[str, Any]] = {}
        for _, user, payload in rows:
            state.setdefault(user, {}).update(payload)
        assert state == {u: p for u, p in h.expected.items() if p}
        assert "quiet" not in json.dumps(state), "cdi: false segments are never synced"
        times = [t for t, _, _ in rows]
        assert len(set(times)) == len(times), "every UPDATED_AT is distinct"
        old_max = max((t for t, _, _ in previous_rows), default=None)
        new_rows = [r for r in rows if r not in previous_rows]
        if old_max is not None:
            assert all(t > old_max for t, _, _ in new_rows), "new rows sort after every existing row"
        untouched = {u for _, u, _ in new_rows}
        assert [r for r in previous_rows if r[1] not in untouched] == [r for r in rows if r[1] not in untouched]
        previous_rows = rows
    assert new_rows == [] and result.cdi_rows == 0, "a run with no change writes nothing"
    changes = h.adapter.fetch("SELECT segment, external_user_id, change FROM main.segsql_changes WHERE segment = 'koreans' ORDER BY as_of, external_user_id")
    assert [tuple(r) for r in changes] == [("koreans", "u1", "entered"), ("koreans", "u2", "entered"), ("koreans", "u3", "entered"), ("koreans", "u1", "exited")]
    history = h.adapter.fetch("SELECT size, entered, exited FROM main.segsql_history WHERE segment = 'koreans' ORDER BY as_of")
    assert [tuple(r) for r in history] == [(2, 2, 0), (3, 1, 0), (2, 0, 1), (2, 0, 0)]
    assert h.adapter.fetch("SELECT COUNT(*) FROM main.segsql_runs WHERE status = 'success'")[0][0] == 4


def test_split_groups_follow_the_bucket_formula_and_are_stable(tmp_path: Path, engine: Callable[[], Adapter]) -> None:
    h = Harness(tmp_path, engine())
    users = [(f"u{i}", "KR", 20.0 + i) for i in range(40)]
    h.load(users)
    h.run()
    first = h.table("test_cells")
    assert first == {u: expected_group(u) for u, _, _ in users}
    assert {"holdout", "variant_a", "variant_b"} <= set(first.values())
    h.run()
    assert h.table("test_cells") == first
    payload_values = {p.get("test_cells") for _, _, p in h.cdi()}
    assert "holdout" not in payload_values
    holdouts = {u for u, g in first.items() if g == "holdout"}
    assert all("test_cells" not in p for _, u, p in h.cdi() if u in holdouts)


def test_guard_failure_leaves_table_and_cdi_keys_and_skips_dependents(tmp_path: Path, engine: Callable[[], Adapter]) -> None:
    files = dict(FILES)
    files["models/segments.yml"] = FILES["models/segments.yml"].replace("guards: {max_size: 1000}", "guards: {max_change_pct: 50}")
    h = Harness(tmp_path, engine(), files)
    h.load([("u1", "KR", 30.0), ("u2", "KR", 30.0), ("u3", "JP", 30.0)])
    assert h.run().ok
    before = (h.table("koreans"), h.table("korean_adults"), {u: p.get("koreans") for _, u, p in h.cdi()})
    h.load([("u1", "KR", 30.0), ("u2", "JP", 30.0), ("u3", "JP", 17.0), ("u4", "KR", 30.0), ("u5", "KR", 30.0), ("u6", "KR", 30.0)])
    result = h.run()
    status = {s.name: s.status for s in result.models}
    assert status == {"koreans": "error", "korean_adults": "skipped", "adults": "success", "quiet": "success", "test_cells": "success"}
    assert "max_change_pct" in next(s.message for s in result.models if s.name == "koreans")
    after_keys = {u: p.get("koreans") for _, u, p in h.cdi()}
    assert (h.table("koreans"), h.table("korean_adults")) == before[:2]
    assert {u: v for u, v in after_keys.items() if u in before[2]} == before[2], "the failed segment's CDI keys are untouched"
    assert all(after_keys[u] is None for u in after_keys if u not in before[2])
    assert "u3" not in h.table("adults"), "other segments commit"


def test_min_and_max_size_guards(tmp_path: Path, engine: Callable[[], Adapter]) -> None:
    files = dict(FILES)
    files["models/segments.yml"] = FILES["models/segments.yml"].replace("guards: {max_size: 1000}", "guards: {min_size: 3}")
    h = Harness(tmp_path, engine(), files)
    h.load([("u1", "KR", 30.0)])
    result = h.run()
    assert next(s for s in result.models if s.name == "koreans").status == "error"
    assert h.table("koreans") == {}


def test_dry_run_and_resync(tmp_path: Path, engine: Callable[[], Adapter]) -> None:
    h = Harness(tmp_path, engine())
    h.load([("u1", "KR", 30.0), ("u2", "JP", 10.0)])
    dry = h.run(dry_run=True)
    assert dry.ok and dry.cdi_rows > 0
    assert not h.adapter.table_exists("seg_koreans") and not h.adapter.table_exists("cdi_segment_updates")
    h.run()
    rows_before = h.cdi()
    assert h.run().cdi_rows == 0
    resync = h.run(resync=True)
    assert resync.cdi_rows == len({u for _, u, _ in rows_before if u in ("u1", "u2")})
    latest = {u: p for _, u, p in h.cdi()}
    assert latest["u1"]["koreans"] is True and latest["u1"]["is_adult"] is True


def test_payload_chunks_and_clock_step_back() -> None:
    payload = {f"k{i:03d}": True for i in range(MAX_KEYS + 10)}
    parts = [json.loads(p) for p in chunk(payload)]
    assert [len(p) for p in parts] == [MAX_KEYS, 10]
    assert {k for p in parts for k in p} == set(payload)
    now = dt.datetime(2026, 1, 1, 12)
    later = now + dt.timedelta(seconds=5)  # the table already holds a value ahead of the clock
    times = stamps(3, now, later)
    assert times[0] > later and len(set(times)) == 3 and times == sorted(times)
    rows = build_rows({"u2": {"a": True}, "u1": payload}, now, None)
    assert [r.external_id for r in rows] == ["u1", "u1", "u2"] and rows[-1].updated_at == now


@pytest.mark.parametrize("engine", ["duckdb"], indirect=True)
def test_more_than_250_segments_split_a_user_into_several_rows(tmp_path: Path, engine: Callable[[], Adapter]) -> None:
    body = "segments:\n" + "".join(f"  - name: s{i:03d}\n    where: {{attribute: age, gte: {i % 3}}}\n" for i in range(MAX_KEYS + 5))
    h = Harness(tmp_path, engine(), {"models/sources.yml": FILES["models/sources.yml"], "models/segments.yml": body})
    h.load([("u1", "KR", 30.0)])
    assert h.run().ok
    rows = h.cdi()
    assert [u for _, u, _ in rows] == ["u1", "u1"]
    assert sum(len(p) for _, _, p in rows) == MAX_KEYS + 5


def test_a_failing_sql_segment_is_isolated_and_the_others_commit(tmp_path: Path, engine: Callable[[], Adapter]) -> None:
    files = dict(FILES)
    files["models/broken.sql"] = "select external_id from main.no_such_table\n"
    h = Harness(tmp_path, engine(), files)
    h.load([("u1", "KR", 30.0)])
    result = h.run()
    status = {s.name: s.status for s in result.models}
    assert status.pop("broken") == "error"
    assert set(status.values()) == {"success"}
    assert "models/broken.sql:1" in next(s.message for s in result.models if s.name == "broken")
    assert h.table("koreans") == {"u1": None}
    assert not h.adapter.table_exists("seg_broken")
