"""SPEC 6 `why`: through the real entry point — the verdicts and leaf values of one user (expected
values computed here from the rows), the same content as text and JSON, agreement with the
membership tables a run writes, and exit 2 for unknown segments and users."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from sqlglot import exp

from segsql.engines.duckdb import DuckDBAdapter
from segsql.run.artifacts import schema
from segsql.run.session import Options, open_session
from tests.conftest import run_cli, write_project
from tests.run.test_seeds import _profile

SOURCES = """
users:
  table: main.users
  id: external_id
  attributes: {country: string, age: number}
events:
  table: main.events
  user: external_id
  name: event_name
  time: occurred_at
purchases:
  table: main.purchases
  user: external_id
  time: purchased_at
  product: product_id
  price: price
"""
SEGMENTS = """
segments:
  - name: korean_buyers
    where:
      all:
        - {attribute: country, equals: KR}
        - {purchase: any, within: {last_days: 30}, count: {gte: 2}, revenue: {gt: 15}}
  - name: cart_then_buy
    where:
      sequence:
        - {event: add_to_cart}
        - {purchase: any, within_previous: {hours: 24}}
  - name: quiet_korean_buyers
    split: {salt: s1, groups: {control: 50, treatment: 50}}
    where:
      all:
        - {segment: korean_buyers}
        - not: {event: app_open}
  - name: carted_not_bought
    where: {funnel: checkout, furthest_step: {equals: 2}}
  - name: everyone_sql
    sql: select external_id from main.users
funnels:
  - name: checkout
    steps:
      - {event: product_viewed}
      - {event: add_to_cart}
      - {purchase: any}
"""
AS_OF = "2026-06-01T00:00:00Z"
USERS = [(f"u{i}", "KR" if i % 2 else "JP", 20 + i) for i in range(8)]
EVENTS = [
    ("u1", "product_viewed", "2026-05-20 09:00:00"), ("u1", "add_to_cart", "2026-05-20 10:00:00"),
    ("u3", "app_open", "2026-05-21 08:00:00"), ("u3", "product_viewed", "2026-05-22 09:00:00"),
    ("u5", "product_viewed", "2026-05-23 09:00:00"), ("u5", "add_to_cart", "2026-05-23 09:30:00"),
    ("u9", "app_open", "2026-05-10 00:00:00"),  # only in events
    ("u1", "add_to_cart", "2026-06-02 00:00:00"),  # after as_of: never seen
]
PURCHASES = [
    ("u1", "2026-05-20 20:00:00", "p1", 10.5), ("u1", "2026-05-25 12:00:00", "p2", 7.25),
    ("u3", "2026-05-22 10:00:00", "p1", 30.0), ("u3", "2026-05-23 10:00:00", "p1", 1.0),
    ("u5", "2026-04-01 10:00:00", "p1", 99.0),
]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = write_project(tmp_path / "p", {"models/sources.yml": SOURCES, "models/segments.yml": SEGMENTS})
    with DuckDBAdapter(str(root / "test.duckdb")) as adapter:
        adapter.load_rows("users", [("external_id", "VARCHAR"), ("country", "VARCHAR"), ("age", "DOUBLE")], USERS)
        adapter.load_rows("events", [("external_id", "VARCHAR"), ("event_name", "VARCHAR"), ("occurred_at", "TIMESTAMP")], EVENTS)
        adapter.load_rows("purchases", [("external_id", "VARCHAR"), ("purchased_at", "TIMESTAMP"), ("product_id", "VARCHAR"), ("price", "DOUBLE")], PURCHASES)
    return root


def _why(root: Path, *args: str) -> dict[str, Any]:
    result = run_cli("--project-dir", str(root), "why", *args, "--as-of", AS_OF, "--format", "json")
    assert result.code == 0, result.output
    data: dict[str, Any] = json.loads(result.out)
    jsonschema.validate(data, schema("why"))
    return data


def _bucket(salt: str, user: str) -> int:
    return int(hashlib.md5((salt + user).encode()).hexdigest()[:8], 16) % 10000


def _by_label(node: dict[str, Any], start: str) -> dict[str, Any]:
    found = [n for n in _walk(node) if n["label"].startswith(start)]
    assert found, start
    return found[0]


def _walk(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [node, *(n for c in node["children"] for n in _walk(c))]


def test_verdicts_and_leaf_values_of_one_user(project: Path) -> None:
    data = _why(project, "u1")
    assert data["user"] == "u1" and data["as_of"] == AS_OF
    segments = {s["label"].removeprefix("segment "): s for s in data["segments"]}
    assert list(segments) == ["korean_buyers", "cart_then_buy", "quiet_korean_buyers", "carted_not_bought", "everyone_sql"]
    korean = segments["korean_buyers"]
    assert korean["verdict"] is True
    assert _by_label(korean, "attribute country")["values"] == {"value": "KR"}
    purchase = _by_label(korean, "purchase any")
    assert [(m["label"], m["verdict"], m["values"]) for m in purchase["children"]] == [("count gte 2", True, {"value": 2}), ("revenue gt 15", True, {"value": 17.75})]
    # the path: the cart at 10:00 and the purchase 10 hours later
    cart = segments["cart_then_buy"]
    assert cart["verdict"] is True
    assert cart["children"][0]["values"] == {"step_1_at": "2026-05-20T10:00:00Z", "step_2_at": "2026-05-20T20:00:00Z"}
    # a referenced segment appears with its own tree; the split says the bucket and group
    quiet = segments["quiet_korean_buyers"]
    assert quiet["verdict"] is True
    assert _by_label(quiet, "segment korean_buyers")["verdict"] is True
    split = _by_label(quiet, "split")
    bucket = _bucket("s1", "u1")
    assert split["values"] == {"bucket": bucket, "group": "control" if bucket < 5000 else "treatment"} and split["verdict"] is None
    funnel = segments["carted_not_bought"]["children"][0]
    assert funnel["verdict"] is False  # viewed, carted and bought: furthest step 3
    assert funnel["values"] == {"furthest_step": 3, "step_1_at": "2026-05-20T09:00:00Z", "step_2_at": "2026-05-20T10:00:00Z", "step_3_at": "2026-05-20T20:00:00Z"}
    assert segments["everyone_sql"]["verdict"] is True


def test_a_user_who_fails_shows_the_failing_leaves(project: Path) -> None:
    data = _why(project, "u3", "quiet_korean_buyers", "cart_then_buy")
    quiet, cart = data["segments"]
    assert quiet["verdict"] is False
    assert _by_label(quiet, "segment korean_buyers")["verdict"] is True  # two purchases, 31.0
    assert _by_label(quiet, "not")["verdict"] is False
    assert _by_label(quiet, "event app_open")["children"][0]["values"] == {"latest_at": "2026-05-21T08:00:00Z"}
    assert cart["verdict"] is False and cart["children"][0]["values"] == {"step_1_at": None, "step_2_at": None}
    # a user only in events is in the universe; a purchase too old leaves count at 0
    only_events = _why(project, "u9", "korean_buyers")["segments"][0]
    assert only_events["verdict"] is False and _by_label(only_events, "attribute country")["values"] == {"value": None}
    old = _by_label(_why(project, "u5", "korean_buyers")["segments"][0], "purchase any")
    assert old["children"][0]["values"] == {"value": 0}


def test_text_says_what_the_json_says(project: Path) -> None:
    data = _why(project, "u1")
    text = run_cli("--project-dir", str(project), "why", "u1", "--as-of", AS_OF)
    assert text.code == 0, text.output
    assert text.out.splitlines()[0] == f"why u1 at {AS_OF}"
    lines = iter(text.out.splitlines()[1:])
    for node in (n for s in data["segments"] for n in _walk(s)):
        mark = "·" if node["verdict"] is None else "✓" if node["verdict"] else "✗"
        values = ", ".join(f"{k}={'missing' if v is None else v}" for k, v in node["values"].items())
        want = f"{mark} {node['label']}" + (f"  [{values}]" if values else "")
        assert any(line.endswith(want) for line in lines), want  # in the same order


def test_unknown_names_and_users_are_exit_2(project: Path) -> None:
    typo = run_cli("--project-dir", str(project), "why", "u1", "korean_buyer", "--as-of", AS_OF)
    assert typo.code == 2 and "did you mean 'korean_buyers'" in typo.err and "Traceback" not in typo.output
    nobody = run_cli("--project-dir", str(project), "why", "u404", "--as-of", AS_OF, "--format", "json")
    assert nobody.code == 2 and "Traceback" not in nobody.output
    error = json.loads(nobody.out)["error"]
    assert "no user 'u404'" in error["message"] and error["exit_code"] == 2
    # events after as_of do not make a user: u1's late cart is not seen, a user seen only later is unknown
    later = run_cli("--project-dir", str(project), "why", "u9", "--as-of", "2026-05-01T00:00:00Z")
    assert later.code == 2 and "no user 'u9'" in later.err


def _csv(header: str, rows: list[tuple[Any, ...]]) -> str:
    return header + "\n" + "".join(",".join(str(v) for v in row) + "\n" for row in rows)


@pytest.mark.parametrize("kind", ["duckdb", "fakesnow", "postgres"])
def test_why_agrees_with_the_membership_tables_on_every_engine(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    with _profile(kind, request) as (profile, schema):
        root = write_project(tmp_path / "p", {
            "profiles.yml": profile,
            "models/sources.yml": SOURCES.replace("main.", f"{schema}."),
            "models/segments.yml": SEGMENTS.replace("main.", f"{schema}."),
            "seeds/users.csv": _csv("external_id,country,age", USERS),
            "seeds/events.csv": _csv("external_id,event_name,occurred_at", [(u, e, t.replace(" ", "T") + "Z") for u, e, t in EVENTS]),
            "seeds/purchases.csv": _csv("external_id,purchased_at,product_id,price", [(u, t.replace(" ", "T") + "Z", p, v) for u, t, p, v in PURCHASES]),
        })
        for args in (("seed",), ("run", "--as-of", AS_OF)):
            done = run_cli("--project-dir", str(root), *args)
            assert done.code == 0, done.output
        names = ["korean_buyers", "cart_then_buy", "quiet_korean_buyers", "carted_not_bought", "everyone_sql"]
        with open_session(Options(root), AS_OF).connect() as adapter:
            tables = {n: {str(r[0]) for r in adapter.fetch(exp.select("external_user_id").from_(adapter.table(f"seg_{n}")))} for n in names}
        for user in [u for u, _, _ in USERS] + ["u9"]:
            verdicts = {s["label"].removeprefix("segment "): s["verdict"] for s in _why(root, user)["segments"]}
            assert verdicts == {n: user in tables[n] for n in names}, user
        assert tables["korean_buyers"] == {"u1", "u3"} and tables["cart_then_buy"] == {"u1"}


def test_an_engine_error_is_exit_1_and_only_the_named_segments_are_compiled(project: Path) -> None:
    (project / "models" / "broken.sql").write_text("select external_id\nfrom main.no_such_table\n", encoding="utf-8")
    broken = run_cli("--project-dir", str(project), "why", "u1", "broken", "--as-of", AS_OF)
    assert broken.code == 1 and "models/broken.sql" in broken.err and "Traceback" not in broken.output
    assert run_cli("--project-dir", str(project), "why", "u1", "korean_buyers", "--as-of", AS_OF).code == 0


def test_a_cluster_leaf_needs_its_model_run_first(project: Path) -> None:
    (project / "models" / "clusters.yml").write_text(
        "clusters:\n  - name: ages\n    k: 2\n    features: {age: {attribute: age}}\n    order_by: age\n    labels: [young, old]\n"
        "segments:\n  - name: older\n    where: {cluster: {model: ages, in: [old]}}\n",
        encoding="utf-8",
    )
    before = run_cli("--project-dir", str(project), "why", "u1", "older", "--as-of", AS_OF)
    assert before.code == 2 and "cluster_ages does not exist yet" in before.err and "segsql run --select ages" in before.err
    ran = run_cli("--project-dir", str(project), "run", "--select", "ages", "--as-of", AS_OF)
    assert ran.code == 0, ran.output
    with DuckDBAdapter(str(project / "test.duckdb")) as adapter:
        table = {str(u): (int(c), str(label)) for u, c, label in adapter.fetch("select external_user_id, cluster, label from main.cluster_ages")}
    assert {label for _, label in table.values()} == {"young", "old"}
    for user, (cluster, label) in table.items():
        older = _why(project, user, "older")["segments"][0]
        assert older["verdict"] is (label == "old") and older["children"][0]["values"] == {"cluster": cluster, "label": label}, user
