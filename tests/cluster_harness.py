"""Run cluster models through `segsql run` on an engine and through the numpy reference, in the
same shape, plus random cases for the property tests.

A case is plain data (`main.users` with number attributes drawn from small pools — repeated
points, constant columns, NULLs, negative and large values — `main.events`, `main.purchases`),
one cluster model as a YAML dict, and `as_of`. `on_engine` writes a real project folder, runs
the model with `run_models` (the run's one commit) and reads back `cluster_<name>`,
`cluster_<name>_centroids` and the run's iterations; `on_reference` computes the same with
`tests/reference_clusters.py`.
"""

from __future__ import annotations

import itertools
import json
import math
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from segsql.engines.base import Adapter
from segsql.run.materialize import run_models
from segsql.run.session import Options, open_session
from tests import reference_clusters as RK
from tests.funnel_harness import dump

AS_OF = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)
ATTRIBUTES = ("x1", "x2", "x3", "x4")
USER_TYPES = {"external_id": "VARCHAR", "country": "VARCHAR", **dict.fromkeys(ATTRIBUTES, "DOUBLE")}
EVENT_TYPES = {"external_id": "VARCHAR", "event_name": "VARCHAR", "occurred_at": "TIMESTAMP"}
PURCHASE_TYPES = {"external_id": "VARCHAR", "purchased_at": "TIMESTAMP", "product_id": "VARCHAR", "price": "DOUBLE"}
TABLES = {"users": USER_TYPES, "events": EVENT_TYPES, "purchases": PURCHASE_TYPES}
SOURCES = {
    "users": {"table": "main.users", "id": "external_id", "attributes": {"country": "string", **dict.fromkeys(ATTRIBUTES, "number")}},
    "events": {"table": "main.events", "user": "external_id", "name": "event_name", "time": "occurred_at"},
    "purchases": {"table": "main.purchases", "user": "external_id", "time": "purchased_at", "product": "product_id", "price": "price"},
}
SEGMENTS = [{"name": "koreans", "where": {"attribute": "country", "equals": "KR"}}]
#: small pools, so that points repeat, columns are constant and distances tie
POOLS = ((0.0, 1.0, 2.0), (0.0, 0.5, 3.0, -2.0, None), (5.0,), (0.0, 1.0, 1e6, None), (-1.5, 0.25, 7.0, 7.0, 40.0))
MEASURED = (
    {"purchase": "any", "measure": "count"},
    {"purchase": "any", "measure": "revenue", "transform": "log1p"},
    {"purchase": "any", "measure": "days_since_last"},
    {"event": "a", "measure": "count"},
)
NAMES = itertools.count()


@st.composite
def tables(draw: st.DrawFn) -> dict[str, list[dict]]:
    n = draw(st.integers(1, 14))
    pools = [draw(st.sampled_from(POOLS)) for _ in ATTRIBUTES]
    users = [
        {"external_id": f"u{i:02d}", "country": draw(st.sampled_from(("KR", "KR", "JP"))), **{a: draw(st.sampled_from(pool)) for a, pool in zip(ATTRIBUTES, pools, strict=True)}}
        for i in range(n)
    ]
    ids = [u["external_id"] for u in users] + ["ghost"]
    days = st.integers(0, 40).map(lambda d: AS_OF.replace(tzinfo=None) - timedelta(days=d, hours=3))
    events = [{"external_id": draw(st.sampled_from(ids)), "event_name": draw(st.sampled_from(("a", "b"))), "occurred_at": draw(days)} for _ in range(draw(st.integers(0, 12)))]
    purchases = [{"external_id": draw(st.sampled_from(ids)), "purchased_at": draw(days), "product_id": "p1", "price": draw(st.sampled_from((1.0, 9.5, 120.0)))} for _ in range(draw(st.integers(0, 10)))]
    return {"main.users": users, "main.events": events, "main.purchases": purchases}


@st.composite
def cluster(draw: st.DrawFn) -> dict[str, Any]:
    chosen = draw(st.lists(st.sampled_from(ATTRIBUTES), min_size=0, max_size=4, unique=True))
    features: dict[str, Any] = {a: {"attribute": a} | ({"transform": "log1p"} if draw(st.integers(0, 3)) == 0 else {}) for a in chosen}
    for j in draw(st.lists(st.integers(0, len(MEASURED) - 1), min_size=0 if chosen else 1, max_size=2, unique=True)):
        features[f"m{j}"] = dict(MEASURED[j])
    features = dict(sorted(features.items()))  # as the project's YAML is written (sorted keys)
    out: dict[str, Any] = {
        "name": f"k{next(NAMES)}", "k": draw(st.integers(1, 6)), "features": features, "order_by": draw(st.sampled_from(sorted(features))),
        "scale": draw(st.sampled_from(("standard", "standard", "minmax", "none"))), "max_iterations": draw(st.sampled_from((1, 2, 50))),
    }
    if draw(st.booleans()):
        out["missing"] = draw(st.sampled_from((0, -1, 3.5)))
    if draw(st.integers(0, 3)) == 0:
        out["audience"] = "koreans"
    if draw(st.booleans()):
        out["labels"] = [f"l{i}" for i in range(out["k"])]
    return out


def load(adapter: Adapter, tables: dict[str, list[dict]]) -> None:
    for table, types in TABLES.items():
        rows = tables.get(f"main.{table}", [])
        adapter.load_rows(table, list(types.items()), [tuple(row.get(c) for c in types) for row in rows])


def project(root: Path, clusters: list[dict]) -> Path:
    (root / "models").mkdir(parents=True, exist_ok=True)
    (root / "segsql_project.yml").write_text(dump({"name": "k"}))
    (root / "models" / "sources.yml").write_text(dump(SOURCES))
    (root / "models" / "clusters.yml").write_text(dump({"segments": SEGMENTS, "clusters": clusters}))
    return root


@dataclass
class Found:
    members: dict[str, tuple[int, str | None, float]]
    centroids: list[tuple[int, str | None, int, list[float]]]
    scaled: dict[int, list[float]]
    iterations: int
    converged: bool


def on_engine(adapter: Adapter, model: dict, tables: dict[str, list[dict]], as_of: datetime = AS_OF) -> Found:
    """The model through `run` (with its audience segment when it has one), read back."""
    load(adapter, tables)
    with tempfile.TemporaryDirectory() as tmp:
        session = open_session(Options(project(Path(tmp), [model])), as_of.isoformat(), need_target=False)
        result = run_models(session, adapter, [model["name"]])
    assert result.ok, [m.message for m in result.models]
    res = next(m for m in result.models if m.name == model["name"])
    names = list(model["features"])
    _, users = adapter.fetch_with_columns(f"SELECT external_user_id, cluster, label, distance FROM {adapter.table('cluster_' + model['name']).sql(adapter.dialect)}")
    members = {str(u): (int(c), lb, float(d)) for u, c, lb, d in users}
    columns, rows = adapter.fetch_with_columns(f"SELECT * FROM {adapter.table('cluster_' + model['name'] + '_centroids').sql(adapter.dialect)} ORDER BY cluster")
    index = {c.lower(): i for i, c in enumerate(columns)}
    centroids = [(int(r[index["cluster"]]), r[index["label"]], int(r[index["size"]]), [float(r[index[f]]) for f in names]) for r in rows]
    state = json.loads(adapter.fetch(f"SELECT segments FROM {adapter.table('segsql_runs').sql(adapter.dialect)} WHERE run_id = '{session.run_id}'")[0][0])[model["name"]]
    scaled = {int(n): [float(v) for v in values] for n, values in state["scaled"].items()}
    return Found(members, centroids, scaled, res.iterations, res.converged)  # type: ignore[attr-defined]


def on_reference(model: dict, tables: dict[str, list[dict]], as_of: datetime = AS_OF) -> RK.Result:
    sources = {**SOURCES}
    return RK.evaluate_cluster(model, sources=sources, tables=tables, as_of=as_of, segments={s["name"]: s["where"] for s in SEGMENTS})


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def agree(got: Found, want: RK.Result) -> str | None:
    """None when the engine's result is the reference's; else what differs."""
    if got.members.keys() != want.members.keys():
        return f"users {sorted(got.members)} != {sorted(want.members)}"
    for user, (number, label, distance) in want.members.items():
        g = got.members[user]
        if (g[0], g[1]) != (number, label) or not close(g[2], distance):
            return f"{user}: {g} != {(number, label, distance)}"
    if [(n, lb, s) for n, lb, s, _ in got.centroids] != [(n, lb, s) for n, lb, s, _ in want.centroids]:
        return f"centroids {got.centroids} != {want.centroids}"
    for (n, _, _, g), (_, _, _, w) in zip(got.centroids, want.centroids, strict=True):
        if not all(close(a, b) for a, b in zip(g, w, strict=True)) or not all(close(a, b) for a, b in zip(got.scaled[n], want.scaled[n], strict=True)):
            return f"cluster {n}: means {g} / {got.scaled[n]} != {w} / {want.scaled[n]}"
    if (got.iterations, got.converged) != (want.iterations, want.converged):
        return f"iterations {got.iterations, got.converged} != {want.iterations, want.converged}"
    return None
