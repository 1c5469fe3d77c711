"""SPEC 6 funnel unit tests: `funnel:` with `expect: {furthest_step: {...}}` runs the funnel on
an in-memory DuckDB at the test's as_of; a user not listed among the entered ones is at step 0;
a failure names the test's file:line with each wrong user's expected and actual step."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_cli, write_project

SOURCES = """
users:
  table: main.users
  id: external_id
  attributes: {country: string}
events:
  table: main.events
  user: external_id
  name: event_name
  time: {column: occurred_ms, unit: epoch_millis}
  properties: properties
purchases:
  table: main.purchases
  user: external_id
  time: purchased_at
  product: product_id
  price: price
"""
MODELS = """
segments:
  - name: koreans
    where: {attribute: country, equals: KR}
  - name: carted_not_bought
    where: {funnel: checkout, furthest_step: {equals: 2}}
funnels:
  - name: checkout
    steps:
      - {event: product_viewed, hold: [{property: product_id}]}
      - {event: add_to_cart, hold: [{property: product_id}]}
      - {purchase: any, hold: [{column: product_id}]}
    conversion_window: {hours: 1}
    audience: koreans
"""
# 2026-11-20T10:00:00Z in epoch milliseconds
T = 1795168800000
GIVEN = f"""
    given:
      users: [{{external_id: u1, country: KR}}, {{external_id: u2, country: KR}}, {{external_id: u3, country: KR}}, {{external_id: u4, country: JP}}, {{external_id: u5, country: KR}}]
      events:
        - {{external_id: u1, event_name: product_viewed, occurred_ms: {T}, properties: {{product_id: p1}}}}
        - {{external_id: u1, event_name: add_to_cart, occurred_ms: {T + 60_000}, properties: {{product_id: p1}}}}
        - {{external_id: u2, event_name: product_viewed, occurred_ms: {T}, properties: {{product_id: p1}}}}
        - {{external_id: u2, event_name: add_to_cart, occurred_ms: {T + 60_000}, properties: {{product_id: p2}}}}
        - {{external_id: u3, event_name: product_viewed, occurred_ms: {T}, properties: {{product_id: p1}}}}
        - {{external_id: u3, event_name: add_to_cart, occurred_ms: {T + 60_000}, properties: {{product_id: p1}}}}
        - {{external_id: u4, event_name: product_viewed, occurred_ms: {T}, properties: {{product_id: p1}}}}
      purchases:
        - {{external_id: u1, purchased_at: "2026-11-20T10:30:00Z", product_id: p1, price: 10}}
        - {{external_id: u3, purchased_at: "2026-11-20T11:30:00Z", product_id: p1, price: 10}}
"""


def _project(tmp_path: Path, tests: str) -> Path:
    return write_project(tmp_path / "p", {"models/sources.yml": SOURCES, "models/models.yml": MODELS, "models/tests.yml": tests})


def _test(name: str, expect: str, as_of: str = "2026-11-22T12:00:00Z") -> str:
    return f"  - name: {name}\n    funnel: checkout\n    as_of: \"{as_of}\"\n{GIVEN}    expect: {expect}\n"


def test_a_passing_funnel_test_checks_every_listed_users_furthest_step(tmp_path: Path) -> None:
    # u1 bought p1 within the hour; u2 carted another product (held value differs); u3 bought
    # after the window; u4 is not in the audience; u5 did nothing
    root = _project(tmp_path, "unit_tests:\n" + _test("checkout_steps", "{furthest_step: {u1: 3, u2: 1, u3: 2, u4: 0, u5: 0}, members: [u1, u2, u3], size: 3}"))
    result = run_cli("--project-dir", str(root), "test", "--format", "json")
    assert result.code == 0, result.output
    (test,) = json.loads(result.out)["tests"]
    assert (test["name"], test["model"], test["status"], test["size"], test["furthest_step"]) == ("checkout_steps", "checkout", "pass", 3, {})
    text = run_cli("--project-dir", str(root), "test")
    assert text.code == 0 and "PASS" in text.out and "checkout_steps" in text.out, text.output


def test_a_failing_funnel_test_prints_its_line_and_expected_vs_actual_steps(tmp_path: Path) -> None:
    tests = "unit_tests:\n" + _test("right", "{furthest_step: {u1: 3}}") + _test("wrong", "{furthest_step: {u1: 3, u2: 2, u4: 1, u5: 0}}")
    root = _project(tmp_path, tests)
    result = run_cli("--project-dir", str(root), "test")
    assert result.code == 1, result.output
    assert "PASS" in result.out and "FAIL" in result.out
    line = 1 + tests.splitlines().index("  - name: wrong")
    assert f"models/tests.yml:{line}: unit test wrong (checkout) fail: furthest_step of 2 user(s) differs: u2 is 1, expected 2, u4 is 0, expected 1" in result.err
    assert "actual furthest steps of the 3 entered user(s): u1: 3, u2: 1, u3: 2" in result.err
    assert "1 unit test(s) failed" in result.err
    report = json.loads(run_cli("--project-dir", str(root), "test", "--format", "json").out)
    wrong = next(t for t in report["tests"] if t["name"] == "wrong")
    assert wrong["status"] == "fail" and wrong["furthest_step"] == {"u2": {"expected": 2, "actual": 1}, "u4": {"expected": 1, "actual": 0}}


def test_the_as_of_is_frozen_for_a_funnel_test(tmp_path: Path) -> None:
    # at 10:30 u1's purchase is not yet there: as_of, not the day the test runs, decides
    root = _project(tmp_path, "unit_tests:\n" + _test("before_the_purchase", "{furthest_step: {u1: 2, u3: 2}}", as_of="2026-11-20T10:15:00Z"))
    result = run_cli("--project-dir", str(root), "test")
    assert result.code == 0, result.output


def test_a_funnel_test_is_selected_by_the_funnels_name(tmp_path: Path) -> None:
    tests = "unit_tests:\n" + _test("funnel_test", "{furthest_step: {u1: 3}}")
    tests += "  - name: segment_test\n    segment: carted_not_bought\n    as_of: \"2026-11-22T12:00:00Z\"\n" + GIVEN + "    expect: {members: [u3]}\n"
    root = _project(tmp_path, tests)
    report = json.loads(run_cli("--project-dir", str(root), "test", "--select", "checkout", "--format", "json").out)
    assert [t["name"] for t in report["tests"]] == ["funnel_test"]
    report = json.loads(run_cli("--project-dir", str(root), "test", "--format", "json").out)
    assert {t["name"]: t["status"] for t in report["tests"]} == {"funnel_test": "pass", "segment_test": "pass"}


def test_build_skips_the_segments_reading_a_funnel_whose_test_failed(tmp_path: Path) -> None:
    root = _project(tmp_path, "unit_tests:\n" + _test("right", "{furthest_step: {u1: 3}}"))
    _target_tables(root)
    ok = run_cli("--project-dir", str(root), "build", "--as-of", "2026-11-22T12:00:00Z", "--format", "json")
    assert ok.code == 0, ok.output
    assert {r["name"]: r["status"] for r in json.loads(ok.out)["results"]} == {"right": "pass", "checkout": "success", "carted_not_bought": "success", "koreans": "success"}
    root = _project(tmp_path / "failing", "unit_tests:\n" + _test("wrong", "{furthest_step: {u1: 1}}"))
    _target_tables(root)
    result = run_cli("--project-dir", str(root), "build", "--as-of", "2026-11-22T12:00:00Z", "--format", "json")
    assert result.code == 1, result.output
    statuses = {r["name"]: r["status"] for r in json.loads(result.out)["results"]}
    # the funnel whose test failed is not materialized either (dbt's build), nor what reads it
    assert statuses == {"wrong": "fail", "checkout": "skipped", "carted_not_bought": "skipped", "koreans": "success"}


def _target_tables(root: Path) -> None:
    import duckdb

    db = duckdb.connect(str(root / "test.duckdb"))
    db.execute("CREATE TABLE users AS SELECT 'u1' AS external_id, 'KR' AS country")
    db.execute("CREATE TABLE events (external_id VARCHAR, event_name VARCHAR, occurred_ms BIGINT, properties JSON)")
    db.execute("CREATE TABLE purchases (external_id VARCHAR, purchased_at TIMESTAMP, product_id VARCHAR, price DOUBLE)")
    db.close()
