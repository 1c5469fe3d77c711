"""The funnel SQL: one read of each source whatever the number of funnels, and valid SQL for every dialect."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from segsql.compiler.funnel_tables import step_table, trends_table, users_table
from segsql.compiler.funnels import FunnelCompiler, is_greedy
from segsql.compiler.registry import COMPILE_DIALECTS, rules_for
from segsql.run.session import Options, open_session
from tests.conftest import write_project

SOURCES = """
users: {table: main.users, id: external_id, attributes: {country: string}}
events: {table: main.events, user: external_id, name: event_name, time: occurred_at, properties: properties}
purchases: {table: main.purchases, user: external_id, time: purchased_at, product: product_id, price: price}
"""
KINDS = [
    "{steps: [{event: a}, {event: b}, {purchase: any}]}",
    "{order: strict, steps: [{event: a}, {event: b}]}",
    "{order: any, steps: [{event: a}, {purchase: p1, hold: [{column: product_id}]}], hold_constant: [{property: sku}], trends: {period: week}}",
    "{steps: [{event: a}, {event: a, within_previous: {hours: 1}}], exclusions: [{event: c, between: [1, 2]}]}",
    "{order: strict, steps: [{event: a}, {purchase: any}], breakdown: country}",
    "{order: any, steps: [{event: a}, {event: a}]}",
]


def definitions(tmp_path: Path, count: int):
    lines = ["funnels:"] + [f"  - {{name: f{i}, {KINDS[i % len(KINDS)][1:]}" for i in range(count)]
    root = write_project(tmp_path / f"p{count}", {"models/sources.yml": SOURCES, "models/f.yml": "\n".join(lines) + "\n", "segsql_project.yml": "timezone: Asia/Seoul\n"})
    return open_session(Options(root), "2026-11-22T12:00:00Z", need_target=False).definitions


def reads(query: exp.Expr) -> dict[str, int]:
    tables = [t.name for t in query.find_all(exp.Table)]
    return {name: tables.count(name) for name in ("events", "purchases", "users")}


def test_the_number_of_source_reads_does_not_grow_with_the_number_of_funnels(tmp_path: Path) -> None:
    one = definitions(tmp_path, 6)
    ten = definitions(tmp_path, 30)
    as_of = open_session(Options(tmp_path / "p6"), "2026-11-22T12:00:00Z", need_target=False).as_of
    few = reads(FunnelCompiler(one, "duckdb", as_of).users(list(one.funnels)))
    many = reads(FunnelCompiler(ten, "duckdb", as_of).users(list(ten.funnels)))
    assert few["events"] == many["events"] == 1 and few["purchases"] == many["purchases"] == 1
    assert few["users"] == many["users"] == 1  # one join for every breakdown


def test_each_shape_is_taken_by_the_funnels_it_fits(tmp_path: Path) -> None:
    defs = definitions(tmp_path, 6)
    assert [is_greedy(defs.funnels[f"f{i}"]) for i in range(6)] == [True, True, True, False, False, False]


@pytest.mark.parametrize("dialect", COMPILE_DIALECTS)
def test_funnel_sql_reparses_in_every_dialect(tmp_path: Path, dialect: str) -> None:
    defs = definitions(tmp_path, 6)
    as_of = open_session(Options(tmp_path / "p6"), "2026-11-22T12:00:00Z", need_target=False).as_of
    queries: list[exp.Expr] = [FunnelCompiler(defs, dialect, as_of).users(list(defs.funnels))]
    staged = exp.table_("staged")
    for funnel in defs.funnels.values():
        queries += [users_table(funnel, staged), step_table(funnel, staged, rules_for(dialect))]
        if funnel.trends:
            queries.append(trends_table(funnel, staged, "Asia/Seoul"))
    for query in queries:
        text = query.sql(dialect)
        assert sqlglot.parse_one(text, read=dialect) is not None
