"""SPEC 3.4–3.7 edge cases, one test per rule, each run on DuckDB and on fakesnow."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from segsql.compiler import SegmentCompiler
from segsql.engines.base import Adapter
from segsql.run.session import Options, open_session
from tests.conftest import write_project

SOURCES = """
users: {table: main.users, id: external_id, attributes: {country: string}}
events: {table: main.events, user: external_id, name: event_name, time: occurred_at, properties: properties}
purchases: {table: main.purchases, user: external_id, time: purchased_at, product: product_id, price: price, quantity: quantity}
catalogs:
  products: {table: main.products, key: product_id, attributes: {category: string}}
"""
AS_OF = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)  # 21:00 in Seoul
USERS = [("u1", "KR"), ("u2", "JP"), ("u3", None)]


def at(days: float = 0, **kw: float) -> dt.datetime:
    """A naive UTC time relative to AS_OF."""
    return (AS_OF - dt.timedelta(days=days, **kw)).replace(tzinfo=None)


def members(tmp_path: Path, adapter: Adapter, where: str, *, events=(), purchases=(), products=(), timezone: str = "UTC", price: str = "DOUBLE") -> set[str]:
    adapter.load_rows("users", [("external_id", "VARCHAR"), ("country", "VARCHAR")], USERS)
    adapter.load_rows("events", [("external_id", "VARCHAR"), ("event_name", "VARCHAR"), ("occurred_at", "TIMESTAMP"), ("properties", "JSON")],
                      [(u, n, t, json.dumps(p) if p is not None else None) for u, n, t, p in events])
    adapter.load_rows("purchases", [("external_id", "VARCHAR"), ("purchased_at", "TIMESTAMP"), ("product_id", "VARCHAR"), ("price", price), ("quantity", "BIGINT")], list(purchases))
    adapter.load_rows("products", [("product_id", "VARCHAR"), ("category", "VARCHAR")], list(products))
    root = write_project(tmp_path / "p", {
        "segsql_project.yml": f"name: t\ntimezone: {timezone}\n",
        "models/sources.yml": SOURCES,
        "models/s.yml": "segments:\n  - name: s\n    where: " + where + "\n",
    })
    session = open_session(Options(root), AS_OF.isoformat(), need_target=False)
    return {str(r[0]) for r in adapter.fetch(SegmentCompiler(session.definitions, adapter.dialect, session.as_of).members("s"))}


@pytest.fixture
def run(tmp_path: Path, engine: Callable[[], Adapter]) -> Callable[..., set[str]]:
    adapter = engine()
    return lambda where, **kw: members(tmp_path, adapter, where, **kw)


def test_count_lt_includes_users_who_never_did_it(run) -> None:
    events = [("u1", "app_open", at(1), None)] * 3 + [("u2", "app_open", at(1), None)]
    assert run("{event: app_open, count: {lt: 3}}", events=events) == {"u2", "u3"}
    assert run("{event: app_open, count: {equals: 0}}", events=events) == {"u3"}


def test_last_days_starts_at_local_midnight_of_day_n(run) -> None:
    # as_of is 21:00 on Nov 22 in Seoul; day 1 starts at 00:00 Nov 21 Seoul = 15:00 Nov 20 UTC
    start = dt.datetime(2026, 11, 20, 15, 0)
    events = [("u1", "e", start, None), ("u2", "e", start - dt.timedelta(seconds=1), None)]
    assert run("{event: e, within: {last_days: 1}}", events=events, timezone="Asia/Seoul") == {"u1"}
    assert run("{event: e, within: {last_days: 1}}", events=events, timezone="UTC") == set()


def test_last_hours_and_since_until_half_open(run) -> None:
    events = [("u1", "e", at(hours=2), None), ("u2", "e", at(hours=3, seconds=1), None)]
    assert run("{event: e, within: {last_hours: 3}}", events=events) == {"u1"}
    until = at(hours=2).isoformat() + "Z"
    assert run(f"{{event: e, within: {{since: 2026-11-01, until: '{until}'}}}}", events=events) == {"u2"}


def test_events_after_as_of_are_invisible(run) -> None:
    events = [("u1", "e", at(-1), None), ("u2", "e", at(0), None)]
    assert run("{event: e}", events=events) == {"u2"}


def test_aggregates_skip_missing_properties(run) -> None:
    events = [("u1", "v", at(1), {"price": 10}), ("u1", "v", at(1), {"price": "x"}), ("u1", "v", at(1), None), ("u2", "v", at(1), {"other": 1})]
    assert run("{event: v, avg: {property: price, equals: 10}}", events=events) == {"u1"}
    assert run("{event: v, sum: {property: price, lt: 1}}", events=events) == {"u2", "u3"}
    # avg over no values is missing: a positive comparison is false, its negation true
    assert run("{event: v, avg: {property: price, exists: false}}", events=events) == {"u2", "u3"}
    assert run("{event: v, max: {property: price, not_equals: 10}}", events=events) == {"u2", "u3"}


def test_a_number_written_as_a_json_string_is_missing(run) -> None:
    # strict JSON typing: "10" and true are not numbers, so sum, avg and gt skip them
    events = [("u1", "v", at(1), {"price": 10}), ("u1", "v", at(1), {"price": "10"}), ("u2", "v", at(1), {"price": "10"}), ("u3", "v", at(1), {"price": True})]
    assert run("{event: v, sum: {property: price, equals: 10}}", events=events) == {"u1"}
    assert run("{event: v, avg: {property: price, exists: true}}", events=events) == {"u1"}
    assert run("{event: v, where: [{property: price, gt: 5}]}", events=events) == {"u1"}


def test_count_distinct_first_and_last(run) -> None:
    events = [("u1", "v", at(10), {"sku": "a"}), ("u1", "v", at(2), {"sku": "b"}), ("u1", "v", at(1), {"sku": "a"}), ("u2", "v", at(1), {"sku": "a"})]
    assert run("{event: v, count_distinct: {property: sku, gte: 2}}", events=events) == {"u1"}
    assert run("{event: v, first: {more_than_days_ago: 5}}", events=events) == {"u1"}
    assert run("{event: v, last: {less_than_days_ago: 1.5}}", events=events) == {"u1", "u2"}


def test_catalog_condition_needs_a_matching_row(run) -> None:
    products = [("p1", "sneakers"), ("p2", "tech")]
    events = [("u1", "v", at(1), {"product_id": "p1"}), ("u2", "v", at(1), {"product_id": "p2"}), ("u3", "v", at(1), {"product_id": "p9"})]
    where = "{event: v, where: [{property: product_id, catalog: products, where: [{attribute: category, equals: sneakers}]}]}"
    assert run(where, events=events, products=products) == {"u1"}


def test_purchase_revenue_and_count(run) -> None:
    purchases = [("u1", at(1), "p1", 100.0, 2), ("u1", at(1), "p2", 50.0, None), ("u2", at(1), "p1", 100.0, 1)]
    assert run("{purchase: any, revenue: {gte: 250}}", purchases=purchases) == {"u1"}
    assert run("{purchase: p1, count: {equals: 1}}", purchases=purchases) == {"u1", "u2"}
    assert run("{purchase: [p2], count: {gte: 1}}", purchases=purchases) == {"u1"}


def test_sums_are_exact_decimals(run) -> None:
    """SPEC 3.4: 0.10 + 0.20 is 0.30 in revenue, sum, avg and RFM monetary (a DOUBLE sum is
    0.30000000000000004, so before exact sums `revenue: {lte: 0.3}` gave only u2)."""
    cents = [("u1", at(1), "p", Decimal("0.10"), 1), ("u1", at(2), "p", Decimal("0.20"), 1), ("u2", at(1), "p", Decimal("0.30"), 1), ("u3", at(1), "p", Decimal("1.00"), 1)]
    assert run("{purchase: any, revenue: {lte: 0.3}}", purchases=cents, price="DECIMAL") == {"u1", "u2"}
    assert run("{purchase: any, revenue: {equals: 0.3}}", purchases=cents, price="DECIMAL") == {"u1", "u2"}
    # u1 and u2 tie at 0.30: cume_dist 2/3 → monetary 4 each; u3 has 5
    assert run("{rfm: {monetary: {equals: 4}}}", purchases=cents, price="DECIMAL") == {"u1", "u2"}
    events = [("u1", "v", at(1), {"amount": 0.1}), ("u1", "v", at(1), {"amount": 0.2}), ("u2", "v", at(1), {"amount": 0.3}), ("u3", "v", at(1), {"amount": 1})] + [("u3", "v", at(1), {"amount": 0})] * 2
    assert run("{event: v, sum: {property: amount, equals: 0.3}}", events=events) == {"u1", "u2"}
    assert run("{event: v, avg: {property: amount, equals: 0.15}}", events=events) == {"u1"}
    # u3's average is 1/3: compared as sum against value × count, never divided and rounded
    assert run("{event: v, avg: {property: amount, gt: 0.333333, lt: 0.333334}}", events=events) == {"u3"}


def test_each_summand_is_rounded_half_away_from_zero_to_6_places(run) -> None:
    """After price × quantity is multiplied exactly: 0.1234565 × 2 is 0.246913, not 2 × 0.123457."""
    rows = [("u1", at(1), "p", Decimal("0.0000005"), 1), ("u2", at(1), "p", Decimal("0.1234565"), 2), ("u3", at(1), "p", Decimal("-0.0000005"), 3)]
    assert run("{purchase: any, revenue: {equals: 0.000001}}", purchases=rows, price="DECIMAL") == {"u1"}
    assert run("{purchase: any, revenue: {equals: 0.246913}}", purchases=rows, price="DECIMAL") == {"u2"}
    assert run("{purchase: any, revenue: {equals: -0.000002}}", purchases=rows, price="DECIMAL") == {"u3"}
    # a comparison value keeps all its digits: 0.246913 > 0.2469125
    assert run("{purchase: any, revenue: {gt: 0.2469125}}", purchases=rows, price="DECIMAL") == {"u2"}
    events = [("u1", "v", at(1), {"amount": 0.0000005}), ("u2", "v", at(1), {"amount": 0.0000004}), ("u2", "v", at(1), {"amount": 0.0000004})]
    assert run("{event: v, sum: {property: amount, equals: 0.000001}}", events=events) == {"u1"}
    assert run("{event: v, sum: {property: amount, equals: 0}}", events=events) == {"u2", "u3"}


def test_sequence_equal_timestamps_count_as_in_order(run) -> None:
    t = at(1)
    events = [("u1", "cart", t, None), ("u1", "checkout", t, None), ("u2", "checkout", at(2), None), ("u2", "cart", at(1), None)]
    assert run("{sequence: [{event: cart}, {event: checkout}]}", events=events) == {"u1"}


def test_sequence_one_row_never_serves_two_steps(run) -> None:
    events = [("u1", "view", at(1), None), ("u2", "view", at(2), None), ("u2", "view", at(1), None)]
    assert run("{sequence: [{event: view}, {event: view}]}", events=events) == {"u2"}


def test_sequence_gap_limits_and_max_span(run) -> None:
    events = [("u1", "a", at(hours=5), None), ("u1", "b", at(hours=4), None), ("u2", "a", at(hours=5), None), ("u2", "b", at(hours=1), None)]
    assert run("{sequence: [{event: a}, {event: b, within_previous: {hours: 2}}]}", events=events) == {"u1"}
    assert run("{sequence: [{event: a}, {event: b, after_previous: {hours: 2}}]}", events=events) == {"u2"}
    assert run("{sequence: [{event: a}, {event: b}], max_span: {hours: 1}}", events=events) == {"u1"}


def test_then_not_is_bounded_by_as_of(run) -> None:
    events = [("u1", "cart", at(hours=3), None), ("u1", "buy", at(hours=2), None),
              ("u2", "cart", at(hours=3), None), ("u2", "buy", at(hours=-1), None)]
    # u2's purchase comes after as_of, so it is not seen: u2 abandoned as of now
    assert run("{sequence: [{event: cart}], then_not: {event: buy, within_hours: 24}}", events=events) == {"u2"}


def test_then_not_purchase_without_within_hours_looks_up_to_as_of(run) -> None:
    """"Added to cart in the last 3 days and bought nothing since", written directly."""
    events = [("u1", "add_to_cart", at(2), None), ("u2", "add_to_cart", at(2), None), ("u3", "add_to_cart", at(5), None)]
    purchases = [("u2", at(1), "p1", 10.0, 1), ("u1", at(3), "p1", 10.0, 1)]
    where = "{sequence: [{event: add_to_cart}], within: {last_days: 3}, then_not: {purchase: any}}"
    assert run(where, events=events, purchases=purchases) == {"u1"}, "u2 bought after the cart; u1 bought only before; u3 is too old"


def test_a_purchase_step_follows_an_event_step_in_time_order(run) -> None:
    events = [("u1", "product_viewed", at(3), None), ("u2", "product_viewed", at(1), None), ("u3", "product_viewed", at(2), None)]
    purchases = [("u1", at(2), "p1", 5.0, 1), ("u2", at(2), "p1", 5.0, 1), ("u3", at(2), "p2", 5.0, 1)]
    where = "{sequence: [{event: product_viewed}, {purchase: p1, within_previous: {hours: 48}}]}"
    assert run(where, events=events, purchases=purchases) == {"u1"}, "u2 bought before viewing; u3 bought another product"


def test_event_and_purchase_rows_at_one_instant_are_two_rows(run) -> None:
    """An event and a purchase at the same timestamp are distinct rows, in order either way."""
    events = [("u1", "checkout", at(1), None)]
    purchases = [("u1", at(1), "p1", 5.0, 1), ("u2", at(1), "p1", 5.0, 1)]
    assert run("{sequence: [{purchase: any}, {event: checkout}]}", events=events, purchases=purchases) == {"u1"}
    assert run("{sequence: [{purchase: any}, {purchase: any}]}", events=events, purchases=purchases) == set(), "one purchase row cannot serve two steps"


def test_rfm_scores_with_ties(run) -> None:
    purchases = [("u1", at(1), "p", 100.0, 1), ("u1", at(2), "p", 100.0, 1), ("u2", at(1), "p", 10.0, 1), ("u3", at(50), "p", 10.0, 1)]
    # frequency: u1 2 purchases (cume 3/3 → 5), u2 and u3 tie at 1 (cume 2/3 → ceil(3.33) = 4)
    assert run("{rfm: {frequency: {equals: 4}}}", purchases=purchases) == {"u2", "u3"}
    assert run("{rfm: {recency: {equals: 5}, monetary: {equals: 5}}}", purchases=purchases) == {"u1"}
    assert run("{rfm: {recency: {gte: 1}, within: {last_days: 10}}}", purchases=purchases) == {"u1", "u2"}
