"""Hand-computed checks of the reference evaluator's behavioural leaves (SPEC 3.4 event,
3.5 purchase, 3.6 sequence filters, 3.7 rfm), one test per rule, plus property tests
over `strategies.behaviour_case_strategy`."""

from __future__ import annotations

import copy
import io
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from ruamel.yaml import YAML

try:  # `python -m pytest` from the repository root
    from tests import strategies as S
    from tests.reference import evaluate, rfm_scores, universe
except ImportError:  # pytest's rootdir-less import mode puts tests/ itself on sys.path
    import strategies as S  # type: ignore[no-redef]
    from reference import evaluate, rfm_scores, universe  # type: ignore[no-redef]

AS_OF = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)  # 21:00 on Nov 22 in Seoul
NOW = AS_OF.replace(tzinfo=None)  # time columns hold naive UTC datetimes
SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

PROPERTY_SETTINGS = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# ---------------------------------------------------------------------------------------
# Rows and evaluation


def user(external_id: str, **columns: Any) -> dict:
    row = dict.fromkeys(S.USER_COLUMNS)
    row["external_id"] = external_id
    row.update(columns)
    return row


def ev(external_id: Any, occurred: datetime, name: str = "view", /, *,
       platform: str | None = None, **properties: Any) -> dict:
    """An events row; other keyword arguments become its JSON properties (none: NULL)."""
    return {"external_id": external_id, "event_name": name, "occurred_at": occurred,
            "platform": platform,
            "properties": json.dumps(properties) if properties else None}


def buy(external_id: Any, occurred: datetime, product: str = "p1", /, *,
        price: float | None = 10.0, quantity: int | None = 1, **properties: Any) -> dict:
    """A purchases row; other keyword arguments become its JSON properties."""
    return {"external_id": external_id, "purchased_at": occurred, "product_id": product,
            "price": price, "quantity": quantity,
            "properties": json.dumps(properties) if properties else None}


def product(product_id: str, category: str | None, price: float | None = None) -> dict:
    return {"product_id": product_id, "category": category, "price": price}


CATALOG = [product("p1", "shoes", 25.0), product("p2", "bags", 100.0), product("p3", None)]


def members(
    filter_node: Any,
    *,
    users: list[dict] = (),
    events: list[dict] = (),
    purchases: list[dict] = (),
    products: list[dict] = CATALOG,
    as_of: datetime = AS_OF,
    tz: str = "UTC",
    sources: dict | None = None,
) -> set[str]:
    return evaluate(
        filter_node,
        sources=sources or S.SOURCES,
        tables={S.USERS_TABLE: list(users), S.EVENTS_TABLE: list(events),
                S.PURCHASES_TABLE: list(purchases), S.PRODUCTS_TABLE: list(products)},
        as_of=as_of,
        timezone=tz,
    )


# ---------------------------------------------------------------------------------------
# Words: which rows behaviour filters see


def test_events_seen_have_a_user_id_and_a_time_at_or_before_as_of() -> None:
    events = [ev("at", NOW), ev("after", NOW + SECOND), ev(None, NOW - DAY), ev("", NOW - DAY),
              ev("late", NOW - DAY), ev("late", NOW + DAY)]
    assert members({"event": "view"}, users=[user("after")], events=events) == {"at", "late"}
    assert members({"event": "view", "count": {"equals": 1}}, users=[user("after")],
                   events=events) == {"at", "late"}
    # `until` far in the future does not uncover events after as_of
    assert members({"event": "view", "within": {"until": "2030-01-01"}, "count": {"gte": 2}},
                   users=[user("after")], events=events) == set()


def test_epoch_millis_event_time_column() -> None:
    sources = copy.deepcopy(S.SOURCES)
    sources["events"]["time"] = {"column": "ts", "unit": "epoch_millis"}
    as_of_ms = int(AS_OF.timestamp()) * 1000
    events = [{"external_id": user_id, "event_name": "view", "ts": ts, "platform": None,
               "properties": None}
              for user_id, ts in (("edge", as_of_ms - 3_600_000), ("out", as_of_ms - 3_600_001),
                                  ("later", as_of_ms + 1))]
    assert members({"event": "view", "within": {"last_hours": 1}}, events=events,
                   sources=sources) == {"edge"}
    assert members({"event": "view", "where": [{"column": "ts", "after": "2026-11-22T11:00:00Z"}]},
                   events=events, sources=sources) == set()
    assert members({"event": "view", "where": [{"column": "ts", "after": "2026-11-22T10:59:59Z"}]},
                   events=events, sources=sources) == {"edge", "out"}


# ---------------------------------------------------------------------------------------
# 3.4 event filter: names, default measure, users without events


def test_event_name_matches_exactly_and_a_list_means_any_of_them() -> None:
    events = [ev("v", NOW, "view"), ev("V", NOW, "View"), ev("c", NOW, "cart")]
    assert members({"event": "view"}, events=events) == {"v"}
    assert members({"event": ["view", "cart"]}, events=events) == {"v", "c"}


def test_no_measure_means_count_gte_1() -> None:
    events = [ev("one", NOW), ev("other", NOW, "cart")]
    assert members({"event": "view"}, users=[user("none")], events=events) \
        == members({"event": "view", "count": {"gte": 1}}, users=[user("none")],
                   events=events) == {"one"}


def test_count_lt_3_includes_users_who_never_did_the_event() -> None:
    users = [user("no_events"), user("two"), user("three")]
    events = [ev("two", NOW), ev("two", NOW), ev("three", NOW), ev("three", NOW - HOUR),
              ev("three", NOW - DAY), ev("carts", NOW, "cart")]
    purchases = [buy("buyer", NOW)]
    assert members({"event": "view", "count": {"lt": 3}}, users=users, events=events,
                   purchases=purchases) == {"no_events", "two", "carts", "buyer"}


def test_count_equals_0_is_every_user_without_the_event() -> None:
    users = [user("no_events"), user("viewer")]
    events = [ev("viewer", NOW), ev("carts", NOW, "cart"), ev("later", NOW + SECOND)]
    assert members({"event": "view", "count": {"equals": 0}}, users=users, events=events) \
        == {"no_events", "carts"}
    assert members({"not": {"event": "view"}}, users=users, events=events) \
        == {"no_events", "carts"}


# ---------------------------------------------------------------------------------------
# 3.4 windows


def test_last_days_spans_calendar_days_in_the_project_time_zone() -> None:
    # as_of = 2026-11-22T12:00Z = 21:00 on Nov 22 in Seoul (+09). Day 1 in Seoul is Nov 21:
    # it starts at 2026-11-21T00:00+09 = 2026-11-20T15:00Z.
    events = [
        ev("day2_end", datetime(2026, 11, 20, 14, 59, 59)),  # 23:59:59 Nov 20 in Seoul
        ev("day1_start", datetime(2026, 11, 20, 15, 0, 0)),  # 00:00:00 Nov 21 in Seoul
        ev("utc_day1", datetime(2026, 11, 21, 0, 0, 0)),  # 00:00 Nov 21 UTC, 09:00 Seoul
        ev("day0_start", datetime(2026, 11, 21, 15, 0, 0)),  # 00:00 Nov 22 in Seoul
        ev("at_as_of", NOW),
    ]
    def window(days: int, tz: str) -> set[str]:
        return members({"event": "view", "within": {"last_days": days}}, events=events, tz=tz)

    assert window(1, "Asia/Seoul") == {"day1_start", "utc_day1", "day0_start", "at_as_of"}
    assert window(2, "Asia/Seoul") == {"day2_end", "day1_start", "utc_day1", "day0_start",
                                       "at_as_of"}
    assert window(0, "Asia/Seoul") == {"day0_start", "at_as_of"}
    # the same events in UTC: day 1 starts at 2026-11-21T00:00Z
    assert window(1, "UTC") == {"utc_day1", "day0_start", "at_as_of"}
    assert window(0, "UTC") == {"at_as_of"}


def test_last_days_in_new_york_across_the_end_of_dst() -> None:
    # as_of = 2026-11-02T04:30Z = 23:30 on Nov 1 in New York (EST since 06:00Z that day).
    # Day 1 = Oct 31, which starts at 00:00 EDT (-04) = 2026-10-31T04:00Z.
    as_of = datetime(2026, 11, 2, 4, 30, tzinfo=UTC)
    events = [ev("before", datetime(2026, 10, 31, 3, 59, 59)),
              ev("start", datetime(2026, 10, 31, 4, 0, 0))]
    assert members({"event": "view", "within": {"last_days": 1}}, events=events, as_of=as_of,
                   tz="America/New_York") == {"start"}


def test_last_hours_is_as_of_minus_n_hours_to_as_of_inclusive() -> None:
    events = [ev("edge", NOW - 24 * HOUR), ev("outside", NOW - 24 * HOUR - SECOND),
              ev("now", NOW), ev("after", NOW + SECOND)]
    assert members({"event": "view", "within": {"last_hours": 24}}, events=events) \
        == {"edge", "now"}
    assert members({"event": "view", "within": {"last_hours": 0}}, events=events) == {"now"}


def test_since_until_is_half_open_and_reads_dates_in_the_project_zone() -> None:
    events = [ev("t1", datetime(2026, 11, 20, 0, 0)), ev("t1-1s", datetime(2026, 11, 19, 23, 59, 59)),
              ev("t2", datetime(2026, 11, 21, 0, 0)), ev("t2-1s", datetime(2026, 11, 20, 23, 59, 59))]
    node = {"event": "view", "within": {"since": "2026-11-20", "until": "2026-11-21"}}
    assert members(node, events=events) == {"t1", "t2-1s"}
    # in Seoul the dates start 9 hours earlier: [2026-11-19T15:00Z, 2026-11-20T15:00Z)
    assert members(node, events=events, tz="Asia/Seoul") == {"t1", "t1-1s"}
    assert members({"event": "view", "within": {"since": "2026-11-20T00:00:00Z"}},
                   events=events) == {"t1", "t2", "t2-1s"}
    assert members({"event": "view", "within": {"until": "2026-11-20T00:00:00Z"}},
                   events=events) == {"t1-1s"}


# ---------------------------------------------------------------------------------------
# 3.4 where: properties, columns, catalogs


def test_property_type_comes_from_type_then_operator_then_value() -> None:
    events = [ev("ten", NOW, amount=10), ev("text", NOW, amount="10"), ev("none", NOW),
              ev("half", NOW, amount=2.5)]
    def where(condition: dict) -> set[str]:
        return members({"event": "view", "where": [condition]}, events=events)

    assert where({"property": "amount", "gt": 5}) == {"ten"}  # gt: number
    assert where({"property": "amount", "equals": 10}) == {"ten"}  # 10: number
    assert where({"property": "amount", "equals": "10"}) == {"text"}  # "10": string
    assert where({"property": "amount", "in": [2.5, 7]}) == {"half"}  # first element
    assert where({"property": "amount", "exists": True}) == {"text"}  # exists: string
    assert where({"property": "amount", "type": "number", "exists": True}) == {"ten", "half"}
    assert where({"property": "amount", "contains": "1"}) == {"text"}  # contains: string


def test_property_missing_negative_operators_and_or_missing() -> None:
    events = [ev("ios", NOW, os="ios"), ev("web", NOW, os="web"), ev("none", NOW),
              ev("number", NOW, os=5)]
    assert members({"event": "view", "where": [{"property": "os", "not_equals": "ios"}]},
                   events=events) == {"web", "none", "number"}
    assert members({"event": "view", "where": [{"property": "os", "equals": "ios",
                                                "or_missing": True}]},
                   events=events) == {"ios", "none", "number"}


def test_property_dotted_path_booleans_times_and_arrays() -> None:
    events = [
        ev("ad", NOW, ctx={"source": "ad"}, new=True, tags=["a", "b"],
           at="2026-11-21T00:00:00Z"),
        ev("flat", NOW, ctx="ad", new="true", tags="a", at="2026-11-21T00:00:00"),
        ev("late", NOW, at="2026-11-21T09:00:00+09:00", tags=[5]),
    ]
    def where(condition: dict) -> set[str]:
        return members({"event": "view", "where": [condition]}, events=events)

    assert where({"property": "ctx.source", "equals": "ad"}) == {"ad"}
    assert where({"property": "new", "equals": True}) == {"ad"}  # strict: "true" is not
    assert where({"property": "tags", "includes": "a"}) == {"ad"}
    assert where({"property": "tags", "includes": 5}) == {"late"}  # elements as strings
    # naive ISO is UTC; +09:00 is absolute
    assert where({"property": "at", "after": "2026-11-20T23:59:59Z"}) == {"ad", "flat", "late"}
    assert where({"property": "at", "before": "2026-11-21T00:00:01Z"}) \
        == {"ad", "flat", "late"}


def test_column_condition_reads_a_real_column_of_the_events_table() -> None:
    events = [ev("ios", NOW, platform="ios"), ev("null", NOW),
              ev("old", NOW - 3 * DAY, platform="web")]
    assert members({"event": "view", "where": [{"column": "platform", "equals": "ios"}]},
                   events=events) == {"ios"}
    assert members({"event": "view", "where": [{"column": "platform", "not_equals": "ios"}]},
                   events=events) == {"null", "old"}
    assert members({"event": "view", "where": [{"column": "occurred_at",
                                                "more_than_days_ago": 2}]},
                   events=events) == {"old"}


def test_where_conditions_hold_on_one_occurrence() -> None:
    # user split has the two properties on two different rows: no row has both
    events = [ev("both", NOW, os="ios", amount=10), ev("split", NOW, os="ios"),
              ev("split", NOW, amount=10)]
    node = {"event": "view", "where": [{"property": "os", "equals": "ios"},
                                       {"property": "amount", "gte": 10}]}
    assert members(node, events=events) == {"both"}


def test_catalog_condition_true_false_and_missing_row() -> None:
    events = [ev("shoes", NOW, product_id="p1"), ev("bags", NOW, product_id="p2"),
              ev("no_row", NOW, product_id="p9"), ev("number", NOW, product_id=1),
              ev("no_property", NOW), ev("null_category", NOW, product_id="p3")]
    def catalog(*filters: dict) -> set[str]:
        condition: dict[str, Any] = {"property": "product_id", "catalog": "products"}
        if filters:
            condition["where"] = list(filters)
        return members({"event": "view", "where": [condition]}, events=events,
                       products=[*CATALOG, product("1", "shoes")])

    assert catalog({"attribute": "category", "equals": "shoes"}) == {"shoes"}
    assert catalog({"attribute": "category", "not_equals": "shoes"}) == {"bags", "null_category"}
    assert catalog({"attribute": "list_price", "gte": 25}) == {"shoes", "bags"}
    assert catalog({"attribute": "list_price", "lt": 50, "or_missing": True}) \
        == {"shoes", "null_category"}
    assert catalog() == {"shoes", "bags", "null_category"}  # the row exists


def test_negated_catalog_condition_is_true_only_for_other_occurrences() -> None:
    events = [ev("shoes", NOW, product_id="p1"), ev("no_row", NOW, product_id="p9")]
    node = {"event": "view", "count": {"equals": 0},
            "where": [{"property": "product_id", "catalog": "products",
                       "where": [{"attribute": "category", "equals": "shoes"}]}]}
    assert members(node, users=[user("none")], events=events) == {"none", "no_row"}


# ---------------------------------------------------------------------------------------
# 3.4 measures


AMOUNT_EVENTS = [ev("a", NOW, amount=10), ev("a", NOW, amount=2.5), ev("a", NOW),
                 ev("a", NOW, amount="100"), ev("a", NOW, amount=None),
                 ev("no_amount", NOW), ev("no_amount", NOW, amount="7")]


@pytest.mark.parametrize(("measure", "comparison", "expected"), [
    ("sum", {"equals": 12.5}, {"a"}),
    ("avg", {"equals": 6.25}, {"a"}),
    ("min", {"equals": 2.5}, {"a"}),
    ("max", {"equals": 10}, {"a"}),
    ("count", {"equals": 5}, {"a"}),  # count counts occurrences, with or without amount
])
def test_aggregates_skip_occurrences_whose_property_is_missing(
    measure: str, comparison: dict, expected: set[str]
) -> None:
    spec = comparison if measure == "count" else {"property": "amount", **comparison}
    assert members({"event": "view", measure: spec}, events=AMOUNT_EVENTS) == expected


def test_over_no_values_sum_is_0_and_avg_min_max_are_missing() -> None:
    users = [user("never")]
    for measure in ("avg", "min", "max"):
        node = {"event": "view", measure: {"property": "amount", "gte": -1000}}
        assert members(node, users=users, events=AMOUNT_EVENTS) == {"a"}
        node = {"event": "view", measure: {"property": "amount", "not_equals": 1}}
        assert members(node, users=users, events=AMOUNT_EVENTS) == {"a", "never", "no_amount"}
        node = {"event": "view", measure: {"property": "amount", "exists": False}}
        assert members(node, users=users, events=AMOUNT_EVENTS) == {"never", "no_amount"}
    node = {"event": "view", "sum": {"property": "amount", "equals": 0}}
    assert members(node, users=users, events=AMOUNT_EVENTS) == {"never", "no_amount"}


def test_count_distinct_counts_distinct_non_missing_values() -> None:
    events = [ev("u", NOW, product_id="p1"), ev("u", NOW, product_id="p1"),
              ev("u", NOW, product_id="p2"), ev("u", NOW, product_id=3), ev("u", NOW),
              ev("u", NOW, product_id=""),
              ev("v", NOW, product_id=3), ev("v", NOW, product_id=3.0)]
    def distinct(**spec: Any) -> set[str]:
        return members({"event": "view", "count_distinct": spec}, users=[user("none")],
                       events=events)

    assert distinct(property="product_id", equals=3) == {"u"}  # p1, p2 and ''
    assert distinct(property="product_id", equals=0) == {"v", "none"}
    assert distinct(property="product_id", type="number", equals=1) == {"u", "v"}


def test_first_and_last_are_the_earliest_and_latest_matching_times() -> None:
    events = [ev("u", NOW - 10 * DAY), ev("u", NOW - DAY), ev("u", NOW - 20 * DAY, "cart"),
              ev("recent", NOW - HOUR)]
    users = [user("never")]
    def when(node: dict) -> set[str]:
        return members({"event": "view", **node}, users=users, events=events)

    assert when({"first": {"more_than_days_ago": 7}}) == {"u"}
    assert when({"first": {"more_than_days_ago": 15}}) == set()  # the cart is another event
    assert when({"last": {"less_than_days_ago": 2}}) == {"u", "recent"}
    assert when({"last": {"before": "2026-11-22"}}) == {"u"}
    assert when({"first": {"exists": False}}) == {"never"}
    assert when({"last": {"after": "2000-01-01"}}) == {"u", "recent"}


def test_several_measures_are_anded() -> None:
    events = [ev("a", NOW, amount=10), ev("a", NOW, amount=10), ev("b", NOW, amount=50)]
    node = {"event": "view", "count": {"gte": 2}, "sum": {"property": "amount", "gte": 20}}
    assert members(node, events=events) == {"a"}
    node = {"event": "view", "count": {"lt": 2}, "sum": {"property": "amount", "gte": 20}}
    assert members(node, events=events) == {"b"}


# ---------------------------------------------------------------------------------------
# 3.5 purchase filter


def test_purchase_any_an_id_or_a_list_of_ids() -> None:
    purchases = [buy("p1", NOW, "p1"), buy("p2", NOW, "p2"), buy("p3", NOW, "p3")]
    assert members({"purchase": "any"}, users=[user("none")], purchases=purchases) \
        == {"p1", "p2", "p3"}
    assert members({"purchase": "p2"}, purchases=purchases) == {"p2"}
    assert members({"purchase": ["p1", "p3", "p9"]}, purchases=purchases) == {"p1", "p3"}


def test_revenue_is_price_times_quantity_with_quantity_defaulting_to_1() -> None:
    purchases = [buy("u", NOW, price=10.0, quantity=None), buy("u", NOW, price=2.5, quantity=2),
                 buy("u", NOW, price=None, quantity=3), buy("free", NOW, price=None)]
    users = [user("none")]
    assert members({"purchase": "any", "revenue": {"equals": 15}}, users=users,
                   purchases=purchases) == {"u"}
    assert members({"purchase": "any", "revenue": {"equals": 0}}, users=users,
                   purchases=purchases) == {"free", "none"}
    # count counts rows, not quantities
    assert members({"purchase": "any", "count": {"equals": 3}}, purchases=purchases) == {"u"}
    sources = copy.deepcopy(S.SOURCES)
    del sources["purchases"]["quantity"]  # no quantity column: every row counts once
    assert members({"purchase": "any", "revenue": {"equals": 12.5}}, purchases=purchases,
                   sources=sources) == {"u"}


def test_money_is_exact_decimal_arithmetic() -> None:
    """SPEC 3.4: 0.10 + 0.20 is 0.30 (floating point says 0.30000000000000004), in revenue,
    sum, avg and rfm monetary; each summand is rounded half away from zero to 6 places after
    price × quantity is multiplied exactly; comparison values keep every digit."""
    cents = [buy("a", NOW, price=Decimal("0.10")), buy("a", NOW, price=Decimal("0.20")),
             buy("b", NOW, price=Decimal("0.30")), buy("c", NOW, price=1.0)]
    assert members({"purchase": "any", "revenue": {"lte": 0.3}}, purchases=cents) == {"a", "b"}
    assert members({"rfm": {"monetary": {"equals": 4}}}, purchases=cents) == {"a", "b"}
    events = [ev("a", NOW, amount=0.1), ev("a", NOW, amount=0.2), ev("b", NOW, amount=0.3),
              ev("c", NOW, amount=1), ev("c", NOW, amount=0), ev("c", NOW, amount=0)]
    assert members({"event": "view", "sum": {"property": "amount", "equals": 0.3}},
                   events=events) == {"a", "b"}
    assert members({"event": "view", "avg": {"property": "amount", "equals": 0.15}},
                   events=events) == {"a"}
    assert members({"event": "view", "avg": {"property": "amount", "gt": 0.333333,
                                             "lt": 0.333334}}, events=events) == {"c"}
    halves = [buy("up", NOW, price=Decimal("0.0000005")),
              buy("line", NOW, price=Decimal("0.1234565"), quantity=2),
              buy("down", NOW, price=Decimal("-0.0000005"), quantity=3)]
    assert members({"purchase": "any", "revenue": {"equals": 0.000001}}, purchases=halves) == {"up"}
    assert members({"purchase": "any", "revenue": {"equals": 0.246913}},
                   purchases=halves) == {"line"}
    assert members({"purchase": "any", "revenue": {"equals": -0.000002}},
                   purchases=halves) == {"down"}
    assert members({"purchase": "any", "revenue": {"gt": 0.2469125}}, purchases=halves) == {"line"}


def test_purchase_where_columns_properties_and_catalog() -> None:
    purchases = [buy("cheap", NOW, "p1", price=2.5), buy("bag", NOW, "p2", price=100.0),
                 buy("coupon", NOW, "p9", coupon="SAVE10"), buy("num", NOW, "p9", coupon=10)]
    def where(*conditions: dict) -> set[str]:
        return members({"purchase": "any", "where": list(conditions)}, purchases=purchases)

    assert where({"column": "price", "lt": 5}) == {"cheap"}
    assert where({"property": "coupon", "exists": True}) == {"coupon"}
    assert where({"column": "product_id", "catalog": "products",
                  "where": [{"attribute": "category", "equals": "bags"}]}) == {"bag"}
    assert where({"column": "product_id", "catalog": "products"}) == {"cheap", "bag"}


def test_purchase_measures_first_last_and_windows() -> None:
    purchases = [buy("u", NOW - 40 * DAY, discount=5), buy("u", NOW - HOUR, discount=2.5),
                 buy("old", NOW - 40 * DAY)]
    users = [user("none")]
    assert members({"purchase": "any", "within": {"last_days": 30}}, users=users,
                   purchases=purchases) == {"u"}
    assert members({"purchase": "any", "first": {"more_than_days_ago": 30},
                    "last": {"less_than_days_ago": 1}}, purchases=purchases) == {"u"}
    assert members({"purchase": "any", "max": {"property": "discount", "equals": 5}},
                   purchases=purchases) == {"u"}
    assert members({"purchase": "any", "count_distinct": {"property": "discount",
                                                           "type": "number", "equals": 0}},
                   users=users, purchases=purchases) == {"old", "none"}


# ---------------------------------------------------------------------------------------
# 3.6 sequence filter

VIEW_CART = [{"event": "view"}, {"event": "cart"}]


def test_sequence_needs_the_steps_in_order_and_equal_timestamps_are_in_order() -> None:
    events = [ev("ordered", NOW - HOUR), ev("ordered", NOW, "cart"),
              ev("tie", NOW, "cart"), ev("tie", NOW),  # same instant, cart row first
              ev("reversed", NOW - HOUR, "cart"), ev("reversed", NOW)]
    assert members({"sequence": VIEW_CART}, events=events) == {"ordered", "tie"}


def test_sequence_steps_use_distinct_rows() -> None:
    events = [ev("one", NOW), ev("two", NOW), ev("two", NOW),
              ev("list", NOW)]
    assert members({"sequence": [{"event": "view"}, {"event": "view"}]}, events=events) \
        == {"two"}
    # one row matching both steps' names still serves only one of them
    assert members({"sequence": [{"event": ["view", "cart"]}, {"event": "view"}]},
                   events=events) == {"two"}


def test_sequence_within_previous_and_after_previous() -> None:
    events = [ev("1h", NOW - 2 * HOUR), ev("1h", NOW - HOUR, "cart"),
              ev("3h", NOW - 4 * HOUR), ev("3h", NOW - HOUR, "cart"),
              ev("0", NOW), ev("0", NOW, "cart")]
    steps_within = [{"event": "view"}, {"event": "cart", "within_previous": {"hours": 1}}]
    assert members({"sequence": steps_within}, events=events) == {"1h", "0"}
    steps_after = [{"event": "view"}, {"event": "cart", "after_previous": {"minutes": 60}}]
    assert members({"sequence": steps_after}, events=events) == {"1h", "3h"}
    steps_both = [{"event": "view"},
                  {"event": "cart", "within_previous": {"hours": 2}, "after_previous": {"hours": 1}}]
    assert members({"sequence": steps_both}, events=events) == {"1h"}


def test_sequence_max_span_limits_last_minus_first() -> None:
    events = [ev("24h", NOW - 24 * HOUR), ev("24h", NOW - 12 * HOUR, "cart"),
              ev("24h", NOW, "checkout"),
              ev("25h", NOW - 25 * HOUR), ev("25h", NOW - 12 * HOUR, "cart"),
              ev("25h", NOW, "checkout")]
    node = {"sequence": [*VIEW_CART, {"event": "checkout"}], "max_span": {"days": 1}}
    assert members(node, events=events) == {"24h"}
    # a later first step can rescue the span
    events.append(ev("25h", NOW - 13 * HOUR))
    assert members(node, events=events) == {"24h", "25h"}


def test_sequence_within_applies_to_the_first_step() -> None:
    events = [ev("old_start", NOW - 3 * DAY), ev("old_start", NOW, "cart"),
              ev("new_start", NOW - HOUR), ev("new_start", NOW, "cart")]
    node = {"sequence": VIEW_CART, "within": {"last_days": 1}}
    assert members(node, events=events) == {"new_start"}


def test_then_not_window_is_after_the_last_step_and_bounded_by_as_of() -> None:
    tk = NOW - 2 * HOUR
    events = [
        ev("clean", tk),
        ev("blocked", tk), ev("blocked", tk + HOUR, "cart"),
        ev("same_instant", tk), ev("same_instant", tk, "cart"),  # not strictly after tk
        ev("late", tk), ev("late", tk + 3 * HOUR, "cart"),  # after as_of: never seen
        ev("edge", NOW - 30 * HOUR), ev("edge", NOW - 6 * HOUR, "cart"),  # tk + 24 h
        ev("past_edge", NOW - 30 * HOUR), ev("past_edge", NOW - 6 * HOUR + SECOND, "cart"),
    ]
    node = {"sequence": [{"event": "view"}], "then_not": {"event": "cart", "within_hours": 24}}
    assert members(node, events=events) == {"clean", "same_instant", "late", "past_edge"}


def test_then_not_holds_if_any_path_avoids_it() -> None:
    events = [ev("u", NOW - 5 * HOUR), ev("u", NOW - 4 * HOUR, "cart"),
              ev("u", NOW - 3 * HOUR),  # a second path starting here has no cart after it
              ev("w", NOW - 5 * HOUR), ev("w", NOW - 4 * HOUR, "cart")]
    node = {"sequence": [{"event": "view"}], "then_not": {"event": "cart", "within_hours": 24}}
    assert members(node, events=events) == {"u"}
    node = {"sequence": [{"event": "view"}],
            "then_not": {"event": "cart", "within_hours": 24,
                         "where": [{"property": "amount", "exists": True, "type": "number"}]}}
    assert members(node, events=events) == {"u", "w"}


def test_sequence_step_where_filters_its_occurrences() -> None:
    events = [ev("u", NOW - HOUR, query="sneakers"), ev("u", NOW, "cart"),
              ev("w", NOW - HOUR, query="bags"), ev("w", NOW, "cart")]
    node = {"sequence": [{"event": "view", "where": [{"property": "query",
                                                      "matches_regex": "(?i)sneaker"}]},
                         {"event": "cart"}]}
    assert members(node, events=events) == {"u"}


# ---------------------------------------------------------------------------------------
# 3.7 rfm


def test_rfm_scores_are_ceil_5_times_cume_dist_with_ties_sharing_a_score() -> None:
    # 4 values: cume_dist 1/4, 3/4, 3/4, 1 -> ceil(1.25), ceil(3.75), ceil(3.75), ceil(5)
    assert rfm_scores({"a": 1, "b": 2, "c": 2, "d": 3}) == {"a": 2, "b": 4, "c": 4, "d": 5}
    assert rfm_scores({"a": 7}) == {"a": 5}
    assert rfm_scores({"a": 1, "b": 1}) == {"a": 5, "b": 5}
    # 10 values: the two smallest get 1
    assert rfm_scores({str(i): i for i in range(10)})["1"] == 1


def test_rfm_frequency_recency_monetary() -> None:
    purchases = [
        buy("a", NOW - 10 * DAY, price=100.0),
        buy("b", NOW - 5 * DAY, price=1.0), buy("b", NOW - 4 * DAY, price=1.0),
        buy("c", NOW - 3 * DAY, price=1.0), buy("c", NOW - 2 * DAY, price=1.0),
        buy("d", NOW - DAY, price=10.0, quantity=2), buy("d", NOW - DAY, price=None),
        buy("d", NOW - DAY, price=10.0),
    ]
    users = [user("none")]
    def rfm(**spec: Any) -> set[str]:
        return members({"rfm": spec}, users=users, purchases=purchases)

    # frequency 1, 2, 2, 3 -> 2, 4, 4, 5
    assert rfm(frequency={"gte": 4}) == {"b", "c", "d"}
    assert rfm(frequency={"equals": 2}) == {"a"}
    # last purchase a -10d, b -4d, c -2d, d -1d -> 2, 3, 4, 5 (4 users: ceil(5k/4))
    assert rfm(recency={"equals": 3}) == {"b"}
    assert rfm(recency={"gte": 4}) == {"c", "d"}
    # revenue a 100, b 2, c 2, d 30 -> 5, 3, 3, 4 (b, c tie: cume_dist 2/4 -> 3)
    assert rfm(monetary={"equals": 3}) == {"b", "c"}
    assert rfm(monetary={"equals": 5}) == {"a"}
    assert rfm(recency={"gte": 4}, monetary={"gte": 4}) == {"d"}
    assert rfm() == {"a", "b", "c", "d"}  # every part omitted: every user with scores


def test_rfm_users_without_purchases_in_the_window_are_false_for_every_comparison() -> None:
    purchases = [buy("new", NOW - DAY), buy("old", NOW - 400 * DAY)]
    users = [user("none")]
    def rfm(**spec: Any) -> set[str]:
        return members({"rfm": spec}, users=users, purchases=purchases)

    assert rfm(recency={"not_equals": 1}) == {"new"}  # default window: last 365 days
    assert rfm(frequency={"exists": False}) == set()
    assert rfm(frequency={"lte": 5}, within={"last_days": 500}) == {"new", "old"}
    # old alone in the window since 2025: it gets every top score
    assert rfm(monetary={"equals": 5}, within={"until": "2026-01-01"}) == {"old"}


# ---------------------------------------------------------------------------------------
# errors


@pytest.mark.parametrize("node", [
    {"event": "view", "bogus": 1},
    {"event": []},
    {"event": "view", "where": []},
    {"event": "view", "where": {"property": "a", "equals": 1}},
    {"event": "view", "where": [{"property": "a"}]},
    {"event": "view", "where": [{"property": "a", "column": "platform", "equals": 1}]},
    {"event": "view", "where": [{"property": "a", "gt": 1, "contains": "x"}]},
    {"event": "view", "where": [{"property": "a", "in": [True]}]},  # boolean has no `in`
    {"event": "view", "where": [{"property": "a", "type": "number", "matches_regex": "x"}]},
    {"event": "view", "where": [{"property": "a", "in": []}]},
    {"event": "view", "where": [{"property": "product_id", "catalog": "nope"}]},
    {"event": "view", "where": [{"property": "product_id", "catalog": "products",
                                 "where": [{"attribute": "brand", "exists": True}]}]},
    {"event": "view", "where": [{"property": "product_id", "catalog": "products",
                                 "where": [{"any": [{"attribute": "category",
                                                     "exists": True}]}]}]},
    {"event": "view", "where": [{"property": "product_id", "catalog": "products",
                                 "where": []}]},
    {"event": "view", "count": {"contains": 1}},
    {"event": "view", "count": {}},
    {"event": "view", "count": {"in": []}},
    {"event": "view", "sum": {"gte": 1}},
    {"event": "view", "avg": {"property": "amount"}},
    {"event": "view", "count_distinct": {"property": "tags", "type": "array", "gte": 1}},
    {"event": "view", "first": {"gte": 1}},
    {"event": "view", "revenue": {"gte": 1}},
    {"event": "view", "within": {}},
    {"event": "view", "within": None},
    {"event": "view", "within": {"last_days": -1}},
    {"event": "view", "within": {"last_days": 1.5}},
    {"event": "view", "within": {"last_hours": -1}},
    {"event": "view", "within": {"last_days": 1, "last_hours": 2}},
    {"event": "view", "within": {"since": "yesterday"}},
    {"purchase": []},
    {"purchase": "any", "where": [{"property": "coupon", "starts_with": "S", "gt": 1}]},
    {"sequence": []},
    {"sequence": [{"event": "view", "within_previous": {"hours": 1}}]},
    {"sequence": [{"event": "view"}, {"event": "cart", "within_previous": {"weeks": 1}}]},
    {"sequence": [{"event": "view"}, {"event": "cart", "after_previous": {"hours": -1}}]},
    {"sequence": [{"event": "view"}], "max_span": {}},
    {"sequence": [{"event": "view"}], "then_not": {"event": "cart", "purchase": "any"}},
    {"sequence": [{"event": "view", "purchase": "p1"}]},
    {"sequence": [{"event": "view"}], "then_not": {"event": "cart", "within_hours": -2}},
    {"sequence": [{"event": "view", "count": {"gte": 1}}]},
    {"sequence": [{"where": [{"property": "a", "exists": True}]}]},
    {"rfm": {"recency": {"matches_regex": "x"}}},
    {"rfm": {"loyalty": {"gte": 1}}},
    {"rfm": None},
    {"rfm": {"recency": {"gte": 1}}, "within": {"last_days": 30}},
])
def test_behaviour_errors(node: dict) -> None:
    with pytest.raises(ValueError):
        members(node)


def test_property_needs_a_properties_column_in_sources() -> None:
    sources = copy.deepcopy(S.SOURCES)
    del sources["events"]["properties"]
    with pytest.raises(ValueError, match="properties"):
        members({"event": "view", "where": [{"property": "a", "exists": True}]},
                sources=sources)
    del sources["catalogs"]
    with pytest.raises(ValueError, match="catalog"):
        members({"event": "view", "where": [{"column": "product_id", "catalog": "products"}]},
                sources=sources)


# ---------------------------------------------------------------------------------------
# Properties over the strategies


def _evaluate_case(case: dict, filter_node: Any) -> set[str]:
    return evaluate(filter_node, sources=case["sources"], tables=case["tables"],
                    as_of=case["as_of"], timezone=case["timezone"],
                    bucket_salt=case["bucket_salt"])


@PROPERTY_SETTINGS
@given(case=S.behaviour_case_strategy())
def test_random_behaviour_cases_evaluate_without_error(case: dict) -> None:
    people = universe(case["sources"], case["tables"], case["as_of"])
    result = _evaluate_case(case, case["filter"])
    assert result <= people
    assert _evaluate_case(case, {"not": case["filter"]}) == people - result


@PROPERTY_SETTINGS
@given(case=S.behaviour_case_strategy(max_depth=0))
def test_behaviour_leaf_identities(case: dict) -> None:
    """count lt k is the complement of count gte k; a one-step sequence is its event
    filter; a purchase filter's count equals the count of its rows."""
    leaf = case["filter"]
    people = universe(case["sources"], case["tables"], case["as_of"])
    if "event" in leaf:
        base = {key: leaf[key] for key in ("event", "where", "within") if key in leaf}
        assert _evaluate_case(case, {**base, "count": {"lt": 2}}) \
            == people - _evaluate_case(case, {**base, "count": {"gte": 2}})
        as_sequence = {"sequence": [{key: base[key] for key in ("event", "where")
                                     if key in base}]}
        if "within" in base:
            as_sequence["within"] = base["within"]
        assert _evaluate_case(case, as_sequence) == _evaluate_case(case, base)
    if "sequence" in leaf and "then_not" not in leaf and "max_span" not in leaf:
        # dropping a step can only let more users through
        steps = leaf["sequence"]
        if len(steps) > 1:
            shorter = {**leaf, "sequence": steps[:-1]}
            assert _evaluate_case(case, leaf) <= _evaluate_case(case, shorter)


@settings(max_examples=40, deadline=None, database=None)
@given(case=S.behaviour_case_strategy())
def test_behaviour_filters_round_trip_through_yaml(case: dict) -> None:
    yaml = YAML(typ="safe", pure=True)
    stream = io.StringIO()
    yaml.dump({"where": case["filter"]}, stream)
    assert yaml.load(stream.getvalue())["where"] == case["filter"]
