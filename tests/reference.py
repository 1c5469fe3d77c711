"""Independent pure-Python reference evaluator of the segsql filter language.

Used only by tests, to check what the compiled SQL returns. It implements SPEC.md
"Words", section 1 (sources.yml: attribute declarations, epoch units, JSON columns,
catalogs), sections 3.1-3.6 (combinators, operators, attributes, event, purchase and
sequence filters) and 3.7 (`segment`, `random_bucket`, `near`, `rfm`), and deliberately
shares no code with the `segsql` package. It is slow on purpose: every filter node is
turned into the set of universe users it holds for, by a plain loop over the users, and
every operator is one small function.

Value model. Every attribute value is first normalised to one Python value per type,
or ``None`` when it is missing (NULL, absent JSON key, user absent from the users
table, JSON value of the wrong JSON type for the declared type - typing inside JSON is
strict, README "Object paths": only a JSON string is a string, only a JSON number a
number, only true/false a boolean, only an ISO string a time (naive = UTC)):

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

Behaviour. Event and purchase filters, sequences and rfm see only the rows with a
non-empty user id and a time <= as_of ("occurrences"; a row's identity is its position
in its table). Every universe user is evaluated, so a measure over no occurrences counts
(``count: {lt: 3}`` holds for users without events). The choices the SPEC leaves open
are written where they are made; in short:

- ``where:`` conditions are typed by ``type:``, else by operator, else by the YAML type
  of an equals/in value (``in: [true]`` is boolean, hence an error), else string; a
  ``column:`` cell must hold a Python value of that type (else ``TypeError``).
- ``catalog:`` conditions take a list of attribute leaves (no combinators); without
  ``where:`` the catalog row only has to exist. Keys are compared as text.
- sum/avg/min/max read a property as a number; ``count_distinct`` reads string (or
  ``type:`` number/boolean/time) and counts '' as a value.
- Money is exact (SPEC 3.4): sum, avg, revenue and rfm monetary take each value as the
  decimal it is written as (a float by its shortest repr: 0.1 is 1/10), revenue's
  price × quantity multiplied exactly, round it half away from zero to 6 places
  (``ROUND_HALF_UP``) and add decimals; they are compared as exact rationals
  (``Fraction``) with the filter value read the same way, so an average is exact too.
- ``last_days`` takes a whole number; durations may add several units; the first step
  of a sequence may not have ``within_previous``/``after_previous``; a step or
  ``then_not`` is an ``event:`` or a ``purchase:`` row (never both); ``then_not`` without
  ``within_hours`` looks up to as_of.
- ``rfm`` is false for every user without a purchase in its window, whatever the
  comparisons (also ``not_equals`` / ``exists: false``); ``rfm: {}`` holds for every
  user with one. Scores are computed exactly with integers.

Things the SPEC calls errors raise ``ValueError``; ``funnel:`` leaves raise
``NotImplementedError``.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
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
NOT_IMPLEMENTED_LEAVES = ("funnel",)
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
        tables=tables,
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
    tables: dict[str, list[dict]]
    users_by_id: dict[str, dict]
    universe: set[str]
    as_of: datetime
    tz: ZoneInfo
    bucket_salt: str
    segments: dict[str, dict | list]
    segment_members: dict[str, set[str]] = field(default_factory=dict)
    segment_stack: list[str] = field(default_factory=list)
    # source name ("events" / "purchases") -> external id -> occurrences seen at as_of
    occurrences: dict[str, dict[str, list[_Occurrence]]] = field(default_factory=dict)


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
    if "event" in node:
        return _event_leaf(node, ctx)
    if "purchase" in node:
        return _purchase_leaf(node, ctx)
    if "sequence" in node:
        return _sequence_leaf(node, ctx)
    if "rfm" in node:
        return _rfm_leaf(node, ctx)
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
    trait = _trait_of(node, ctx)
    if trait is not None:  # SPEC 8.3: `<trait>.<name>`, read from the trait table's row of the user
        _, declaration = trait
        rows = rows_by_id(declaration["table"], declaration.get("id", "external_id"), ctx.tables)
        holds = _attribute_predicate({**node, "attribute": node["attribute"].partition(".")[2]}, declaration.get("attributes", {}), ctx)
        return {external_id for external_id in ctx.universe if holds(rows.get(external_id))}
    holds = _attribute_predicate(node, ctx.sources["users"].get("attributes", {}), ctx)
    return {
        external_id
        for external_id in ctx.universe
        if holds(ctx.users_by_id.get(external_id))
    }


def _trait_of(node: Mapping, ctx: _Context) -> tuple[str, dict] | None:
    """(name, declaration) of the trait table `attribute: <trait>.<name>` reads, else None."""
    name = node.get("attribute")
    head, _, rest = name.partition(".") if isinstance(name, str) else ("", "", "")
    traits = ctx.sources.get("traits") or {}
    users_attributes = (ctx.sources.get("users") or {}).get("attributes", {})
    if rest and head in traits and head not in users_attributes:
        return head, traits[head]
    return None


def rows_by_id(table: str, id_column: str, tables: dict[str, list[dict]]) -> dict[str, dict]:
    """A per-user table keyed by id text; a duplicated id is an error (`run` fails on it)."""
    result: dict[str, dict] = {}
    for row in tables.get(table, []):
        external_id = id_text(row.get(id_column))
        if external_id is None:
            continue
        if external_id in result:
            raise ValueError(f"duplicated id {external_id!r} in table {table}")
        result[external_id] = row
    return result


def _attribute_predicate(
    node: Mapping, attributes: Mapping, ctx: _Context
) -> Callable[[dict | None], bool]:
    """`{attribute: name, <op>: value, ...}` over `attributes` (the users' or a catalog's
    declarations) -> a test on a row of their table (None: no row, every value missing)."""
    name = node["attribute"]
    operators = [key for key in node if key not in ATTRIBUTE_LEAF_KEYS]
    if not operators:
        raise ValueError(f"attribute filter without an operator: {dict(node)!r}")
    value_type, read = _attribute_reader(name, node.get("type"), attributes)
    _check_operators_fit(operators, value_type, f"attribute {name!r}")
    or_missing = _or_missing(node)
    tests = [_operator_test(value_type, op, node[op], ctx) for op in operators]

    def holds(row: dict | None) -> bool:
        value = read(row)
        if or_missing and not value_exists(value_type, value):
            return True
        return all(test(value) for test in tests)

    return holds


def _check_operators_fit(operators: list[str], value_type: str, what: str) -> None:
    for op in operators:
        if op not in OPERATORS_BY_TYPE[value_type]:
            raise ValueError(
                f"operator {op!r} does not fit {what} of type {value_type}; "
                f"allowed: {', '.join(OPERATORS_BY_TYPE[value_type])}"
            )


def _or_missing(node: Mapping) -> bool:
    or_missing = node.get("or_missing", False)
    if not isinstance(or_missing, bool):
        raise ValueError(f"or_missing takes true or false, got {or_missing!r}")
    return or_missing


def _attribute_reader(
    name: Any, filter_type: Any, attributes: Mapping
) -> tuple[str, Callable[[dict | None], Value]]:
    """(type, function from a row (None: absent row) to the normalised value)."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"attribute name must be a non-empty string, got {name!r}")
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
    path = _split_path(rest, name)
    value_type = filter_type or "string"

    def read_path(row: dict | None) -> Value:
        if row is None:
            return None
        document = _column_value("object", row.get(column), None)
        return _json_value(value_type, _walk(document, path))

    return value_type, read_path


def _split_path(path: str, name: str) -> list[str]:
    keys = path.split(".")
    if any(not key for key in keys):
        raise ValueError(f"bad path {name!r}")
    return keys


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


def _number_argument(argument: Any) -> float | Fraction:
    if isinstance(argument, Fraction):  # an exact comparison value (`_exact_comparison`)
        return argument
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


# ---------------------------------------------------------------------------------------
# Behaviour: event (3.4), purchase (3.5) and sequence (3.6) filters, rfm (3.7)

EVENT_MEASURES = ("count", "sum", "avg", "min", "max", "count_distinct", "first", "last")
PURCHASE_MEASURES = (*EVENT_MEASURES, "revenue")
EVENT_LEAF_KEYS = ("event", "where", "within", *EVENT_MEASURES)
PURCHASE_LEAF_KEYS = ("purchase", "where", "within", *PURCHASE_MEASURES)
DEFAULT_MEASURE = ("count", {"gte": 1})
CONDITION_KEYS = ("property", "column", "type", "or_missing")
CATALOG_CONDITION_KEYS = ("property", "column", "catalog", "where")
SEQUENCE_KEYS = ("sequence", "max_span", "within", "then_not")
STEP_KEYS = ("event", "purchase", "where", "within_previous", "after_previous")
THEN_NOT_KEYS = ("event", "purchase", "where", "within_hours")
RFM_PARTS = ("recency", "frequency", "monetary")
RFM_DEFAULT_WINDOW = {"last_days": 365}
RFM_TOP_SCORE = 5
DISTINCT_TYPES = ("string", "number", "boolean", "time")
HOUR = timedelta(hours=1)
DURATION_UNITS: dict[str, timedelta] = {
    "minutes": timedelta(minutes=1), "hours": HOUR, "days": DAY,
}

# The type a `where:` condition gets from its operator when `type:` is not written
# (the value-typed operators and `exists` say nothing by themselves).
VALUE_TYPED_OPERATORS = ("equals", "not_equals", "in", "not_in")
TYPE_OF_OPERATOR: dict[str, str] = {
    op: value_type
    for value_type in ("string", "number", "time", "array")
    for op in OPERATORS_BY_TYPE[value_type]
    if op not in (*VALUE_TYPED_OPERATORS, "exists")
}

RowTest = Callable[[dict], bool]
Window = Callable[[datetime], bool]


@dataclass(frozen=True)
class _Occurrence:
    """One event or purchase row seen at as_of; `index` (position in its table) is the
    row's identity, so two equal rows are still two occurrences."""

    index: int
    time: datetime
    row: dict
    #: "events" or "purchases": a row of one is never a row of the other
    source: str = "events"


Measure = Callable[[list[_Occurrence]], bool]


@dataclass(frozen=True)
class _Step:
    matches: Callable[[_Occurrence], bool]
    within_previous: timedelta | None
    after_previous: timedelta | None


@dataclass(frozen=True)
class _ThenNot:
    matches: Callable[[_Occurrence], bool]
    #: None: up to as_of
    span: timedelta | None


# --- occurrences -----------------------------------------------------------------------


def _source(ctx: _Context, name: str) -> Mapping:
    source = ctx.sources.get(name)
    if not isinstance(source, Mapping):
        raise ValueError(f"this filter needs `{name}:` in sources.yml")
    return source


def _occurrences(ctx: _Context, source_name: str) -> dict[str, list[_Occurrence]]:
    """The rows of events or purchases seen at as_of (non-empty user id, time <= as_of),
    by external id, each user's list ordered by (time, position in the table)."""
    if source_name not in ctx.occurrences:
        source = _source(ctx, source_name)
        time_column, unit = time_column_spec(source["time"])
        by_user: dict[str, list[_Occurrence]] = {}
        for index, row in enumerate(ctx.tables.get(source["table"], [])):
            external_id = id_text(row.get(source["user"]))
            occurred = to_utc(row.get(time_column), unit)
            if external_id is None or occurred is None or occurred > ctx.as_of:
                continue
            by_user.setdefault(external_id, []).append(_Occurrence(index, occurred, row, source_name))
        for occurrences in by_user.values():
            occurrences.sort(key=lambda occurrence: (occurrence.time, occurrence.index))
        ctx.occurrences[source_name] = by_user
    return ctx.occurrences[source_name]


def _behaviour_members(
    source_name: str, selects: Callable[[_Occurrence], bool], measures: list[Measure],
    ctx: _Context,
) -> set[str]:
    """Universe users whose selected occurrences (possibly none) satisfy every measure."""
    by_user = _occurrences(ctx, source_name)
    result = set()
    for external_id in ctx.universe:
        chosen = [occurrence for occurrence in by_user.get(external_id, ())
                  if selects(occurrence)]
        if all(measure(chosen) for measure in measures):
            result.add(external_id)
    return result


# --- event and purchase filters --------------------------------------------------------


def _event_leaf(node: Mapping, ctx: _Context) -> set[str]:
    _check_keys(node, EVENT_LEAF_KEYS)
    matches = _event_matcher(node, ctx)
    window = _window_of(node, ctx)
    measures = _measures(node, EVENT_MEASURES, "events", ctx)

    def selects(occurrence: _Occurrence) -> bool:
        return window(occurrence.time) and matches(occurrence.row)

    return _behaviour_members("events", selects, measures, ctx)


def _purchase_leaf(node: Mapping, ctx: _Context) -> set[str]:
    _check_keys(node, PURCHASE_LEAF_KEYS)
    source = _source(ctx, "purchases")
    is_product = _product_selector(node["purchase"], source)
    conditions = _conditions(node, "purchases", ctx)
    window = _window_of(node, ctx)
    measures = _measures(node, PURCHASE_MEASURES, "purchases", ctx)

    def selects(occurrence: _Occurrence) -> bool:
        row = occurrence.row
        return (window(occurrence.time) and is_product(row)
                and all(condition(row) for condition in conditions))

    return _behaviour_members("purchases", selects, measures, ctx)


def _event_matcher(node: Mapping, ctx: _Context) -> RowTest:
    """`event:` (a name or a list of names, case-sensitive) and `where:` of a node."""
    if "event" not in node:
        raise ValueError(f"`event:` missing in {dict(node)!r}")
    names = _text_set(node["event"], "event")
    name_column = _source(ctx, "events")["name"]
    conditions = _conditions(node, "events", ctx)

    def matches(row: dict) -> bool:
        return row.get(name_column) in names and all(condition(row) for condition in conditions)

    return matches


def _text_set(argument: Any, what: str) -> set[str]:
    if isinstance(argument, list):
        if not argument:
            raise ValueError(f"`{what}:` with an empty list")
        return {_text_argument(item) for item in argument}
    return {_text_argument(argument)}


def _product_selector(argument: Any, source: Mapping) -> RowTest:
    """`purchase: any` takes every row; an id or a list of ids compares the product
    column as text."""
    if argument == "any":
        return lambda row: True
    products = _text_set(argument, "purchase")
    column = source["product"]
    return lambda row: id_text(row.get(column)) in products


# --- windows and durations -------------------------------------------------------------


def _window_of(node: Mapping, ctx: _Context, default: Mapping | None = None) -> Window:
    """`within:` of a node (default: `default`, else all time up to as_of) as a test on
    occurrence times; always intersected with t <= as_of."""
    spec = node.get("within", default)
    if "within" not in node and default is None:
        return lambda instant: instant <= ctx.as_of
    if not isinstance(spec, Mapping) or not spec:
        raise ValueError(f"`within:` takes a window mapping, got {spec!r}")
    keys = set(spec)
    if keys == {"last_days"}:
        return _between_instants(_start_of_day(_whole_days(spec["last_days"]), ctx), None, ctx)
    if keys == {"last_hours"}:
        hours = _non_negative(spec["last_hours"], "last_hours")
        return _between_instants(ctx.as_of - hours * HOUR, None, ctx)
    if keys <= {"since", "until"}:
        since = filter_instant(spec["since"], ctx.tz) if "since" in spec else None
        until = filter_instant(spec["until"], ctx.tz) if "until" in spec else None
        return _between_instants(since, until, ctx)
    raise ValueError(
        f"a window is {{last_days: N}}, {{last_hours: N}} or {{since, until}}, got {dict(spec)!r}"
    )


def _between_instants(start: datetime | None, until: datetime | None, ctx: _Context) -> Window:
    """[start, until) ∩ (−∞, as_of]; None is unbounded."""
    def inside(instant: datetime) -> bool:
        return (instant <= ctx.as_of
                and (start is None or start <= instant)
                and (until is None or instant < until))

    return inside


def _start_of_day(days: int, ctx: _Context) -> datetime:
    """00:00 of day N (N calendar days before the day of as_of) in the project zone."""
    day = ctx.as_of.astimezone(ctx.tz).date() - timedelta(days=days)
    return datetime(day.year, day.month, day.day, tzinfo=ctx.tz).astimezone(UTC)


def _whole_days(argument: Any) -> int:
    if isinstance(argument, bool) or not isinstance(argument, int) or argument < 0:
        raise ValueError(f"last_days takes a whole number of days >= 0, got {argument!r}")
    return argument


def _non_negative(argument: Any, what: str) -> float:
    if not _is_number(argument) or argument < 0:
        raise ValueError(f"`{what}:` takes a number >= 0, got {argument!r}")
    return float(argument)


def _duration(spec: Any, what: str) -> timedelta:
    """`{hours|days|minutes: N}` (several units add up)."""
    if not isinstance(spec, Mapping) or not spec:
        raise ValueError(f"`{what}:` takes {{hours|days|minutes: N}}, got {spec!r}")
    _check_keys(spec, tuple(DURATION_UNITS))
    return sum(
        (_non_negative(amount, f"{what}.{unit}") * DURATION_UNITS[unit]
         for unit, amount in spec.items()),
        timedelta(0),
    )


# --- where conditions ------------------------------------------------------------------


def _conditions(node: Mapping, source_name: str, ctx: _Context) -> list[RowTest]:
    """`where:` of a node: a non-empty list of conditions, ANDed, each on one row."""
    if "where" not in node:
        return []
    where = node["where"]
    if not isinstance(where, list):
        raise ValueError(f"`where:` takes a list of conditions, got {where!r}")
    if not where:
        raise ValueError("`where:` with an empty list")
    return [_condition(item, source_name, ctx) for item in where]


def _condition(node: Any, source_name: str, ctx: _Context) -> RowTest:
    if not isinstance(node, Mapping) or not node:
        raise ValueError(f"a where condition is a mapping, got {node!r}")
    if "catalog" in node:
        return _catalog_condition(node, source_name, ctx)
    operators = [key for key in node if key not in CONDITION_KEYS]
    if not operators:
        raise ValueError(f"where condition without an operator: {dict(node)!r}")
    value_type = _condition_type(node, operators)
    read, what = _condition_reader(node, value_type, source_name, ctx)
    _check_operators_fit(operators, value_type, what)
    or_missing = _or_missing(node)
    tests = [_operator_test(value_type, op, node[op], ctx) for op in operators]

    def holds(row: dict) -> bool:
        value = read(row)
        if or_missing and not value_exists(value_type, value):
            return True
        return all(test(value) for test in tests)

    return holds


def _condition_type(node: Mapping, operators: list[str]) -> str:
    """`type:`, else by operator, else by the YAML type of an equals/in value, else string."""
    explicit = node.get("type")
    if explicit is not None:
        if explicit not in TYPES:
            raise ValueError(f"unknown type {explicit!r}")
        return explicit
    for op in operators:
        if op in TYPE_OF_OPERATOR:
            return TYPE_OF_OPERATOR[op]
    for op in operators:
        if op in VALUE_TYPED_OPERATORS:
            return _yaml_value_type(node[op])
    return "string"


def _yaml_value_type(argument: Any) -> str:
    if isinstance(argument, list):
        argument = argument[0] if argument else None
    if isinstance(argument, bool):
        return "boolean"
    if _is_number(argument):
        return "number"
    return "string"


def _condition_reader(
    node: Mapping, value_type: str, source_name: str, ctx: _Context
) -> tuple[Callable[[dict], Value], str]:
    """(reader of the condition's value in a row, its description for errors)."""
    if ("property" in node) == ("column" in node):
        raise ValueError(f"a where condition names one of property: or column:, got {dict(node)!r}")
    if "property" in node:
        path = node["property"]
        return _property_reader(path, value_type, source_name, ctx), f"property {path!r}"
    column = node["column"]
    return _cell_reader(column, value_type, source_name, ctx), f"column {column!r}"


def _property_reader(
    path: Any, value_type: str, source_name: str, ctx: _Context
) -> Callable[[dict], Value]:
    """A dotted path into the source's JSON `properties`, read strictly as `value_type`."""
    column = _source(ctx, source_name).get("properties")
    if not column:
        raise ValueError(f"`property:` needs `properties:` of {source_name} in sources.yml")
    if not isinstance(path, str) or not path:
        raise ValueError(f"property must be a non-empty string, got {path!r}")
    keys = _split_path(path, path)

    def read(row: dict) -> Value:
        document = _column_value("object", row.get(column), None)
        return _json_value(value_type, _walk(document, keys))

    return read


def _cell_reader(
    column: Any, value_type: str, source_name: str, ctx: _Context
) -> Callable[[dict], Value]:
    """A real column of the source's table, normalised as `value_type` (the source's time
    column keeps its epoch unit). The cell must hold a Python value of that type."""
    if not isinstance(column, str) or not column:
        raise ValueError(f"column must be a non-empty string, got {column!r}")
    source = _source(ctx, source_name)
    time_column, unit = time_column_spec(source["time"])
    unit = unit if column == time_column and value_type == "time" else None

    def read(row: dict) -> Value:
        if column not in row:
            raise ValueError(f"unknown column {column!r} of {source['table']}")
        return _column_value(value_type, row[column], unit)

    return read


def _catalog_condition(node: Mapping, source_name: str, ctx: _Context) -> RowTest:
    """`{property|column: key, catalog: name, where: [attribute filters]}`: a catalog row
    with that key (the property read strictly as a string, or the column as text) exists
    and satisfies every filter (no `where:`: the row only has to exist)."""
    _check_keys(node, CATALOG_CONDITION_KEYS)
    name = node["catalog"]
    catalogs = ctx.sources.get("catalogs") or {}
    if not isinstance(name, str) or name not in catalogs:
        raise ValueError(f"unknown catalog {name!r}")
    catalog = catalogs[name]
    if ("property" in node) == ("column" in node):
        raise ValueError(f"a catalog condition names one of property: or column:, got {dict(node)!r}")
    read_key = (_property_reader(node["property"], "string", source_name, ctx)
                if "property" in node else _key_column_reader(node["column"]))
    attributes = catalog.get("attributes") or {}
    tests = [_catalog_filter(item, attributes, ctx) for item in _conditions_list(node)]
    rows = _catalog_rows(catalog, ctx)

    def holds(row: dict) -> bool:
        key = read_key(row)
        return key is not None and any(
            all(test(catalog_row) for test in tests) for catalog_row in rows.get(key, ())
        )

    return holds


def _key_column_reader(column: Any) -> Callable[[dict], str | None]:
    """A catalog key from a real column: its text, as ids are compared (None for '')."""
    if not isinstance(column, str) or not column:
        raise ValueError(f"column must be a non-empty string, got {column!r}")
    return lambda row: id_text(row.get(column))


def _conditions_list(node: Mapping) -> list:
    if "where" not in node:
        return []
    where = node["where"]
    if not isinstance(where, list) or not where:
        raise ValueError(f"`where:` takes a non-empty list, got {where!r}")
    return where


def _catalog_filter(item: Any, attributes: Mapping, ctx: _Context) -> Callable[[dict], bool]:
    if not isinstance(item, Mapping) or "attribute" not in item:
        raise ValueError(f"a catalog's where takes attribute filters, got {item!r}")
    return _attribute_predicate(item, attributes, ctx)


def _catalog_rows(catalog: Mapping, ctx: _Context) -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = {}
    for row in ctx.tables.get(catalog["table"], []):
        key = id_text(row.get(catalog["key"]))
        if key is not None:
            rows.setdefault(key, []).append(row)
    return rows


# --- measures --------------------------------------------------------------------------


def _measures(
    node: Mapping, allowed: tuple[str, ...], source_name: str, ctx: _Context
) -> list[Measure]:
    """The measures of an event or purchase filter (ANDed); none: `count: {gte: 1}`."""
    given = [(kind, node[kind]) for kind in allowed if kind in node] or [DEFAULT_MEASURE]
    return [_measure(kind, spec, source_name, ctx) for kind, spec in given]


def _measure(kind: str, spec: Any, source_name: str, ctx: _Context) -> Measure:
    if kind == "count":
        return _valued(_comparison(spec, "number", (), kind, ctx),
                       lambda chosen: float(len(chosen)))
    if kind == "revenue":
        return _valued(_exact_comparison(spec, (), kind, ctx),
                       _revenue(_source(ctx, source_name)))
    if kind in ("first", "last"):
        position = 0 if kind == "first" else -1
        return _valued(_comparison(spec, "time", (), kind, ctx),
                       lambda chosen: chosen[position].time if chosen else None)
    if kind == "count_distinct":
        return _count_distinct(spec, source_name, ctx)
    return _aggregate(kind, spec, source_name, ctx)


def _valued(tests: list[Test], value_of: Callable[[list[_Occurrence]], Value]) -> Measure:
    def measure(chosen: list[_Occurrence]) -> bool:
        value = value_of(chosen)
        return all(test(value) for test in tests)

    return measure


def _comparison(
    spec: Any, value_type: str, other_keys: tuple[str, ...], what: str, ctx: _Context
) -> list[Test]:
    """`{<op>: value, ...}` (besides `other_keys`) -> tests, ANDed."""
    if not isinstance(spec, Mapping):
        raise ValueError(f"`{what}:` takes a mapping, got {spec!r}")
    operators = [key for key in spec if key not in other_keys]
    if not operators:
        raise ValueError(f"`{what}:` without an operator: {dict(spec)!r}")
    _check_operators_fit(operators, value_type, f"`{what}`")
    return [_operator_test(value_type, op, spec[op], ctx) for op in operators]


MONEY_PLACES = Decimal("0.000001")


def exact_decimal(value: Any) -> Decimal:
    """A number as the decimal it is written as: a float by its shortest repr (as engines
    read a DOUBLE or a JSON number: 0.1 is 0.1, not 0.1000000000000000055...)."""
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def money(value: Any) -> Decimal:
    """A summand: rounded half away from zero to 6 places (SPEC 3.4)."""
    return value.quantize(MONEY_PLACES, rounding=ROUND_HALF_UP) if isinstance(value, Decimal) \
        else money(exact_decimal(value))


def exact_sum(values: list[Any]) -> Fraction:
    """The exact sum of the rounded summands; 0 over no values."""
    return Fraction(sum((money(value) for value in values), Decimal(0)))


def _exact_arguments(argument: Any) -> Any:
    """Filter values of an exact comparison as rationals (`0.3` is 3/10); anything else,
    booleans included, is left for the operator's own checks to reject."""
    if isinstance(argument, list):
        return [_exact_arguments(item) for item in argument]
    return Fraction(exact_decimal(argument)) if _is_number(argument) else argument


def _exact_comparison(
    spec: Any, other_keys: tuple[str, ...], what: str, ctx: _Context
) -> list[Test]:
    """`_comparison` of a money value (sum, avg, revenue): its filter values are exact."""
    if isinstance(spec, Mapping):
        spec = {key: value if key in other_keys or key == "exists" else _exact_arguments(value)
                for key, value in spec.items()}
    return _comparison(spec, "number", other_keys, what, ctx)


def _measured_property(spec: Any, what: str) -> Any:
    if not isinstance(spec, Mapping) or "property" not in spec:
        raise ValueError(f"`{what}:` takes {{property: p, <op>: v}}, got {spec!r}")
    return spec["property"]


def _aggregate(kind: str, spec: Any, source_name: str, ctx: _Context) -> Measure:
    """sum / avg / min / max of a property read as a number, skipping missing values;
    over no values sum is 0, the others are missing."""
    read = _property_reader(_measured_property(spec, kind), "number", source_name, ctx)
    if kind in EXACT_AGGREGATES:
        tests = _exact_comparison(spec, ("property",), kind, ctx)
    else:
        tests = _comparison(spec, "number", ("property",), kind, ctx)
    aggregate = AGGREGATES[kind]

    def value_of(chosen: list[_Occurrence]) -> Value:
        values = [value for occurrence in chosen
                  if (value := read(occurrence.row)) is not None]
        return aggregate(values)

    return _valued(tests, value_of)


def _average(values: list[float]) -> Fraction | None:
    """The exact average of the rounded summands (missing over no values)."""
    return exact_sum(values) / len(values) if values else None


EXACT_AGGREGATES = ("sum", "avg")
AGGREGATES: dict[str, Callable[[list[float]], Any]] = {
    "sum": exact_sum,  # 0 over no values
    "avg": _average,
    "min": lambda values: min(values, default=None),
    "max": lambda values: max(values, default=None),
}


def _count_distinct(spec: Any, source_name: str, ctx: _Context) -> Measure:
    """Number of distinct non-missing values of a property read as `type` (default
    string); '' is a value."""
    path = _measured_property(spec, "count_distinct")
    value_type = spec.get("type", "string")
    if value_type not in DISTINCT_TYPES:
        raise ValueError(f"count_distinct reads {', '.join(DISTINCT_TYPES)}, got {value_type!r}")
    read = _property_reader(path, value_type, source_name, ctx)
    tests = _comparison(spec, "number", ("property", "type"), "count_distinct", ctx)

    def value_of(chosen: list[_Occurrence]) -> float:
        values = {read(occurrence.row) for occurrence in chosen}
        return float(len(values - {None}))

    return _valued(tests, value_of)


def _revenue(source: Mapping) -> Callable[[list[_Occurrence]], Fraction]:
    """Exact sum of price × quantity (each line multiplied exactly, then rounded: `money`);
    no quantity column or a NULL quantity is 1, a NULL price adds nothing; 0 over no rows."""
    price_column = source.get("price")
    if not price_column:
        raise ValueError("revenue needs `price:` of purchases in sources.yml")
    quantity_column = source.get("quantity")

    def line(row: dict) -> Decimal | None:
        price = row.get(price_column)
        if price is None:
            return None
        quantity = row.get(quantity_column) if quantity_column else None
        quantity = 1 if quantity is None else quantity
        if not (_is_number(price) and _is_number(quantity)):
            raise TypeError(f"price {price!r} or quantity {quantity!r} is not a number")
        return exact_decimal(price) * exact_decimal(quantity)

    def revenue(chosen: list[_Occurrence]) -> Fraction:
        return exact_sum([value for occurrence in chosen
                          if (value := line(occurrence.row)) is not None])

    return revenue


# --- sequence --------------------------------------------------------------------------


def _sequence_leaf(node: Mapping, ctx: _Context) -> set[str]:
    _check_keys(node, SEQUENCE_KEYS)
    steps_node = node["sequence"]
    if not isinstance(steps_node, list) or not steps_node:
        raise ValueError(f"`sequence:` takes a non-empty list of steps, got {steps_node!r}")
    steps = [_sequence_step(step, position, ctx) for position, step in enumerate(steps_node)]
    max_span = _duration(node["max_span"], "max_span") if "max_span" in node else None
    window = _window_of(node, ctx)
    then_not = _then_not(node["then_not"], ctx) if "then_not" in node else None
    by_user: dict[str, list[_Occurrence]] = {}
    for source_name in ("events", "purchases"):
        if ctx.sources.get(source_name):
            for external_id, occurrences in _occurrences(ctx, source_name).items():
                by_user.setdefault(external_id, []).extend(occurrences)
    return {
        external_id
        for external_id in ctx.universe
        if _has_path(by_user.get(external_id, []), steps, window, max_span, then_not, ctx)
    }


def _sequence_step(step: Any, position: int, ctx: _Context) -> _Step:
    if not isinstance(step, Mapping):
        raise ValueError(f"a sequence step is a mapping, got {step!r}")
    _check_keys(step, STEP_KEYS)
    gaps = [key for key in ("within_previous", "after_previous") if key in step]
    if position == 0 and gaps:
        raise ValueError(f"the first step has no previous step: {gaps}")
    return _Step(
        matches=_step_matcher(step, ctx),
        within_previous=(_duration(step["within_previous"], "within_previous")
                         if "within_previous" in step else None),
        after_previous=(_duration(step["after_previous"], "after_previous")
                        if "after_previous" in step else None),
    )


def _then_not(spec: Any, ctx: _Context) -> _ThenNot:
    if not isinstance(spec, Mapping):
        raise ValueError(f"`then_not:` takes a mapping, got {spec!r}")
    _check_keys(spec, THEN_NOT_KEYS)
    span = _non_negative(spec["within_hours"], "within_hours") * HOUR if "within_hours" in spec else None
    return _ThenNot(matches=_step_matcher(spec, ctx), span=span)


def _step_matcher(node: Mapping, ctx: _Context) -> Callable[[_Occurrence], bool]:
    """A sequence step or then_not: an event row (`event:`) or a purchase row (`purchase:`)."""
    if ("event" in node) == ("purchase" in node):
        raise ValueError(f"a step has exactly one of `event:` and `purchase:`, got {dict(node)!r}")
    if "event" in node:
        event = _event_matcher(node, ctx)
        return lambda occurrence: occurrence.source == "events" and event(occurrence.row)
    selects = _product_selector(node["purchase"], _source(ctx, "purchases"))
    conditions = _conditions(node, "purchases", ctx)
    return lambda occurrence: (
        occurrence.source == "purchases" and selects(occurrence.row) and all(c(occurrence.row) for c in conditions)
    )


def _has_path(
    occurrences: list[_Occurrence], steps: list[_Step], window: Window,
    max_span: timedelta | None, then_not: _ThenNot | None, ctx: _Context,
) -> bool:
    """Is there a choice of distinct rows r1..rk for the steps satisfying every limit
    (and, with then_not, not followed by a then_not row)? A plain depth-first search."""
    candidates = [[occurrence for occurrence in occurrences if step.matches(occurrence)]
                  for step in steps]
    blocked: dict[datetime, bool] = {}

    def is_blocked(last: datetime) -> bool:
        if then_not is None:
            return False
        if last not in blocked:
            end = ctx.as_of if then_not.span is None else min(last + then_not.span, ctx.as_of)
            blocked[last] = any(
                last < occurrence.time <= end and then_not.matches(occurrence)
                for occurrence in occurrences
            )
        return blocked[last]

    def extend(path: list[_Occurrence]) -> bool:
        position = len(path)
        if position == len(steps):
            return not is_blocked(path[-1].time)
        used = {(occurrence.source, occurrence.index) for occurrence in path}
        return any(
            (occurrence.source, occurrence.index) not in used
            and _follows(steps[position], occurrence, path, max_span)
            and extend([*path, occurrence])
            for occurrence in candidates[position]
        )

    return any(window(first.time) and extend([first]) for first in candidates[0])


def _follows(
    step: _Step, occurrence: _Occurrence, path: list[_Occurrence], max_span: timedelta | None
) -> bool:
    """May `occurrence` serve `step` right after `path`? (order, gaps, span)"""
    gap = occurrence.time - path[-1].time
    if gap < timedelta(0):
        return False
    if step.within_previous is not None and gap > step.within_previous:
        return False
    if step.after_previous is not None and gap < step.after_previous:
        return False
    return max_span is None or occurrence.time - path[0].time <= max_span


# --- rfm -------------------------------------------------------------------------------


def _rfm_leaf(node: Mapping, ctx: _Context) -> set[str]:
    """True for users with >= 1 purchase in the window whose given scores all pass;
    false for every user without purchases there, whatever the comparisons say."""
    _check_keys(node, ("rfm",))
    spec = node["rfm"]
    if not isinstance(spec, Mapping):
        raise ValueError(f"`rfm:` takes a mapping, got {spec!r}")
    _check_keys(spec, (*RFM_PARTS, "within"))
    window = _window_of(spec, ctx, RFM_DEFAULT_WINDOW)
    tests = {part: _comparison(spec[part], "number", (), part, ctx)
             for part in RFM_PARTS if part in spec}
    values = _rfm_values(_source(ctx, "purchases"), tuple(tests))
    chosen_by_user = {}
    for external_id, occurrences in _occurrences(ctx, "purchases").items():
        chosen = [occurrence for occurrence in occurrences if window(occurrence.time)]
        if chosen:
            chosen_by_user[external_id] = chosen
    scores = {
        part: rfm_scores({user: values[part](chosen) for user, chosen in chosen_by_user.items()})
        for part in tests
    }
    return {
        external_id
        for external_id in chosen_by_user
        if external_id in ctx.universe
        and all(test(float(scores[part][external_id]))
                for part, part_tests in tests.items() for test in part_tests)
    }


def _rfm_values(
    source: Mapping, parts: tuple[str, ...]
) -> dict[str, Callable[[list[_Occurrence]], Any]]:
    """What each part orders users by: last purchase time, purchase rows, revenue."""
    values: dict[str, Callable[[list[_Occurrence]], Any]] = {
        "recency": lambda chosen: chosen[-1].time,
        "frequency": len,
    }
    if "monetary" in parts:  # revenue needs a price column
        values["monetary"] = _revenue(source)
    return values


def rfm_scores(values: Mapping[str, Any]) -> dict[str, int]:
    """ceil(5 × cume_dist) ordered ascending: cume_dist(x) = #(values <= x) / #values,
    computed exactly with integers (ties share a score; the largest value gets 5)."""
    ordered = sorted(values.values())
    count = len(ordered)
    return {
        key: -(-RFM_TOP_SCORE * bisect.bisect_right(ordered, value) // count)
        for key, value in values.items()
    }
