"""Plans of whole projects: scans stay constant as segments are added; measures are shared."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlglot import exp

from segsql.compiler import SegmentCompiler
from segsql.planner import plan_models
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
    names = sorted(session.definitions.segments)
    plan = plan_models(session.definitions, names, session.as_of)
    query = SegmentCompiler(session.definitions, "duckdb", session.as_of).render(plan)
    # one grouped scan for every behavioural measure, plus one read of the ids it skips (other
    # names, older rows) for the universe when the scan is limited; a source without a scan is
    # read once, for the universe
    assert _table_reads(query, "events") == 2
    assert _table_reads(query, "purchases") == (1 if count == 1 or count >= 5 else 2)
    scan = plan.scan("events")
    assert scan is not None and len(scan.metrics) <= count


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
    plan = plan_models(session.definitions, ["a", "b", "c"], session.as_of)
    (scan,) = plan.scans
    assert len(scan.metrics) == 1
    assert scan.metrics[0].used_by == ("a", "b"), "c reads a and b through segment: references"
    assert plan.describe()[:2] == [
        "scan events: 1 aggregate over app_open, since " + dt.datetime(2026, 11, 15, tzinfo=dt.UTC).isoformat(),
        "  m0 = count over app_open in the last days 7  — used by a, b",
    ]


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
    plan = plan_models(session.definitions, sorted(session.definitions.segments), session.as_of)
    (scan,) = plan.scans
    kinds = [m.spec.kind for m in scan.metrics]
    assert kinds.count("last") == 1, kinds
    # the count of two or more, and the window that ends before as_of, keep their COUNTs
    assert kinds.count("count") == 2, kinds
    query = SegmentCompiler(session.definitions, "duckdb", session.as_of).render(plan)
    scan_sql = next(cte.this for cte in query.args["with_"].expressions if cte.alias == "__scan_events")
    assert sorted(e.this.key for e in scan_sql.expressions[1:]) == ["count", "count", "max"]


def test_two_sequences_over_the_same_events_number_the_events_once(tmp_path: Path) -> None:
    """One ROW_NUMBER pass over all events however many sequences read it (it was one per sequence)."""
    segments = """
segments:
  - name: a
    where: {sequence: [{event: product_viewed}, {event: app_open}], within: {last_days: 7}}
  - name: b
    where: {sequence: [{event: app_open}, {event: product_viewed}], within: {last_days: 30}}
"""
    root = write_project(tmp_path / "p", {"models/sources.yml": SOURCES, "models/s.yml": segments})
    session = open_session(Options(root), "2026-11-22T12:00:00Z", need_target=False)
    query = SegmentCompiler(session.definitions, "duckdb", session.as_of).flags(["a", "b"])
    assert len(list(query.find_all(exp.RowNumber))) == 1
    assert sum(1 for cte in query.args["with_"].expressions if cte.alias.startswith("__seq_") and not cte.alias.startswith("__seq_rows")) == 2
