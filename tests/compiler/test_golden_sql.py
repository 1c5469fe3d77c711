"""Golden SQL per dialect for representative segments, one folder per SPEC section.

Regenerate with `pytest tests/compiler/test_golden_sql.py --update-golden` and review the
diff. Every snapshot is also re-parsed by sqlglot in its own dialect.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from segsql.compiler import COMPILE_DIALECTS
from segsql.run.session import Options, open_session
from tests.compiler.golden import check_golden
from tests.conftest import write_project

AS_OF = "2026-11-22T12:00:00Z"

SOURCES = """
users:
  table: main.users
  id: external_id
  attributes:
    country: string
    age: number
    is_vip: boolean
    signup_at: time
    last_seen: {column: last_seen_ms, type: time, unit: epoch_millis}
    interests: array
    profile: object
  location: {lat: last_lat, lon: last_lon}
events:
  table: main.events
  user: external_id
  name: event_name
  time: occurred_at
  properties: properties
traits:
  churn:
    table: ml.churn_scores
    id: user_id
    attributes: {score: number, band: string, scored_at: time, flags: array, at_risk: boolean}
    updated_at: scored_at
    max_age: {hours: 48}
  crm:
    table: crm.accounts
    id: external_id
    attributes: {plan: string}
"""

# section folder -> {case name: segment YAML (the `where:` or `sql:` body)}
CASES: dict[str, dict[str, str]] = {
    "3_1_combinators": {
        "all_any_not": "where:\n  all:\n    - attribute: country\n      in: [KR, JP]\n    - any:\n        - attribute: age\n          gte: 30\n        - not: {attribute: is_vip, equals: true}\n",
    },
    "3_2_operators": {
        "string_regex_case_insensitive": "where: {attribute: country, matches_regex: '(?i)^k'}\n",
        "string_not_matches_regex": "where: {attribute: country, not_matches_regex: 'R$'}\n",
        "string_prefix_suffix_contains": "where:\n  any:\n    - {attribute: country, starts_with: K}\n    - {attribute: country, ends_with: P}\n    - {attribute: country, contains: 'S'}\n",
        "string_exists_or_missing": "where:\n  any:\n    - {attribute: country, exists: false}\n    - {attribute: country, equals: KR, or_missing: true}\n",
        "number_between_not_in": "where:\n  all:\n    - {attribute: age, between: [18, 35]}\n    - {attribute: age, not_in: [20, 21]}\n",
        "boolean_equals": "where: {attribute: is_vip, equals: true}\n",
        "time_relative": "where:\n  all:\n    - {attribute: signup_at, less_than_days_ago: 30}\n    - {attribute: last_seen, more_than_days_ago: 7}\n",
        "time_absolute_date_in_project_zone": "where: {attribute: signup_at, before: 2026-01-01}\n",
        "time_future": "where:\n  any:\n    - {attribute: signup_at, more_than_days_in_future: 1}\n    - {attribute: signup_at, less_than_days_in_future: 2}\n",
        "array_operators": "where:\n  all:\n    - {attribute: interests, includes: sneakers}\n    - {attribute: interests, includes_any: [running, outdoor]}\n    - {attribute: interests, includes_all: [tech, home]}\n    - {attribute: interests, not_includes: beauty}\n",
    },
    "3_3_object_paths": {
        "object_path_typed": "where:\n  all:\n    - {attribute: profile.tier, equals: gold}\n    - {attribute: profile.points, type: number, gt: 100}\n    - {attribute: profile.address.city, exists: true}\n",
    },
    "3_7_other_leaves": {
        "random_bucket": "where: {random_bucket: {lt: 1000}}\n",
        "near": "where: {near: {lat: 37.56, lon: 126.97, radius_km: 10}}\n",
        "segment_reference": "where:\n  all:\n    - segment: boolean_equals\n    - {attribute: country, equals: KR}\n",
    },
    "8_3_traits": {
        # two traits of one table are one join; an unused trait table (crm) is not joined
        "trait_operators": "where:\n  all:\n    - {attribute: churn.score, gte: 0.7}\n    - {attribute: churn.band, not_in: [low]}\n    - {attribute: churn.scored_at, less_than_days_ago: 2}\n    - {attribute: country, equals: KR}\n",
        "trait_missing_and_two_tables": "where:\n  any:\n    - {attribute: churn.score, exists: false}\n    - {attribute: churn.at_risk, equals: true}\n    - {attribute: crm.plan, equals: pro, or_missing: true}\n",
        "trait_with_events": "where:\n  all:\n    - {attribute: churn.flags, includes: discount}\n    - {event: app_open, within: {last_days: 7}}\n",
    },
    "2_sql_segments": {
        "sql_from_snowflake": "dialect: snowflake\nsql: |\n  select external_id from main.events\n  where iff(event_name = 'app_open', true, false)\n  qualify row_number() over (partition by external_id order by occurred_at desc) = 1\n",
        "sql_with_ref": "sql: |\n  select external_user_id from {{ ref('boolean_equals') }}\n",
    },
}


def _project(tmp_path: Path) -> Path:
    segments = ["segments:"]
    for cases in CASES.values():
        for name, body in cases.items():
            segments.append(f"  - name: {name}")
            segments.extend("    " + line for line in body.splitlines())
    return write_project(tmp_path / "golden", {
        "segsql_project.yml": "name: golden\ntimezone: Asia/Seoul\nbucket_salt: s1\n",
        "models/sources.yml": SOURCES,
        "models/segments.yml": "\n".join(segments) + "\n",
    })


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory):
    root = _project(tmp_path_factory.mktemp("golden"))
    return open_session(Options(root), AS_OF, need_target=False)


@pytest.mark.parametrize("dialect", COMPILE_DIALECTS)
@pytest.mark.parametrize(("section", "case"), [(s, c) for s, cases in CASES.items() for c in cases])
def test_golden_sql(session, section: str, case: str, dialect: str, update_golden: bool) -> None:
    check_golden(session, section, case, dialect, update_golden)
