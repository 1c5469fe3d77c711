"""The demo data generator: deterministic, correctly typed, and as dirty as real data.

Everything else (docs, demo segments, engine tests, benchmarks) relies on these properties,
so they are pinned here rather than discovered later as flaky sizes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from segsql.demo.data import DEFAULT_AS_OF, EVENT_NAMES, DemoTable, generate_demo

ROOT = Path(__file__).resolve().parents[2]
SPEC_COLUMNS = {
    "users": [
        "external_id",
        "country",
        "age",
        "is_vip",
        "signup_at",
        "last_seen_ms",
        "interests",
        "profile",
        "email",
        "last_lat",
        "last_lon",
    ],
    "events": ["external_id", "event_name", "occurred_at", "platform", "properties"],
    "purchases": ["external_id", "purchased_at", "product_id", "price", "quantity", "properties"],
    "products": ["product_id", "category", "brand", "list_price"],
}


def by_name(tables: list[DemoTable]) -> dict[str, DemoTable]:
    return {t.name: t for t in tables}


def column(table: DemoTable, name: str) -> list:
    index = [c for c, _ in table.columns].index(name)
    return [row[index] for row in table.rows]


@pytest.fixture(scope="module")
def demo() -> dict[str, DemoTable]:
    return by_name(generate_demo(2000, seed=42))


def test_tables_and_columns(demo: dict[str, DemoTable]) -> None:
    assert list(demo) == ["users", "events", "purchases", "products", "churn_scores"]
    for name, expected in SPEC_COLUMNS.items():
        names = [c for c, _ in demo[name].columns]
        assert names[: len(expected)] == expected
        assert len(set(names)) == len(names)


def test_same_arguments_give_identical_data() -> None:
    first, second = generate_demo(300, seed=7), generate_demo(300, seed=7)
    assert first == second
    assert repr(first) == repr(second)


def test_identical_across_processes() -> None:
    """Hash randomization must not leak into the data (no set or dict-of-str ordering)."""
    code = (
        "import hashlib, sys; sys.path.insert(0, sys.argv[1]);"
        "from segsql.demo.data import generate_demo;"
        "print(hashlib.sha256(repr(generate_demo(200, seed=3)).encode()).hexdigest())"
    )
    digests = set()
    for hash_seed in ("1", "2"):
        out = subprocess.run(
            [sys.executable, "-c", code, str(ROOT)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
        )
        digests.add(out.stdout.strip())
    assert len(digests) == 1


def test_different_seeds_differ() -> None:
    a, b = by_name(generate_demo(300, seed=1)), by_name(generate_demo(300, seed=2))
    assert a["users"].rows != b["users"].rows
    assert a["events"].rows != b["events"].rows


def test_row_counts_scale_with_users() -> None:
    small, large = by_name(generate_demo(500)), by_name(generate_demo(1500))
    assert len(small["users"].rows) == 500
    assert len(large["users"].rows) == 1500
    assert len(small["products"].rows) == len(large["products"].rows) == 200
    for name in ("events", "purchases"):
        ratio = len(large[name].rows) / len(small[name].rows)
        assert 2.0 < ratio < 4.5, (name, ratio)


def test_zero_users_and_bad_count() -> None:
    tables = by_name(generate_demo(0))
    assert tables["users"].rows == []
    assert len(tables["products"].rows) == 200
    with pytest.raises(ValueError):
        generate_demo(-1)


def test_user_ids_unique_and_non_empty(demo: dict[str, DemoTable]) -> None:
    ids = column(demo["users"], "external_id")
    assert len(ids) == len(set(ids)) == 2000
    assert all(isinstance(i, str) and i for i in ids)


def test_some_event_users_are_not_in_users_table(demo: dict[str, DemoTable]) -> None:
    users = set(column(demo["users"], "external_id"))
    in_events = set(column(demo["events"], "external_id"))
    missing = in_events - users
    assert missing
    assert 0.01 < len(missing) / len(users) < 0.06
    as_of_events = {
        e
        for e, t in zip(
            column(demo["events"], "external_id"),
            column(demo["events"], "occurred_at"),
            strict=True,
        )
        if t <= DEFAULT_AS_OF
    }
    assert missing <= as_of_events  # each of them is a user at as_of


def test_a_few_events_after_as_of(demo: dict[str, DemoTable]) -> None:
    times = column(demo["events"], "occurred_at")
    after = sum(t > DEFAULT_AS_OF for t in times)
    assert 0 < after < 0.02 * len(times)
    assert min(times) >= DEFAULT_AS_OF - timedelta(days=401)
    assert sum(t > DEFAULT_AS_OF for t in column(demo["purchases"], "purchased_at")) > 0


def test_events_are_stored_in_time_order(demo: dict[str, DemoTable]) -> None:
    times = column(demo["events"], "occurred_at")
    assert times == sorted(times)
    purchases = column(demo["purchases"], "purchased_at")
    assert purchases == sorted(purchases)


def test_as_of_moves_the_data() -> None:
    as_of = datetime(2025, 3, 1, 8, 30)
    tables = by_name(generate_demo(200, seed=5, as_of=as_of))
    times = column(tables["events"], "occurred_at")
    assert max(t for t in times if t <= as_of) > as_of - timedelta(days=30)
    assert max(times) <= as_of + timedelta(days=15)
    aware = generate_demo(200, seed=5, as_of=as_of.replace(tzinfo=UTC))
    assert aware == list(tables.values())


def check_value(value: object, logical: str) -> bool:
    if value is None:
        return True
    if logical == "VARCHAR":
        return isinstance(value, str)
    if logical == "BIGINT":
        return isinstance(value, int) and not isinstance(value, bool)
    if logical == "DOUBLE":
        return isinstance(value, float) and value == value  # no NaN
    if logical == "BOOLEAN":
        return isinstance(value, bool)
    if logical == "TIMESTAMP":
        return isinstance(value, datetime) and value.tzinfo is None
    if logical == "JSON":
        if not isinstance(value, str):
            return False
        json.loads(value)
        return True
    if logical == "VARCHAR[]":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    raise AssertionError(f"unknown logical type {logical}")


def test_values_match_logical_types(demo: dict[str, DemoTable]) -> None:
    for table in demo.values():
        assert table.rows
        for row in table.rows:
            assert len(row) == len(table.columns)
            for value, (name, logical) in zip(row, table.columns, strict=True):
                assert check_value(value, logical), (table.name, name, value)


def test_json_columns_parse_to_objects(demo: dict[str, DemoTable]) -> None:
    for table in demo.values():
        for name, logical in table.columns:
            if logical == "JSON":
                for value in column(table, name):
                    assert value is None or isinstance(json.loads(value), dict)
    profiles = [json.loads(p) for p in column(demo["users"], "profile") if p is not None]
    tiers = Counter(p.get("tier") for p in profiles)
    assert {"gold", "silver", "bronze", None} <= set(tiers)
    assert any("address" in p and "city" in p["address"] for p in profiles)
    assert any(isinstance(p.get("points"), int) for p in profiles)


def test_users_have_realistic_dirt(demo: dict[str, DemoTable]) -> None:
    """NULLs, empty strings, empty lists and missing JSON keys: the cases filters must handle."""
    users = demo["users"]
    countries = Counter(column(users, "country"))
    assert countries["KR"] > countries["DE"] > 0
    assert countries[None] > 0 and countries[""] > 0
    interests = column(users, "interests")
    assert None in interests and [] in interests
    assert {"sneakers", "running", "outdoor", "fashion", "tech", "beauty", "home"} == {
        i for lst in interests if lst for i in lst
    }
    for name in ("age", "is_vip", "signup_at", "last_seen_ms", "profile", "email", "last_lat"):
        assert None in column(users, name), name
    vip_share = sum(v is True for v in column(users, "is_vip")) / len(users.rows)
    assert 0.04 < vip_share < 0.15
    as_of_ms = int((DEFAULT_AS_OF - datetime(1970, 1, 1)).total_seconds() * 1000)
    assert all(ms <= as_of_ms for ms in column(users, "last_seen_ms") if ms is not None)
    lat_lon = zip(column(users, "last_lat"), column(users, "last_lon"), strict=True)
    assert all((lat is None) == (lon is None) for lat, lon in lat_lon)


def test_behaviour_looks_like_a_shop(demo: dict[str, DemoTable]) -> None:
    users = set(column(demo["users"], "external_id"))
    events, purchases = demo["events"], demo["purchases"]
    assert set(column(events, "event_name")) == set(EVENT_NAMES)
    assert set(column(events, "platform")) == {"ios", "android", "web"}
    assert 25 < len(events.rows) / len(users) < 60
    buyers = set(column(purchases, "external_id")) & users
    assert 0.3 < len(buyers) / len(users) < 0.5
    names = Counter(column(events, "event_name"))
    assert names["product_viewed"] > names["add_to_cart"] > names["checkout_started"]
    catalog = set(column(demo["products"], "product_id"))
    assert set(column(purchases, "product_id")) <= catalog
    assert all(row[3] > 0 and row[4] >= 1 for row in purchases.rows)
    spend = Counter()
    for row in purchases.rows:
        spend[row[0]] += row[3] * row[4]
    assert sum(v > 500 for v in spend.values()) > 0
    searches = [
        json.loads(p)["query"]
        for n, p in zip(column(events, "event_name"), column(events, "properties"), strict=True)
        if n == "product_searched"
    ]
    assert any("sneaker" in q.lower() for q in searches)


def test_churn_scores_are_a_fresh_trait_table_of_some_users(demo: dict[str, DemoTable]) -> None:
    """SPEC 8.3 demo: one row per scored user (most users, never a non-user), scores in [0, 1]
    with their band, all dated CHURN_SCORED_BEFORE before as_of (fresh for max_age 48 h)."""
    from segsql.demo.data import CHURN_SCORED_BEFORE

    users, churn = set(column(demo["users"], "external_id")), demo["churn_scores"]
    ids = column(churn, "external_id")
    assert len(ids) == len(set(ids)) and set(ids) <= users and 0.8 * len(users) < len(ids) < len(users)
    for score, band in zip(column(churn, "churn_score"), column(churn, "churn_band"), strict=True):
        assert 0 <= score <= 1 and band == ("high" if score >= 0.7 else "medium" if score >= 0.4 else "low")
    assert {"high", "medium", "low"} == set(column(churn, "churn_band"))
    assert set(column(churn, "scored_at")) == {DEFAULT_AS_OF - CHURN_SCORED_BEFORE}


def test_email_opt_in_is_set_only_with_an_email(demo: dict[str, DemoTable]) -> None:
    pairs = list(zip(column(demo["users"], "email"), column(demo["users"], "email_opt_in"), strict=True))
    assert all(opt_in is None for email, opt_in in pairs if email is None)
    values = [opt_in for email, opt_in in pairs if email is not None]
    assert 0.5 < values.count(True) / len(values) < 0.85 and values.count(False) and values.count(None)
