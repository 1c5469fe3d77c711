"""Hypothesis strategies for random segsql project cases (SPEC sections 1, 3.1-3.3, 3.7).

A case is plain data::

    {
        "sources": SOURCES (a fresh deep copy),
        "tables": {"main.users": [...], "main.events": [...], "main.purchases": [...]},
        "as_of": aware UTC datetime (whole seconds),
        "timezone": "UTC" | "Asia/Seoul" | "America/New_York",
        "bucket_salt": str,
        "filter": a filter tree (dict | list) over the users attributes,
    }

Table rows are dicts keyed by column name; every row has every column. Python types:

``main.users``
    ============  ======================  ===========================================
    column        Python value            suggested column type (DuckDB / Snowflake)
    ============  ======================  ===========================================
    external_id   ``str | None``          VARCHAR (one row may hold None, one '';
                                          other ids are unique, "u0".."u30")
    country       ``str | None``          VARCHAR (includes '')
    age           ``float | None``        DOUBLE / FLOAT
    is_vip        ``bool | None``         BOOLEAN
    signup_at     ``datetime | None``     TIMESTAMP (naive, UTC, whole seconds)
    seen_epoch    ``int | None``          BIGINT / NUMBER, epoch seconds
    tags          ``list[str] | None``    VARCHAR[] / ARRAY (includes [])
    profile       ``str | None``          JSON / VARIANT or VARCHAR: JSON object text
    lat, lon      ``float | None``        DOUBLE / FLOAT (sometimes only one is None)
    ============  ======================  ===========================================

``main.events``: external_id ``str | None`` (includes None and ''), event_name ``str``,
occurred_at ``datetime`` (naive UTC; some after as_of), properties ``str | None`` (JSON
object text).

``main.purchases``: external_id ``str | None``, purchased_at ``datetime`` (naive UTC;
some after as_of), product_id ``str``, price ``float``, quantity ``int``.

The ``profile`` JSON deliberately holds absent keys, JSON null, '' and values of the
wrong JSON type, which count as missing (README "Object paths", strict typing):
``"points": "abc"`` or ``"18"``, ``"vip": "true"`` or ``1``, ``"tier": 5`` / ``5.5`` /
``true`` / ``{"a": 1}`` / ``["gold"]``, ``"addr": "not an object"``; see PROFILE_* below.

Filters use every operator of SPEC 3.2 for every type, dotted paths into ``profile``
(string by default, ``type: number`` / ``type: boolean``), ``or_missing`` beside positive
operators, ``not`` / ``all`` / ``any`` / bare lists (at most 3 combinator levels above a
leaf), ``random_bucket`` and ``near``. Values come from the same small pools as the data
so that comparisons hit, including exact boundaries. Regexes are valid in RE2 and Python
with the same meaning. ``before``/``after`` values are ``datetime.date`` objects or ISO
strings (date only, with ``Z``, with an offset, or without an offset) - never
``datetime`` objects, so that YAML round trips keep their meaning; writers must keep the
ISO strings as (quoted) strings. Naive wall times are only 00:00 and 12:00, which exist
exactly once in every zone used here (no DST gap or overlap).

Nothing here needs the reference evaluator or the segsql package.
"""

from __future__ import annotations

import copy
import functools
import json
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

DAY = timedelta(days=1)

SOURCES: dict[str, Any] = {
    "users": {
        "table": "main.users",
        "id": "external_id",
        "attributes": {
            "country": "string",
            "age": "number",
            "is_vip": "boolean",
            "signup_at": "time",
            "seen_s": {"column": "seen_epoch", "type": "time", "unit": "epoch_seconds"},
            "tags": "array",
            "profile": "object",
        },
        "location": {"lat": "lat", "lon": "lon"},
    },
    "events": {
        "table": "main.events",
        "user": "external_id",
        "name": "event_name",
        "time": "occurred_at",
        "properties": "properties",
    },
    "purchases": {
        "table": "main.purchases",
        "user": "external_id",
        "time": "purchased_at",
        "product": "product_id",
        "price": "price",
        "quantity": "quantity",
    },
}

USERS_TABLE = "main.users"
EVENTS_TABLE = "main.events"
PURCHASES_TABLE = "main.purchases"

USER_COLUMNS = (
    "external_id", "country", "age", "is_vip", "signup_at", "seen_epoch", "tags", "profile",
    "lat", "lon",
)
EVENT_COLUMNS = ("external_id", "event_name", "occurred_at", "properties")
PURCHASE_COLUMNS = ("external_id", "purchased_at", "product_id", "price", "quantity")

TIMEZONES = ("UTC", "Asia/Seoul", "America/New_York")
BUCKET_SALTS = ("", "s1", "spring_sale_2026")

AS_OF_POOL = (
    datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC),
    datetime(2026, 3, 9, 15, 30, 0, tzinfo=UTC),  # a day after New York's DST start
    datetime(2026, 11, 2, 4, 30, 0, tzinfo=UTC),  # 23:30 on Nov 1 in New York (DST ended)
    datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC),  # midnight UTC, new year
    datetime(2026, 6, 30, 15, 0, 0, tzinfo=UTC),  # 00:00 on Jul 1 in Seoul
)
DEFAULT_AS_OF = AS_OF_POOL[0]

ID_POOL = tuple(f"u{i}" for i in range(31))

# --- value pools shared by data and filters ---------------------------------------------

COUNTRY_DATA = ("KR", "JP", "US", "kr", "Korea", "abc", "a_c", "axc", "10%", "A1c", "")
STRING_VALUES = ("KR", "JP", "kr", "Korea", "a_c", "10%", "gold", "Gold", "5", "5.5", "true",
                 "Seoul")
SUBSTRINGS = ("K", "k", "R", "o", "ol", "Go", "5", ".", "_", "%", "a_", "c")
REGEXES = ("^K", "(?i)r$", "a.c", "\\d", "(?i)^g", "old$", "^[A-Z]{2}$", "l|J", "[0-9]\\.[0-9]")

NUMBERS = (-1, 0, 17, 18, 18.5, 21, 30, 65, 100)
AGE_DATA = (-1.0, 0.0, 17.0, 18.0, 18.5, 21.0, 30.0, 64.5, 65.0, 100.0)

TAGS = ("a", "b", "vip", "sale", "5")

PROFILE_TIER = ("gold", "Gold", "silver", "", "KR", 5, 5.5, True, False, None, {"a": 1}, ["gold"])
PROFILE_POINTS = (0, 17, 18, 18.5, 100, -1, "abc", "18", True, None, [1])
PROFILE_VIP = (True, False, "true", 1, None)
PROFILE_CITY = ("Seoul", "Busan", "", None, 7)

POINTS = (
    (37.5665, 126.978),  # Seoul
    (37.6, 127.0),  # ~4 km from Seoul
    (35.1796, 129.0756),  # Busan
    (35.6762, 139.6503),  # Tokyo
    (40.7128, -74.006),  # New York
    (0.0, 0.0),
    (0.0, 1.0),  # 111.19 km east of (0, 0)
)
RADII_KM = (0, 1, 5, 10, 100, 400, 1200, 20000)

RELATIVE_DAYS = (0, 0.5, 1, 1.5, 2, 3, 7, 30)
DATA_DAY_OFFSETS = (-30, -7, -3, -2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2, 3, 7, 30)

NEGATIVE_OPERATORS = ("not_equals", "not_in", "not_matches_regex", "not_includes")

OPERATORS_BY_TYPE: dict[str, tuple[str, ...]] = {
    "string": (
        "equals", "not_equals", "in", "not_in", "matches_regex", "not_matches_regex",
        "starts_with", "ends_with", "contains", "exists",
    ),
    "number": ("equals", "not_equals", "in", "not_in", "gt", "gte", "lt", "lte", "between",
               "exists"),
    "boolean": ("equals", "exists"),
    "time": (
        "before", "after", "more_than_days_ago", "less_than_days_ago",
        "more_than_days_in_future", "less_than_days_in_future", "exists",
    ),
    "array": ("includes", "not_includes", "includes_any", "includes_all", "exists"),
}

TYPED_OPERATORS = tuple(
    (value_type, op) for value_type, operators in OPERATORS_BY_TYPE.items() for op in operators
)

# (attribute as written in the filter, extra keys of the leaf) per type
ATTRIBUTE_TARGETS: dict[str, tuple[tuple[str, dict[str, str]], ...]] = {
    "string": (
        ("country", {}),
        ("profile.tier", {}),
        ("profile.tier", {"type": "string"}),
        ("profile.addr.city", {}),
    ),
    "number": (("age", {}), ("profile.points", {"type": "number"})),
    "boolean": (("is_vip", {}), ("profile.vip", {"type": "boolean"})),
    "time": (("signup_at", {}), ("seen_s", {})),
    "array": (("tags", {}),),
}


# --- time pools -------------------------------------------------------------------------


def local_midnights(as_of: datetime, days_before: int = 9, days_after: int = 3) -> list[datetime]:
    """00:00 of the calendar days around as_of, in each of TIMEZONES, as UTC instants."""
    instants = []
    for name in TIMEZONES:
        tz = ZoneInfo(name)
        today = as_of.astimezone(tz).date()
        for k in range(-days_before, days_after + 1):
            day = today + k * DAY
            instants.append(datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC))
    return instants


def time_pool(as_of: datetime) -> list[datetime]:
    """Aware UTC instants (whole seconds) on or next to the boundaries filters test:
    as_of ± whole and half days, ± 1 s around as_of and as_of − 1/7 days, local
    midnights in every zone, and two far-away instants."""
    second = timedelta(seconds=1)
    instants = {as_of + offset * DAY for offset in DATA_DAY_OFFSETS}
    instants |= {as_of - second, as_of + second}
    instants |= {as_of - n * DAY + s * second for n in (1, 7) for s in (-1, 1)}
    instants |= set(local_midnights(as_of))
    instants |= {datetime(2020, 1, 1, tzinfo=UTC), datetime(2031, 6, 15, 8, 0, tzinfo=UTC)}
    return sorted(instants)


def naive_utc(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(tzinfo=None)


def epoch_seconds(instant: datetime) -> int:
    return int((instant - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds())


def iso_z(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def absolute_time_values(as_of: datetime) -> dict[str, list[date | str]]:
    """`before:`/`after:` values by kind: dates (objects and ISO strings), naive ISO wall
    times (read in the project zone), ISO instants with Z and with an offset."""
    days = [as_of.date() + k * DAY for k in range(-8, 3)]
    return {
        "date": list(days),
        "date_text": [day.isoformat() for day in days],
        "naive": [
            *(f"{day.isoformat()}T00:00:00" for day in days),
            *(f"{day.isoformat()}T12:00:00" for day in days),
            as_of.strftime("%Y-%m-%dT%H:%M:%S"),  # as_of's UTC wall time, no offset
        ],
        "z": [iso_z(instant) for instant in time_pool(as_of)],
        "offset": [  # e.g. 2026-11-22T21:00:00+09:00
            as_of.astimezone(timezone(timedelta(hours=hours))).isoformat() for hours in (9, -5)
        ],
    }


# --- tables -----------------------------------------------------------------------------


def _profile_text() -> st.SearchStrategy[str]:
    absent = object()

    def build(tier: Any, points: Any, vip: Any, addr: Any) -> str:
        document = {
            key: value
            for key, value in (("tier", tier), ("points", points), ("vip", vip), ("addr", addr))
            if value is not absent
        }
        return json.dumps(document, sort_keys=True)

    def optional(values: tuple) -> st.SearchStrategy[Any]:
        return st.just(absent) | st.sampled_from(values)

    addr = st.just(absent) | st.just("not an object") | st.just(None) | st.builds(
        lambda city: {} if city is absent else {"city": city}, optional(PROFILE_CITY)
    )
    return st.builds(build, optional(PROFILE_TIER), optional(PROFILE_POINTS),
                     optional(PROFILE_VIP), addr)


_LOCATIONS = st.one_of(
    st.just((None, None)),
    st.sampled_from(POINTS),
    st.sampled_from(POINTS).map(lambda point: (point[0], None)),
    st.sampled_from(POINTS).map(lambda point: (None, point[1])),
)


def _with_location(row: dict) -> dict:
    lat, lon = row.pop("location")
    return {**row, "lat": lat, "lon": lon}


@functools.cache
def _user_columns(as_of: datetime) -> st.SearchStrategy[dict]:
    """A users row without its external_id (built once per as_of: building is slow)."""
    times = time_pool(as_of)
    return st.fixed_dictionaries({
        "country": st.none() | st.sampled_from(COUNTRY_DATA),
        "age": st.none() | st.sampled_from(AGE_DATA),
        "is_vip": st.none() | st.booleans(),
        "signup_at": st.none() | st.sampled_from(times).map(naive_utc),
        "seen_epoch": st.none() | st.sampled_from(times).map(epoch_seconds),
        "tags": st.none() | st.lists(st.sampled_from(TAGS), max_size=4),
        "profile": st.none() | _profile_text(),
        "location": _LOCATIONS,
    }).map(_with_location)


_ACTIVITY_ID = st.sampled_from(ID_POOL) | st.just("") | st.none()


@functools.cache
def _event(as_of: datetime) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({
        "external_id": _ACTIVITY_ID,
        "event_name": st.sampled_from(("viewed", "login", "purchase_made")),
        "occurred_at": st.sampled_from(time_pool(as_of)).map(naive_utc),
        "properties": st.none() | st.sampled_from(('{"k": 1}', '{"k": "x"}', "{}")),
    })


@functools.cache
def _purchase(as_of: datetime) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({
        "external_id": _ACTIVITY_ID,
        "purchased_at": st.sampled_from(time_pool(as_of)).map(naive_utc),
        "product_id": st.sampled_from(("p1", "p2", "p3")),
        "price": st.sampled_from((1.0, 9.99, 100.0)),
        "quantity": st.integers(1, 3),
    })


# each pool id is in the users table with probability ~1/2 (st.lists would mostly give a
# handful of rows), capped at 25 rows
_USER_IDS = st.lists(st.booleans(), min_size=len(ID_POOL), max_size=len(ID_POOL)).map(
    lambda mask: [external_id for external_id, keep in zip(ID_POOL, mask, strict=True)
                  if keep][:25]
)
_BLANK_USER_IDS = st.lists(st.sampled_from([None, ""]), unique=True, max_size=2)


@st.composite
def tables_strategy(draw: st.DrawFn, as_of: datetime) -> dict[str, list[dict]]:
    """Users (0-25 rows with unique ids, plus at most one None and one '' id), events
    (0-30) and purchases (0-15) around `as_of`; rows as described in the module doc."""
    ids = [*draw(_USER_IDS), *draw(_BLANK_USER_IDS)]
    users = [{"external_id": external_id, **draw(_user_columns(as_of))} for external_id in ids]
    users = draw(st.permutations(users)) if users else users
    events = [draw(_event(as_of)) for _ in range(draw(st.integers(0, 30)))]
    purchases = [draw(_purchase(as_of)) for _ in range(draw(st.integers(0, 15)))]
    return {USERS_TABLE: users, EVENTS_TABLE: events, PURCHASES_TABLE: purchases}


# --- filters ----------------------------------------------------------------------------


def _non_empty_list(values: tuple) -> st.SearchStrategy[list]:
    return st.lists(st.sampled_from(values), min_size=1, max_size=3)


def _between(values: tuple) -> st.SearchStrategy[list]:
    return st.tuples(st.sampled_from(values), st.sampled_from(values)).map(
        lambda pair: sorted(pair)
    )


@functools.cache
def operator_values(value_type: str, op: str, as_of: datetime) -> st.SearchStrategy[Any]:
    """The strategy for the value of `op` on an attribute of `value_type`."""
    if op == "exists":
        return st.booleans()
    if value_type == "string":
        if op in ("equals", "not_equals"):
            return st.sampled_from(STRING_VALUES)
        if op in ("in", "not_in"):
            return _non_empty_list(STRING_VALUES)
        if op in ("matches_regex", "not_matches_regex"):
            return st.sampled_from(REGEXES)
        return st.sampled_from(SUBSTRINGS)
    if value_type == "number":
        if op in ("in", "not_in"):
            return _non_empty_list(NUMBERS)
        if op == "between":
            return _between(NUMBERS)
        return st.sampled_from(NUMBERS)
    if value_type == "boolean":
        return st.booleans()
    if value_type == "time":
        if op in ("before", "after"):  # each kind of value equally likely
            kinds = absolute_time_values(as_of).values()
            return st.one_of([st.sampled_from(values) for values in kinds])
        return st.sampled_from(RELATIVE_DAYS)
    if value_type == "array":
        if op in ("includes", "not_includes"):
            return st.sampled_from(TAGS)
        return _non_empty_list(TAGS)
    raise ValueError(f"no values for {value_type} {op}")


def is_positive(op: str) -> bool:
    """`or_missing` may stand beside these (everything but the negatives and exists)."""
    return op not in NEGATIVE_OPERATORS and op != "exists"


@st.composite
def attribute_leaf_strategy(
    draw: st.DrawFn, as_of: datetime = DEFAULT_AS_OF, value_type: str | None = None,
    op: str | None = None,
) -> dict:
    """One `{attribute: ..., <op>: value}` leaf (type and operator drawn unless given)."""
    if value_type is None and op is None:  # every (type, operator) pair equally likely
        value_type, op = draw(st.sampled_from(TYPED_OPERATORS))
    if value_type is None:
        value_type = draw(st.sampled_from(
            [name for name, operators in OPERATORS_BY_TYPE.items() if op in operators]
        ))
    if op is None:
        op = draw(st.sampled_from(OPERATORS_BY_TYPE[value_type]))
    attribute, extra = draw(st.sampled_from(ATTRIBUTE_TARGETS[value_type]))
    leaf: dict[str, Any] = {"attribute": attribute, **extra}
    leaf[op] = draw(operator_values(value_type, op, as_of))
    if is_positive(op):
        or_missing = draw(st.sampled_from((None, True, False)))
        if or_missing is not None:
            leaf["or_missing"] = or_missing
    return leaf


def random_bucket_leaf_strategy() -> st.SearchStrategy[dict]:
    bounds = (0, 1, 999, 1000, 2500, 5000, 9999, 10000)
    comparison = st.one_of(
        st.tuples(st.sampled_from(("equals", "not_equals", "gt", "gte", "lt", "lte")),
                  st.sampled_from(bounds)),
        st.tuples(st.sampled_from(("in", "not_in")), _non_empty_list(bounds)),
        st.tuples(st.just("between"), _between(bounds)),
    )
    return comparison.map(lambda pair: {"random_bucket": {pair[0]: pair[1]}})


def near_leaf_strategy() -> st.SearchStrategy[dict]:
    return st.builds(
        lambda point, radius: {"near": {"lat": point[0], "lon": point[1], "radius_km": radius}},
        st.sampled_from(POINTS),
        st.sampled_from(RADII_KM),
    )


@functools.cache
def leaf_strategy(as_of: datetime = DEFAULT_AS_OF) -> st.SearchStrategy[dict]:
    # about 8 attribute leaves for one random_bucket and one near
    kinds = [attribute_leaf_strategy(as_of)] * 8 + [random_bucket_leaf_strategy(),
                                                    near_leaf_strategy()]
    return st.sampled_from(kinds).flatmap(lambda kind: kind)


@functools.cache
def filter_strategy(
    as_of: datetime = DEFAULT_AS_OF, max_depth: int = 3
) -> st.SearchStrategy[dict | list]:
    """Filter trees with at most `max_depth` combinator levels above each leaf.
    Time values are drawn near `as_of`."""
    leaf = leaf_strategy(as_of)

    def node(depth: int) -> st.SearchStrategy[dict | list]:
        if depth == 0:
            return leaf
        child = node(depth - 1)
        children = st.lists(child, min_size=1, max_size=3)
        return st.one_of(
            leaf,
            children.map(lambda items: {"all": items}),
            children.map(lambda items: {"any": items}),
            child.map(lambda item: {"not": item}),
            children,  # a bare list is `all`
        )

    return node(max_depth)


@st.composite
def case_strategy(draw: st.DrawFn, max_depth: int = 3) -> dict[str, Any]:
    """A random project case (see the module docstring)."""
    as_of = draw(st.sampled_from(AS_OF_POOL))
    return {
        "sources": copy.deepcopy(SOURCES),
        "tables": draw(tables_strategy(as_of)),
        "as_of": as_of,
        "timezone": draw(st.sampled_from(TIMEZONES)),
        "bucket_salt": draw(st.sampled_from(BUCKET_SALTS)),
        "filter": draw(filter_strategy(as_of, max_depth)),
    }
