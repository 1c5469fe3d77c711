"""Operators on typed values, and the SPEC's two-valued logic applied in one place.

`positive()` builds the comparison an engine would evaluate three-valued (NULL when the
value is missing). `condition()` turns it into the SPEC's two-valued leaf: a missing
value makes a positive operator false, a negative operator is exactly NOT of its twin,
and `or_missing` adds "or the value does not exist".
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from sqlglot import exp

from segsql.compiler.column_types import ColumnTypes
from segsql.compiler.dialects import (
    JSON_ARRAY,
    JSON_BOOLEAN,
    JSON_NUMBER,
    JSON_STRING,
    DialectRules,
    lit,
)
from segsql.definitions.filters import Condition, ValueRef

_JSON_KIND = {"string": JSON_STRING, "number": JSON_NUMBER, "boolean": JSON_BOOLEAN, "time": JSON_STRING, "array": JSON_ARRAY}


@dataclass(frozen=True)
class Typed:
    """A SQL expression and the SPEC type of the value it yields (NULL = missing).

    Type "money" is an exact DECIMAL(38, 6) sum, compared with exact decimal literals; with
    `per` (an average), the sum is compared against each literal × `per`, so no division
    rounds (SPEC 3.4)."""

    sql: exp.Expr
    type: str
    per: exp.Expr | None = None


def two_valued(expression: exp.Expr) -> exp.Expr:
    """NULL → FALSE, so that NOT and OR above it follow the SPEC, not SQL's three-valued logic."""
    return exp.Coalesce(this=expression, expressions=[exp.false()])


class ConditionCompiler:
    """Compiles Conditions for one dialect at one `as_of`."""

    def __init__(self, rules: DialectRules, as_of: dt.datetime, types: ColumnTypes | None = None):
        self.rules = rules
        self.as_of = as_of
        self.types = types or ColumnTypes()

    # -- typed values ---------------------------------------------------------------------
    def value(self, ref: ValueRef, row: str, table: str | None = None) -> Typed:
        """The typed SQL value of an attribute or JSON path on the current row of `table`."""
        column = exp.column(ref.column, table=row)
        if ref.path:
            return self.json_value(column, ref.path, ref.type)
        if ref.type == "time":
            return Typed(self.time(column, table, ref.column, ref.unit), "time")
        return self.cast(column, ref.type)

    def money(self, ref: ValueRef, row: str) -> exp.Expr:
        """The number at `ref` as a summand: rounded half away from zero to 6 places (SPEC 3.4)."""
        column = exp.column(ref.column, table=row)
        return self.rules.json_money(column, ref.path) if ref.path else self.rules.money(column)

    def time(self, column: exp.Expr, table: str | None, name: str, unit: str | None) -> exp.Expr:
        """A time column as a naive UTC timestamp: as it is when the engine says it is one already."""
        if unit is None and self.types.is_naive(table, name):
            return column
        return self.rules.to_utc(column, unit)

    def cast(self, column: exp.Expr, kind: str) -> Typed:
        r = self.rules
        if kind == "string":
            return Typed(r.to_text(column), kind)
        if kind == "number":
            return Typed(r.to_number(column), kind)
        if kind == "boolean":
            return Typed(r.to_boolean(column), kind)
        if kind == "array":
            array = r.as_json_array(column)
            return Typed(exp.If(this=r.is_json_array(array), true=array.copy()), kind)
        raise ValueError(f"no SQL value for type {kind}")

    def json_value(self, column: exp.Expr, path: tuple[str, ...], kind: str) -> Typed:
        """A JSON path typed strictly: a value of another JSON kind counts as missing."""
        r = self.rules
        if kind == "number":
            return Typed(r.json_number(column, path), kind)
        is_kind = r.json_kind_is(column, path, _JSON_KIND[kind])
        if kind == "array":
            return Typed(exp.If(this=is_kind, true=r.json_array_at(column.copy(), path)), kind)
        text = r.json_text(column.copy(), path)
        if kind == "boolean":
            text = r.to_boolean(text)
        elif kind == "time":
            text = r.text_to_utc(text)
        return Typed(exp.If(this=is_kind, true=text), kind)

    # -- operators ------------------------------------------------------------------------
    def exists(self, value: Typed) -> exp.Expr:
        """SPEC: not NULL; for strings also not empty; for arrays also not empty."""
        v = value.sql.copy()
        if value.type == "string":
            return two_valued(exp.and_(exp.not_(exp.Is(this=v, expression=exp.null())), exp.NEQ(this=v.copy(), expression=lit(""))))
        if value.type == "array":
            return two_valued(exp.GT(this=self.rules.array_size(v), expression=lit(0)))
        return exp.not_(exp.Is(this=v, expression=exp.null()))

    def _days(self, days: float) -> dt.timedelta:
        return dt.timedelta(seconds=days * 86400)

    def _literal(self, value: Typed, arg: object) -> exp.Expr:
        """A comparison value: exact decimals (× the count of an average) for money."""
        if value.type != "money":
            return lit(arg)
        assert isinstance(arg, int | float)
        literal = self.rules.money_literal(arg)
        return literal if value.per is None else exp.Mul(this=literal, expression=value.per.copy())

    def positive(self, value: Typed, op: str, arg: object) -> exp.Expr:
        """The comparison itself, three-valued (NULL for a missing value)."""
        v = value.sql.copy()
        r = self.rules
        ts = r.timestamp
        literal = functools.partial(self._literal, value)
        if op == "equals":
            return exp.EQ(this=v, expression=literal(arg))
        if op == "in":
            assert isinstance(arg, tuple)
            return exp.In(this=v, expressions=[literal(a) for a in arg])
        if op == "matches_regex":
            return r.regex_search(v, str(arg))
        if op == "starts_with":
            return r.starts_with(v, str(arg))
        if op == "ends_with":
            return r.ends_with(v, str(arg))
        if op == "contains":
            return r.contains(v, str(arg))
        if op in ("gt", "gte", "lt", "lte"):
            cls = {"gt": exp.GT, "gte": exp.GTE, "lt": exp.LT, "lte": exp.LTE}[op]
            return cls(this=v, expression=literal(arg))
        if op == "between":
            assert isinstance(arg, tuple)
            return exp.Between(this=v, low=literal(arg[0]), high=literal(arg[1]))
        if op == "before":
            assert isinstance(arg, dt.datetime)
            return exp.LT(this=v, expression=ts(arg))
        if op == "after":
            assert isinstance(arg, dt.datetime)
            return exp.GT(this=v, expression=ts(arg))
        if op in ("more_than_days_ago", "less_than_days_ago", "more_than_days_in_future", "less_than_days_in_future"):
            assert isinstance(arg, int | float)
            past, future = self.as_of - self._days(arg), self.as_of + self._days(arg)
            if op == "more_than_days_ago":
                return exp.LT(this=v, expression=ts(past))
            if op == "less_than_days_ago":
                return exp.and_(exp.GT(this=v, expression=ts(past)), exp.LTE(this=v.copy(), expression=ts(self.as_of)))
            if op == "more_than_days_in_future":
                return exp.GT(this=v, expression=ts(future))
            return exp.and_(exp.GTE(this=v, expression=ts(self.as_of)), exp.LT(this=v.copy(), expression=ts(future)))
        if op == "includes":
            return r.array_includes(v, str(arg))
        if op == "includes_any":
            assert isinstance(arg, tuple)
            return r.array_includes_any(v, arg)
        if op == "includes_all":
            assert isinstance(arg, tuple)
            return r.array_includes_all(v, arg)
        raise ValueError(f"no SQL for operator {op}")

    def condition(self, value: Typed, cond: Condition) -> exp.Expr:
        """The SPEC's two-valued leaf for one Condition."""
        leaf = self.exists(value) if cond.op == "exists" else two_valued(self.positive(value, cond.op, cond.value))
        if cond.or_missing:
            leaf = exp.or_(leaf, exp.not_(self.exists(value)))
        return exp.not_(exp.paren(leaf)) if cond.negated else leaf
