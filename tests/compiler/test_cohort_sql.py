"""Golden SQL per dialect of cohort retention (SPEC 8.2), re-parsed by sqlglot in its dialect.

Regenerate with `pytest tests/compiler/test_cohort_sql.py --update-golden` and review the diff."""

from __future__ import annotations

import difflib

import pytest
import sqlglot

from segsql.compiler import COMPILE_DIALECTS
from segsql.compiler.cohorts import CohortCompiler
from segsql.run.session import Options, open_session
from tests.compiler.golden import GOLDEN
from tests.conftest import write_project

SOURCES = """
users: {table: main.users, id: external_id, attributes: {country: string, signup_at: {column: signup_ms, type: time, unit: epoch_millis}}}
events: {table: main.events, user: external_id, name: event_name, time: occurred_at, properties: properties}
purchases: {table: main.purchases, user: external_id, time: purchased_at, product: product_id, price: price}
"""
MODELS = """
segments:
  - name: koreans
    where: {attribute: country, equals: KR}
cohorts:
  - name: monthly_buyers
    entry: {purchase: any}
    return: {purchase: any}
    period: month
    periods: 12
    entered_within: {last_days: 400}
    breakdown: country
  - name: weekly_signups
    entry: {attribute: signup_at}
    return: {event: app_open, where: [{property: platform, equals: ios}]}
    period: week
    periods: 8
    audience: koreans
  - name: daily_openers
    entry: {event: [app_open, search]}
    return: {event: app_open}
    period: day
    periods: 7
"""
# case → the cohorts compiled together (one query, as a run computes them)
CASES = {"monthly_buyers": ["monthly_buyers"], "weekly_signups": ["weekly_signups"], "three_in_one_query": ["monthly_buyers", "weekly_signups", "daily_openers"]}


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory):
    root = write_project(tmp_path_factory.mktemp("golden") / "p", {
        "segsql_project.yml": "name: g\ntimezone: Asia/Seoul\n", "models/sources.yml": SOURCES, "models/m.yml": MODELS,
    })
    return open_session(Options(root), "2026-11-22T12:00:00Z", need_target=False)


@pytest.mark.parametrize("dialect", COMPILE_DIALECTS)
@pytest.mark.parametrize("case", list(CASES))
def test_cohort_sql_matches_its_snapshot(session, case: str, dialect: str, update_golden: bool) -> None:
    sql = CohortCompiler(session.definitions, dialect, session.as_of).table(CASES[case]).sql(dialect, pretty=True) + "\n"
    sqlglot.parse_one(sql, read=dialect)
    path = GOLDEN / "8_2_cohorts" / f"{case}.{dialect}.sql"
    if update_golden or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sql, encoding="utf-8")
        if not update_golden:
            pytest.fail(f"new golden file {path} written; review and commit it")
    expected = path.read_text(encoding="utf-8")
    if sql != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), sql.splitlines(True), str(path), "compiled"))
        pytest.fail(f"compiled SQL differs from the golden file (rerun with --update-golden if intended):\n{diff}")


def test_cohorts_read_each_source_once(session) -> None:
    """Cohorts over events and purchases: one scan of each source, whatever their number (an
    audience is a segment's query of its own)."""
    query = CohortCompiler(session.definitions, "duckdb", session.as_of).table(["monthly_buyers", "daily_openers"])
    scanned = [t.name for t in query.find_all(sqlglot.exp.Table) if t.name in ("events", "purchases")]
    assert sorted(scanned) == ["events", "purchases"]
