"""Hand-computed checks of the reference evaluator, one test per SPEC rule, plus
property tests over the hypothesis strategies."""

from __future__ import annotations

import copy
import io
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

try:  # `python -m pytest` from the repository root
    from tests import strategies as S
    from tests.reference import evaluate, haversine_km, random_bucket, universe
except ImportError:  # pytest's rootdir-less import mode puts tests/ itself on sys.path
    import strategies as S  # type: ignore[no-redef]
    from reference import evaluate, haversine_km, random_bucket, universe  # type: ignore[no-redef]

AS_OF = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)
AS_OF_EPOCH = 1_795_348_800  # 20779.5 days after 1970-01-01T00:00Z
SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)

PROPERTY_SETTINGS = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def user(external_id: str, **columns: Any) -> dict:
    row = dict.fromkeys(S.USER_COLUMNS)
    row["external_id"] = external_id
    row.update(columns)
    return row


def event(external_id: Any, occurred_at: datetime, name: str = "viewed") -> dict:
    return {"external_id": external_id, "event_name": name, "occurred_at": occurred_at,
            "properties": None}


def purchase(external_id: Any, purchased_at: datetime) -> dict:
    return {"external_id": external_id, "purchased_at": purchased_at, "product_id": "p1",
            "price": 1.0, "quantity": 1}


def tables(users: list[dict], events: list[dict] = (), purchases: list[dict] = ()) -> dict:
    return {S.USERS_TABLE: list(users), S.EVENTS_TABLE: list(events),
            S.PURCHASES_TABLE: list(purchases)}


def members(
    filter_node: Any,
    users: list[dict],
    *,
    events: list[dict] = (),
    as_of: datetime = AS_OF,
    tz: str = "UTC",
    salt: str = "",
    segments: dict | None = None,
    sources: dict | None = None,
) -> set[str]:
    return evaluate(
        filter_node,
        sources=sources or S.SOURCES,
        tables=tables(users, events),
        as_of=as_of,
        timezone=tz,
        bucket_salt=salt,
        segments=segments,
    )


def utc(*args: int) -> datetime:
    """A naive UTC datetime, as the time columns hold them."""
    return datetime(*args)


# ---------------------------------------------------------------------------------------
# Words: the universe


def test_universe_is_users_plus_events_and_purchases_seen_at_as_of() -> None:
    data = tables(
        [user("u1"), user(None), user("")],
        events=[
            event("u2", AS_OF.replace(tzinfo=None)),  # at as_of: seen
            event("u3", (AS_OF + SECOND).replace(tzinfo=None)),  # after as_of: not seen
            event(None, utc(2026, 1, 1)),
            event("", utc(2026, 1, 1)),
        ],
        purchases=[
            purchase("u4", utc(2026, 11, 21, 12)),
            purchase("u5", utc(2027, 1, 1)),
            purchase(7, utc(2026, 1, 1)),  # ids compared as strings
        ],
    )
    assert universe(S.SOURCES, data, AS_OF) == {"u1", "u2", "u4", "7"}


def test_universe_reads_epoch_millis_event_time() -> None:
    sources = copy.deepcopy(S.SOURCES)
    sources["events"]["time"] = {"column": "ts", "unit": "epoch_millis"}
    data = tables([], events=[
        {"external_id": "a", "event_name": "x", "ts": AS_OF_EPOCH * 1000},
        {"external_id": "b", "event_name": "x", "ts": AS_OF_EPOCH * 1000 + 1},
    ])
    assert universe(sources, data, AS_OF) == {"a"}


def test_user_absent_from_users_table_has_only_missing_attributes() -> None:
    users = [user("u1", country="KR")]
    events = [event("u9", utc(2026, 11, 1))]
    assert members({"attribute": "country", "equals": "KR"}, users, events=events) == {"u1"}
    assert members({"attribute": "country", "not_equals": "KR"}, users, events=events) == {"u9"}
    assert members({"attribute": "country", "exists": False}, users, events=events) == {"u9"}
    assert members({"near": {"lat": 0, "lon": 0, "radius_km": 1e9}}, users, events=events) \
        == set()


def test_duplicated_user_id_is_an_error() -> None:
    with pytest.raises(ValueError, match="duplicated"):
        members({"attribute": "country", "exists": True}, [user("u1"), user("u1")])


# ---------------------------------------------------------------------------------------
# 3.1 combinators


USERS_ABC = [user("a", age=10.0), user("b", age=20.0), user("c", age=30.0)]


def test_all_any_not_combinators() -> None:
    over_15 = {"attribute": "age", "gt": 15}
    under_25 = {"attribute": "age", "lt": 25}
    assert members({"all": [over_15, under_25]}, USERS_ABC) == {"b"}
    assert members({"any": [{"attribute": "age", "lt": 15}, {"attribute": "age", "gt": 25}]},
                   USERS_ABC) == {"a", "c"}
    assert members({"not": over_15}, USERS_ABC) == {"a"}
    assert members({"not": {"not": over_15}}, USERS_ABC) == {"b", "c"}


def test_bare_list_is_all() -> None:
    assert members([{"attribute": "age", "gt": 15}, {"attribute": "age", "lt": 25}],
                   USERS_ABC) == {"b"}
    assert members({"not": [{"attribute": "age", "gt": 15}, {"attribute": "age", "lt": 25}]},
                   USERS_ABC) == {"a", "c"}


@pytest.mark.parametrize("node", [{"all": []}, {"any": []}, [], {"not": []}])
def test_empty_list_is_an_error(node: Any) -> None:
    with pytest.raises(ValueError, match="empty"):
        members(node, USERS_ABC)


def test_not_is_complement_within_universe() -> None:
    events = [event("x", utc(2026, 11, 1))]
    assert members({"not": {"attribute": "age", "gte": 20}}, USERS_ABC, events=events) \
        == {"a", "x"}


# ---------------------------------------------------------------------------------------
# 3.2 operators: errors


@pytest.mark.parametrize("node", [
    {"attribute": "country", "equalz": "KR"},
    {"attribute": "country"},
    {"attribute": "country", "equals": "KR", "bogus": 1},
    {"atribute": "country", "equals": "KR"},
])
def test_unknown_operator_or_filter_is_an_error(node: dict) -> None:
    with pytest.raises(ValueError):
        members(node, USERS_ABC)


@pytest.mark.parametrize("node", [
    {"attribute": "is_vip", "not_equals": True},
    {"attribute": "age", "contains": "1"},
    {"attribute": "signup_at", "equals": "2026-01-01"},
    {"attribute": "tags", "equals": "a"},
    {"attribute": "country", "gt": 1},
    {"attribute": "profile.points", "type": "number", "matches_regex": "1"},
])
def test_operator_not_fitting_the_type_is_an_error(node: dict) -> None:
    with pytest.raises(ValueError, match="allowed"):
        members(node, USERS_ABC)


@pytest.mark.parametrize("node", [
    {"attribute": "country", "in": []},
    {"attribute": "country", "not_in": []},
    {"attribute": "tags", "includes_any": []},
    {"attribute": "age", "between": [1]},
    {"attribute": "country", "matches_regex": "("},
    {"attribute": "nope", "exists": True},
    {"attribute": "country.x", "exists": True},
])
def test_bad_operator_values_and_attributes_are_errors(node: dict) -> None:
    with pytest.raises(ValueError):
        members(node, USERS_ABC)


def test_errors_are_raised_even_over_an_empty_universe() -> None:
    with pytest.raises(ValueError):
        members({"attribute": "country", "equalz": "KR"}, [])


def test_funnel_leaves_are_not_modelled() -> None:
    with pytest.raises(NotImplementedError):
        members({"funnel": "checkout", "furthest_step": {"equals": 1}}, USERS_ABC)


# ---------------------------------------------------------------------------------------
# 3 two-valued leaves, missing values, exists, or_missing

# a user with every attribute NULL, and one whose JSON profile lacks every key
MISSING_USERS = [user("null"), user("nokey", profile="{}")]

POSITIVE_ON_MISSING = [
    ("country", {}, "equals", "KR"),
    ("country", {}, "in", ["KR"]),
    ("country", {}, "matches_regex", ".*"),
    ("country", {}, "starts_with", ""),
    ("country", {}, "ends_with", ""),
    ("country", {}, "contains", ""),
    ("age", {}, "equals", 0),
    ("age", {}, "in", [0]),
    ("age", {}, "gt", -1e9),
    ("age", {}, "gte", -1e9),
    ("age", {}, "lt", 1e9),
    ("age", {}, "lte", 1e9),
    ("age", {}, "between", [-1e9, 1e9]),
    ("is_vip", {}, "equals", False),
    ("signup_at", {}, "before", "2100-01-01"),
    ("signup_at", {}, "after", "1900-01-01"),
    ("signup_at", {}, "more_than_days_ago", -1e5),
    ("seen_s", {}, "more_than_days_in_future", -1e5),
    ("tags", {}, "includes", "a"),
    ("tags", {}, "includes_any", ["a"]),
    ("tags", {}, "includes_all", ["a"]),
    ("profile.tier", {}, "contains", ""),
    ("profile.points", {"type": "number"}, "gte", -1e9),
    ("profile.vip", {"type": "boolean"}, "equals", False),
]


@pytest.mark.parametrize(("attribute", "extra", "op", "value"), POSITIVE_ON_MISSING)
def test_positive_operator_false_for_missing_value(
    attribute: str, extra: dict, op: str, value: Any
) -> None:
    assert members({"attribute": attribute, **extra, op: value}, MISSING_USERS) == set()
    with_or_missing = {"attribute": attribute, **extra, op: value, "or_missing": True}
    assert members(with_or_missing, MISSING_USERS) == {"null", "nokey"}


@pytest.mark.parametrize(("attribute", "op", "value"), [
    ("country", "not_equals", "KR"),
    ("country", "not_in", ["KR"]),
    ("country", "not_matches_regex", ".*"),
    ("tags", "not_includes", "a"),
    ("age", "not_equals", 0),
    ("age", "not_in", [0]),
    ("profile.tier", "not_equals", "gold"),
    ("profile.tier", "not_matches_regex", ""),
])
def test_negative_operator_true_for_missing_value(attribute: str, op: str, value: Any) -> None:
    assert members({"attribute": attribute, op: value}, MISSING_USERS) \
        == {"null", "nokey"}


def test_negative_operator_is_exactly_not_of_positive_twin() -> None:
    users = [user("kr", country="KR"), user("jp", country="JP"), user("null"),
             user("empty", country="")]
    assert members({"attribute": "country", "not_equals": "KR"}, users) == {"jp", "null", "empty"}
    assert members({"attribute": "country", "not_in": ["KR", "JP"]}, users) == {"null", "empty"}
    assert members({"attribute": "country", "not_matches_regex": "R"}, users) \
        == {"jp", "null", "empty"}


def test_exists_string_empty_counts_as_missing() -> None:
    users = [user("kr", country="KR"), user("empty", country=""), user("null")]
    assert members({"attribute": "country", "exists": True}, users) == {"kr"}
    assert members({"attribute": "country", "exists": False}, users) == {"empty", "null"}


def test_exists_array_empty_counts_as_missing() -> None:
    users = [user("full", tags=["a"]), user("empty", tags=[]), user("null")]
    assert members({"attribute": "tags", "exists": True}, users) == {"full"}
    assert members({"attribute": "tags", "exists": False}, users) == {"empty", "null"}


def test_exists_for_number_boolean_time_is_not_null() -> None:
    users = [user("zero", age=0.0, is_vip=False, signup_at=utc(1970, 1, 1), seen_epoch=0),
             user("null")]
    for attribute in ("age", "is_vip", "signup_at", "seen_s"):
        assert members({"attribute": attribute, "exists": True}, users) == {"zero"}
        assert members({"attribute": attribute, "exists": False}, users) == {"null"}


def test_exists_on_object_path_with_wrong_json_type_is_false() -> None:
    users = [user("num", profile='{"points": 5}'), user("text", profile='{"points": "abc"}'),
             user("null", profile='{"points": null}')]
    assert members({"attribute": "profile.points", "type": "number", "exists": True}, users) \
        == {"num"}


def test_or_missing_counts_empty_string_and_empty_array_as_missing() -> None:
    users = [user("kr", country="KR", tags=["a"]), user("jp", country="JP", tags=["b"]),
             user("empty", country="", tags=[]), user("null")]
    node = {"attribute": "country", "starts_with": "K", "or_missing": True}
    assert members(node, users) == {"kr", "empty", "null"}
    node = {"attribute": "tags", "includes": "a", "or_missing": True}
    assert members(node, users) == {"kr", "empty", "null"}
    node = {"attribute": "tags", "includes": "a", "or_missing": False}
    assert members(node, users) == {"kr"}


def test_empty_string_is_a_value_for_comparisons() -> None:
    """'' is missing only for exists/or_missing; comparisons see the value ''."""
    users = [user("empty", country=""), user("null")]
    assert members({"attribute": "country", "equals": ""}, users) == {"empty"}
    assert members({"attribute": "country", "matches_regex": "^$"}, users) == {"empty"}


# ---------------------------------------------------------------------------------------
# 3.2 string


STRING_USERS = [
    user("KR", country="KR"), user("kr", country="kr"), user("Korea", country="Korea"),
    user("abc", country="abc"), user("a_c", country="a_c"), user("10%", country="10%"),
]


def test_string_equals_and_in_are_case_sensitive() -> None:
    assert members({"attribute": "country", "equals": "KR"}, STRING_USERS) == {"KR"}
    assert members({"attribute": "country", "in": ["kr", "korea"]}, STRING_USERS) == {"kr"}


def test_matches_regex_is_an_unanchored_search_honouring_case_flag() -> None:
    assert members({"attribute": "country", "matches_regex": "or"}, STRING_USERS) == {"Korea"}
    assert members({"attribute": "country", "matches_regex": "^K"}, STRING_USERS) \
        == {"KR", "Korea"}
    assert members({"attribute": "country", "matches_regex": "(?i)^k"}, STRING_USERS) \
        == {"KR", "kr", "Korea"}
    assert members({"attribute": "country", "matches_regex": "a.c"}, STRING_USERS) \
        == {"abc", "a_c"}
    assert members({"attribute": "country", "matches_regex": "\\d"}, STRING_USERS) == {"10%"}


def test_starts_with_ends_with_contains_are_literal_and_case_sensitive() -> None:
    assert members({"attribute": "country", "starts_with": "K"}, STRING_USERS) == {"KR", "Korea"}
    assert members({"attribute": "country", "starts_with": "a_"}, STRING_USERS) == {"a_c"}
    assert members({"attribute": "country", "ends_with": "r"}, STRING_USERS) == {"kr"}
    assert members({"attribute": "country", "contains": "%"}, STRING_USERS) == {"10%"}
    assert members({"attribute": "country", "contains": "_"}, STRING_USERS) == {"a_c"}
    assert members({"attribute": "country", "contains": "ore"}, STRING_USERS) == {"Korea"}


def test_string_filter_value_typed_by_yaml_compares_as_text() -> None:
    users = [user("five", country="5"), user("t", country="true")]
    assert members({"attribute": "country", "equals": 5}, users) == {"five"}
    assert members({"attribute": "country", "in": [True]}, users) == {"t"}


# ---------------------------------------------------------------------------------------
# 3.2 number, boolean, array


NUMBER_USERS = [user(str(age), age=age) for age in (17.0, 18.0, 18.5, 65.0)]


def test_number_comparisons() -> None:
    assert members({"attribute": "age", "equals": 18}, NUMBER_USERS) == {"18.0"}
    assert members({"attribute": "age", "in": [17, 18.5]}, NUMBER_USERS) == {"17.0", "18.5"}
    assert members({"attribute": "age", "gt": 18}, NUMBER_USERS) == {"18.5", "65.0"}
    assert members({"attribute": "age", "gte": 18}, NUMBER_USERS) == {"18.0", "18.5", "65.0"}
    assert members({"attribute": "age", "lt": 18}, NUMBER_USERS) == {"17.0"}
    assert members({"attribute": "age", "lte": 18}, NUMBER_USERS) == {"17.0", "18.0"}


def test_between_is_inclusive() -> None:
    assert members({"attribute": "age", "between": [18, 65]}, NUMBER_USERS) \
        == {"18.0", "18.5", "65.0"}
    assert members({"attribute": "age", "between": [18.5, 18.5]}, NUMBER_USERS) == {"18.5"}


def test_boolean_equals() -> None:
    users = [user("t", is_vip=True), user("f", is_vip=False), user("null")]
    assert members({"attribute": "is_vip", "equals": True}, users) == {"t"}
    assert members({"attribute": "is_vip", "equals": False}, users) == {"f"}
    assert members({"attribute": "is_vip", "equals": False, "or_missing": True}, users) \
        == {"f", "null"}


def test_array_includes_operators_compare_elements_as_strings() -> None:
    users = [user("ab", tags=["a", "b"]), user("b5", tags=["b", "5"]), user("empty", tags=[]),
             user("null")]
    assert members({"attribute": "tags", "includes": "a"}, users) == {"ab"}
    assert members({"attribute": "tags", "includes": 5}, users) == {"b5"}
    assert members({"attribute": "tags", "not_includes": "a"}, users) == {"b5", "empty", "null"}
    assert members({"attribute": "tags", "includes_any": ["a", "5"]}, users) == {"ab", "b5"}
    assert members({"attribute": "tags", "includes_all": ["b", "5"]}, users) == {"b5"}
    assert members({"attribute": "tags", "includes_all": ["b"]}, users) == {"ab", "b5"}


# ---------------------------------------------------------------------------------------
# 3.2 time, relative to as_of (days of 86,400 s)

# as_of = 2026-11-22T12:00:00Z
TIME_USERS = [
    user("-3d-1s", signup_at=utc(2026, 11, 19, 11, 59, 59)),
    user("-3d", signup_at=utc(2026, 11, 19, 12, 0, 0)),
    user("-3d+1s", signup_at=utc(2026, 11, 19, 12, 0, 1)),
    user("-1s", signup_at=utc(2026, 11, 22, 11, 59, 59)),
    user("0", signup_at=utc(2026, 11, 22, 12, 0, 0)),
    user("+1s", signup_at=utc(2026, 11, 22, 12, 0, 1)),
    user("+3d-1s", signup_at=utc(2026, 11, 25, 11, 59, 59)),
    user("+3d", signup_at=utc(2026, 11, 25, 12, 0, 0)),
    user("+3d+1s", signup_at=utc(2026, 11, 25, 12, 0, 1)),
    user("null"),
]


def test_more_than_days_ago_boundaries() -> None:
    assert members({"attribute": "signup_at", "more_than_days_ago": 3}, TIME_USERS) == {"-3d-1s"}


def test_less_than_days_ago_boundaries() -> None:
    assert members({"attribute": "signup_at", "less_than_days_ago": 3}, TIME_USERS) \
        == {"-3d+1s", "-1s", "0"}


def test_more_than_days_in_future_boundaries() -> None:
    assert members({"attribute": "signup_at", "more_than_days_in_future": 3}, TIME_USERS) \
        == {"+3d+1s"}


def test_less_than_days_in_future_boundaries() -> None:
    assert members({"attribute": "signup_at", "less_than_days_in_future": 3}, TIME_USERS) \
        == {"0", "+1s", "+3d-1s"}


def test_zero_days_windows() -> None:
    assert members({"attribute": "signup_at", "less_than_days_ago": 0}, TIME_USERS) == set()
    assert members({"attribute": "signup_at", "less_than_days_in_future": 0}, TIME_USERS) == set()
    assert members({"attribute": "signup_at", "more_than_days_ago": 0}, TIME_USERS) \
        == {"-3d-1s", "-3d", "-3d+1s", "-1s"}


def test_fractional_days() -> None:
    users = [user("-36h", signup_at=utc(2026, 11, 21, 0, 0, 0)),
             user("-36h+1s", signup_at=utc(2026, 11, 21, 0, 0, 1))]
    assert members({"attribute": "signup_at", "less_than_days_ago": 1.5}, users) == {"-36h+1s"}
    assert members({"attribute": "signup_at", "more_than_days_ago": 1.25}, users) \
        == {"-36h", "-36h+1s"}


def test_relative_days_ignore_time_zone_and_dst() -> None:
    # New York leaves DST on 2026-11-01; as_of is 23:30 local on Nov 1. "1 day" is still
    # 86,400 s: the edge is 2026-11-01T04:30Z whatever the zone.
    as_of = datetime(2026, 11, 2, 4, 30, tzinfo=UTC)
    users = [user("edge", signup_at=utc(2026, 11, 1, 4, 30)),
             user("after", signup_at=utc(2026, 11, 1, 4, 30, 1))]
    for tz in S.TIMEZONES:
        node = {"attribute": "signup_at", "less_than_days_ago": 1}
        assert members(node, users, as_of=as_of, tz=tz) == {"after"}


# ---------------------------------------------------------------------------------------
# 3.2 time, before / after


def test_before_after_date_is_midnight_in_project_timezone() -> None:
    # 2026-11-20 00:00 is 2026-11-19T15:00Z in Seoul (+09) and 2026-11-20T05:00Z in
    # New York (EST, -05).
    users = [
        user("seoul-1s", signup_at=utc(2026, 11, 19, 14, 59, 59)),
        user("seoul", signup_at=utc(2026, 11, 19, 15, 0, 0)),
        user("utc", signup_at=utc(2026, 11, 20, 0, 0, 0)),
        user("ny", signup_at=utc(2026, 11, 20, 5, 0, 0)),
        user("ny+1s", signup_at=utc(2026, 11, 20, 5, 0, 1)),
    ]
    everyone = {row["external_id"] for row in users}
    for value in (date(2026, 11, 20), "2026-11-20"):
        before = {"attribute": "signup_at", "before": value}
        after = {"attribute": "signup_at", "after": value}
        assert members(before, users, tz="Asia/Seoul") == {"seoul-1s"}
        assert members(after, users, tz="Asia/Seoul") == everyone - {"seoul-1s", "seoul"}
        assert members(before, users, tz="UTC") == {"seoul-1s", "seoul"}
        assert members(after, users, tz="UTC") == {"ny", "ny+1s"}
        assert members(before, users, tz="America/New_York") == everyone - {"ny", "ny+1s"}
        assert members(after, users, tz="America/New_York") == {"ny+1s"}


def test_naive_datetime_is_wall_time_in_project_timezone() -> None:
    users = [user("03z", signup_at=utc(2026, 11, 20, 3)), user("12z", signup_at=utc(2026, 11, 20, 12))]
    for value in ("2026-11-20T12:00:00", datetime(2026, 11, 20, 12)):
        assert members({"attribute": "signup_at", "before": value}, users, tz="Asia/Seoul") \
            == set()
        assert members({"attribute": "signup_at", "after": value}, users, tz="Asia/Seoul") \
            == {"12z"}
        assert members({"attribute": "signup_at", "before": value}, users, tz="UTC") == {"03z"}


def test_iso_z_and_offset_are_absolute() -> None:
    users = [user("03z", signup_at=utc(2026, 11, 20, 3)), user("12z", signup_at=utc(2026, 11, 20, 12))]
    values = ("2026-11-20T03:00:00Z", "2026-11-20T12:00:00+09:00",
              datetime(2026, 11, 19, 22, tzinfo=timezone(timedelta(hours=-5))))
    for value in values:
        for tz in S.TIMEZONES:
            assert members({"attribute": "signup_at", "after": value}, users, tz=tz) == {"12z"}
            assert members({"attribute": "signup_at", "before": value}, users, tz=tz) == set()


def test_time_column_naive_is_utc_and_aware_is_converted() -> None:
    seoul = timezone(timedelta(hours=9))
    users = [user("naive", signup_at=utc(2026, 11, 22, 12)),
             user("aware", signup_at=datetime(2026, 11, 22, 21, tzinfo=seoul))]
    assert members({"attribute": "signup_at", "less_than_days_ago": 0.0001}, users) \
        == {"naive", "aware"}


def test_epoch_seconds_and_epoch_millis_time_columns() -> None:
    sources = copy.deepcopy(S.SOURCES)
    sources["users"]["attributes"]["seen_ms"] = {"column": "seen_millis", "type": "time",
                                                 "unit": "epoch_millis"}
    users = [
        user("at", seen_epoch=AS_OF_EPOCH, seen_millis=AS_OF_EPOCH * 1000),
        user("before", seen_epoch=AS_OF_EPOCH - 1, seen_millis=AS_OF_EPOCH * 1000 - 1),
        user("null"),
    ]
    assert members({"attribute": "seen_s", "before": "2026-11-22T12:00:00Z"}, users,
                   sources=sources) == {"before"}
    assert members({"attribute": "seen_ms", "before": "2026-11-22T12:00:00Z"}, users,
                   sources=sources) == {"before"}
    assert members({"attribute": "seen_ms", "less_than_days_ago": 1}, users,
                   sources=sources) == {"at", "before"}


# ---------------------------------------------------------------------------------------
# 3.3 object paths


def test_object_path_defaults_to_string_and_only_json_strings_are_strings() -> None:
    """README "Object paths": typing is strict, so 5, 5.5, true, {...}, [...] under a
    string path are missing (not "5", "5.5", "true")."""
    users = [
        user("gold", profile='{"tier": "gold"}'),
        user("five", profile='{"tier": "5"}'),
        user("int", profile='{"tier": 5}'),
        user("float", profile='{"tier": 5.5}'),
        user("bool", profile='{"tier": true}'),
        user("object", profile='{"tier": {"a": 1}}'),
        user("array", profile='{"tier": ["gold"]}'),
        user("null", profile='{"tier": null}'),
        user("empty", profile='{"tier": ""}'),
    ]
    assert members({"attribute": "profile.tier", "equals": "gold"}, users) == {"gold"}
    assert members({"attribute": "profile.tier", "type": "string", "equals": "5"}, users) \
        == {"five"}
    assert members({"attribute": "profile.tier", "in": ["5.5", "true", "false"]}, users) \
        == set()
    assert members({"attribute": "profile.tier", "exists": False}, users) \
        == {"int", "float", "bool", "object", "array", "null", "empty"}
    assert members({"attribute": "profile.tier", "not_equals": "gold"}, users) \
        == {"five", "int", "float", "bool", "object", "array", "null", "empty"}


def test_object_path_wrong_json_type_counts_as_missing() -> None:
    users = [
        user("num", profile='{"points": 18, "vip": true}'),
        user("text", profile='{"points": "abc", "vip": "true"}'),
        user("numeric_text", profile='{"points": "18", "vip": 1}'),
        user("bool", profile='{"points": true, "vip": null}'),
    ]
    node = {"attribute": "profile.points", "type": "number", "gte": 0}
    assert members(node, users) == {"num"}
    node = {"attribute": "profile.points", "type": "number", "not_equals": 18}
    assert members(node, users) == {"text", "numeric_text", "bool"}
    node = {"attribute": "profile.vip", "type": "boolean", "equals": True}
    assert members(node, users) == {"num"}
    node = {"attribute": "profile.vip", "type": "boolean", "exists": False}
    assert members(node, users) == {"text", "numeric_text", "bool"}


def test_object_column_may_be_a_dict_or_json_text() -> None:
    users = [user("dict", profile={"tier": "gold"}), user("text", profile='{"tier": "gold"}'),
             user("null"), user("json_null", profile="null")]
    assert members({"attribute": "profile.tier", "equals": "gold"}, users) == {"dict", "text"}
    assert members({"attribute": "profile", "exists": True}, users) == {"dict", "text"}


def test_nested_object_path() -> None:
    users = [user("seoul", profile={"addr": {"city": "Seoul"}}),
             user("flat", profile={"addr": "Seoul"}),
             user("none", profile={"addr": {}})]
    assert members({"attribute": "profile.addr.city", "equals": "Seoul"}, users) == {"seoul"}
    assert members({"attribute": "profile.addr.city", "exists": False}, users) == {"flat", "none"}


# ---------------------------------------------------------------------------------------
# 3.7 segment, random_bucket, near


def test_segment_leaf_is_membership_of_other_segment() -> None:
    segments = {
        "adults": {"attribute": "age", "gte": 18},
        "old_adults": [{"segment": "adults"}, {"attribute": "age", "gt": 25}],
    }
    assert members({"segment": "old_adults"}, USERS_ABC, segments=segments) == {"c"}
    assert members({"not": {"segment": "adults"}}, USERS_ABC, segments=segments) == {"a"}


def test_segment_cycle_is_an_error() -> None:
    segments = {"a": {"segment": "b"}, "b": {"any": [{"segment": "a"}]}}
    with pytest.raises(ValueError, match="a -> b -> a"):
        members({"segment": "a"}, USERS_ABC, segments=segments)
    with pytest.raises(ValueError, match="unknown segment"):
        members({"segment": "zzz"}, USERS_ABC, segments=segments)


def test_random_bucket_formula() -> None:
    # md5("u1") = e4774cdda0793f86414e8b9140bb6db4; 0xe4774cdd = 3833023709 -> 3709
    # md5("u2") = 270c1b084f3f146eb5787075158d9c53; 0x270c1b08 = 655104776  -> 4776
    # md5("su1") = b4ff982842aa1fa97eb21ff80ffad9a4; 0xb4ff9828 = 3036649512 -> 9512
    assert random_bucket("u1") == 3709
    assert random_bucket("u2") == 4776
    assert random_bucket("u1", "s") == 9512
    users = [user("u1"), user("u2")]
    assert members({"random_bucket": {"lt": 4000}}, users) == {"u1"}
    assert members({"random_bucket": {"lt": 3709}}, users) == set()
    assert members({"random_bucket": {"between": [3709, 4776]}}, users) == {"u1", "u2"}
    assert members({"random_bucket": {"in": [4776]}}, users) == {"u2"}
    assert members({"random_bucket": {"gte": 9512}}, users, salt="s") == {"u1"}


def test_near_haversine_radius() -> None:
    # (0, 0) -> (0, 1): 2R·asin(sin(0.5°)) = R·π/180 = 111.19492664455873 km
    assert haversine_km(0, 0, 0, 1) == pytest.approx(111.19492664455873, abs=1e-9)
    assert haversine_km(37.5665, 126.978, 37.5665, 126.978) == 0
    users = [user("origin", lat=0.0, lon=0.0), user("east", lat=0.0, lon=1.0),
             user("lat_only", lat=0.0), user("null")]
    events = [event("absent", utc(2026, 1, 1))]
    assert members({"near": {"lat": 0, "lon": 0, "radius_km": 111.19}}, users, events=events) \
        == {"origin"}
    assert members({"near": {"lat": 0, "lon": 0, "radius_km": 111.2}}, users, events=events) \
        == {"origin", "east"}
    assert members({"near": {"lat": 0, "lon": 1, "radius_km": 0}}, users) == {"east"}
    assert members({"not": {"near": {"lat": 0, "lon": 0, "radius_km": 1}}}, users,
                   events=events) == {"east", "lat_only", "null", "absent"}


def test_near_pool_distances_stay_clear_of_radii() -> None:
    """Generated `near` filters never sit within 1 m of a radius (float noise)."""
    for lat1, lon1 in S.POINTS:
        for lat2, lon2 in S.POINTS:
            distance = haversine_km(lat1, lon1, lat2, lon2)
            assert all(distance == radius == 0 or abs(distance - radius) > 1e-3
                       for radius in S.RADII_KM)


# ---------------------------------------------------------------------------------------
# Properties over the strategies


def _evaluate_case(case: dict, filter_node: Any) -> set[str]:
    return evaluate(
        filter_node,
        sources=case["sources"],
        tables=case["tables"],
        as_of=case["as_of"],
        timezone=case["timezone"],
        bucket_salt=case["bucket_salt"],
    )


@PROPERTY_SETTINGS
@given(case=S.case_strategy())
def test_generated_cases_evaluate_without_error(case: dict) -> None:
    people = universe(case["sources"], case["tables"], case["as_of"])
    result = _evaluate_case(case, case["filter"])
    assert result <= people
    assert _evaluate_case(case, {"not": case["filter"]}) == people - result


@PROPERTY_SETTINGS
@given(data=st.data(), as_of=st.sampled_from(S.AS_OF_POOL),
       twin=st.sampled_from([("string", "not_equals"), ("string", "not_in"),
                             ("string", "not_matches_regex"), ("number", "not_equals"),
                             ("number", "not_in"), ("array", "not_includes")]))
def test_negative_operator_equals_not_of_positive_twin(
    data: st.DataObject, as_of: datetime, twin: tuple[str, str]
) -> None:
    value_type, negative = twin
    positive = negative.removeprefix("not_")
    case = {"sources": S.SOURCES, "tables": data.draw(S.tables_strategy(as_of)), "as_of": as_of,
            "timezone": "UTC", "bucket_salt": ""}
    leaf = data.draw(S.attribute_leaf_strategy(as_of, value_type, negative))
    twin_leaf = {**leaf}
    twin_leaf[positive] = twin_leaf.pop(negative)
    people = universe(case["sources"], case["tables"], as_of)
    assert _evaluate_case(case, leaf) == _evaluate_case(case, {"not": twin_leaf})
    assert _evaluate_case(case, leaf) == people - _evaluate_case(case, twin_leaf)


@PROPERTY_SETTINGS
@given(data=st.data(), as_of=st.sampled_from(S.AS_OF_POOL), tz=st.sampled_from(S.TIMEZONES))
def test_or_missing_is_positive_or_exists_false(
    data: st.DataObject, as_of: datetime, tz: str
) -> None:
    case = {"sources": S.SOURCES, "tables": data.draw(S.tables_strategy(as_of)), "as_of": as_of,
            "timezone": tz, "bucket_salt": ""}
    leaf = data.draw(S.attribute_leaf_strategy(as_of).filter(lambda node: "or_missing" in node))
    plain = {key: value for key, value in leaf.items() if key != "or_missing"}
    with_missing = {**plain, "or_missing": True}
    exists_false = {"attribute": plain["attribute"], "exists": False}
    if "type" in plain:
        exists_false["type"] = plain["type"]
    assert _evaluate_case(case, with_missing) \
        == _evaluate_case(case, plain) | _evaluate_case(case, exists_false)


@settings(max_examples=60, deadline=None, database=None)
@given(case=S.case_strategy())
def test_generated_filters_round_trip_through_yaml(case: dict) -> None:
    yaml = YAML(typ="safe", pure=True)
    stream = io.StringIO()
    yaml.dump({"where": case["filter"]}, stream)
    assert yaml.load(stream.getvalue())["where"] == case["filter"]
