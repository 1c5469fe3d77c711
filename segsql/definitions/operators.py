"""The operator × type table of SPEC 3.2, and validation of each operator's value."""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any
from zoneinfo import ZoneInfo

OPERATORS: dict[str, tuple[str, ...]] = {
    "string": ("equals", "not_equals", "in", "not_in", "matches_regex", "not_matches_regex", "starts_with", "ends_with", "contains", "exists"),
    "number": ("equals", "not_equals", "in", "not_in", "gt", "gte", "lt", "lte", "between", "exists"),
    "boolean": ("equals", "exists"),
    "time": ("before", "after", "more_than_days_ago", "less_than_days_ago", "more_than_days_in_future", "less_than_days_in_future", "exists"),
    "array": ("includes", "not_includes", "includes_any", "includes_all", "exists"),
}
NEGATIVE_TWINS = {"not_equals": "equals", "not_in": "in", "not_matches_regex": "matches_regex", "not_includes": "includes"}
ALL_OPERATORS = tuple(dict.fromkeys(op for ops in OPERATORS.values() for op in ops))
NUMBER_COMPARISONS = ("equals", "not_equals", "in", "not_in", "gt", "gte", "lt", "lte", "between")
RELATIVE_TIME = ("more_than_days_ago", "less_than_days_ago", "more_than_days_in_future", "less_than_days_in_future")
_RE2_UNSUPPORTED = re.compile(r"\(\?[=!]|\(\?<[=!]|\\[1-9]|\(\?P=|\(\?>|[*+?}]\+")
_INLINE_FLAGS = re.compile(r"\(\?[a-zA-Z-]+[:)]")  # (?i) (?s) (?i:...) — a leading (?i) is split off first


class OperatorValueError(ValueError):
    """The value does not fit the operator; the message says what was expected."""


def type_for_operator(op: str) -> str | None:
    """The type an operator implies when a JSON property has no `type:` (SPEC 3.4)."""
    if op in ("matches_regex", "not_matches_regex", "starts_with", "ends_with", "contains"):
        return "string"
    if op in ("gt", "gte", "lt", "lte", "between"):
        return "number"
    if op in ("before", "after", *RELATIVE_TIME):
        return "time"
    if op in ("includes", "not_includes", "includes_any", "includes_all"):
        return "array"
    return None


def _scalar(value: Any, kind: str) -> Any:
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise OperatorValueError(f"expected a number, got {value!r}")
        if not math.isfinite(value):
            raise OperatorValueError(f"expected a finite number, got {value!r}")
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise OperatorValueError(f"expected true or false, got {value!r}")
        return value
    if isinstance(value, dict | list) or value is None:
        raise OperatorValueError(f"expected a text value, got {value!r}")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _non_empty_list(value: Any, kind: str) -> tuple[Any, ...]:
    if not isinstance(value, list) or not value:
        raise OperatorValueError("expected a non-empty list")
    return tuple(_scalar(v, kind) for v in value)


def parse_instant(value: Any, timezone: str) -> dt.datetime:
    """A date (00:00 in the project time zone) or datetime, as an aware UTC datetime.

    Datetimes without an offset are read in the project time zone too, like dates.
    """
    zone = ZoneInfo(timezone)
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise OperatorValueError(f"expected a date or datetime such as 2026-01-31 or 2026-01-31T08:00:00Z, got {value!r}") from None
    else:
        raise OperatorValueError(f"expected a date or datetime, got {value!r}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(dt.UTC)


def check_regex(pattern: str) -> None:
    """Reject patterns that are not in the RE2 subset shared by Snowflake and DuckDB."""
    if _RE2_UNSUPPORTED.search(pattern):
        raise OperatorValueError(f"regex {pattern!r} uses look-around, back-references or possessive/atomic groups, which RE2 does not support")
    if _INLINE_FLAGS.search(pattern.removeprefix("(?i)")):
        raise OperatorValueError(f"regex {pattern!r} sets flags inside the pattern; only a leading (?i) means the same on every engine (Snowflake takes flags as a parameter)")
    try:
        re.compile(pattern)
    except re.error as err:
        raise OperatorValueError(f"invalid regex {pattern!r}: {err}") from None


def parse_value(op: str, kind: str, value: Any, timezone: str) -> Any:
    """Validate and normalize the value of `op` on a value of type `kind`."""
    if op == "exists":
        return _scalar(value, "boolean")
    if op in ("equals", "not_equals"):
        return _scalar(value, kind)
    if op in ("in", "not_in"):
        return _non_empty_list(value, kind)
    if op in ("matches_regex", "not_matches_regex"):
        pattern = _scalar(value, "string")
        check_regex(pattern)
        return pattern
    if op in ("starts_with", "ends_with", "contains", "includes", "not_includes"):
        return _scalar(value, "string")
    if op in ("includes_any", "includes_all"):
        return _non_empty_list(value, "string")
    if op in ("gt", "gte", "lt", "lte"):
        return _scalar(value, "number")
    if op == "between":
        if not isinstance(value, list) or len(value) != 2:
            raise OperatorValueError("expected a list of two numbers [low, high]")
        low, high = (_scalar(v, "number") for v in value)
        if low > high:
            raise OperatorValueError(f"between [{low}, {high}] is empty: low is above high")
        return (low, high)
    if op in ("before", "after"):
        return parse_instant(value, timezone)
    if op in RELATIVE_TIME:
        number = _scalar(value, "number")
        if number < 0:
            raise OperatorValueError(f"expected a number of days >= 0, got {value!r}")
        return number
    raise OperatorValueError(f"unknown operator {op!r}")
