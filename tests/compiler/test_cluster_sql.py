"""Golden SQL per dialect of a cluster model (SPEC 8.1): every query a run issues for it, with
fixed scaling and centroids, re-parsed by sqlglot in its dialect.

Regenerate with `pytest tests/compiler/test_cluster_sql.py --update-golden` and review the diff."""

from __future__ import annotations

import difflib

import pytest
import sqlglot
from sqlglot import exp

from segsql.compiler import COMPILE_DIALECTS
from segsql.compiler.clusters import ClusterCompiler
from segsql.run.session import Options, open_session
from tests.compiler.golden import GOLDEN
from tests.conftest import write_project

SOURCES = """
users: {table: main.users, id: external_id, attributes: {country: string, age: number}}
events: {table: main.events, user: external_id, name: event_name, time: occurred_at, properties: properties}
purchases: {table: main.purchases, user: external_id, time: purchased_at, product: product_id, price: price}
"""
MODELS = """
segments:
  - name: koreans
    where: {attribute: country, equals: KR}
clusters:
  - name: everyone
    k: 3
    features:
      orders: {purchase: any, within: {last_days: 365}, measure: count}
      revenue: {purchase: any, measure: revenue, transform: log1p}
      recency: {purchase: any, measure: days_since_last}
      opens: {event: app_open, within: {last_days: 30}, measure: count}
      age: {attribute: age}
    order_by: revenue
    labels: [big, mid, small]
  - name: korean_viewers
    k: 2
    audience: koreans
    features:
      views: {event: product_viewed, within: {last_days: 90}, measure: count}
      spend: {event: paid, measure: avg, property: amount}
    scale: minmax
    order_by: views
"""
SHIFT, DIVIDE = [1.5, 2.25, 30.0, 0.0, 40.0], [2.0, 1.0, 0.0, 3.5, 12.0]
CENTROIDS = [[0.5, -1.0, 0.0, 2.0, 0.25], [-0.75, 1.5, 0.0, -1.0, 0.0], [0.0, 0.0, 0.0, 0.125, -2.0]]


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory):
    root = write_project(tmp_path_factory.mktemp("golden") / "p", {"models/sources.yml": SOURCES, "models/m.yml": MODELS})
    return open_session(Options(root), "2026-11-22T12:00:00Z", need_target=False)


def statements(session, dialect: str) -> list[exp.Expr]:
    """The queries of one fit of `everyone` as `run/strategies/clusters.py` issues them."""
    sql = ClusterCompiler(session.definitions, dialect, session.as_of)
    cluster = session.definitions.clusters["everyone"]
    features, points, assignment, d = exp.table_("features"), exp.table_("points"), exp.table_("assignment"), len(cluster.features)
    rows = sql.scaled(features, d, SHIFT, DIVIDE)
    return [
        sql.features(cluster), sql.statistics(features, d), sql.points(cluster, rows, d), sql.first_point(points, d),
        sql.next_point(points, d, CENTROIDS[:1]), sql.next_centroid(cluster, rows, d, CENTROIDS[:2]),
        sql.iteration(points, d, CENTROIDS, None), sql.iteration(points, d, CENTROIDS, CENTROIDS[::-1]),
        sql.assignment(rows, d, CENTROIDS, CENTROIDS[::-1]), sql.centroid_means(assignment, d), sql.published(assignment, {0: 2, 1: 1, 2: 3}, {0: "mid", 1: "big", 2: "small"}),
        sql.features(session.definitions.clusters["korean_viewers"]),
    ]


@pytest.mark.parametrize("dialect", COMPILE_DIALECTS)
def test_cluster_sql_matches_its_snapshot(session, dialect: str, update_golden: bool) -> None:
    texts = [query.sql(dialect, pretty=True) for query in statements(session, dialect)]
    for text in texts:
        sqlglot.parse_one(text, read=dialect)
    sql = ";\n\n".join(texts) + ";\n"
    path = GOLDEN / "8_1_clusters" / f"everyone.{dialect}.sql"
    if update_golden or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sql, encoding="utf-8")
        if not update_golden:
            pytest.fail(f"new golden file {path} written; review and commit it")
    expected = path.read_text(encoding="utf-8")
    if sql != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), sql.splitlines(True), str(path), "compiled"))
        pytest.fail(f"compiled SQL differs from the golden file (rerun with --update-golden if intended):\n{diff}")


@pytest.mark.parametrize(("model", "reads"), [("everyone", ["events", "purchases"]), ("korean_viewers", ["events", "purchases"])])
def test_the_features_read_each_source_once(session, model: str, reads: list[str]) -> None:
    """Every user's features, with or without an audience: the scans read every seen row (each
    metric picks its own), with no second pass over a source for the ids a scan skips."""
    query = ClusterCompiler(session.definitions, "duckdb", session.as_of).features(session.definitions.clusters[model])
    assert sorted(t.name for t in query.find_all(exp.Table) if t.name in ("events", "purchases")) == reads
