"""SPEC 6 unit tests: `segsql test` builds the given rows on an in-memory DuckDB whatever the
target, compiles the same definitions at the test's as_of, and checks members, not_members
and size; failures name the test's file:line with expected vs actual ids; guards are
reported against the last run's size; `--select` works on tests and on their segments."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from segsql.engines.duckdb import DuckDBAdapter
from tests.conftest import run_cli, write_project

SOURCES = """
users:
  table: main.users
  id: external_id
  attributes: {country: string, age: number, is_vip: boolean, interests: array, profile: object, signup_at: time}
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
catalogs:
  products:
    table: main.products
    key: product_id
    attributes: {category: string}
"""
SEGMENTS = """
segments:
  - name: lapsed_sneaker_browsers
    tags: [retention]
    guards: {min_size: 1}
    where:
      all:
        - attribute: country
          in: [KR, JP]
        - event: product_searched
          where: [{property: query, matches_regex: "(?i)sneaker"}, {column: platform, equals: ios}]
          within: {last_days: 30}
        - not: {purchase: any, within: {last_days: 30}}
  - name: shoe_buyers
    where:
      purchase: any
      where: [{column: product_id, catalog: products, where: [{attribute: category, equals: shoes}]}]
  - name: vip_gamers
    where: {all: [{attribute: is_vip, equals: true}, {attribute: interests, includes: gaming}, {attribute: profile.tier, equals: gold}]}
  - name: reads_vip_gamers
    where: {segment: vip_gamers}
"""
TESTS = """
unit_tests:
  - name: sneaker_searcher_without_purchase
    segment: lapsed_sneaker_browsers
    as_of: "2026-11-22T12:00:00Z"
    given:
      users:  [{external_id: u1, country: KR}, {external_id: u2, country: KR}, {external_id: u3, country: JP}]
      events:
        - {external_id: u1, event_name: product_searched, occurred_ms: 1795168800000, platform: ios, properties: {query: Nike Sneakers}}
        - {external_id: u2, event_name: product_searched, occurred_ms: 1795168800000, platform: ios, properties: {query: Nike Sneakers}}
        - {external_id: u3, event_name: product_searched, occurred_ms: 1795168800000, platform: android, properties: {query: sneakers}}
      purchases: [{external_id: u2, purchased_at: "2026-11-21T09:00:00Z", product_id: p1, price: 10}]
    expect: {members: [u1], not_members: [u2, u3], size: 1}
  - name: shoes_via_the_catalog
    segment: shoe_buyers
    as_of: "2026-11-22T12:00:00Z"
    given:
      purchases:
        - {external_id: a, purchased_at: 2026-11-01, product_id: p1, price: 10}
        - {external_id: b, purchased_at: 2026-11-01, product_id: p2, price: 10}
      catalogs:
        products: [{product_id: p1, category: shoes}, {product_id: p2, category: hats}]
    expect: {members: [a]}
  - name: typed_attributes
    segment: reads_vip_gamers
    tags: [attrs]
    as_of: "2026-11-22T12:00:00Z"
    given:
      users:
        - {external_id: g1, is_vip: true, interests: [gaming, music], profile: {tier: gold}, signup_at: "2025-01-01T00:00:00Z"}
        - {external_id: g2, is_vip: false, interests: [gaming], profile: {tier: gold}}
        - {external_id: g3, is_vip: true, interests: [music], profile: {tier: gold}}
    expect: {members: [g1]}
"""
AS_OF = "2026-11-22T12:00:00Z"


def _project(root: Path, tests: str = TESTS, segments: str = SEGMENTS, profile: str | None = None) -> Path:
    files = {"models/sources.yml": SOURCES, "models/segments.yml": segments, "models/tests.yml": tests}
    if profile is not None:
        files["profiles.yml"] = profile
    return write_project(root, files)


def test_passing_tests_exit_0_and_json_says_the_same(tmp_path: Path) -> None:
    root = _project(tmp_path / "p")
    text = run_cli("--project-dir", str(root), "test")
    assert text.code == 0, text.output
    assert text.out.count("PASS") == 3 and "models/tests.yml:2" in text.out
    result = run_cli("--project-dir", str(root), "test", "--format", "json")
    assert result.code == 0, result.output
    report = json.loads(result.out)
    assert report["status"] == "success"
    assert {t["name"]: (t["status"], t["size"]) for t in report["tests"]} == {
        "sneaker_searcher_without_purchase": ("pass", 1), "shoes_via_the_catalog": ("pass", 1), "typed_attributes": ("pass", 1),
    }
    results = json.loads((root / "target" / "run_results.json").read_text(encoding="utf-8"))
    assert results["metadata"]["command"] == "test" and [r["kind"] for r in results["results"]] == ["test"] * 3
    assert set(json.loads((root / "target" / "manifest.json").read_text(encoding="utf-8"))["unit_tests"]) == {t["name"] for t in report["tests"]}


def test_a_failing_test_prints_its_line_and_the_first_ten_ids_each_way(tmp_path: Path) -> None:
    users = ", ".join(f"{{external_id: k{i:02d}, country: KR}}" for i in range(12))
    expected = ", ".join(f"x{i:02d}" for i in range(12))
    tests = f"""
unit_tests:
  - name: koreans_are_not_who_you_think
    segment: koreans
    as_of: "2026-11-22T12:00:00Z"
    given:
      users: [{users}, {{external_id: j1, country: JP}}]
    expect: {{members: [{expected}], not_members: [j1]}}
"""
    root = _project(tmp_path / "p", tests, "segments:\n  - name: koreans\n    where: {attribute: country, equals: KR}\n")
    result = run_cli("--project-dir", str(root), "test")
    assert result.code == 1, result.output
    assert "FAIL" in result.out
    assert "models/tests.yml:2: unit test koreans_are_not_who_you_think (koreans) fail" in result.err
    assert "expected members not found (12): x00, x01, x02, x03, x04, x05, x06, x07, x08, x09 … and 2 more" in result.err
    assert "members not expected (12): k00, k01, k02, k03, k04, k05, k06, k07, k08, k09 … and 2 more" in result.err
    assert "not_members" not in result.err.split("members not expected")[1], "j1 is not a member, so not_members holds"
    report = json.loads(run_cli("--project-dir", str(root), "test", "--format", "json").out)
    (test,) = report["tests"]
    assert test["status"] == "fail" and len(test["missing"]) == 10 and test["unexpected"][0] == "k00" and test["size"] == 12


def test_size_and_not_members_failures(tmp_path: Path) -> None:
    tests = """
unit_tests:
  - name: too_many
    segment: koreans
    as_of: 2026-11-22
    given: {users: [{external_id: a, country: KR}, {external_id: b, country: KR}]}
    expect: {size: 1, not_members: [b]}
"""
    root = _project(tmp_path / "p", tests, "segments:\n  - name: koreans\n    where: {attribute: country, equals: KR}\n")
    result = run_cli("--project-dir", str(root), "test")
    assert result.code == 1
    assert "not_members that are members (1): b" in result.err and "size is 2, expected 1" in result.err


SNOWFLAKE_PROFILE = """
segsql:
  target: prod
  outputs:
    prod: {type: snowflake, account: acct, user: tester, password: pw-never-used, database: ANALYTICS, schema: SEGMENTS}
"""
SNOWFLAKE_SOURCES = """
users: {table: ANALYTICS.RAW.USERS, id: EXTERNAL_ID, attributes: {country: {column: COUNTRY, type: string}}}
purchases: {table: ANALYTICS.RAW.PURCHASES, user: EXTERNAL_ID, time: PURCHASED_AT, product: PRODUCT_ID, price: PRICE}
"""
SNOWFLAKE_SEGMENTS = """
segments:
  - name: big_recent_spenders
    sql: |
      select EXTERNAL_ID from {{ source('purchases') }}
      where PURCHASED_AT >= DATEADD(day, -30, '2026-11-22'::timestamp_ntz)
      group by 1 having sum(IFF(PRICE > 100, PRICE, 0)) > 150
  - name: korean_big_spenders
    where: {all: [{segment: big_recent_spenders}, {attribute: country, matches_regex: "^k", or_missing: false}]}
"""
SNOWFLAKE_TESTS = """
unit_tests:
  - name: snowflake_sql_runs_locally
    segment: korean_big_spenders
    as_of: "2026-11-22T12:00:00Z"
    given:
      users: [{EXTERNAL_ID: s1, COUNTRY: kr}, {EXTERNAL_ID: s2, COUNTRY: kr}, {EXTERNAL_ID: s3, COUNTRY: jp}]
      purchases:
        - {EXTERNAL_ID: s1, PURCHASED_AT: "2026-11-20T00:00:00Z", PRODUCT_ID: p, PRICE: 200}
        - {EXTERNAL_ID: s2, PURCHASED_AT: "2026-11-20T00:00:00Z", PRODUCT_ID: p, PRICE: 90}
        - {EXTERNAL_ID: s2, PURCHASED_AT: "2026-11-20T00:00:00Z", PRODUCT_ID: p, PRICE: 90}
        - {EXTERNAL_ID: s3, PURCHASED_AT: "2026-11-20T00:00:00Z", PRODUCT_ID: p, PRICE: 500}
        - {EXTERNAL_ID: s1, PURCHASED_AT: "2026-01-01T00:00:00Z", PRODUCT_ID: p, PRICE: 900}
    expect: {members: [s1]}
"""


def test_a_snowflake_target_project_is_tested_on_duckdb(tmp_path: Path) -> None:
    root = write_project(tmp_path / "sf", {"profiles.yml": SNOWFLAKE_PROFILE, "models/sources.yml": SNOWFLAKE_SOURCES, "models/segments.yml": SNOWFLAKE_SEGMENTS, "models/tests.yml": SNOWFLAKE_TESTS})
    result = run_cli("--project-dir", str(root), "test", "--format", "json")
    assert result.code == 0, result.output
    report = json.loads(result.out)
    assert report["tests"][0]["status"] == "pass" and report["tests"][0]["size"] == 1
    assert report["guards"] == {"checked": False, "reason": "no selected segment declares guards", "segments": []}
    assert "pw-never-used" not in result.out


def test_select_picks_tests_directly_and_through_their_segments(tmp_path: Path) -> None:
    root = _project(tmp_path / "p")

    def names(*args: str) -> list[str]:
        result = run_cli("--project-dir", str(root), "test", "--format", "json", *args)
        assert result.code == 0, result.output
        return [t["name"] for t in json.loads(result.out)["tests"]]

    assert names("--select", "shoe_buyers") == ["shoes_via_the_catalog"]
    assert names("--select", "typed_attributes") == ["typed_attributes"]
    assert names("--select", "tag:retention") == ["sneaker_searcher_without_purchase"]
    assert names("--select", "tag:attrs") == ["typed_attributes"]
    assert names("--select", "vip_gamers+") == ["typed_attributes"]
    assert names("--select", "vip_gamers") == []
    assert names("--exclude", "shoe_buyers", "--exclude", "typed_attributes") == ["sneaker_searcher_without_purchase"]


@pytest.mark.parametrize(
    ("tests", "message"),
    [
        ("unit_tests:\n  - name: t\n    segment: shoe_buyers\n    as_of: 2026-01-01\n    given: {users: [{external_id: a, contry: KR}]}\n    expect: {size: 0}\n", "models/tests.yml:5: unknown column 'contry' in a given users row"),
        ("unit_tests:\n  - name: t\n    segment: shoe_buyers\n    as_of: 2026-01-01\n    given:\n      users:\n        - {external_id: a, age: old}\n    expect: {size: 0}\n", "models/tests.yml:7: bad value in a given users row: column 'age' (number) must be a number"),
        ("unit_tests:\n  - name: t\n    segment: shoe_buyers\n    expect: {size: 0}\n", "models/tests.yml:2: a unit test needs a frozen `as_of`"),
        ("unit_tests:\n  - name: t\n    segment: no_such\n    as_of: 2026-01-01\n    expect: {size: 0}\n", "tests unknown segment 'no_such'"),
        ("unit_tests:\n  - name: t\n    segment: shoe_buyers\n    as_of: 2026-01-01\n", "models/tests.yml:2: a unit test needs `expect`"),
        ("unit_tests:\n  - name: t\n    funnel: checkout\n    as_of: 2026-01-01\n    expect: {furthest_step: {u1: 2}}\n", "tests unknown funnel 'checkout'"),
        ("unit_tests:\n  - name: t\n    segment: shoe_buyers\n    as_of: 2026-01-01\n    given: {traits: {scores: []}}\n    expect: {size: 0}\n", "which models/sources.yml does not declare"),
        ("unit_tests:\n  - name: shoe_buyers\n    segment: shoe_buyers\n    as_of: 2026-01-01\n    expect: {size: 0}\n", "has the name of a segment"),
        ("unit_tests:\n  - name: t\n    segment: shoe_buyers\n    as_of: 2026-01-01\n    expect: {size: 0, furthest_step: {a: 1}}\n", "`furthest_step` is for a funnel test"),
    ],
)
def test_mistakes_in_unit_tests_are_exit_2_at_their_line(tmp_path: Path, tests: str, message: str) -> None:
    root = _project(tmp_path / "p", tests)
    result = run_cli("--project-dir", str(root), "test")
    assert result.code == 2, result.output
    assert message in result.err and "Traceback" not in result.output


def _load_demo_rows(root: Path) -> None:
    with DuckDBAdapter(str(root / "test.duckdb")) as adapter:
        adapter.load_rows("users", [("external_id", "VARCHAR"), ("country", "VARCHAR")], [("u1", "KR"), ("u2", "KR"), ("u3", "JP")])


GUARDED = "segments:\n  - name: koreans\n    guards: {min_size: 1}\n    where: {attribute: country, equals: KR}\n"
GUARD_TESTS = "unit_tests:\n  - name: one_korean\n    segment: koreans\n    as_of: 2026-01-01\n    given: {users: [{external_id: a, country: KR}]}\n    expect: {members: [a]}\n"


def test_guards_are_checked_against_the_last_run(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {"models/sources.yml": "users: {table: main.users, id: external_id, attributes: {country: string}}\n", "models/segments.yml": GUARDED, "models/tests.yml": GUARD_TESTS})
    _load_demo_rows(root)
    before = json.loads(run_cli("--project-dir", str(root), "test", "--format", "json").out)
    assert before["guards"]["checked"] is True and before["guards"]["segments"][0]["status"] == "never run"
    assert run_cli("--project-dir", str(root), "run", "--as-of", AS_OF).code == 0
    ok = run_cli("--project-dir", str(root), "test")
    assert ok.code == 0 and "guards against the size at the last run" in ok.out
    (root / "models" / "segments.yml").write_text(GUARDED.replace("min_size: 1", "min_size: 5"), encoding="utf-8")
    broken = run_cli("--project-dir", str(root), "test", "--format", "json")
    assert broken.code == 1
    (check,) = json.loads(broken.out)["guards"]["segments"]
    assert check == {"segment": "koreans", "min_size": 5, "max_size": None, "max_change_pct": None, "size": 2, "previous": None, "status": "broken", "message": "min_size: 2 members, fewer than 5"}
    text = run_cli("--project-dir", str(root), "test")
    assert text.code == 1 and "min_size: 2 members, fewer than 5" in text.out


def test_an_unreachable_target_is_reported_not_fatal(tmp_path: Path) -> None:
    profile = f"segsql:\n  target: dev\n  outputs:\n    dev: {{type: duckdb, path: '{tmp_path}/missing/db.duckdb', schema: main}}\n"
    root = write_project(tmp_path / "p", {"profiles.yml": profile, "models/sources.yml": "users: {table: main.users, id: external_id, attributes: {country: string}}\n", "models/segments.yml": GUARDED, "models/tests.yml": GUARD_TESTS})
    result = run_cli("--project-dir", str(root), "test")
    assert result.code == 0, result.output
    assert "target dev not reachable, guards not checked" in result.out
    no_profile = write_project(tmp_path / "np", {"models/sources.yml": "users: {table: main.users, id: external_id, attributes: {country: string}}\n", "models/segments.yml": GUARDED, "models/tests.yml": GUARD_TESTS})
    (no_profile / "profiles.yml").unlink()
    result = run_cli("--project-dir", str(no_profile), "test", "--format", "json")
    assert result.code == 0, result.output
    assert json.loads(result.out)["guards"]["reason"].startswith("no connection target")


BUILD_SEGMENTS = """
segments:
  - name: koreans
    where: {attribute: country, equals: KR}
  - name: korean_reader
    where: {segment: koreans}
  - name: japanese
    where: {attribute: country, equals: JP}
"""
BUILD_TESTS = """
unit_tests:
  - name: koreans_test
    segment: koreans
    as_of: 2026-01-01
    given: {users: [{external_id: a, country: KR}]}
    expect: {members: [a]}
  - name: japanese_test
    segment: japanese
    as_of: 2026-01-01
    given: {users: [{external_id: a, country: JP}]}
    expect: {members: [a]}
"""


def _tables(root: Path) -> set[str]:
    import duckdb

    db = duckdb.connect(str(root / "test.duckdb"))
    try:
        return {r[0] for r in db.execute("SELECT table_name FROM information_schema.tables WHERE starts_with(table_name, 'seg_')").fetchall()}
    finally:
        db.close()


def test_build_runs_what_passed_and_skips_a_failed_model_and_its_dependents(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {"models/sources.yml": "users: {table: main.users, id: external_id, attributes: {country: string}}\n", "models/segments.yml": BUILD_SEGMENTS, "models/tests.yml": BUILD_TESTS})
    _load_demo_rows(root)
    ok = run_cli("--project-dir", str(root), "build", "--as-of", AS_OF, "--format", "json")
    assert ok.code == 0, ok.output
    report = json.loads(ok.out)
    assert [(r["kind"], r["name"], r["status"]) for r in report["results"]] == [
        ("test", "japanese_test", "pass"), ("test", "koreans_test", "pass"),
        ("segment", "japanese", "success"), ("segment", "koreans", "success"), ("segment", "korean_reader", "success"),
    ]
    assert _tables(root) == {"seg_koreans", "seg_korean_reader", "seg_japanese"}

    broken = root / "fresh"
    root2 = write_project(broken, {"models/sources.yml": "users: {table: main.users, id: external_id, attributes: {country: string}}\n", "models/segments.yml": BUILD_SEGMENTS, "models/tests.yml": BUILD_TESTS.replace("expect: {members: [a]}\n  - name: japanese_test", "expect: {members: [b]}\n  - name: japanese_test")})
    _load_demo_rows(root2)
    failed = run_cli("--project-dir", str(root2), "build", "--as-of", AS_OF)
    assert failed.code == 1, failed.output
    assert "koreans: skipped: unit test koreans_test (models/tests.yml:2) failed" in failed.err
    assert "korean_reader: skipped: depends on koreans, whose unit test koreans_test failed" in failed.err
    assert _tables(root2) == {"seg_japanese"}
    results = json.loads((root2 / "target" / "run_results.json").read_text(encoding="utf-8"))
    assert results["metadata"]["command"] == "build" and results["status"] == "error"
    assert {r["name"]: r["status"] for r in results["results"]} == {"koreans_test": "fail", "japanese_test": "pass", "japanese": "success", "koreans": "skipped", "korean_reader": "skipped"}
    as_json = json.loads(run_cli("--project-dir", str(root2), "build", "--as-of", AS_OF, "--format", "json", "--dry-run").out)
    assert {r["name"]: r["status"] for r in as_json["results"]} == {r["name"]: r["status"] for r in results["results"]}
    assert as_json["dry_run"] is True


def test_build_select_limits_tests_and_models(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {"models/sources.yml": "users: {table: main.users, id: external_id, attributes: {country: string}}\n", "models/segments.yml": BUILD_SEGMENTS, "models/tests.yml": BUILD_TESTS})
    _load_demo_rows(root)
    result = run_cli("--project-dir", str(root), "build", "--as-of", AS_OF, "--select", "japanese", "--format", "json")
    assert result.code == 0, result.output
    assert [r["name"] for r in json.loads(result.out)["results"]] == ["japanese_test", "japanese"]
