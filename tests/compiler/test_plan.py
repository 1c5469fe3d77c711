"""Fused evaluation: the number of scans does not grow with the number of segments."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlglot import exp

from segsql.compiler import SegmentCompiler
from segsql.compiler.behaviour import existence
from segsql.definitions.filters import Condition, Measure
from segsql.run.session import Options, open_session
from tests.conftest import write_project

SOURCES = """
users: {table: main.users, id: external_id, attributes: {country: string}}
events: {table: main.events, user: external_id, name: event_name, time: occurred_at, properties: properties}
purchases: {table: main.purchases, user: external_id, time: purchased_at, product: product_id, price: price}
"""
KINDS = [
    "{{event: app_open, within: {{last_days: {n}}}, count: {{gte: 2}}}}",
    "{{not: {{purchase: any, within: {{last_days: {n}}}}}}}",
    "{{event: product_viewed, sum: {{property: price, gte: {n}}}}}",
    "{{event: app_open, last: {{more_than_days_ago: {n}}}}}",
    "{{purchase: any, revenue: {{gte: {n}}}}}",
]


def _segments(count: int) -> str:
    lines = ["segments:"]
    for i in range(count):
        lines += [f"  - name: s{i}", f"    where: {KINDS[i % len(KINDS)].format(n=i + 1)}"]
    return "\n".join(lines) + "\n"


def _table_reads(query: exp.Expression, table: str) -> int:
    return sum(1 for t in query.find_all(exp.Table) if t.name == table)


@pytest.mark.parametrize("count", [1, 5, 25, 50])
def test_scans_of_events_stay_constant_as_segments_are_added(tmp_path: Path, count: int) -> None:
    root = write_project(tmp_path / "p", {"models/sources.yml": SOURCES, "models/s.yml": _segments(count)})
    session = open_session(Options(root), "2026-11-22T12:00:00Z", need_target=False)
    compiler = SegmentCompiler(session.definitions, "duckdb", session.as_of)
    query = compiler.flags(sorted(session.definitions.segments))
    # one grouped scan for every behavioural measure, plus one read of the ids it skips (other
    # names, older rows) for the universe when the scan is limited; a source without a scan is
    # read once, for the universe
    assert _table_reads(query, "events") == 2
    assert _table_reads(query, "purchases") == (1 if count == 1 or count >= 5 else 2)
    assert len(compiler.steps.scans["events"].metrics) <= count


def test_an_unlimited_scan_is_also_the_universe_of_its_source(tmp_path: Path) -> None:
    segments = "segments:\n  - name: a\n    where: {purchase: any, revenue: {gte: 5}}\n  - name: b\n    where: {event: app_open, within: {last_days: 7}}\n"
    root = write_project(tmp_path / "p", {"models/sources.yml": SOURCES, "models/s.yml": segments})
    session = open_session(Options(root), "2026-11-22T12:00:00Z", need_target=False)
    query = SegmentCompiler(session.definitions, "duckdb", session.as_of).flags(["a", "b"])
    assert _table_reads(query, "purchases") == 1, "all purchases seen: the scan's ids are the source's ids"
    assert "__universe" not in {cte.alias for cte in query.args["with_"].expressions}, "the universe is the join of users and the scans"
    other = next(cte for cte in query.args["with_"].expressions if cte.alias == "__other_ids")
    assert {t.name for t in other.find_all(exp.Table)} == {"events"}, "only the event rows the scan skips are read again"
    assert _table_reads(query, "__scan_events") == 1 and _table_reads(query, "__scan_purchases") == 1, "each scan is joined once, never re-read"


def test_identical_measures_are_computed_once(tmp_path: Path) -> None:
    segments = """
segments:
  - name: a
    where: {event: app_open, within: {last_days: 7}, count: {gte: 3}}
  - name: b
    where: {event: app_open, within: {last_days: 7}, count: {lt: 10}}
  - name: c
    where: [{segment: a}, {segment: b}]
"""
    root = write_project(tmp_path / "p", {"models/sources.yml": SOURCES, "models/s.yml": segments})
    session = open_session(Options(root), "2026-11-22T12:00:00Z", need_target=False)
    compiler = SegmentCompiler(session.definitions, "duckdb", session.as_of)
    compiler.flags(["a", "b", "c"])
    assert len(compiler.steps.scans["events"].metrics) == 1
    plan = compiler.plan(["a", "b", "c"])
    assert plan == ["scan events: 1 aggregates over app_open, since " + dt.datetime(2026, 11, 15, tzinfo=dt.UTC).isoformat()]


def test_did_and_did_not_in_windows_ending_at_as_of_share_the_latest_occurrence(tmp_path: Path) -> None:
    """"At least one / none in the last N days" is "latest matching row ≥ start": one MAX for every
    window over the same rows, also shared with `last`; a count of 2+ keeps its own aggregate."""
    segments = """
segments:
  - name: did_7
    where: {event: app_open, within: {last_days: 7}}
  - name: none_30
    where: {not: {event: app_open, within: {last_hours: 720}}}
  - name: zero_90
    where: {event: app_open, within: {since: "2026-08-01T00:00:00Z"}, count: {equals: 0}}
  - name: ever
    where: {event: app_open, count: {gt: 0}}
  - name: lapsed
    where: {event: app_open, last: {more_than_days_ago: 30}}
  - name: twice_7
    where: {event: app_open, within: {last_days: 7}, count: {gte: 2}}
  - name: bounded
    where: {event: app_open, within: {since: "2026-08-01T00:00:00Z", until: "2026-09-01T00:00:00Z"}}
"""
    root = write_project(tmp_path / "p", {"models/sources.yml": SOURCES, "models/s.yml": segments})
    session = open_session(Options(root), "2026-11-22T12:00:00Z", need_target=False)
    compiler = SegmentCompiler(session.definitions, "duckdb", session.as_of)
    compiler.flags(sorted(session.definitions.segments))
    aggregates = [agg.sql() for _, agg in compiler.steps.scans["events"].metrics.values()]
    assert sum(a.startswith("MAX(") for a in aggregates) == 1, aggregates
    # the count of two or more, and the window that ends before as_of, keep their COUNTs
    assert sum(a.startswith("COUNT(") for a in aggregates) == 2, aggregates


@pytest.mark.parametrize(
    ("op", "value", "negated", "expected"),
    [
        ("gte", 1, False, True), ("gt", 0, False, True), ("gt", 0.5, False, True), ("equals", 0, True, True),
        ("equals", 0, False, False), ("lt", 1, False, False), ("lte", 0, False, False), ("gte", 1, True, False),
        ("gte", 2, False, None), ("gte", 0, False, None), ("lt", 3, False, None), ("equals", 1, False, None),
        ("between", (0, 0), False, None), ("gt", -1, False, None),
    ],
)
def test_a_count_is_read_as_existence_only_when_it_asks_nothing_more(op: str, value: object, negated: bool, expected: bool | None) -> None:
    assert existence(Measure("count", Condition(op, value, negated))) is expected


def test_other_measures_are_never_read_as_existence() -> None:
    assert existence(Measure("count_distinct", Condition("gte", 1))) is None
    assert existence(Measure("sum", Condition("gte", 1))) is None
    assert existence(Measure("count", Condition("gte", 1, or_missing=True))) is None
