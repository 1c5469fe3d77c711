"""SPEC 3.4's exact money on the engines that run here: each summand is rounded half away
from zero to 6 places, whatever its type, and JSON numbers only are read.

Engines differ in what CAST does with the digits it drops (half-even, truncation, half
away), so each dialect's `money` is executed on DuckDB, fakesnow and PostgreSQL with
values exactly halfway between two results: a DOUBLE of 7 decimals is exact in binary
only for a few values such as 2^-7 = 0.0078125.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlglot import exp

from segsql.compiler.dialects import DialectRules, decimal_text
from segsql.compiler.registry import rules_for
from segsql.engines.base import Adapter

# (input SQL type, input text, money it must become)
HALFWAY = [
    ("DECIMAL(20, 8)", "0.0000005", "0.000001"),
    ("DECIMAL(20, 8)", "-0.0000005", "-0.000001"),
    ("DECIMAL(20, 8)", "0.0000025", "0.000003"),  # half-even would give 0.000002
    ("DECIMAL(20, 8)", "1.23456749", "1.234567"),
    ("DECIMAL(20, 8)", "0.1234565", "0.123457"),
    ("DOUBLE", "0.0078125", "0.007813"),  # 2^-7: exactly halfway in binary too
    ("DOUBLE", "-1.0078125", "-1.007813"),
    ("DOUBLE", "0.1", "0.100000"),
    ("BIGINT", "42", "42.000000"),
]


def _rules(adapter: Adapter) -> DialectRules:
    return rules_for(adapter.dialect)


def _as_decimal(adapter: Adapter, value: exp.Expr) -> Decimal | None:
    """Fetch a money value as its text, so that no driver turns it into a float."""
    row = adapter.fetch(exp.select(exp.cast(value, exp.DataType.Type.VARCHAR)))[0]
    return None if row[0] is None else Decimal(row[0])


def _typed(adapter: Adapter, sql_type: str, text: str) -> exp.Expr:
    return exp.cast(exp.Literal.number(text), exp.DataType.build(sql_type, dialect=adapter.dialect))


@pytest.mark.parametrize(("sql_type", "text", "money"), HALFWAY)
def test_money_rounds_half_away_from_zero_from_every_numeric_type(engine: Callable[[], Adapter], sql_type: str, text: str, money: str) -> None:
    adapter = engine()
    assert _as_decimal(adapter, _rules(adapter).money(_typed(adapter, sql_type, text))) == Decimal(money)


def test_money_of_numeric_text_and_of_a_product_is_exact(engine: Callable[[], Adapter]) -> None:
    adapter = engine()
    rules = _rules(adapter)
    assert _as_decimal(adapter, rules.money(exp.cast(exp.Literal.string("0.0000025"), exp.DataType.Type.VARCHAR))) == Decimal("0.000003")
    # 0.1234565 × 2 = 0.246913 exactly; rounding the price first would give 0.246914
    product = exp.Mul(this=rules.exact(_typed(adapter, "DECIMAL(20, 8)", "0.1234565")), expression=exp.Literal.number(2))
    assert _as_decimal(adapter, rules.money(product)) == Decimal("0.246913")


def test_json_money_reads_json_numbers_only(engine: Callable[[], Adapter]) -> None:
    adapter = engine()
    documents = [{"a": 0.0078125}, {"a": 5e-07}, {"a": 0.1}, {"a": "10"}, {"a": True}, {"a": None}, {}, {"a": [1]}]
    adapter.load_rows("docs", [("i", "BIGINT"), ("p", "JSON")], [(i, json.dumps(d)) for i, d in enumerate(documents)])
    money = exp.cast(_rules(adapter).json_money(exp.column("p"), ("a",)), exp.DataType.Type.VARCHAR)
    rows = adapter.fetch(exp.select(exp.column("i"), money).from_(adapter.table("docs")).order_by("i"))
    got = [None if v is None else Decimal(v) for _, v in rows]
    assert got == [Decimal("0.007813"), Decimal("0.000001"), Decimal("0.1"), None, None, None, None, None]


@pytest.mark.parametrize("value", [0.3, 0.1234565, 5e-07, 1e20, -2.5, 7])
def test_money_literal_is_the_decimal_as_written(engine: Callable[[], Adapter], value: float) -> None:
    """A comparison value is exact: money 0.3 equals 0.3, and 0.1234565 keeps its 7th digit."""
    adapter = engine()
    rules = _rules(adapter)
    written = Decimal(decimal_text(value))
    same = rules.money(_typed(adapter, "DECIMAL(38, 8)", decimal_text(written.quantize(Decimal("0.000001")))))
    equal = exp.EQ(this=same, expression=rules.money_literal(value))
    assert adapter.fetch(exp.select(equal))[0][0] == (written == written.quantize(Decimal("0.000001")))
