"""Source column types learned from the engine: naive timestamps are read as they are, others converted once.

On every engine, segments compiled with the types a run learns give the same members as
segments compiled without them (`compile`, the safe conversion everywhere), over a naive
and a zoned time column; and the hypothesis reference comparison holds with the types.
"""

from __future__ import annotations

import copy
import datetime as dt
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given

from segsql.compiler import SegmentCompiler, rules_for
from segsql.compiler.column_types import ColumnTypes
from segsql.engines.base import Adapter
from segsql.run.materialize import source_types
from segsql.run.session import Options, open_session
from tests import strategies
from tests.conftest import write_project
from tests.test_semantics_property import (
    _settings,
    load_case,
    reference_members,
    without_array_operators,
    write_case,
)

AS_OF = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
SEOUL = dt.timezone(dt.timedelta(hours=9))
SOURCES = """
users: {table: main.users, id: external_id, attributes: {country: string, signup_at: time}}
events: {table: main.events, user: external_id, name: event_name, time: occurred_at, properties: properties}
purchases: {table: main.purchases, user: external_id, time: purchased_at, product: product_id, price: price}
"""
SEGMENTS = {
    "opened_3d": "{event: app_open, within: {last_days: 3}, count: {gte: 2}}",
    "lapsed_1d": "{event: app_open, last: {more_than_days_ago: 1}}",
    "first_3d": "{event: app_open, first: {less_than_days_ago: 3}}",
    "spent_2d": "{event: app_open, within: {last_hours: 48}, sum: {property: amount, gte: 3}}",
    "bought_1d": "{purchase: any, within: {last_days: 1}}",
    "no_purchase_2d": "{not: {purchase: any, within: {last_days: 2}}}",
    "sequence": "{sequence: [{event: app_open}, {event: app_open, within_previous: {hours: 30}}], within: {last_days: 5}}",
    "rfm": "{rfm: {recency: {gte: 3}}}",
    "new_signup": "{attribute: signup_at, less_than_days_ago: 3}",
}


def test_naive_type_names_per_dialect() -> None:
    engine = {"main.e": [("OCCURRED_AT", "TIMESTAMP_NTZ"), ("Z", "TIMESTAMP_TZ"), ("L", "TIMESTAMP_LTZ")]}
    assert ColumnTypes.from_engine(engine, rules_for("snowflake")).naive == {("main.e", "occurred_at")}
    engine = {"main.e": [("occurred_at", "timestamp"), ("z", "timestamptz")]}
    assert ColumnTypes.from_engine(engine, rules_for("postgres")).naive == {("main.e", "occurred_at")}
    engine = {"main.e": [("occurred_at", "TIMESTAMP"), ("z", "TIMESTAMP WITH TIME ZONE"), ("ns", "TIMESTAMP_NS")]}
    assert ColumnTypes.from_engine(engine, rules_for("duckdb")).naive == {("main.e", "occurred_at")}


def test_a_name_that_differs_only_in_case_stays_unknown() -> None:
    engine = {"main.e": [("t", "TIMESTAMP_NTZ"), ("T", "TIMESTAMP_TZ"), ("u", "TIMESTAMP_NTZ")]}
    types = ColumnTypes.from_engine(engine, rules_for("snowflake"))
    assert not types.is_naive("main.e", "t") and types.is_naive("main.e", "U")
    assert not types.is_naive("main.other", "u") and not types.is_naive(None, "u")


def _load(adapter: Adapter) -> None:
    """Events with a zoned time column, purchases and signups naive."""
    def at(days: float) -> dt.datetime:
        return (AS_OF - dt.timedelta(days=days)).replace(tzinfo=None)

    adapter.load_rows("users", [("external_id", "VARCHAR"), ("country", "VARCHAR"), ("signup_at", "TIMESTAMP")],
                      [("u1", "KR", at(1)), ("u2", "JP", at(10)), ("u3", None, None)])
    events = [
        ("u1", "app_open", dt.datetime(2026, 11, 22, 8, 0, tzinfo=SEOUL), '{"amount": 3}'),  # 23:00 UTC the day before
        ("u1", "app_open", dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC), '{"amount": 4}'),
        ("u2", "app_open", dt.datetime(2026, 11, 18, 12, 0, tzinfo=dt.UTC), None),
        ("u2", "app_open", dt.datetime(2026, 11, 22, 21, 0, tzinfo=SEOUL), None),  # exactly as_of
        ("u4", "app_open", dt.datetime(2026, 11, 22, 22, 0, tzinfo=SEOUL), None),  # after as_of
    ]
    adapter.load_rows("events", [("external_id", "VARCHAR"), ("event_name", "VARCHAR"), ("occurred_at", "TIMESTAMPTZ"), ("properties", "JSON")], events)
    purchases = [("u1", at(0.5), "p1", 10.0), ("u2", at(3), "p2", 20.0), ("u5", at(1.6), "p1", 5.0)]
    adapter.load_rows("purchases", [("external_id", "VARCHAR"), ("purchased_at", "TIMESTAMP"), ("product_id", "VARCHAR"), ("price", "DOUBLE")], purchases)


def test_learned_types_give_the_members_of_the_safe_conversion(tmp_path: Path, engine: Callable[[], Adapter]) -> None:
    adapter = engine()
    _load(adapter)
    segments = "segments:\n" + "".join(f"  - name: {n}\n    where: {w}\n" for n, w in SEGMENTS.items())
    root = write_project(tmp_path / "p", {"models/sources.yml": SOURCES, "models/s.yml": segments})
    session = open_session(Options(root), AS_OF.isoformat(), need_target=False)
    types = source_types(session.definitions.sources, adapter)
    assert types.is_naive("main.purchases", "purchased_at") and types.is_naive("main.users", "signup_at")
    assert not types.is_naive("main.events", "occurred_at")
    learned = SegmentCompiler(session.definitions, adapter.dialect, session.as_of, types)
    safe = SegmentCompiler(session.definitions, adapter.dialect, session.as_of)
    for name in SEGMENTS:
        got = {str(r[0]) for r in adapter.fetch(learned.members(name))}
        assert got == {str(r[0]) for r in adapter.fetch(safe.members(name))}, name
    fused = learned.flags(list(SEGMENTS)).sql(adapter.dialect)
    assert "purchased_at >= CAST(" in fused, "a naive column is compared as it is (prunable)"
    # converted once per row in each pass over events: the scan, the ids it skips, the sequence rows
    assert fused.count("__utc_time") > 3 and fused.count("AS __utc_time") == 3
    members = {n: {str(r[0]) for r in adapter.fetch(learned.members(n))} for n in SEGMENTS}
    assert members["opened_3d"] == {"u1"} and members["lapsed_1d"] == set() and members["first_3d"] == {"u1"}
    assert members["spent_2d"] == {"u1"} and members["bought_1d"] == {"u1"} and members["new_signup"] == {"u1"}
    assert members["no_purchase_2d"] == {"u2", "u3"}


def test_random_behavioural_filters_match_the_reference_with_learned_types(engine: Callable[[], Adapter]) -> None:
    adapter = engine()
    fakesnow = adapter.dialect == "snowflake"

    @_settings(15 if adapter.dialect == "duckdb" else 8)
    @given(case=strategies.behaviour_case_strategy())
    def check(case: dict[str, Any]) -> None:
        case = copy.deepcopy(case)
        if fakesnow:
            case["filter"] = without_array_operators(case["filter"])
        load_case(adapter, case)
        with tempfile.TemporaryDirectory() as tmp:
            session = open_session(Options(write_case(Path(tmp), case, {"s": case["filter"]})), case["as_of"].isoformat(), need_target=False)
            types = source_types(session.definitions.sources, adapter)
            assert types.is_naive("main.events", "occurred_at")
            compiler = SegmentCompiler(session.definitions, adapter.dialect, session.as_of, types)
            got = {str(r[0]) for r in adapter.fetch(compiler.members("s"))}
        assert got == reference_members(case, case["filter"])

    check()


@pytest.mark.parametrize("dialect", ["duckdb", "snowflake", "postgres"])
def test_without_a_connection_every_time_column_is_converted(tmp_path: Path, dialect: str) -> None:
    segments = "segments:\n" + "".join(f"  - name: {n}\n    where: {w}\n" for n, w in SEGMENTS.items())
    root = write_project(tmp_path / "p", {"models/sources.yml": SOURCES, "models/s.yml": segments})
    session = open_session(Options(root), AS_OF.isoformat(), need_target=False)
    fused = SegmentCompiler(session.definitions, dialect, session.as_of).flags(list(SEGMENTS)).sql(dialect)
    assert "purchased_at >= CAST(" not in fused and "occurred_at >= CAST(" not in fused
