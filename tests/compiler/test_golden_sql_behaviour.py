"""Golden SQL per dialect for the operators and leaves `test_golden_sql.py` does not cover:
the remaining operators of SPEC 3.2, event and purchase filters with every measure (3.4,
3.5), sequences (3.6) and RFM (3.7) — and a check that together the two files use every
operator and every leaf kind.

Regenerate with `pytest tests/compiler/test_golden_sql_behaviour.py --update-golden` and
review the diff. Every snapshot is also re-parsed by sqlglot in its own dialect.
"""

from __future__ import annotations

import pytest

from segsql.compiler import COMPILE_DIALECTS
from segsql.definitions.operators import ALL_OPERATORS
from segsql.run.session import Options, Session, open_session
from tests.compiler import test_golden_sql as first_cases
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
    interests: array
    profile: object
events:
  table: main.events
  user: external_id
  name: event_name
  time: occurred_at
  properties: properties
purchases:
  table: main.purchases
  user: external_id
  time: {column: purchased_ms, unit: epoch_millis}
  product: product_id
  price: price
  quantity: quantity
  properties: properties
catalogs:
  products:
    table: main.products
    key: product_id
    attributes: {category: string, brand: string, list_price: number}
"""

# section folder -> {case name: segment YAML (the `where:` body)}; names differ from test_golden_sql's.
CASES: dict[str, dict[str, str]] = {
    "3_2_operators": {
        "string_equals_not_equals_in_exists": "where:\n  all:\n    - {attribute: country, equals: KR}\n    - {attribute: country, not_equals: JP}\n    - {attribute: country, not_in: [US, CN]}\n    - {attribute: country, exists: true}\n",
        "number_comparisons": "where:\n  all:\n    - {attribute: age, equals: 30}\n    - {attribute: age, in: [30, 31.5]}\n    - {attribute: age, gt: 1}\n    - {attribute: age, gte: 2}\n    - {attribute: age, lt: 99}\n    - {attribute: age, lte: 98}\n    - {attribute: age, exists: true}\n",
        "boolean_exists_or_missing": "where:\n  any:\n    - {attribute: is_vip, exists: false}\n    - {attribute: is_vip, equals: false, or_missing: true}\n",
        "time_after_exists": "where:\n  all:\n    - {attribute: signup_at, after: '2026-01-01T09:30:00Z'}\n    - {attribute: signup_at, exists: true}\n",
        "array_exists": "where: {attribute: interests, exists: true}\n",
    },
    "3_4_events": {
        "event_count_last_days": "where: {event: app_open, within: {last_days: 7}, count: {gte: 3}}\n",
        "event_never_count_zero": "where: {event: [app_open, push_opened], count: {equals: 0}}\n",
        "event_measures": (
            "where:\n  event: product_viewed\n  within: {last_hours: 36}\n"
            "  sum: {property: price, gte: 100}\n  avg: {property: price, lt: 50}\n  min: {property: price, gt: 1}\n"
            "  max: {property: price, not_equals: 3}\n  count_distinct: {property: product_id, gte: 3}\n"
            "  first: {more_than_days_ago: 30}\n  last: {less_than_days_ago: 7}\n"
        ),
        "event_where_property_column_catalog": (
            "where:\n  event: product_searched\n  within: {since: 2026-11-01, until: 2026-11-15}\n  where:\n"
            "    - {property: query, matches_regex: '(?i)sneaker'}\n    - {property: filters.size, type: number, between: [250, 280]}\n"
            "    - {property: tags, includes: sale}\n    - {column: platform, in: [ios, android]}\n"
            "    - {property: product_id, catalog: products, where: [{attribute: category, equals: shoes}, {attribute: list_price, gte: 80}]}\n"
        ),
    },
    "3_5_purchases": {
        "purchase_revenue": "where: {purchase: any, within: {last_days: 30}, revenue: {gte: 300}}\n",
        "purchase_products_count_first_last": (
            "where:\n  purchase: [p1, p2]\n  where: [{property: coupon, exists: false}]\n  count: {gte: 2}\n"
            "  first: {before: 2026-06-01}\n  last: {after: 2026-11-01}\n"
        ),
        "purchase_never": "where: {not: {purchase: any}}\n",
    },
    "3_6_sequences": {
        "sequence_full": (
            "where:\n  sequence:\n    - {event: product_viewed, where: [{property: category, equals: shoes}]}\n"
            "    - {event: add_to_cart, within_previous: {minutes: 30}}\n    - {event: checkout_started, after_previous: {hours: 1}}\n"
            "  max_span: {hours: 24}\n  within: {last_days: 7}\n  then_not: {event: purchase_completed, within_hours: 24}\n"
        ),
        "sequence_purchase_steps": (
            "where:\n  sequence:\n    - {event: add_to_cart}\n    - {purchase: [p1, p2], within_previous: {hours: 48}}\n"
            "  within: {last_days: 3}\n  then_not: {purchase: any}\n"
        ),
    },
    "3_7_other_leaves": {
        "rfm_scores": "where: {rfm: {recency: {gte: 4}, frequency: {gte: 4}, monetary: {between: [3, 5]}, within: {last_days: 365}}}\n",
        "random_bucket_split_range": "where: {random_bucket: {between: [1000, 1999]}}\n",
    },
}
LEAF_KINDS = ("attribute:", "event:", "purchase:", "sequence:", "rfm:", "random_bucket:", "near:", "segment:", "sql:")


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Session:
    segments = ["segments:"]
    for cases in CASES.values():
        for name, body in cases.items():
            segments.append(f"  - name: {name}")
            segments.extend("    " + line for line in body.splitlines())
    root = write_project(tmp_path_factory.mktemp("golden_behaviour") / "p", {
        "segsql_project.yml": "name: golden\ntimezone: Asia/Seoul\nbucket_salt: s1\n",
        "models/sources.yml": SOURCES,
        "models/segments.yml": "\n".join(segments) + "\n",
    })
    return open_session(Options(root), AS_OF, need_target=False)


@pytest.mark.parametrize("dialect", COMPILE_DIALECTS)
@pytest.mark.parametrize(("section", "case"), [(s, c) for s, cases in CASES.items() for c in cases])
def test_golden_sql(session: Session, section: str, case: str, dialect: str, update_golden: bool) -> None:
    check_golden(session, section, case, dialect, update_golden)


def test_the_golden_cases_use_every_operator_and_leaf_kind() -> None:
    bodies = [body for cases in (first_cases.CASES, CASES) for section in cases.values() for body in section.values()]
    text = "\n".join(bodies)
    measures = ("count", "sum", "avg", "min", "max", "count_distinct", "first", "last", "revenue", "within_previous", "after_previous", "max_span", "then_not", "catalog", "or_missing")
    missing = [word for word in (*ALL_OPERATORS, *measures) if f"{word}:" not in text]
    missing += [kind for kind in LEAF_KINDS if kind not in text]
    assert not missing, f"no golden case uses {missing}"
