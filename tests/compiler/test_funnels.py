"""SPEC 4 funnel rules, one hand case per rule, each on DuckDB, fakesnow and PostgreSQL.

Every case states the furthest steps it expects and also checks the whole result (users,
step times, step table, trends) against `tests/reference_funnels.py`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest

from segsql.engines.base import Adapter
from tests import funnel_harness as H

AS_OF = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
T0 = dt.datetime(2026, 11, 20, 10, 0)  # naive UTC
MIN = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


def ev(user: str, name: str, at: dt.datetime, **props: Any) -> dict:
    return {"external_id": user, "event_name": name, "occurred_at": at, "platform": None, "properties": json.dumps(props) if props else None}


def buy(user: str, at: dt.datetime, product: str = "p1") -> dict:
    return {"external_id": user, "purchased_at": at, "product_id": product, "price": 10.0, "quantity": 1, "properties": None}


USERS = [{"external_id": "u1", "country": "KR", "is_vip": True}, {"external_id": "u2", "country": "JP", "is_vip": False}, {"external_id": "u3", "country": None, "is_vip": None}]


@pytest.fixture
def check(engine: Callable[[], Adapter]) -> Callable[..., dict[str, int]]:
    adapter = engine()

    def run(funnel: dict, events: list[dict] = (), purchases: list[dict] = (), *, timezone: str = "UTC", segments: list[dict] | None = None) -> dict[str, int]:
        funnel = {"name": "f", **funnel}
        tables = {"main.users": USERS, "main.events": list(events), "main.purchases": list(purchases)}
        got = H.on_engine(adapter, [funnel], tables, AS_OF, timezone, segments)["f"]
        want = H.on_reference([funnel], tables, AS_OF, timezone, segments)["f"]
        H.assert_same(got, want, bool(funnel.get("breakdown")))
        run.result = got  # type: ignore[attr-defined]
        return {u: r[0] for u, r in got.users.items()}

    return run


STEPS = [{"event": "view"}, {"event": "cart"}, {"purchase": "any"}]


def test_furthest_step_is_the_largest_step_with_a_path(check) -> None:
    events = [ev("u1", "view", T0), ev("u1", "cart", T0 + MIN), ev("u2", "view", T0), ev("u3", "cart", T0)]
    assert check({"steps": STEPS}, events, [buy("u1", T0 + HOUR)]) == {"u1": 3, "u2": 1}


def test_equal_timestamps_count_as_in_order(check) -> None:
    events = [ev("u1", "cart", T0), ev("u1", "view", T0)]
    assert check({"steps": STEPS}, events, [buy("u1", T0)]) == {"u1": 3}


def test_steps_out_of_order_do_not_count_in_sequential_order(check) -> None:
    events = [ev("u1", "cart", T0), ev("u1", "view", T0 + MIN)]
    assert check({"steps": STEPS}, events) == {"u1": 1}


def test_the_same_event_as_two_steps_needs_two_rows(check) -> None:
    funnel = {"steps": [{"event": "view"}, {"event": "view"}, {"event": "cart"}]}
    events = [ev("u1", "view", T0), ev("u1", "cart", T0 + MIN), ev("u2", "view", T0), ev("u2", "view", T0), ev("u2", "cart", T0)]
    assert check(funnel, events) == {"u1": 1, "u2": 3}


def test_the_same_event_as_two_steps_in_any_order_needs_two_rows(check) -> None:
    funnel = {"order": "any", "steps": [{"event": "view"}, {"event": "view"}]}
    assert check(funnel, [ev("u1", "view", T0), ev("u2", "view", T0), ev("u2", "view", T0 + HOUR)]) == {"u1": 1, "u2": 2}


def test_event_and_purchase_rows_are_distinct(check) -> None:
    funnel = {"steps": [{"event": "view"}, {"purchase": "any"}, {"event": "view"}]}
    assert check(funnel, [ev("u1", "view", T0), ev("u1", "view", T0)], [buy("u1", T0)]) == {"u1": 3}


def test_conversion_window_bounds_the_last_step_inclusively(check) -> None:
    funnel = {"steps": STEPS[:2], "conversion_window": {"hours": 1}}
    events = [ev("u1", "view", T0), ev("u1", "cart", T0 + HOUR), ev("u2", "view", T0), ev("u2", "cart", T0 + HOUR + dt.timedelta(seconds=1))]
    assert check(funnel, events) == {"u1": 2, "u2": 1}


def test_a_later_entry_may_complete_where_the_first_does_not(check) -> None:
    funnel = {"steps": STEPS[:2], "conversion_window": {"hours": 1}}
    events = [ev("u1", "view", T0), ev("u1", "view", T0 + 3 * HOUR), ev("u1", "cart", T0 + 3 * HOUR + MIN)]
    assert check(funnel, events) == {"u1": 2}
    assert check.result.users["u1"][1][0] == (T0 + 3 * HOUR).replace(tzinfo=dt.UTC)  # type: ignore[attr-defined]


def test_step_times_use_the_earliest_entry_then_the_earliest_later_times(check) -> None:
    events = [ev("u1", "view", T0), ev("u1", "view", T0 + MIN), ev("u1", "cart", T0 + 2 * MIN), ev("u1", "cart", T0 + 3 * MIN)]
    check({"steps": STEPS[:2]}, events)
    assert check.result.users["u1"][1] == ((T0).replace(tzinfo=dt.UTC), (T0 + 2 * MIN).replace(tzinfo=dt.UTC))  # type: ignore[attr-defined]


def test_entered_within_bounds_the_first_step(check) -> None:
    funnel = {"steps": STEPS[:2], "entered_within": {"last_days": 1}}
    events = [ev("u1", "view", T0), ev("u1", "cart", T0 + MIN), ev("u2", "view", T0 + DAY + HOUR), ev("u2", "cart", T0 + DAY + 2 * HOUR)]
    assert check(funnel, events) == {"u2": 2}


def test_events_after_as_of_are_not_seen(check) -> None:
    after = AS_OF.replace(tzinfo=None) + MIN
    assert check({"steps": STEPS[:2]}, [ev("u1", "view", T0), ev("u1", "cart", after)]) == {"u1": 1}


def test_strict_order_broken_by_an_unrelated_event(check) -> None:
    funnel = {"order": "strict", "steps": [{"event": "view"}, {"event": "cart"}]}
    events = [ev("u1", "view", T0), ev("u1", "search", T0 + MIN), ev("u1", "cart", T0 + 2 * MIN),
              ev("u2", "view", T0), ev("u2", "search", T0), ev("u2", "cart", T0 + MIN)]
    assert check(funnel, events) == {"u1": 1, "u2": 2}


def test_strict_order_may_start_again_after_a_break(check) -> None:
    funnel = {"order": "strict", "steps": [{"event": "view"}, {"event": "cart"}]}
    events = [ev("u1", "view", T0), ev("u1", "search", T0 + MIN), ev("u1", "view", T0 + 2 * MIN), ev("u1", "cart", T0 + 3 * MIN)]
    assert check(funnel, events) == {"u1": 2}


def test_strict_order_is_not_broken_by_a_purchase(check) -> None:
    funnel = {"order": "strict", "steps": [{"event": "view"}, {"purchase": "any"}, {"event": "cart"}]}
    events = [ev("u1", "view", T0), ev("u1", "cart", T0 + 2 * MIN)]
    assert check(funnel, events, [buy("u1", T0 + MIN), buy("u1", T0 + 30 * dt.timedelta(seconds=1))]) == {"u1": 3}


def test_any_order_counts_steps_in_any_order(check) -> None:
    funnel = {"order": "any", "steps": STEPS, "conversion_window": {"hours": 1}}
    events = [ev("u1", "cart", T0), ev("u1", "view", T0 + MIN), ev("u2", "cart", T0), ev("u2", "view", T0 + 2 * HOUR)]
    assert check(funnel, events, [buy("u1", T0 - MIN)]) == {"u1": 3, "u2": 1}
    assert check.result.users["u1"][1][0] == (T0 - MIN).replace(tzinfo=dt.UTC)  # type: ignore[attr-defined]


def test_within_previous_limits_the_gap_to_the_previous_step(check) -> None:
    funnel = {"steps": [{"event": "view"}, {"event": "cart", "within_previous": {"minutes": 10}}]}
    events = [ev("u1", "view", T0), ev("u1", "cart", T0 + 11 * MIN), ev("u2", "view", T0), ev("u2", "view", T0 + 5 * MIN), ev("u2", "cart", T0 + 11 * MIN)]
    assert check(funnel, events) == {"u1": 1, "u2": 2}


def test_exclusion_strictly_between_steps_voids_the_path(check) -> None:
    funnel = {"steps": STEPS[:2], "exclusions": [{"event": "cart_emptied", "between": [1, 2]}]}
    events = [ev("u1", "view", T0), ev("u1", "cart_emptied", T0 + MIN), ev("u1", "cart", T0 + 2 * MIN),
              ev("u2", "view", T0), ev("u2", "cart_emptied", T0 + MIN), ev("u2", "view", T0 + 2 * MIN), ev("u2", "cart", T0 + 3 * MIN)]
    assert check(funnel, events) == {"u1": 1, "u2": 2}


def test_exclusion_exactly_at_a_steps_timestamp_does_not_void(check) -> None:
    funnel = {"steps": STEPS[:2], "exclusions": [{"event": "cart_emptied", "between": [1, 2]}]}
    events = [ev("u1", "view", T0), ev("u1", "cart_emptied", T0), ev("u1", "cart", T0 + MIN), ev("u1", "cart_emptied", T0 + MIN)]
    assert check(funnel, events) == {"u1": 2}


def test_hold_constant_needs_the_same_value_at_every_step(check) -> None:
    funnel = {"steps": [{"event": "view"}, {"event": "cart"}, {"purchase": "any", "hold": [{"column": "product_id"}]}], "hold_constant": [{"property": "product_id"}]}
    events = [ev("u1", "view", T0, product_id="p1"), ev("u1", "cart", T0 + MIN, product_id="p2"), ev("u1", "view", T0 + 2 * MIN, product_id="p2"),
              ev("u2", "view", T0, product_id="p1"), ev("u2", "view", T0 + MIN, product_id="p2"), ev("u2", "cart", T0 + 2 * MIN, product_id="p2"),
              ev("u3", "view", T0, product_id="p1"), ev("u3", "cart", T0 + MIN, product_id="p1")]
    purchases = [buy("u1", T0 + HOUR, "p2"), buy("u2", T0 + HOUR, "p2"), buy("u3", T0 + HOUR, "p3")]
    assert check(funnel, events, purchases) == {"u1": 1, "u2": 3, "u3": 2}


def test_hold_constant_with_the_value_missing_at_one_step(check) -> None:
    funnel = {"steps": STEPS[:2], "hold_constant": [{"property": "product_id"}]}
    events = [ev("u1", "view", T0, product_id="p1"), ev("u1", "cart", T0 + MIN), ev("u2", "view", T0, product_id=""), ev("u2", "cart", T0 + MIN, product_id="")]
    assert check(funnel, events) == {"u1": 1}


def test_step_where_filters_its_rows(check) -> None:
    funnel = {"steps": [{"event": "view", "where": [{"property": "product_id", "equals": "p1"}]}, {"event": "cart"}]}
    assert check(funnel, [ev("u1", "view", T0, product_id="p2"), ev("u1", "cart", T0 + MIN), ev("u2", "view", T0, product_id="p1")]) == {"u2": 1}


def test_audience_limits_the_users_counted(check) -> None:
    segments = [{"name": "koreans", "where": {"attribute": "country", "equals": "KR"}}]
    assert check({"steps": STEPS[:2], "audience": "koreans"}, [ev("u1", "view", T0), ev("u2", "view", T0)], segments=segments) == {"u1": 1}


def test_breakdown_gives_each_value_its_own_step_rows(check) -> None:
    events = [ev("u1", "view", T0), ev("u1", "cart", T0 + MIN), ev("u2", "view", T0), ev("u3", "view", T0), ev("ghost", "view", T0)]
    check({"steps": STEPS[:2], "breakdown": "country"}, events)
    users = {(r["breakdown"], r["step"]): r["users"] for r in check.result.steps}  # type: ignore[attr-defined]
    assert users == {("KR", 1): 1, ("KR", 2): 1, ("JP", 1): 1, ("JP", 2): 0, (None, 1): 2, (None, 2): 0}


def test_step_table_counts_conversions_and_median_times(check) -> None:
    events = [ev("u1", "view", T0), ev("u1", "cart", T0 + MIN), ev("u2", "view", T0), ev("u2", "cart", T0 + 3 * MIN), ev("u3", "view", T0)]
    check({"steps": STEPS[:2]}, events)
    rows = sorted(check.result.steps, key=lambda r: r["step"])  # type: ignore[attr-defined]
    assert [(r["users"], r["conversion_from_previous"], r["median_seconds_from_previous"]) for r in rows] == [(3, 1.0, None), (2, pytest.approx(2 / 3), 120.0)]


def test_a_funnel_nobody_entered_still_has_a_row_per_step(check) -> None:
    assert check({"steps": STEPS}, []) == {}
    assert [r["users"] for r in sorted(check.result.steps, key=lambda r: r["step"])] == [0, 0, 0]  # type: ignore[attr-defined]


def test_trends_count_entries_by_the_period_of_t1_in_the_project_time_zone(check) -> None:
    funnel = {"steps": STEPS[:2], "trends": {"period": "week"}}
    monday_seoul = dt.datetime(2026, 11, 15, 15, 30)  # 00:30 Monday Nov 16 in Seoul, Sunday in UTC
    events = [ev("u1", "view", monday_seoul), ev("u1", "cart", monday_seoul + MIN), ev("u2", "view", monday_seoul - HOUR)]
    check(funnel, events, timezone="Asia/Seoul")
    assert [(r["entered"], r["completed"]) for r in check.result.trends] == [(1, 0), (1, 1)]  # type: ignore[attr-defined]
