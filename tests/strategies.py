"""Hypothesis strategies for random segsql project cases (SPEC sections 1, 3.1-3.7).

A case is plain data::

    {
        "sources": SOURCES (a fresh deep copy),
        "tables": {"main.users": [...], "main.events": [...], "main.purchases": [...],
                   "main.products": [...]},
        "as_of": aware UTC datetime (whole seconds),
        "timezone": "UTC" | "Asia/Seoul" | "America/New_York",
        "bucket_salt": str,
        "filter": a filter tree (dict | list) over the users attributes; with
                  `behaviour=True` (`behaviour_case_strategy`) also event, purchase,
                  sequence and rfm leaves,
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

``main.events`` (0-30 rows)
    ============  ======================  ===========================================
    external_id   ``str | None``          VARCHAR (includes None and ''; mostly 1-3
                                          "active" ids of the case, some not users)
    event_name    ``str``                 VARCHAR: view, cart, checkout, search
    occurred_at   ``datetime``            TIMESTAMP (naive UTC, whole seconds; some
                                          after as_of; many equal within a case)
    platform      ``str | None``          VARCHAR: ios, android, web
    properties    ``str | None``          JSON / VARIANT: JSON object text, keys
                                          product_id, query, amount, qty, new, tags,
                                          at (ISO time text), ctx.source - each
                                          sometimes absent, null or of another JSON
                                          type (see EVENT_* pools)
    ============  ======================  ===========================================

``main.purchases`` (0-15 rows)
    ============  ======================  ===========================================
    external_id   ``str | None``          VARCHAR (as for events)
    purchased_at  ``datetime``            TIMESTAMP (as occurred_at)
    product_id    ``str``                 VARCHAR: p1, p2, p3, p9 (p9 not in catalog)
    price         ``Decimal | None``      DECIMAL(20, 8) / NUMBER(20, 8): 0.1, 0.2, 0.3
                                          (exact only as decimals), halfway values
                                          0.1234565 and 0.0000005 (SPEC 3.4 rounding)
    quantity      ``int | None``          BIGINT / NUMBER (None counts as 1)
    properties    ``str | None``          JSON / VARIANT: keys coupon, channel,
                                          discount (wrong JSON types included)
    ============  ======================  ===========================================

``main.products`` (0-5 rows, the ``products`` catalog)
    ============  ======================  ===========================================
    product_id    ``str``                 VARCHAR, unique: a subset of p1..p5
    category      ``str | None``          VARCHAR (includes ''): attribute category
    price         ``float | None``        DOUBLE / FLOAT: attribute list_price
    ============  ======================  ===========================================

Activity times (`behaviour_time_pool`) sit on the boundaries behavioural filters test:
00:00 of day N ± 1 s in the case's time zone, as_of − 1/24/36/48 h ± 1 s, as_of
itself, as_of + 1 s and later; most rows of a case share 1-4 instants, so equal
timestamps are common.

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

Behavioural leaves (`behaviour_filter_strategy`) use every measure (count, sum, avg,
min, max, count_distinct, first, last, revenue), every window kind (last_days,
last_hours, since and/or until), every kind of ``where:`` condition (``property:`` with
and without ``type:``, ``column:``, ``catalog:`` with and without ``where:``), sequence
gaps, ``max_span`` and ``then_not``, and rfm parts. A ``where:`` condition carries
``type:`` whenever SPEC 3.4's inference (operator, then YAML value, then string) would
give another type than the one meant. Durations and lists are fresh objects, so YAML
dumps have no anchors.

Nothing here needs the reference evaluator or the segsql package.
"""

from __future__ import annotations

import copy
import functools
import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import assume
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
        "properties": "properties",
    },
    "catalogs": {
        "products": {
            "table": "main.products",
            "key": "product_id",
            "attributes": {
                "category": "string",
                "list_price": {"column": "price", "type": "number"},
            },
        },
    },
}

USERS_TABLE = "main.users"
EVENTS_TABLE = "main.events"
PURCHASES_TABLE = "main.purchases"
PRODUCTS_TABLE = "main.products"

USER_COLUMNS = (
    "external_id", "country", "age", "is_vip", "signup_at", "seen_epoch", "tags", "profile",
    "lat", "lon",
)
EVENT_COLUMNS = ("external_id", "event_name", "occurred_at", "platform", "properties")
PURCHASE_COLUMNS = ("external_id", "purchased_at", "product_id", "price", "quantity",
                    "properties")
PRODUCT_COLUMNS = ("product_id", "category", "price")

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

# --- behaviour data pools (events, purchases, products) ----------------------------------

EVENT_NAMES = ("view", "cart", "checkout", "search")
EVENT_NAME_DATA = ("view",) * 4 + ("cart",) * 3 + ("checkout",) * 2 + ("search",)  # skewed
PLATFORMS = ("ios", "android", "web")
CATALOG_PRODUCT_IDS = ("p1", "p2", "p3", "p4", "p5")
PRODUCT_IDS = ("p1", "p2", "p3", "p9")  # p9 is never in the catalog
CATEGORY_DATA = ("shoes", "Shoes", "bags", "", None)
LIST_PRICE_DATA = (None, 10.0, 25.0, 100.0)
# JSON values of event properties, wrong JSON types included (strict typing: missing)
EVENT_PRODUCT_ID = ("p1", "p2", "p3", "p4", "p9", "", 7, None)
EVENT_QUERY = ("Nike sneakers", "sneaker", "SNEAKERS", "bag", "", 5)
# 0.1 + 0.2 is 0.3 only in decimals; 5e-07 is halfway between two 6-place summands
EVENT_AMOUNT = (0, 2.5, 10, 12.5, 100, -1, 0.1, 0.2, 0.3, 5e-07, "10", None, True)
EVENT_QTY = (1, 2, 3, "2")
EVENT_NEW = (True, False, "true")
EVENT_TAGS = (["a"], ["a", "b"], [], ["sale", "5"], [5], "a")
EVENT_SOURCE = ("ad", "email", "", 3)
PURCHASE_PRICE = (None, *map(Decimal, ("0", "2.5", "10", "100", "0.1", "0.2", "0.3", "0.1234565",
                                        "0.0000005")))
PURCHASE_QUANTITY = (None, 1, 2, 3)
PURCHASE_COUPON = ("SAVE10", "", 10, None)
PURCHASE_CHANNEL = ("app", "web", True)
PURCHASE_DISCOUNT = (0, 2.5, 5, "5")

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


BEHAVIOUR_HOURS = (1, 24, 36, 48)  # `last_hours` values; event times sit on their edges
BEHAVIOUR_DAYS = (-1, 0, 1, 2, 3, 7)  # day N (N days before as_of's); -1 is tomorrow


@functools.cache
def behaviour_time_pool(as_of: datetime, zone: str | None = None) -> tuple[datetime, ...]:
    """Event and purchase times (aware UTC, whole seconds): `time_pool`, plus 00:00 ± 1 s
    of day N for N in BEHAVIOUR_DAYS in `zone` (in every zone of TIMEZONES when None),
    and as_of − 1/24/36/48 h ± 1 s. Some are after as_of."""
    second = timedelta(seconds=1)
    instants = set(time_pool(as_of))
    zones = TIMEZONES if zone is None else (zone,)
    for name in zones:
        tz = ZoneInfo(name)
        today = as_of.astimezone(tz).date()
        for n in BEHAVIOUR_DAYS:
            day = today - n * DAY
            midnight = datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)
            instants |= {midnight - second, midnight, midnight + second}
    for hours in BEHAVIOUR_HOURS:
        edge = as_of - hours * timedelta(hours=1)
        instants |= {edge - second, edge, edge + second}
    return tuple(sorted(instants))


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


def weighted(*choices: tuple[int, st.SearchStrategy]) -> st.SearchStrategy:
    """A strategy drawn from `choices` in proportion to their weights (st.one_of does
    not weight: it merges repeated branches)."""
    pool = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.sampled_from(pool).flatmap(lambda strategy: strategy)


def _json_object(values: dict[str, tuple]) -> st.SearchStrategy[str]:
    """JSON object text; each key present about half the time (JSON null included)."""
    optional = {key: st.sampled_from(pool) for key, pool in values.items()}
    return st.fixed_dictionaries({}, optional=optional).map(
        lambda document: json.dumps(document, sort_keys=True)
    )


def _event_at_values(as_of: datetime) -> tuple[str, ...]:
    """Time-typed JSON values: ISO with Z, without offset (UTC), with an offset; junk."""
    days = (-3, -1, -0.5, 0, 1)
    return (
        *(iso_z(as_of + k * DAY) for k in days),
        (as_of - DAY).strftime("%Y-%m-%dT%H:%M:%S"),
        (as_of - 2 * DAY).astimezone(timezone(timedelta(hours=9))).isoformat(),
        "yesterday",
    )


@functools.cache
def _event_properties(as_of: datetime) -> st.SearchStrategy[str | None]:
    document = _json_object({
        "product_id": EVENT_PRODUCT_ID,
        "query": EVENT_QUERY,
        "amount": EVENT_AMOUNT,
        "qty": EVENT_QTY,
        "new": EVENT_NEW,
        "tags": EVENT_TAGS,
        "at": _event_at_values(as_of),
    })
    nested = st.sampled_from(EVENT_SOURCE).map(lambda source: {"source": source})
    with_ctx = st.tuples(document, nested).map(
        lambda pair: json.dumps({**json.loads(pair[0]), "ctx": pair[1]}, sort_keys=True)
    )
    return weighted((1, st.none()), (1, st.just("{}")), (4, document), (2, with_ctx))


_PURCHASE_PROPERTIES = weighted((1, st.none()), (3, _json_object({
    "coupon": PURCHASE_COUPON, "channel": PURCHASE_CHANNEL, "discount": PURCHASE_DISCOUNT,
})))


@functools.cache
def _activity_times(
    as_of: datetime, zone: str | None, past_only: bool = False
) -> st.SearchStrategy[datetime]:
    pool = behaviour_time_pool(as_of, zone)
    return st.sampled_from([instant for instant in pool if instant <= as_of] if past_only
                           else pool)


@st.composite
def _activity(draw: st.DrawFn, as_of: datetime, zone: str | None) -> tuple[Any, Any]:
    """(user id strategy, time strategy) of one case: 6/10 of the rows go to 1-3 active
    users (2/10 to any pool id, 1/10 to '', 1/10 to None) and 2/3 to 1-4 instants at or
    before as_of, so users have several events and timestamps are often equal."""
    active = st.sampled_from(draw(st.lists(st.sampled_from(ID_POOL), min_size=1, max_size=3,
                                           unique=True)))
    cluster = st.sampled_from(draw(st.lists(_activity_times(as_of, zone, past_only=True),
                                            min_size=1, max_size=4)))
    user_ids = weighted((6, active), (2, st.sampled_from(ID_POOL)), (1, st.just("")),
                        (1, st.none()))
    times = weighted((2, cluster), (1, _activity_times(as_of, zone))).map(naive_utc)
    return user_ids, times


def _event(as_of: datetime, user_ids: Any, times: Any) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({
        "external_id": user_ids,
        "event_name": st.sampled_from(EVENT_NAME_DATA),
        "occurred_at": times,
        "platform": st.none() | st.sampled_from(PLATFORMS),
        "properties": _event_properties(as_of),
    })


def _purchase(user_ids: Any, times: Any) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({
        "external_id": user_ids,
        "purchased_at": times,
        "product_id": st.sampled_from(PRODUCT_IDS),
        "price": st.sampled_from(PURCHASE_PRICE),
        "quantity": st.sampled_from(PURCHASE_QUANTITY),
        "properties": _PURCHASE_PROPERTIES,
    })


_PRODUCT_ROW = st.fixed_dictionaries({
    "category": st.sampled_from(CATEGORY_DATA),
    "price": st.sampled_from(LIST_PRICE_DATA),
})
_CATALOG_MASK = st.lists(st.booleans(), min_size=len(CATALOG_PRODUCT_IDS),
                         max_size=len(CATALOG_PRODUCT_IDS))


@st.composite
def _products(draw: st.DrawFn) -> list[dict]:
    mask = draw(_CATALOG_MASK)
    return [{"product_id": product_id, **draw(_PRODUCT_ROW)}
            for product_id, keep in zip(CATALOG_PRODUCT_IDS, mask, strict=True) if keep]


# each pool id is in the users table with probability ~1/2 (st.lists would mostly give a
# handful of rows), capped at 25 rows
_USER_IDS = st.lists(st.booleans(), min_size=len(ID_POOL), max_size=len(ID_POOL)).map(
    lambda mask: [external_id for external_id, keep in zip(ID_POOL, mask, strict=True)
                  if keep][:25]
)
_BLANK_USER_IDS = st.lists(st.sampled_from([None, ""]), unique=True, max_size=2)


# row counts: sampled, because st.integers(0, n) mostly gives a handful of rows; the
# first value is what hypothesis draws most often
_EVENT_COUNT = st.sampled_from((20, 0, 3, 8, 12, 30))
_PURCHASE_COUNT = st.sampled_from((6, 0, 1, 3, 10, 15))


@st.composite
def tables_strategy(
    draw: st.DrawFn, as_of: datetime, zone: str | None = None
) -> dict[str, list[dict]]:
    """Users (0-25 rows with unique ids, plus at most one None and one '' id), events
    (0-30), purchases (0-15) and products (0-5) around `as_of`; activity times sit on
    calendar-day boundaries of `zone` (of every zone when None); rows as described in the
    module doc."""
    ids = [*draw(_USER_IDS), *draw(_BLANK_USER_IDS)]
    users = [{"external_id": external_id, **draw(_user_columns(as_of))} for external_id in ids]
    users = draw(st.permutations(users)) if users else users
    user_ids, times = draw(_activity(as_of, zone))
    event_row = _event(as_of, user_ids, times)
    events = [draw(event_row) for _ in range(draw(_EVENT_COUNT))]
    purchase_row = _purchase(user_ids, times)
    purchases = [draw(purchase_row) for _ in range(draw(_PURCHASE_COUNT))]
    return {USERS_TABLE: users, EVENTS_TABLE: events, PURCHASES_TABLE: purchases,
            PRODUCTS_TABLE: draw(_products())}


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


def _holds(op: str, argument: Any, value: int) -> bool:
    tests = {
        "equals": lambda: value == argument, "not_equals": lambda: value != argument,
        "in": lambda: value in argument, "not_in": lambda: value not in argument,
        "gt": lambda: value > argument, "gte": lambda: value >= argument,
        "lt": lambda: value < argument, "lte": lambda: value <= argument,
        "between": lambda: argument[0] <= value <= argument[1],
    }
    return tests[op]()


def satisfiable(comparison: dict, points: range | tuple[int, ...]) -> bool:
    """Whether a whole number among `points` satisfies every operator of `comparison` (ANDed).

    segsql rejects a count, score or bucket comparison nothing can satisfy (`count: {lt: 0}`),
    so generated filters keep to satisfiable ones; `points` must hold every value where the
    truth of a comparison over the domain can change."""
    ops = {k: v for k, v in comparison.items() if k in NUMBER_COMPARISONS and k != "exists"}
    return any(all(_holds(op, arg, v) for op, arg in ops.items()) for v in points)


#: Where the truth of a bucket comparison over 0..9999 can change, for the pool below.
_BUCKET_POINTS = (0, 1, 2, 998, 999, 1000, 1001, 2499, 2500, 2501, 4999, 5000, 5001, 9998, 9999)


def random_bucket_leaf_strategy() -> st.SearchStrategy[dict]:
    bounds = (0, 1, 999, 1000, 2500, 5000, 9999, 10000)
    comparison = st.one_of(
        st.tuples(st.sampled_from(("equals", "not_equals", "gt", "gte", "lt", "lte")),
                  st.sampled_from(bounds)),
        st.tuples(st.sampled_from(("in", "not_in")), _non_empty_list(bounds)),
        st.tuples(st.just("between"), _between(bounds)),
    )
    return comparison.filter(lambda pair: satisfiable({pair[0]: pair[1]}, _BUCKET_POINTS)).map(
        lambda pair: {"random_bucket": {pair[0]: pair[1]}})


def near_leaf_strategy() -> st.SearchStrategy[dict]:
    return st.builds(
        lambda point, radius: {"near": {"lat": point[0], "lon": point[1], "radius_km": radius}},
        st.sampled_from(POINTS),
        st.sampled_from(RADII_KM),
    )


# --- behaviour filters (SPEC 3.4-3.7) --------------------------------------------------

FILTER_PRODUCT_IDS = (*PRODUCT_IDS, "p5")
CONDITION_REGEXES = ("(?i)sneaker", "^bag$", "s$", "^p[12]$", "^$", "(?i)^[av]", "e")
CONDITION_SUBSTRINGS = ("sneak", "p", "a", "S", "e", "")
CONDITION_NUMBERS = (-1, 0, 1, 2, 2.5, 3, 10, 12.5, 100, 0.15, 0.3, 0.000001)
COUNT_VALUES = (0, 1, 2, 3)
REVENUE_VALUES = (0, 2.5, 10, 20, 100, 200, 0.3, 0.6, 0.246913, 0.370370, 0.000001)
SCORE_VALUES = (0, 1, 2, 3, 4, 5)
CATEGORY_VALUES = ("shoes", "Shoes", "bags", "")
CATEGORY_REGEXES = ("(?i)^s", "s$", "^$")
LIST_PRICE_VALUES = (10, 25, 50, 100)
LAST_DAYS = (0, 1, 2, 3, 7, 30)
LAST_HOURS = (0, *BEHAVIOUR_HOURS)
DURATIONS = ({"minutes": 0}, {"minutes": 30}, {"hours": 1}, {"hours": 24}, {"hours": 36},
             {"days": 1}, {"days": 7})
WITHIN_HOURS = (0, 1, 24, 48)
EVENT_MEASURES = ("count", "sum", "avg", "min", "max", "count_distinct", "first", "last")
PURCHASE_MEASURES = (*EVENT_MEASURES, "revenue")
NUMBER_COMPARISONS = OPERATORS_BY_TYPE["number"]
TIME_COMPARISONS = OPERATORS_BY_TYPE["time"]

# (key, name, type, values for string equality) of the generated `where:` conditions
CONDITION_TARGETS: dict[str, tuple[tuple[str, str, str, tuple[str, ...]], ...]] = {
    "events": (
        ("property", "query", "string", ("sneaker", "Nike sneakers", "bag", "")),
        ("property", "product_id", "string", ("p1", "p2", "p9", "")),
        ("property", "ctx.source", "string", ("ad", "email", "")),
        ("property", "amount", "number", ()),
        ("property", "amount", "string", ("10", "")),
        ("property", "qty", "number", ()),
        ("property", "new", "boolean", ()),
        ("property", "tags", "array", ()),
        ("property", "at", "time", ()),
        ("column", "platform", "string", (*PLATFORMS, "")),
        ("column", "event_name", "string", EVENT_NAMES),
        ("column", "occurred_at", "time", ()),
    ),
    "purchases": (
        ("property", "coupon", "string", ("SAVE10", "")),
        ("property", "channel", "string", ("app", "web")),
        ("property", "discount", "number", ()),
        ("column", "price", "number", ()),
        ("column", "quantity", "number", ()),
        ("column", "product_id", "string", PRODUCT_IDS),
        ("column", "purchased_at", "time", ()),
    ),
}
# how a catalog condition names its key, per source
CATALOG_KEYS = {"events": ("property", "product_id"), "purchases": ("column", "product_id")}
# properties aggregated by sum/avg/min/max, and (property, type) by count_distinct
AGGREGATED = {"events": ("amount", "qty"), "purchases": ("discount",)}
DISTINCT = {
    "events": (("product_id", None), ("query", "string"), ("amount", "number"),
               ("new", "boolean"), ("at", "time")),
    "purchases": (("coupon", None), ("channel", None), ("discount", "number")),
}

# the type a condition gets without `type:` (SPEC 3.4): by operator, else by the value
_TYPED_BY_VALUE = ("equals", "not_equals", "in", "not_in")
_TYPE_OF_OPERATOR = {
    op: value_type for value_type in ("string", "number", "time", "array")
    for op in OPERATORS_BY_TYPE[value_type] if op not in (*_TYPED_BY_VALUE, "exists")
}


def inferred_type(op: str, value: Any) -> str:
    if op in _TYPE_OF_OPERATOR:
        return _TYPE_OF_OPERATOR[op]
    if op in _TYPED_BY_VALUE:
        first = value[0] if isinstance(value, list) else value
        if isinstance(first, bool):
            return "boolean"
        return "number" if isinstance(first, int | float) else "string"
    return "string"


@functools.cache
def condition_values(
    value_type: str, op: str, as_of: datetime, strings: tuple[str, ...] = ()
) -> st.SearchStrategy[Any]:
    """Values of `op` in a `where:` condition of `value_type` (`strings`: the values for
    string equality)."""
    if value_type == "string" and op != "exists":
        if op in ("equals", "not_equals"):
            return st.sampled_from(strings)
        if op in ("in", "not_in"):
            return _non_empty_list(strings)
        if op in ("matches_regex", "not_matches_regex"):
            return st.sampled_from(CONDITION_REGEXES)
        return st.sampled_from(CONDITION_SUBSTRINGS)
    if value_type == "number" and op != "exists":
        return _number_values(op, CONDITION_NUMBERS)
    return operator_values(value_type, op, as_of)


def _number_values(op: str, values: tuple) -> st.SearchStrategy[Any]:
    if op == "exists":
        return st.booleans()
    if op in ("in", "not_in"):
        return _non_empty_list(values)
    if op == "between":
        return _between(values)
    return st.sampled_from(values)


@st.composite
def condition_strategy(draw: st.DrawFn, source: str, as_of: datetime) -> dict:
    """A `property:` or `column:` condition; `type:` written when inference would give
    another type, and sometimes anyway; `or_missing` sometimes beside positive ones."""
    key, name, value_type, strings = draw(st.sampled_from(CONDITION_TARGETS[source]))
    op = draw(st.sampled_from(OPERATORS_BY_TYPE[value_type]))
    value = draw(condition_values(value_type, op, as_of, strings))
    node: dict[str, Any] = {key: name, op: value}
    if inferred_type(op, value) != value_type or draw(st.integers(0, 3)) == 0:
        node["type"] = value_type
    if is_positive(op):
        or_missing = draw(st.sampled_from((None, None, True, False)))
        if or_missing is not None:
            node["or_missing"] = or_missing
    return node


@functools.cache
def catalog_filter_strategy() -> st.SearchStrategy[dict]:
    """Attribute filters over the products catalog (category, list_price)."""
    def category(op: str) -> st.SearchStrategy[Any]:
        if op == "exists":
            return st.booleans()
        if op in ("equals", "not_equals"):
            return st.sampled_from(CATEGORY_VALUES)
        if op in ("in", "not_in"):
            return _non_empty_list(CATEGORY_VALUES)
        if op in ("matches_regex", "not_matches_regex"):
            return st.sampled_from(CATEGORY_REGEXES)
        return st.sampled_from(("o", "S", ""))

    leaves = [st.fixed_dictionaries({"attribute": st.just("category"), op: category(op)})
              for op in OPERATORS_BY_TYPE["string"]]
    leaves += [st.fixed_dictionaries({"attribute": st.just("list_price"),
                                      op: _number_values(op, LIST_PRICE_VALUES)})
               for op in NUMBER_COMPARISONS]
    or_missing = st.fixed_dictionaries({"attribute": st.just("list_price"),
                                        "lt": st.sampled_from(LIST_PRICE_VALUES),
                                        "or_missing": st.booleans()})
    return st.one_of(*leaves, or_missing)


@functools.cache
def catalog_condition_strategy(source: str) -> st.SearchStrategy[dict]:
    key, name = CATALOG_KEYS[source]
    return st.fixed_dictionaries(
        {key: st.just(name), "catalog": st.just("products")},
        optional={"where": st.lists(catalog_filter_strategy(), min_size=1, max_size=2)},
    )


@functools.cache
def where_strategy(source: str, as_of: datetime) -> st.SearchStrategy[list]:
    """1-2 conditions; about one in four joins the catalog."""
    condition = st.sampled_from(
        [condition_strategy(source, as_of)] * 3 + [catalog_condition_strategy(source)]
    ).flatmap(lambda kind: kind)
    return st.lists(condition, min_size=1, max_size=2)


@functools.cache
def window_strategy(as_of: datetime) -> st.SearchStrategy[dict]:
    """`last_days`, `last_hours` or `since`/`until` (either or both), with dates and ISO
    strings of every kind of `absolute_time_values`."""
    instant = st.one_of([st.sampled_from(values)
                         for values in absolute_time_values(as_of).values()])
    return st.one_of(
        st.sampled_from(LAST_DAYS).map(lambda days: {"last_days": days}),
        st.sampled_from(LAST_HOURS).map(lambda hours: {"last_hours": hours}),
        st.fixed_dictionaries({"since": instant}),
        st.fixed_dictionaries({"until": instant}),
        st.fixed_dictionaries({"since": instant, "until": instant}),
    )


@functools.cache
def number_comparison_strategy(values: tuple) -> st.SearchStrategy[dict]:
    """`{op: v}` with any number operator, or a range `{gte: a, lt: b}`."""
    single = [st.fixed_dictionaries({op: _number_values(op, values)})
              for op in NUMBER_COMPARISONS]
    pair = st.fixed_dictionaries({"gte": st.sampled_from(values),
                                  "lt": st.sampled_from(values)})
    return st.one_of(*single, pair)


@functools.cache
def time_comparison_strategy(as_of: datetime) -> st.SearchStrategy[dict]:
    return st.one_of([st.fixed_dictionaries({op: operator_values("time", op, as_of)})
                      for op in TIME_COMPARISONS])


@functools.cache
def measure_strategy(kind: str, source: str, as_of: datetime) -> st.SearchStrategy[dict]:
    """The value of one measure key of an event (source "events") or purchase filter."""
    if kind == "count":
        return number_comparison_strategy(COUNT_VALUES).filter(lambda cmp: satisfiable(cmp, range(0, 6)))
    if kind == "revenue":
        return number_comparison_strategy(REVENUE_VALUES)
    if kind in ("first", "last"):
        return time_comparison_strategy(as_of)
    if kind == "count_distinct":
        def distinct(target: tuple[str, str | None]) -> st.SearchStrategy[dict]:
            path, value_type = target
            head = {"property": path} if value_type is None else {"property": path,
                                                                  "type": value_type}
            counts = number_comparison_strategy(COUNT_VALUES).filter(lambda cmp: satisfiable(cmp, range(0, 6)))
            return counts.map(lambda cmp: {**head, **cmp})

        return st.sampled_from(DISTINCT[source]).flatmap(distinct)
    return st.tuples(st.sampled_from(AGGREGATED[source]),
                     number_comparison_strategy(CONDITION_NUMBERS)).map(
        lambda pair: {"property": pair[0], **pair[1]}
    )


# names as skewed as the data; one in eleven is `refund`, which nobody ever does
_EVENT_NAME = st.sampled_from((*EVENT_NAME_DATA, "refund"))
_EVENT_NAMES = weighted((2, _EVENT_NAME),
                        (1, st.lists(_EVENT_NAME, min_size=1, max_size=3, unique=True)))
_PRODUCT_SELECTOR = st.one_of(
    st.just("any"),
    st.sampled_from(FILTER_PRODUCT_IDS),
    st.lists(st.sampled_from(FILTER_PRODUCT_IDS), min_size=1, max_size=3, unique=True),
)


def _add_measures(draw: st.DrawFn, node: dict, kinds: tuple[str, ...], source: str,
                  as_of: datetime) -> dict:
    """`where` a third and `within` half of the time, and 0-2 measures (mostly 1)."""
    _sometimes(draw, node, "where", where_strategy(source, as_of), one_in=3)
    _sometimes(draw, node, "within", window_strategy(as_of), one_in=2)
    measures = draw(st.sampled_from((0, 1, 1, 2)))
    for kind in draw(st.lists(st.sampled_from(kinds), min_size=measures, max_size=measures,
                              unique=True)):
        node[kind] = draw(measure_strategy(kind, source, as_of))
    return node


@st.composite
def event_leaf_strategy(draw: st.DrawFn, as_of: datetime = DEFAULT_AS_OF) -> dict:
    node = {"event": draw(_EVENT_NAMES)}
    return _add_measures(draw, node, EVENT_MEASURES, "events", as_of)


@st.composite
def purchase_leaf_strategy(draw: st.DrawFn, as_of: datetime = DEFAULT_AS_OF) -> dict:
    node = {"purchase": draw(_PRODUCT_SELECTOR)}
    return _add_measures(draw, node, PURCHASE_MEASURES, "purchases", as_of)


_DURATION = st.sampled_from(DURATIONS).map(dict)  # fresh dicts: no YAML anchors
# steps mostly use the two commonest names, so that multi-step paths exist
_STEP_NAMES = weighted((3, st.sampled_from(("view", "cart"))), (1, _EVENT_NAMES))


def _sometimes(draw: st.DrawFn, node: dict, key: str, strategy: st.SearchStrategy,
               one_in: int = 2) -> None:
    if draw(st.integers(0, one_in - 1)) == 0:
        node[key] = draw(strategy)


@st.composite
def sequence_leaf_strategy(draw: st.DrawFn, as_of: datetime = DEFAULT_AS_OF) -> dict:
    """1-3 steps (mostly one name each), gap limits on later steps, and sometimes
    `max_span`, `within` and `then_not`."""
    steps = []
    for position in range(draw(st.integers(1, 3))):
        # about one step in five is a purchase (SPEC 3.6: purchase rows are distinct rows too)
        purchase = draw(st.integers(0, 4)) == 0
        step: dict[str, Any] = {"purchase": draw(_PRODUCT_SELECTOR)} if purchase else {"event": draw(_STEP_NAMES)}
        _sometimes(draw, step, "where", where_strategy("purchases" if purchase else "events", as_of), one_in=8)
        if position:
            _sometimes(draw, step, "within_previous", _DURATION, one_in=4)
            _sometimes(draw, step, "after_previous", _DURATION, one_in=5)
        steps.append(step)
    node: dict[str, Any] = {"sequence": steps}
    _sometimes(draw, node, "max_span", _DURATION, one_in=4)
    _sometimes(draw, node, "within", window_strategy(as_of), one_in=4)
    then_purchase = draw(st.integers(0, 2)) == 0
    then_not: dict[str, Any] = {"purchase": draw(_PRODUCT_SELECTOR)} if then_purchase else {"event": draw(_EVENT_NAMES)}
    if draw(st.integers(0, 3)):  # three in four have a limit; the rest look up to as_of
        then_not["within_hours"] = draw(st.sampled_from(WITHIN_HOURS))
    _sometimes(draw, then_not, "where", where_strategy("purchases" if then_purchase else "events", as_of), one_in=4)
    _sometimes(draw, node, "then_not", st.just(then_not), one_in=3)
    return node


@functools.cache
def rfm_leaf_strategy(as_of: datetime = DEFAULT_AS_OF) -> st.SearchStrategy[dict]:
    def in_range(cmp: dict) -> bool:
        values = [x for v in cmp.values() for x in (v if isinstance(v, list) else [v])]
        return all(1 <= x <= 5 for x in values) and satisfiable(cmp, range(1, 6))

    score = number_comparison_strategy(SCORE_VALUES).filter(in_range)  # scores are 1..5
    parts = st.fixed_dictionaries({}, optional={
        "recency": score, "frequency": score, "monetary": score,
        "within": window_strategy(as_of),
    })
    return parts.map(lambda spec: {"rfm": spec})


@functools.cache
def behaviour_filter_strategy(as_of: datetime = DEFAULT_AS_OF) -> st.SearchStrategy[dict]:
    """Event, purchase, sequence and rfm leaves (3 : 2 : 2 : 1) using every measure,
    window kind and kind of `where:` condition."""
    kinds = ([event_leaf_strategy(as_of)] * 3 + [purchase_leaf_strategy(as_of)] * 2
             + [sequence_leaf_strategy(as_of)] * 2 + [rfm_leaf_strategy(as_of)])
    return st.sampled_from(kinds).flatmap(lambda kind: kind)


@functools.cache
def leaf_strategy(as_of: datetime = DEFAULT_AS_OF) -> st.SearchStrategy[dict]:
    # about 8 attribute leaves for one random_bucket and one near
    kinds = [attribute_leaf_strategy(as_of)] * 8 + [random_bucket_leaf_strategy(),
                                                    near_leaf_strategy()]
    return st.sampled_from(kinds).flatmap(lambda kind: kind)


@functools.cache
def filter_strategy(
    as_of: datetime = DEFAULT_AS_OF, max_depth: int = 3, behaviour: bool = False
) -> st.SearchStrategy[dict | list]:
    """Filter trees with at most `max_depth` combinator levels above each leaf.
    Time values are drawn near `as_of`. With `behaviour`, half of the leaves are
    event / purchase / sequence / rfm filters."""
    leaf = leaf_strategy(as_of)
    if behaviour:
        leaf = leaf | behaviour_filter_strategy(as_of)

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
def case_strategy(draw: st.DrawFn, max_depth: int = 3, behaviour: bool = False) -> dict[str, Any]:
    """A random project case (see the module docstring); with `behaviour`, filters also
    hold event, purchase, sequence and rfm leaves."""
    as_of = draw(st.sampled_from(AS_OF_POOL))
    zone = draw(st.sampled_from(TIMEZONES))
    tree = draw(filter_strategy(as_of, max_depth, behaviour))
    assume(all(since < until for since, until in _window_bounds(tree, ZoneInfo(zone))))
    return {
        "sources": copy.deepcopy(SOURCES),
        "tables": draw(tables_strategy(as_of, zone)),
        "as_of": as_of,
        "timezone": zone,
        "bucket_salt": draw(st.sampled_from(BUCKET_SALTS)),
        "filter": tree,
    }


def _window_bounds(tree: Any, zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """(since, until) of every window with both bounds: segsql rejects an empty [since, until)."""
    from tests.reference import filter_instant

    found = []
    if isinstance(tree, dict):
        window = tree.get("within")
        if isinstance(window, dict) and "since" in window and "until" in window:
            found.append((filter_instant(window["since"], zone), filter_instant(window["until"], zone)))
        children: list[Any] = list(tree.values())
    else:
        children = list(tree) if isinstance(tree, list) else []
    return found + [b for child in children for b in _window_bounds(child, zone)]


def behaviour_case_strategy(max_depth: int = 3) -> st.SearchStrategy[dict[str, Any]]:
    """`case_strategy(max_depth, behaviour=True)`."""
    return case_strategy(max_depth, behaviour=True)


# --- money (SPEC 3.4: exact sums) ------------------------------------------------------

# values whose floating-point sums miss their decimal sums (0.1 + 0.2, 3 × 0.1), and halfway
# summands; thresholds sit on those sums
MONEY_PRICES = (*map(Decimal, ("0.1", "0.2", "0.3", "0.1234565", "0.0000005", "1")), None)
MONEY_AMOUNTS = (0.1, 0.2, 0.3, 5e-07, 0.1234565, "0.1", None)
MONEY_VALUES = (0, 0.000001, 0.1, 0.15, 0.2, 0.246913, 0.3, 0.370370, 0.4, 0.5, 0.6, 0.9)


def _money_sums(tables: dict[str, list[dict]]) -> list[float]:
    """Each user's decimal sum of prices × quantities and of event amounts (rounded to 6
    places as SPEC 3.4 rounds), so thresholds land exactly on sums the data holds."""
    places = Decimal("0.000001")
    sums: dict[tuple[str, Any], Decimal] = {}
    for row in tables[PURCHASES_TABLE]:
        if row["price"] is not None:
            line = (row["price"] * (row["quantity"] or 1)).quantize(places, rounding=ROUND_HALF_UP)
            sums[("p", row["external_id"])] = sums.get(("p", row["external_id"]), Decimal(0)) + line
    for row in tables[EVENTS_TABLE]:
        amount = json.loads(row["properties"])["amount"] if row["properties"] else None
        if isinstance(amount, float):
            value = Decimal(repr(amount)).quantize(places, rounding=ROUND_HALF_UP)
            sums[("e", row["external_id"])] = sums.get(("e", row["external_id"]), Decimal(0)) + value
    return sorted({float(total) for total in sums.values()})


def money_filter_strategy(as_of: datetime, sums: list[float]) -> st.SearchStrategy[dict]:
    """One revenue, sum, avg or rfm monetary leaf; thresholds are `sums` (first: hypothesis
    favours early values) and MONEY_VALUES."""
    amount = number_comparison_strategy((*sums, *MONEY_VALUES))
    revenue = st.builds(lambda cmp, within: {"purchase": "any", "revenue": cmp, **within},
                        amount, st.just({}) | st.sampled_from(LAST_DAYS).map(lambda n: {"within": {"last_days": n}}))
    aggregate = st.builds(lambda kind, cmp: {"event": list(EVENT_NAMES), kind: {"property": "amount", **cmp}},
                          st.sampled_from(("sum", "avg")), amount)
    monetary = rfm_leaf_strategy(as_of).map(lambda leaf: {"rfm": {"monetary": leaf["rfm"].get("monetary", {"gte": 1})}})
    return weighted((3, revenue), (3, aggregate), (1, monetary))


@st.composite
def money_case_strategy(draw: st.DrawFn) -> dict[str, Any]:
    """A behaviour case whose prices and event amounts come from MONEY_PRICES and
    MONEY_AMOUNTS, under one money leaf (`money_filter_strategy`)."""
    case = draw(case_strategy(behaviour=True))
    tables = case["tables"]
    # a palette of 1-3 values per case, so that users' rows repeat them (0.1 + 0.1 + 0.1)
    prices = st.sampled_from(draw(st.lists(st.sampled_from(MONEY_PRICES), min_size=1, max_size=3)))
    amounts = st.sampled_from(draw(st.lists(st.sampled_from(MONEY_AMOUNTS), min_size=1, max_size=3)))
    for row in tables[PURCHASES_TABLE]:
        row["price"] = draw(prices)
    for row in tables[EVENTS_TABLE]:
        amount = draw(amounts)
        row["properties"] = None if amount is None else json.dumps({"amount": amount})
    return {**case, "filter": draw(money_filter_strategy(case["as_of"], _money_sums(tables)))}
