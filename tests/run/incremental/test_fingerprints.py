"""Fingerprints (SPEC 9): every added, late, deleted or updated row names its entity, whatever its time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from segsql.engines.base import Adapter
from segsql.run.incremental.fingerprints import LEVEL1, LEVEL2, MARKER, Fingerprints
from segsql.run.materialize import run_models
from segsql.run.session import Options, open_session
from segsql.run.source_check import source_types
from segsql.run.strategies.base import RunContext
from tests.conftest import write_project

USERS = [("external_id", "VARCHAR"), ("country", "VARCHAR"), ("age", "DOUBLE")]
EVENTS = [("external_id", "VARCHAR"), ("event_name", "VARCHAR"), ("occurred_at", "TIMESTAMP"), ("properties", "VARCHAR")]
PURCHASES = [("external_id", "VARCHAR"), ("purchased_at", "TIMESTAMP"), ("product_id", "VARCHAR"), ("price", "DOUBLE")]
PRODUCTS = [("product_id", "VARCHAR"), ("category", "VARCHAR")]
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
          properties: properties
        purchases:
          table: main.purchases
          user: external_id
          time: purchased_at
          product: product_id
          price: price
        catalogs:
          products:
            table: main.products
            key: product_id
            attributes: {category: string}
    """,
    "models/segments.yml": """
        segments:
          - name: koreans
            where: {attribute: country, equals: KR}
          - name: openers
            where: {event: app_open, within: {last_days: 30}}
    """,
}
AS_OF = "2026-06-01T00:00:00Z"
DAY = dt.datetime(2026, 5, 31, 10)


def _setup(tmp_path: Path, adapter: Adapter) -> Any:
    adapter.load_rows("users", USERS, [("u1", "KR", 30.0), ("u2", "JP", 20.0), ("u3", "KR", 40.0), ("u4", "KR", 50.0), ("u5", None, None), ("u6", "JP", 1.0)])
    adapter.load_rows("events", EVENTS, [
        ("u1", "app_open", DAY, '{"a": 1}'), ("u2", "app_open", DAY - dt.timedelta(days=3), None),
        ("u5", "app_open", DAY - dt.timedelta(days=40), None), ("u6", "search", None, None), ("u8", "app_open", DAY, None),
    ])
    adapter.load_rows("purchases", PURCHASES, [("u3", DAY, "p1", 10.0), ("u4", DAY - dt.timedelta(days=400), "p2", 5.0)])
    adapter.load_rows("products", PRODUCTS, [("p1", "shoes"), ("p2", "hats")])
    return open_session(Options(write_project(tmp_path / "p", FILES)), AS_OF, need_target=False)


def _append(adapter: Adapter, table: str, columns: list[tuple[str, str]], rows: list[tuple[Any, ...]]) -> None:
    """INSERT rows into a source table (`load_rows` replaces a table)."""
    adapter.load_rows(f"new_{table}", columns, rows)
    adapter.execute(f"INSERT INTO main.{table} SELECT * FROM main.new_{table}")
    adapter.execute(f"DROP TABLE main.new_{table}")


def _run(session: Any, adapter: Adapter, full_refresh: bool = False) -> None:
    result = run_models(session, adapter, sorted(session.definitions.segments), full_refresh=full_refresh)
    assert result.ok, result.models


def _detect(session: Any, adapter: Adapter) -> set[tuple[str, str]]:
    """What the next run would find changed, without writing anything."""
    ctx = RunContext(session, adapter, False, False, lambda _m: None)
    ctx.types = source_types(session.definitions.sources, adapter)
    ctx.catalogue = adapter.schema_tables()
    fingerprints = Fingerprints(ctx)
    fingerprints.stage()
    try:
        return {(str(s), str(e)) for s, e in adapter.fetch(fingerprints.changed_entities())}
    finally:
        for table in ctx.scratch:
            adapter.execute(f"DROP TABLE IF EXISTS {table.name}")


def _state(adapter: Adapter) -> tuple[list[Any], list[Any]]:
    level1 = sorted(tuple(str(v) for v in r) for r in adapter.fetch(f"SELECT source, bucket, n, h1, h2 FROM main.{LEVEL1}"))
    level2 = sorted(tuple(str(v) for v in r) for r in adapter.fetch(f"SELECT source, bucket, entity, n, h1, h2 FROM main.{LEVEL2}"))
    return level1, level2


def test_new_late_deleted_and_updated_rows_name_exactly_their_entities(tmp_path: Path, engine: Callable[[], Adapter]) -> None:
    adapter = engine()
    session = _setup(tmp_path, adapter)
    _run(session, adapter)
    assert _detect(session, adapter) == set(), "nothing changed since the run"
    _append(adapter, "events", EVENTS, [
        ("u1", "app_open", DAY + dt.timedelta(hours=5), None),      # new
        ("u2", "app_open", DAY - dt.timedelta(days=200), None),     # late: an old day
        ("u9", "app_open", DAY, None),                              # a new user, only in events
    ])
    adapter.execute("DELETE FROM main.purchases WHERE external_id = 'u3'")                   # deleted: its day is gone
    adapter.execute("UPDATE main.users SET country = 'JP' WHERE external_id = 'u4'")          # an attribute update
    adapter.execute("UPDATE main.events SET external_id = 'u6' WHERE external_id = 'u5'")     # same day, same count: another user
    adapter.execute("UPDATE main.products SET category = 'boots' WHERE product_id = 'p1'")
    assert _detect(session, adapter) == {
        ("events", "u1"), ("events", "u2"), ("events", "u9"), ("events", "u5"), ("events", "u6"),  # not u8: untouched
        ("purchases", "u3"), ("users", "u4"), ("catalog:products", "p1"),
    }


def test_a_run_rewrites_only_changed_buckets_and_equals_a_full_rebuild(tmp_path: Path, engine: Callable[[], Adapter]) -> None:
    adapter = engine()
    session = _setup(tmp_path, adapter)
    _run(session, adapter)
    _append(adapter, "events", EVENTS, [("u1", "app_open", DAY - dt.timedelta(days=1), None), ("u3", "buy", None, '{"x": [1]}')])
    adapter.execute("DELETE FROM main.events WHERE external_id = 'u2'")
    adapter.execute("DELETE FROM main.users WHERE external_id = 'u6'")
    _run(session, adapter)
    assert _detect(session, adapter) == set(), "the run recorded what it saw"
    incremental = _state(adapter)
    _run(session, adapter, full_refresh=True)
    assert _state(adapter) == incremental
    assert ("events", str(MARKER), "0", "0", "0") in incremental[0]


def test_lost_state_is_not_trusted(tmp_path: Path, engine: Callable[[], Adapter]) -> None:
    """Without a source's marker (state lost) every entity of it counts as changed, and the
    stored level-2 rows of that source are rebuilt whole (a deleted user is still named)."""
    adapter = engine()
    session = _setup(tmp_path, adapter)
    _run(session, adapter)
    adapter.execute(f"DELETE FROM main.{LEVEL1} WHERE source = 'purchases'")
    adapter.execute("DELETE FROM main.purchases WHERE external_id = 'u4'")
    assert _detect(session, adapter) == {("purchases", "u3"), ("purchases", "u4")}


@pytest.mark.parametrize("full_refresh", [False, True])
def test_a_failed_commit_keeps_the_previous_fingerprints(tmp_path: Path, full_refresh: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    from segsql.engines.duckdb import DuckDBAdapter

    adapter = DuckDBAdapter(str(tmp_path / "f.duckdb"), "main")
    session = _setup(tmp_path, adapter)
    _run(session, adapter)
    before = _state(adapter)
    _append(adapter, "events", EVENTS, [("u7", "app_open", DAY, None)])
    original = Fingerprints.write

    def failing(self: Fingerprints) -> Any:
        yield from original(self)
        raise RuntimeError("killed inside the commit")

    monkeypatch.setattr(Fingerprints, "write", failing)
    with pytest.raises(RuntimeError):
        run_models(session, adapter, ["koreans"], full_refresh=full_refresh)
    assert _state(adapter) == before
    monkeypatch.undo()
    assert _detect(session, adapter) == {("events", "u7")}
