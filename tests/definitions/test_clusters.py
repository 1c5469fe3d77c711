"""SPEC 8.1 definitions: what a cluster model parses into, and every mistake as one error at its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from segsql.definitions.filters import ClusterFilter
from segsql.errors import ProjectError
from segsql.run.session import Options, open_session
from tests.conftest import write_project

SOURCES = """
users: {table: main.users, id: external_id, attributes: {country: string, age: number}}
events: {table: main.events, user: external_id, name: event_name, time: occurred_at, properties: properties}
purchases: {table: main.purchases, user: external_id, time: purchased_at, product: product_id, price: price}
"""
SEGMENT = "segments:\n  - name: buyers\n    where: {purchase: any}\n"
MODEL = """clusters:
  - name: shoppers
    k: 3
    audience: buyers
    features:
      orders: {purchase: any, within: {last_days: 365}, measure: count}
      revenue: {purchase: any, measure: revenue, transform: log1p}
      recency: {purchase: any, measure: days_since_last}
      spend: {event: paid, measure: avg, property: amount}
      age: {attribute: age}
    missing: -1
    scale: minmax
    order_by: revenue
    labels: [big, mid, small]
    max_iterations: 7
"""


def load(tmp_path: Path, text: str, extra: str = ""):
    files = {"models/sources.yml": SOURCES, "models/c.yml": SEGMENT + text}
    if extra:  # more segments, in a file of their own
        files["models/d.yml"] = "segments:\n" + extra
    root = write_project(tmp_path / "p", files)
    return open_session(Options(root), "2026-11-22T12:00:00Z", need_target=False).definitions


def test_a_cluster_model_parses_every_option(tmp_path: Path) -> None:
    c = load(tmp_path, MODEL).clusters["shoppers"]
    assert (c.k, c.audience, c.missing, c.scale, c.order_by, c.labels, c.max_iterations) == (3, "buyers", -1.0, "minmax", "revenue", ("big", "mid", "small"), 7)
    assert [f.measure for f in c.features] == ["count", "revenue", "days_since_last", "avg", "attribute"]
    assert [f.transform for f in c.features] == [None, "log1p", None, None, None]
    assert c.features[2].leaf is not None and c.features[2].leaf.measures[0].kind == "last"
    assert (c.table, c.centroids_table, str(c.location)) == ("cluster_shoppers", "cluster_shoppers_centroids", "models/c.yml:5")
    assert c.dependencies() == ("buyers",)


def test_defaults_and_the_leaf(tmp_path: Path) -> None:
    defs = load(tmp_path, "clusters:\n  - name: m\n    k: 2\n    features: {age: {attribute: age}}\n    order_by: age\n",
                "  - name: old\n    where: {cluster: {model: m, in: [1, '2']}}\n")
    m = defs.clusters["m"]
    assert (m.scale, m.missing, m.max_iterations, m.labels, m.audience) == ("standard", 0.0, 50, (), None)
    leaf = defs.segments["old"].where
    assert isinstance(leaf, ClusterFilter) and leaf.values == (1, 2)
    assert defs.segments["old"].dependencies() == ("m",) and defs.segments["old"].segment_dependencies() == ()


def test_editing_a_description_keeps_the_membership_hash(tmp_path: Path) -> None:
    a = load(tmp_path / "a", MODEL).clusters["shoppers"]
    b = load(tmp_path / "b", MODEL.replace("    k: 3\n", "    k: 3\n    description: moved\n")).clusters["shoppers"]
    c = load(tmp_path / "c", MODEL.replace("max_iterations: 7", "max_iterations: 8")).clusters["shoppers"]
    assert a.membership_hash() == b.membership_hash() != c.membership_hash()
    assert a.metadata_hash() != b.metadata_hash()


@pytest.mark.parametrize(
    ("old", "new", "line", "message", "hint"),
    [
        ("    k: 3\n", "    k: 0\n", 6, "`k` must be at least 1", "1"),
        ("    k: 3\n", "    k: 2.5\n", 6, "whole number", "k: 4"),
        ("    scale: minmax\n", "    scale: zscore\n", 15, "unknown scale 'zscore'", "standard"),
        ("    order_by: revenue\n", "    order_by: revenu\n", 16, "order_by 'revenu' is not a feature", "did you mean 'revenue'"),
        ("    labels: [big, mid, small]\n", "    labels: [big, mid]\n", 17, "gives 2 label(s) for k = 3", "one label per cluster"),
        ("    labels: [big, mid, small]\n", "    labels: [big, big, small]\n", 17, "label 'big' is given twice", "own label"),
        ("measure: count}", "measure: cont}", 9, "unknown measure 'cont'", "did you mean 'count'"),
        ("{event: paid, measure: avg, property: amount}", "{event: paid, measure: avg}", 12, "reads one `property:`", "property"),
        ("{purchase: any, measure: days_since_last}", "{purchase: any, measure: days_since_last, column: x}", 11, "reads no value", "drop `column:`"),
        ("transform: log1p", "transform: log", 10, "unknown transform 'log'", "log1p"),
        ("{attribute: age}", "{attribute: ag}", 13, "unknown attribute 'ag'", "did you mean 'age'"),
        ("{attribute: age}", "{attribute: country}", 13, "of type string", "type number"),
        ("    audience: buyers\n", "    audience: buyer\n", 7, "unknown audience segment 'buyer'", "did you mean 'buyers'"),
        ("    k: 3\n", "    k: 3\n    scal: red\n", 7, "unknown key 'scal'", "did you mean 'scale'"),
        ("      age: {attribute: age}\n", "      age: {atribute: age}\n", 13, "needs `attribute:`, `event:` or `purchase:`", "did you mean 'attribute'"),
    ],
)
def test_mistakes_are_errors_at_their_line(tmp_path: Path, old: str, new: str, line: int, message: str, hint: str) -> None:
    assert old in MODEL
    with pytest.raises(ProjectError) as err:
        load(tmp_path, MODEL.replace(old, new))
    assert err.value.location is not None and err.value.location.line == line, str(err.value)
    assert message in str(err.value) and hint in (err.value.hint or ""), (str(err.value), err.value.hint)


@pytest.mark.parametrize(
    ("leaf", "message", "hint"),
    [
        ("{model: shopers, in: [big]}", "unknown cluster model 'shopers'", "did you mean 'shoppers'"),
        ("{model: shoppers, in: [bigg]}", "has no label 'bigg'", "did you mean 'big'"),
        ("{model: shoppers, in: [4]}", "has clusters 1..3, not 4", "1 to 3"),
        ("{model: shoppers, in: [true]}", "`in` takes cluster labels or numbers", "in: [whales, 2]"),
    ],
)
def test_a_bad_cluster_leaf_is_an_error_at_its_line(tmp_path: Path, leaf: str, message: str, hint: str) -> None:
    with pytest.raises(ProjectError) as err:
        load(tmp_path, MODEL, f"  - name: s\n    where: {{cluster: {leaf}}}\n")
    assert err.value.location is not None and (err.value.location.file, err.value.location.line) == ("models/d.yml", 3), str(err.value)
    assert message in str(err.value) and hint in (err.value.hint or ""), (str(err.value), err.value.hint)


def test_a_cycle_through_a_cluster_model_is_an_error(tmp_path: Path) -> None:
    text = MODEL.replace("audience: buyers", "audience: big_ones")
    with pytest.raises(ProjectError, match=r"cycle: .*big_ones -> shoppers -> big_ones|cycle: .*shoppers -> big_ones -> shoppers"):
        load(tmp_path, text, "  - name: big_ones\n    where: {cluster: {model: shoppers, in: [big]}}\n")
