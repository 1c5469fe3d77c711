"""Independent pure-Python reference evaluator of the segsql filter language.

Used only by tests, to check what the compiled SQL returns. It implements SPEC.md
"Words", section 1 (sources.yml: attribute declarations, epoch units, JSON columns) and
sections 3.1-3.3 and 3.7 (`segment`, `random_bucket`, `near`) and deliberately shares no
code with the `segsql` package. It is slow on purpose: every filter node is turned into
the set of universe users it holds for, by a plain loop over the users, and every
operator is one small function.

Value model. Every attribute value is first normalised to one Python value per type,
or ``None`` when it is missing (NULL, absent JSON key, user absent from the users
table, JSON value of the wrong JSON type for the declared type - typing inside JSON is
strict, README "Object paths": only a JSON string is a string, only a JSON number a
number, only true/false a boolean, only an ISO string a time):

========  =====================================================================
string    ``str``
number    ``float``
boolean   ``bool``
time      aware ``datetime`` in UTC
array     ``list[str]`` (elements compared as strings)
object    parsed JSON (``dict`` usually)
========  =====================================================================

Positive operators are false on ``None``; negative operators are ``not`` of their
positive twin; ``exists`` / ``or_missing`` use `value_exists` (for strings '' and for
arrays [] also count as missing).

Things the SPEC calls errors raise ``ValueError``; filter kinds outside the sections
above (event, purchase, sequence, rfm, funnel) raise ``NotImplementedError``.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

DAY = timedelta(seconds=86_400)
EARTH_RADIUS_KM = 6371.0
BUCKETS = 10_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# SPEC 3.2, plus `exists` on a whole object attribute (the only thing that fits it).
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
    "object": ("exists",),
}
TYPES = tuple(OPERATORS_BY_TYPE)

# Each negative operator is exactly `not` of its positive twin (SPEC 3).
NEGATIVE_TWIN: dict[str, str] = {
    "not_equals": "equals",
    "not_in": "in",
    "not_matches_regex": "matches_regex",
    "not_includes": "includes",
}

EPOCH_UNITS: dict[str, timedelta] = {
    "epoch_seconds": timedelta(seconds=1),
    "epoch_millis": timedelta(milliseconds=1),
}

COMBINATORS = ("all", "any", "not")
NOT_IMPLEMENTED_LEAVES = ("event", "purchase", "sequence", "rfm", "funnel")
ATTRIBUTE_LEAF_KEYS = ("attribute", "type", "or_missing")

Value = Any  # a normalised value (see the module docstring) or None when missing
Test = Callable[[Value], bool]


# ---------------------------------------------------------------------------------------
# Public API


def evaluate(
    filter_node: dict | list,
    *,
    sources: dict,
    tables: dict[str, list[dict]],
    as_of: datetime,
    timezone: str = "UTC",
    bucket_salt: str = "",
    segments: dict[str, dict | list] | None = None,
) -> set[str]:
    """Return the external ids (strings) of the users for whom `filter_node` is true."""
    context = _Context(
        sources=sources,
        users_by_id=users_by_id(sources, tables),
        universe=universe(sources, tables, as_of),
        as_of=_as_of_utc(as_of),
        tz=ZoneInfo(timezone),
        bucket_salt=bucket_salt,
        segments=dict(segments or {}),
    )
    return _members(filter_node, context)


def universe(sources: dict, tables: dict[str, list[dict]], as_of: datetime) -> set[str]:
    """Non-empty ids of the users table, plus those of events and purchases at or before
    `as_of` (SPEC "Words"). Ids are compared as strings; NULL and '' are not users."""
    as_of = _as_of_utc(as_of)
    ids = set(users_by_id(sources, tables))
    for source_name in ("events", "purchases"):
        source = sources.get(source_name)
        if source is None:
            continue
        time_column, unit = time_column_spec(source["time"])
        for row in tables.get(source["table"], []):
            external_id = id_text(row.get(source["user"]))
            occurred = to_utc(row.get(time_column), unit)
            if external_id is not None and occurred is not None and occurred <= as_of:
                ids.add(external_id)
    return ids


def users_by_id(sources: dict, tables: dict[str, list[dict]]) -> dict[str, dict]:
    """The users table keyed by external id text (rows with NULL or '' ids are dropped).
    A duplicated id is an error (SPEC 1: `run` fails on it)."""
    users = sources["users"]
    result: dict[str, dict] = {}
    for row in tables.get(users["table"], []):
        external_id = id_text(row.get(users["id"]))
        if external_id is None:
            continue
        if external_id in result:
            raise ValueError(f"duplicated id {external_id!r} in users table {users['table']}")
        result[external_id] = row
    return result


def random_bucket(external_id: str, bucket_salt: str = "") -> int:
    """SPEC 3.7: int(first 8 hex digits of md5(bucket_salt || external_id), 16) mod 10000."""
    digest = hashlib.md5((bucket_salt + external_id).encode("utf-8")).hexdigest()
    return int(digest[:8], 16) % BUCKETS


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance, 2R·asin(sqrt(sin²(Δφ/2) + cosφ1·cosφ2·sin²(Δλ/2)))."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    delta_phi = math.radians(lat2 - lat1)
    delta_lambda = math.radians(lon2 - lon1)
    a = (
        math.sin(delta_phi / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(delta_lambda / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, a)))


def value_exists(value_type: str, value: Value) -> bool:
    """`exists: true`: not NULL; for strings also not ''; for arrays also not empty."""
    if value is None:
        return False
    if value_type == "string" and value == "":
        return False
    return not (value_type == "array" and len(value) == 0)


# ---------------------------------------------------------------------------------------
# Small conversions shared by the data side and the filter side


def id_text(value: Any) -> str | None:
    """External id as text; None for NULL and ''."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError(f"boolean external id {value!r}")
    text = value if isinstance(value, str) else str(value)
    return text or None


def time_column_spec(spec: str | dict) -> tuple[str, str | None]:
    """`time: col` or `time: {column: col, unit: epoch_millis}` -> (column, unit)."""
    if isinstance(spec, str):
        return spec, None
    unit = spec.get("unit")
    if unit is not None and unit not in EPOCH_UNITS:
        raise ValueError(f"unknown time unit {unit!r}")
    return spec["column"], unit


def to_utc(value: Any, unit: str | None = None) -> datetime | None:
    """A time column value as an aware UTC datetime (None stays None).

    Naive datetimes are UTC, aware ones are converted; with an epoch unit the value is
    a number of seconds / milliseconds since 1970-01-01 UTC."""
    if value is None:
        return None
    if unit is not None:
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            raise TypeError(f"epoch time column holds {value!r}, expected a number")
        amount = float(value) if isinstance(value, Decimal) else value
        return EPOCH + amount * EPOCH_UNITS[unit]
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        return to_utc(datetime.fromisoformat(value))
    raise TypeError(f"time column holds {value!r}")


def json_scalar_text(value: Any) -> str | None:
    """The text form of a scalar: "5", "5.5", "true"; None for objects, arrays and null.
    Used for filter values that YAML typed (`equals: 5` on a string attribute) and for
    array elements - not for JSON paths typed string, which are strict."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return None


def _as_of_utc(as_of: datetime) -> datetime:
    return as_of.replace(tzinfo=UTC) if as_of.tzinfo is None else as_of.astimezone(UTC)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


# ---------------------------------------------------------------------------------------
# Filter nodes -> member sets


@dataclass
class _Context:
    sources: dict
    users_by_id: dict[str, dict]
    universe: set[str]
    as_of: datetime
    tz: ZoneInfo
    bucket_salt: str
    segments: dict[str, dict | list]
    segment_members: dict[str, set[str]] = field(default_factory=dict)
    segment_stack: list[str] = field(default_factory=list)


def _members(node: Any, ctx: _Context) -> set[str]:
    if isinstance(node, list):  # a bare list is `all`
        return _all(node, ctx)
    if not isinstance(node, Mapping):
        raise ValueError(f"a filter must be a mapping or a list, got {node!r}")
    if not node:
        raise ValueError("empty filter")
    combinators = [key for key in COMBINATORS if key in node]
    if combinators:
        if len(node) != 1:
            raise ValueError(f"a combinator stands alone in its mapping: {dict(node)!r}")
        key = combinators[0]
        if key == "all":
            return _all(node["all"], ctx)
        if key == "any":
            return _any(node["any"], ctx)
        return ctx.universe - _members(node["not"], ctx)
    if "attribute" in node:
        return _attribute_leaf(node, ctx)
    if "segment" in node:
        return _segment_leaf(node, ctx)
    if "random_bucket" in node:
        return _random_bucket_leaf(node, ctx)
    if "near" in node:
        return _near_leaf(node, ctx)
    for kind in NOT_IMPLEMENTED_LEAVES:
        if kind in node:
            raise NotImplementedError(f"the reference evaluator does not model `{kind}:`")
    raise ValueError(f"unknown filter {dict(node)!r}")


def _children(children: Any, combinator: str) -> list:
    if not isinstance(children, list):
        raise ValueError(f"`{combinator}:` takes a list of filters, got {children!r}")
    if not children:
        raise ValueError(f"`{combinator}:` with an empty list")
    return children


def _all(children: Any, ctx: _Context) -> set[str]:
    result = set(ctx.universe)
    for child in _children(children, "all"):
        result &= _members(child, ctx)
    return result


def _any(children: Any, ctx: _Context) -> set[str]:
    result: set[str] = set()
    for child in _children(children, "any"):
        result |= _members(child, ctx)
    return result


def _check_keys(node: Mapping, allowed: tuple[str, ...]) -> None:
    unknown = [key for key in node if key not in allowed]
    if unknown:
        raise ValueError(f"unknown key(s) {unknown} in {dict(node)!r}")


# --- segment ---------------------------------------------------------------------------


def _segment_leaf(node: Mapping, ctx: _Context) -> set[str]:
    _check_keys(node, ("segment",))
    name = node["segment"]
    if name not in ctx.segments:
        raise ValueError(f"unknown segment {name!r}")
    if name in ctx.segment_stack:
        cycle = [*ctx.segment_stack[ctx.segment_stack.index(name):], name]
        raise ValueError("segment cycle: " + " -> ".join(cycle))
    if name not in ctx.segment_members:
        ctx.segment_stack.append(name)
        try:
            ctx.segment_members[name] = _members(ctx.segments[name], ctx)
        finally:
            ctx.segment_stack.pop()
    return set(ctx.segment_members[name])


# --- random_bucket ---------------------------------------------------------------------


def _random_bucket_leaf(node: Mapping, ctx: _Context) -> set[str]:
    _check_keys(node, ("random_bucket",))
    comparison = node["random_bucket"]
    if not isinstance(comparison, Mapping) or not comparison:
        raise ValueError(f"random_bucket takes a number comparison, got {comparison!r}")
    tests = [_operator_test("number", op, comparison[op], ctx) for op in comparison]
    return {
        external_id
        for external_id in ctx.universe
        if all(test(float(random_bucket(external_id, ctx.bucket_salt))) for test in tests)
    }


# --- near ------------------------------------------------------------------------------


def _near_leaf(node: Mapping, ctx: _Context) -> set[str]:
    _check_keys(node, ("near",))
    spec = node["near"]
    if not isinstance(spec, Mapping) or set(spec) != {"lat", "lon", "radius_km"}:
        raise ValueError(f"near takes {{lat, lon, radius_km}}, got {spec!r}")
    if not all(_is_number(spec[key]) for key in spec):
        raise ValueError(f"near takes numbers, got {spec!r}")
    location = ctx.sources["users"].get("location")
    if not location:
        raise ValueError("near needs users.location in sources.yml")
    result = set()
    for external_id in ctx.universe:
        row = ctx.users_by_id.get(external_id)
        if row is None:
            continue
        lat, lon = row.get(location["lat"]), row.get(location["lon"])
        if lat is None or lon is None:
            continue
        distance = haversine_km(float(lat), float(lon), float(spec["lat"]), float(spec["lon"]))
        if distance <= float(spec["radius_km"]):
            result.add(external_id)
    return result


# --- attribute -------------------------------------------------------------------------


def _attribute_leaf(node: Mapping, ctx: _Context) -> set[str]:
    name = node["attribute"]
    operators = [key for key in node if key not in ATTRIBUTE_LEAF_KEYS]
    if not operators:
        raise ValueError(f"attribute filter without an operator: {dict(node)!r}")
    value_type, read = _attribute_reader(name, node.get("type"), ctx.sources)
    for op in operators:
        if op not in OPERATORS_BY_TYPE[value_type]:
            raise ValueError(
                f"operator {op!r} does not fit attribute {name!r} of type {value_type}; "
                f"allowed: {', '.join(OPERATORS_BY_TYPE[value_type])}"
            )
    or_missing = node.get("or_missing", False)
    if not isinstance(or_missing, bool):
        raise ValueError(f"or_missing takes true or false, got {or_missing!r}")
    tests = [_operator_test(value_type, op, node[op], ctx) for op in operators]

    result = set()
    for external_id in ctx.universe:
        value = read(ctx.users_by_id.get(external_id))
        holds = all(test(value) for test in tests)
        if or_missing and not value_exists(value_type, value):
            holds = True
        if holds:
            result.add(external_id)
    return result


def _attribute_reader(
    name: Any, filter_type: Any, sources: dict
) -> tuple[str, Callable[[dict | None], Value]]:
    """(type, function from a users row (None: absent user) to the normalised value)."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"attribute name must be a non-empty string, got {name!r}")
    attributes = sources["users"].get("attributes", {})
    if filter_type is not None and filter_type not in TYPES:
        raise ValueError(f"unknown type {filter_type!r}")

    if name in attributes:
        column, declared, unit = _attribute_declaration(name, attributes[name])
        if filter_type is not None and filter_type != declared:
            raise ValueError(
                f"attribute {name!r} is declared {declared}, the filter says {filter_type}"
            )

        def read_column(row: dict | None) -> Value:
            return None if row is None else _column_value(declared, row.get(column), unit)

        return declared, read_column

    base, _, rest = name.partition(".")
    if not rest or base not in attributes:
        raise ValueError(f"unknown attribute {name!r}")
    column, declared, _unit = _attribute_declaration(base, attributes[base])
    if declared != "object":
        raise ValueError(f"dotted path {name!r} into {base!r}, which is {declared}, not object")
    path = rest.split(".")
    if any(not key for key in path):
        raise ValueError(f"bad path {name!r}")
    value_type = filter_type or "string"

    def read_path(row: dict | None) -> Value:
        if row is None:
            return None
        document = _column_value("object", row.get(column), None)
        return _json_value(value_type, _walk(document, path))

    return value_type, read_path


def _attribute_declaration(name: str, declaration: Any) -> tuple[str, str, str | None]:
    """`name: type` or `name: {column, type, unit}` -> (column, type, unit)."""
    if isinstance(declaration, str):
        column, value_type, unit = name, declaration, None
    elif isinstance(declaration, Mapping):
        column = declaration.get("column", name)
        value_type = declaration.get("type")
        unit = declaration.get("unit")
    else:
        raise ValueError(f"bad declaration of attribute {name!r}: {declaration!r}")
    if value_type not in TYPES:
        raise ValueError(f"attribute {name!r} has unknown type {value_type!r}")
    if unit is not None and (value_type != "time" or unit not in EPOCH_UNITS):
        raise ValueError(f"attribute {name!r}: unit {unit!r} needs type time and an epoch unit")
    return column, value_type, unit


def _column_value(value_type: str, raw: Any, unit: str | None) -> Value:
    """A users-table cell normalised to the value model (None = missing)."""
    if raw is None:
        return None
    if value_type == "string":
        if not isinstance(raw, str):
            raise TypeError(f"string column holds {raw!r}")
        return raw
    if value_type == "number":
        if not _is_number(raw):
            raise TypeError(f"number column holds {raw!r}")
        return float(raw)
    if value_type == "boolean":
        if not isinstance(raw, bool):
            raise TypeError(f"boolean column holds {raw!r}")
        return raw
    if value_type == "time":
        return to_utc(raw, unit)
    if value_type == "array":
        if isinstance(raw, str):
            raw = json.loads(raw)
        if not isinstance(raw, list | tuple):
            raise TypeError(f"array column holds {raw!r}")
        return [text for text in map(json_scalar_text, raw) if text is not None]
    # object: a dict (native JSON) or a string holding JSON; JSON null is missing
    if isinstance(raw, str):
        return json.loads(raw)
    if isinstance(raw, Mapping | list):
        return raw
    raise TypeError(f"object column holds {raw!r}")


def _walk(document: Any, path: list[str]) -> Any:
    for key in path:
        if not isinstance(document, Mapping) or key not in document:
            return None
        document = document[key]
    return document


def _json_value(value_type: str, value: Any) -> Value:
    """A JSON value read as `value_type`; the wrong JSON type counts as missing."""
    if value is None:
        return None
    if value_type == "string":
        # Strict JSON typing (README "Object paths"): only a JSON string is a string.
        return value if isinstance(value, str) else None
    if value_type == "number":
        return float(value) if _is_number(value) else None
    if value_type == "boolean":
        return value if isinstance(value, bool) else None
    if value_type == "time":
        if not isinstance(value, str):
            return None
        try:
            return to_utc(datetime.fromisoformat(value))
        except ValueError:
            return None
    if value_type == "array":
        if not isinstance(value, list):
            return None
        return [text for text in map(json_scalar_text, value) if text is not None]
    return value  # object


# ---------------------------------------------------------------------------------------
# Operators: (type, op, filter value) -> test on a normalised value


def _operator_test(value_type: str, op: str, argument: Any, ctx: _Context) -> Test:
    if op not in OPERATORS_BY_TYPE[value_type]:
        raise ValueError(f"unknown operator {op!r} for type {value_type}")
    if op == "exists":
        if not isinstance(argument, bool):
            raise ValueError(f"exists takes true or false, got {argument!r}")
        return lambda value: value_exists(value_type, value) == argument
    if op in NEGATIVE_TWIN:
        positive = _operator_test(value_type, NEGATIVE_TWIN[op], argument, ctx)
        return lambda value: not positive(value)
    compare = POSITIVE_OPERATORS[value_type][op](argument, ctx)
    return lambda value: value is not None and compare(value)


# --- argument checks -------------------------------------------------------------------


def _text_argument(argument: Any) -> str:
    """A filter value compared with a string: YAML may have typed it (5, 5.5, true)."""
    text = json_scalar_text(argument)
    if text is None:
        raise ValueError(f"expected a string, got {argument!r}")
    return text


def _number_argument(argument: Any) -> float:
    if not _is_number(argument):
        raise ValueError(f"expected a number, got {argument!r}")
    return float(argument)


def _non_empty_list(argument: Any) -> list:
    if not isinstance(argument, list) or not argument:
        raise ValueError(f"expected a non-empty list, got {argument!r}")
    return argument


# --- string ----------------------------------------------------------------------------


def _string_equals(argument: Any, ctx: _Context) -> Test:
    expected = _text_argument(argument)
    return lambda value: value == expected


def _string_in(argument: Any, ctx: _Context) -> Test:
    options = {_text_argument(item) for item in _non_empty_list(argument)}
    return lambda value: value in options


def _string_matches_regex(argument: Any, ctx: _Context) -> Test:
    if not isinstance(argument, str):
        raise ValueError(f"matches_regex takes a string, got {argument!r}")
    try:
        pattern = re.compile(argument)
    except re.error as error:
        raise ValueError(f"bad regular expression {argument!r}: {error}") from error
    return lambda value: pattern.search(value) is not None


def _string_starts_with(argument: Any, ctx: _Context) -> Test:
    prefix = _text_argument(argument)
    return lambda value: value.startswith(prefix)


def _string_ends_with(argument: Any, ctx: _Context) -> Test:
    suffix = _text_argument(argument)
    return lambda value: value.endswith(suffix)


def _string_contains(argument: Any, ctx: _Context) -> Test:
    part = _text_argument(argument)
    return lambda value: part in value


# --- number ----------------------------------------------------------------------------


def _number_equals(argument: Any, ctx: _Context) -> Test:
    expected = _number_argument(argument)
    return lambda value: value == expected


def _number_in(argument: Any, ctx: _Context) -> Test:
    options = {_number_argument(item) for item in _non_empty_list(argument)}
    return lambda value: value in options


def _number_gt(argument: Any, ctx: _Context) -> Test:
    bound = _number_argument(argument)
    return lambda value: value > bound


def _number_gte(argument: Any, ctx: _Context) -> Test:
    bound = _number_argument(argument)
    return lambda value: value >= bound


def _number_lt(argument: Any, ctx: _Context) -> Test:
    bound = _number_argument(argument)
    return lambda value: value < bound


def _number_lte(argument: Any, ctx: _Context) -> Test:
    bound = _number_argument(argument)
    return lambda value: value <= bound


def _number_between(argument: Any, ctx: _Context) -> Test:
    if not isinstance(argument, list) or len(argument) != 2:
        raise ValueError(f"between takes [low, high], got {argument!r}")
    low, high = (_number_argument(item) for item in argument)
    return lambda value: low <= value <= high


# --- boolean ---------------------------------------------------------------------------


def _boolean_equals(argument: Any, ctx: _Context) -> Test:
    if not isinstance(argument, bool):
        raise ValueError(f"a boolean equals takes true or false, got {argument!r}")
    return lambda value: value is argument


# --- time ------------------------------------------------------------------------------


def filter_instant(argument: Any, tz: ZoneInfo) -> datetime:
    """A `before:`/`after:` value as an aware UTC instant.

    A date means 00:00 of that date in the project time zone; a datetime or ISO string
    without an offset is that wall time in the project time zone; an ISO string ending
    in Z or with an offset (or an aware datetime) is absolute."""
    if isinstance(argument, str):
        text = argument.strip()
        try:
            parsed: date = (
                date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
            )
        except ValueError as error:
            raise ValueError(f"not an ISO date or datetime: {argument!r}") from error
        return filter_instant(parsed, tz)
    if isinstance(argument, datetime):
        if argument.tzinfo is None:
            return argument.replace(tzinfo=tz).astimezone(UTC)
        return argument.astimezone(UTC)
    if isinstance(argument, date):
        return datetime(argument.year, argument.month, argument.day, tzinfo=tz).astimezone(UTC)
    raise ValueError(f"expected a date or datetime, got {argument!r}")


def _days(argument: Any) -> timedelta:
    return _number_argument(argument) * DAY


def _time_before(argument: Any, ctx: _Context) -> Test:
    instant = filter_instant(argument, ctx.tz)
    return lambda value: value < instant


def _time_after(argument: Any, ctx: _Context) -> Test:
    instant = filter_instant(argument, ctx.tz)
    return lambda value: value > instant


def _time_more_than_days_ago(argument: Any, ctx: _Context) -> Test:
    edge = ctx.as_of - _days(argument)
    return lambda value: value < edge


def _time_less_than_days_ago(argument: Any, ctx: _Context) -> Test:
    edge = ctx.as_of - _days(argument)
    return lambda value: edge < value <= ctx.as_of


def _time_more_than_days_in_future(argument: Any, ctx: _Context) -> Test:
    edge = ctx.as_of + _days(argument)
    return lambda value: value > edge


def _time_less_than_days_in_future(argument: Any, ctx: _Context) -> Test:
    edge = ctx.as_of + _days(argument)
    return lambda value: ctx.as_of <= value < edge


# --- array -----------------------------------------------------------------------------


def _array_includes(argument: Any, ctx: _Context) -> Test:
    element = _text_argument(argument)
    return lambda value: element in value


def _array_includes_any(argument: Any, ctx: _Context) -> Test:
    elements = {_text_argument(item) for item in _non_empty_list(argument)}
    return lambda value: any(element in value for element in elements)


def _array_includes_all(argument: Any, ctx: _Context) -> Test:
    elements = {_text_argument(item) for item in _non_empty_list(argument)}
    return lambda value: all(element in value for element in elements)


POSITIVE_OPERATORS: dict[str, dict[str, Callable[[Any, _Context], Test]]] = {
    "string": {
        "equals": _string_equals,
        "in": _string_in,
        "matches_regex": _string_matches_regex,
        "starts_with": _string_starts_with,
        "ends_with": _string_ends_with,
        "contains": _string_contains,
    },
    "number": {
        "equals": _number_equals,
        "in": _number_in,
        "gt": _number_gt,
        "gte": _number_gte,
        "lt": _number_lt,
        "lte": _number_lte,
        "between": _number_between,
    },
    "boolean": {"equals": _boolean_equals},
    "time": {
        "before": _time_before,
        "after": _time_after,
        "more_than_days_ago": _time_more_than_days_ago,
        "less_than_days_ago": _time_less_than_days_ago,
        "more_than_days_in_future": _time_more_than_days_in_future,
        "less_than_days_in_future": _time_less_than_days_in_future,
    },
    "array": {
        "includes": _array_includes,
        "includes_any": _array_includes_any,
        "includes_all": _array_includes_all,
    },
    "object": {},
}
