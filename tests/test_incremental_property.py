"""Property test (SPEC 9): random histories of daily batches — new, late and deleted rows,
attribute and catalog updates, definition edits (a var), an as_of that steps back, a run that
fails inside its commit — applied to two copies of one project; one copy runs incrementally,
the other with --full-refresh, and after every run every table of the two is equal."""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segsql.engines.base import Adapter
from segsql.run.incremental.segments import IncrementalSegments
from tests import incremental_harness as H

T0 = dt.datetime(2026, 6, 1, 12)
EXAMPLES = {"duckdb": 15, "fakesnow": 4, "postgres": 3}
USER_IDS = ("u1", "u2", "u3", "u4", "u5", "u6", "u7")


@pytest.fixture(params=["duckdb", "fakesnow", "postgres"])
def pair(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Callable[[str], Adapter]]]:
    """(engine, a factory of adapters on a database per name) for one backend."""
    kind = request.param
    if kind == "duckdb":
        from segsql.engines.duckdb import DuckDBAdapter

        yield kind, lambda name: DuckDBAdapter(str(tmp_path / f"{name}.duckdb"), "main")
        return
    if kind == "postgres":
        request.getfixturevalue("postgres_server")
        from segsql.engines.postgres import PostgresAdapter
        from tests.engines.server import fresh_database

        with fresh_database() as one, fresh_database() as two:
            targets, opened = iter((one, two)), []

            def connect(_name: str) -> Adapter:
                opened.append(PostgresAdapter.from_target(next(targets)))
                return opened[-1]

            yield kind, connect
            for adapter in opened:
                adapter.close()
        return
    fakesnow = pytest.importorskip("fakesnow")
    from segsql.engines.snowflake import SnowflakeAdapter
    from segsql.project.config import Target

    with fakesnow.patch(create_database_on_connect=True, create_schema_on_connect=True):
        made: list[Adapter] = []

        def make(_name: str) -> Adapter:
            database = f"DB_{uuid.uuid4().hex[:8].upper()}"
            made.append(SnowflakeAdapter.from_target(Target("segsql", "test", "snowflake", {"account": "a", "user": "u", "password": "p", "database": database, "schema": "MAIN"})))
            return made[-1]

        yield kind, make
        for adapter in made:
            adapter.close()


def _time(draw: st.DrawFn, around: dt.datetime) -> dt.datetime | None:
    if draw(st.integers(0, 15)) == 0:
        return None
    return around - dt.timedelta(hours=draw(st.integers(-30, 200)), minutes=draw(st.sampled_from((0, 0, 1, 59))))


def _event(draw: st.DrawFn, around: dt.datetime) -> tuple[Any, ...]:
    k = draw(st.sampled_from((None, '{"k": 1}', '{"k": 2}', '{"k": 3}')))
    return (draw(st.sampled_from(USER_IDS)), draw(st.sampled_from(("open", "open", "view", "other"))), _time(draw, around), k)


def _purchase(draw: st.DrawFn, around: dt.datetime) -> tuple[Any, ...]:
    return (draw(st.sampled_from(USER_IDS)), _time(draw, around), draw(st.sampled_from(("p1", "p2", "p3"))), float(draw(st.sampled_from((5, 10, 35)))))


def _user(draw: st.DrawFn, user: str, around: dt.datetime) -> tuple[Any, ...]:
    return (user, draw(st.sampled_from(("KR", "JP", None))), float(draw(st.integers(10, 50))), _time(draw, around))


@st.composite
def op(draw: st.DrawFn, around: dt.datetime) -> tuple[str, Any]:
    kind = draw(st.sampled_from(("events", "events", "purchases", "delete_events", "delete_purchases", "user", "drop_user", "catalog")))
    if kind == "events":
        return kind, [_event(draw, around) for _ in range(draw(st.integers(1, 5)))]
    if kind == "purchases":
        return kind, [_purchase(draw, around) for _ in range(draw(st.integers(1, 3)))]
    if kind == "catalog":
        return kind, draw(st.sampled_from(("shoes", "hats")))
    user = draw(st.sampled_from(USER_IDS))
    return kind, (_user(draw, user, around) if kind == "user" else user)


@st.composite
def history(draw: st.DrawFn) -> dict[str, Any]:
    users = [_user(draw, u, T0) for u in USER_IDS[:5]]
    events = [_event(draw, T0) for _ in range(draw(st.integers(0, 14)))]
    purchases = [_purchase(draw, T0) for _ in range(draw(st.integers(0, 6)))]
    steps, as_of = [], T0
    for _ in range(draw(st.integers(1, 4))):
        as_of = as_of + dt.timedelta(hours=draw(st.sampled_from((0, 1, 6, 24, 24, 30, 49, 75, -24))))
        steps.append({
            "as_of": as_of,
            "ops": draw(st.lists(op(as_of), max_size=4)),
            "opens": draw(st.sampled_from((2, 2, 2, 1, 3))),
            "fail_first": draw(st.integers(0, 5)) == 0,
        })
    return {"tables": {"users": users, "events": events, "purchases": purchases, "products": [("p1", "shoes"), ("p2", "hats"), ("p3", "hats")]}, "steps": steps}


def _apply(adapter: Adapter, kind: str, arg: Any) -> None:
    if kind in ("events", "purchases"):
        H.append(adapter, kind, arg)
    elif kind == "delete_events":
        adapter.execute(f"DELETE FROM main.events WHERE external_id = '{arg}'")
    elif kind == "delete_purchases":
        adapter.execute(f"DELETE FROM main.purchases WHERE external_id = '{arg}'")
    elif kind == "drop_user":
        adapter.execute(f"DELETE FROM main.users WHERE external_id = '{arg}'")
    elif kind == "user":
        adapter.execute(f"DELETE FROM main.users WHERE external_id = '{arg[0]}'")
        H.append(adapter, "users", [arg])
    else:
        adapter.execute(f"UPDATE main.products SET category = '{arg}' WHERE product_id = 'p2'")


def _reset(adapter: Adapter) -> None:
    for table in adapter.schema_tables():
        adapter.execute(f"DROP TABLE IF EXISTS main.{table}")


@contextlib.contextmanager
def _failing_commit() -> Iterator[None]:
    original = IncrementalSegments.write

    def failing(self: IncrementalSegments, passing: list[str]) -> Any:
        yield from original(self, passing)
        raise RuntimeError("the run dies inside its commit")

    with mock.patch.object(IncrementalSegments, "write", failing):
        yield


def test_incremental_runs_equal_full_runs(pair: tuple[str, Callable[[str], Adapter]], tmp_path: Path) -> None:
    kind, make = pair
    adapters = [make("inc"), make("full")]
    copies = [H.Copy(tmp_path / "inc", adapters[0], False), H.Copy(tmp_path / "full", adapters[1], True)]
    seen_incremental = []

    @settings(max_examples=EXAMPLES[kind], deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
    @given(case=history())
    def check(case: dict[str, Any]) -> None:
        for c in copies:
            _reset(c.adapter)
            H.load(c.adapter, case["tables"])
        for c in copies:
            assert c.run(T0).ok
        for step in case["steps"]:
            for c in copies:
                for kind_, arg in step["ops"]:
                    _apply(c.adapter, kind_, arg)
            variables = {"opens": step["opens"]}
            if step["fail_first"]:
                with _failing_commit(), pytest.raises(RuntimeError):
                    copies[0].run(step["as_of"] - dt.timedelta(hours=3), variables)
            results = [c.run(step["as_of"], variables) for c in copies]
            assert all(r.ok for r in results), [m.message for r in results for m in r.models if m.message]
            seen_incremental.extend(m.name for m in results[0].models if m.refresh == "incremental")
            assert copies[0].snapshot() == copies[1].snapshot()

    check()
    assert seen_incremental, "some run was incremental"
