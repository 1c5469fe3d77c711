"""SPEC 4 definitions: what a funnel parses into, and every mistake as one error at its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from segsql.errors import ProjectError
from segsql.run.session import Options, open_session
from tests.conftest import write_project

SOURCES = """
users: {table: main.users, id: external_id, attributes: {country: string, age: number}}
events: {table: main.events, user: external_id, name: event_name, time: occurred_at, properties: properties}
purchases: {table: main.purchases, user: external_id, time: purchased_at, product: product_id, price: price}
"""
SEGMENT = "segments:\n  - name: koreans\n    where: {attribute: country, equals: KR}\n"


def load(tmp_path: Path, funnels: str):
    root = write_project(tmp_path / "p", {"models/sources.yml": SOURCES, "models/f.yml": SEGMENT + funnels})
    return open_session(Options(root), "2026-11-22T12:00:00Z", need_target=False).definitions


def test_a_funnel_parses_every_option(tmp_path: Path) -> None:
    defs = load(tmp_path, """funnels:
  - name: checkout
    steps:
      - {event: product_viewed, name: Viewed}
      - {event: add_to_cart, within_previous: {hours: 1}}
      - {purchase: any, hold: [{column: product_id}]}
    order: strict
    conversion_window: {days: 7}
    entered_within: {last_days: 30}
    exclusions: [{event: cart_emptied, between: [2, 3]}]
    audience: koreans
    breakdown: country
    hold_constant: [{property: product_id}]
    trends: {period: week}
""")
    f = defs.funnels["checkout"]
    assert [s.name for s in f.steps] == ["Viewed", "add_to_cart", "purchase"]
    assert f.order == "strict" and f.window_s == 7 * 86400 and f.trends == "week" and f.audience == "koreans"
    assert f.steps[1].within_previous_s == 3600
    assert (f.exclusions[0].after, f.exclusions[0].before) == (2, 3)
    assert [h.path for h in f.steps[0].hold] == [("product_id",)] and [h.column for h in f.steps[2].hold] == ["product_id"]
    assert f.breakdown is not None and f.breakdown.name == "country"
    assert str(f.location) == "models/f.yml:5"


def test_defaults(tmp_path: Path) -> None:
    f = load(tmp_path, "funnels:\n  - name: f\n    steps: [{event: a}, {purchase: [p1, p2]}]\n").funnels["f"]
    assert (f.order, f.window_s, f.entered_within, f.trends, f.holds) == ("sequential", 30 * 86400, None, None, 0)
    assert f.steps[1].name == "purchase p1 or p2"


def test_editing_a_description_keeps_the_membership_hash(tmp_path: Path) -> None:
    a = load(tmp_path / "a", "funnels:\n  - name: f\n    steps: [{event: a}]\n").funnels["f"]
    b = load(tmp_path / "b", "funnels:\n\n  - name: f\n    description: moved and described\n    steps: [{event: a}]\n").funnels["f"]
    assert a.membership_hash() == b.membership_hash() and a.metadata_hash() != b.metadata_hash()


BROKEN = [
    ("any_with_within_previous", "    order: any\n    steps: [{event: a}, {event: b, within_previous: {hours: 1}}]\n", 7, "in `any` order there is no previous step"),
    ("any_with_exclusions", "    order: any\n    steps: [{event: a}, {event: b}]\n    exclusions: [{event: c, between: [1, 2]}]\n", 8, "exclusions need an order"),
    ("exclusion_names_a_missing_step", "    steps: [{event: a}, {event: b}]\n    exclusions:\n      - {event: c, between: [2, 3]}\n", 8, "does not name two steps"),
    ("exclusion_steps_reversed", "    steps: [{event: a}, {event: b}]\n    exclusions:\n      - {event: c, between: [2, 1]}\n", 8, "does not name two steps"),
    ("first_step_within_previous", "    steps:\n      - {event: a, within_previous: {hours: 1}}\n", 7, "the first step has no previous step"),
    ("unknown_order", "    order: strcit\n    steps: [{event: a}]\n", 6, "did you mean 'strict'?"),
    ("unknown_audience", "    audience: korean\n    steps: [{event: a}]\n", 6, "did you mean 'koreans'?"),
    ("unknown_breakdown", "    breakdown: countyr\n    steps: [{event: a}]\n", 6, "did you mean 'country'?"),
    ("number_breakdown", "    breakdown: age\n    steps: [{event: a}]\n", 6, "of type number"),
    ("unknown_period", "    trends: {period: weak}\n    steps: [{event: a}]\n", 6, "did you mean 'week'?"),
    ("hold_lists_differ", "    hold_constant: [{property: p}]\n    steps:\n      - {event: a}\n      - {event: b, hold: [{property: p}, {property: q}]}\n", 9, "compared position by position"),
    ("step_with_a_measure", "    steps:\n      - {event: a, count: {gte: 2}}\n", 7, "unknown key 'count'"),
    ("step_without_a_source", "    steps:\n      - {name: x}\n", 7, "exactly one of `event:` or `purchase:`"),
]


@pytest.mark.parametrize(("case", "body", "line", "words"), BROKEN, ids=[b[0] for b in BROKEN])
def test_funnel_mistakes_are_errors_at_their_line(tmp_path: Path, case: str, body: str, line: int, words: str) -> None:
    with pytest.raises(ProjectError) as err:
        load(tmp_path, "funnels:\n  - name: f\n" + body)
    assert str(err.value.location) == f"models/f.yml:{line}", err.value.render()
    assert words in err.value.render()


def test_funnel_tables_must_not_collide(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="would both write table 'funnel_a_users'"):
        load(tmp_path, "funnels:\n  - name: a\n    steps: [{event: x}]\n  - name: a_users\n    steps: [{event: x}]\n")
