"""Independent numpy reference of SPEC 8.1 (cluster models), for tests only.

From the raw tables to the published result: each audience user's features (a number
attribute, or a count / revenue / days_since_last of seen rows), `missing`, `log1p`
(symmetric: sign(x)·ln(1 + |x|), README Deviations), scaling over the audience, the
deterministic k-means++ (md5 for the first centroid, −ln(u)/D² for the next), Lloyd
iterations until an assignment repeats or `max_iterations`, empty clusters dropped,
numbering by `order_by`. Shares no code with `segsql`; the filter language (audience
segments, the universe, buckets) comes from `tests/reference.py`.

Floating point: where the SPEC lets engines disagree — two distances (or two k-means++ keys,
or two `order_by` means) closer than 1e-9 — the result records the smallest such gap it
met (`margin`), so a test can tell a real disagreement from a tie rounded another way.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from tests import reference as R

TIE = 1e-9


@dataclass
class Result:
    #: external id → (cluster number, label, distance to its cluster's mean in scaled units)
    members: dict[str, tuple[int, str | None, float]]
    #: (number, label, size, feature means in original units), by number
    centroids: list[tuple[int, str | None, int, list[float]]]
    #: number → the centroid in scaled units
    scaled: dict[int, list[float]]
    iterations: int
    converged: bool
    #: the smallest gap between two candidates of any decision (inf: none close)
    margin: float = math.inf
    initial: list[list[float]] = field(default_factory=list)


def _seen(source: dict, tables: dict[str, list[dict]], as_of: datetime) -> list[dict]:
    rows = []
    for row in tables.get(source["table"], []):
        user = R.id_text(row.get(source["user"]))
        moment = row.get(source["time"])
        if user is None or moment is None:
            continue
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
        if moment <= as_of:
            rows.append({**row, "__user": user, "__time": moment})
    return rows


def _matches(spec: dict, row: dict, source: dict) -> bool:
    if "event" in spec:
        names = spec["event"] if isinstance(spec["event"], list) else [spec["event"]]
        return "any" in names or row[source["name"]] in names
    return spec["purchase"] == "any" or row[source["product"]] == spec["purchase"]


def feature_value(spec: dict, user: str, users: dict[str, dict], sources: dict, tables: dict[str, list[dict]], as_of: datetime) -> float | None:
    """One feature of one user in original units; None when missing."""
    if "attribute" in spec:
        value = users.get(user, {}).get(spec["attribute"])
        return None if value is None else float(value)
    source = sources["events" if "event" in spec else "purchases"]
    rows = [r for r in _seen(source, tables, as_of) if r["__user"] == user and _matches(spec, r, source)]
    measure = spec["measure"]
    if measure == "count":
        return float(len(rows))
    if measure == "revenue":
        return float(sum(float(r[source["price"]]) for r in rows if r[source["price"]] is not None))
    if measure == "days_since_last":
        if not rows:
            return None
        return float(math.floor((as_of - max(r["__time"] for r in rows)).total_seconds() / 86400))
    raise NotImplementedError(measure)


def log1p(x: float) -> float:
    return math.copysign(math.log1p(abs(x)), x) if x else 0.0


def _squared(z: np.ndarray, c: list[float]) -> float:
    total = 0.0
    for j, cj in enumerate(c):  # left to right, as the SQL adds
        diff = float(z[j]) - cj
        total += diff * diff
    return total


def _nearest(z: np.ndarray, centroids: list[list[float]]) -> tuple[int, float, float]:
    """(index of the nearest centroid, ties to the first; its squared distance; the gap to the next)."""
    d = [_squared(z, c) for c in centroids]
    best = min(range(len(d)), key=lambda i: (d[i], i))
    others = [d[i] - d[best] for i in range(len(d)) if i != best]
    return best, d[best], min(others, default=math.inf)


def kmeans(name: str, ids: list[str], z: np.ndarray, k: int, max_iterations: int) -> tuple[list[int], list[list[float]], int, bool, float, list[list[float]]]:
    """(the last assignment, its means, iterations, converged, margin, initial centroids)."""
    margin = math.inf
    order = sorted(range(len(ids)), key=lambda i: (hashlib.md5((name + ids[i]).encode()).hexdigest(), ids[i]))
    centroids = [list(map(float, z[order[0]]))]
    while len(centroids) < k:
        keys = []
        for i, user in enumerate(ids):
            d2 = min(_squared(z[i], c) for c in centroids)
            if d2 > 0:
                u = (R.random_bucket(user, name) + 1) / 10001
                keys.append((-math.log(u) / d2, user, i))
        if not keys:
            break
        keys.sort()
        if len(keys) > 1:
            margin = min(margin, (keys[1][0] - keys[0][0]) / max(abs(keys[0][0]), 1e-300))
        centroids.append(list(map(float, z[keys[0][2]])))
    initial = [list(c) for c in centroids]
    previous: list[int] | None = None
    means: list[list[float]] = []
    assignment: list[int] = []
    iterations, converged = 0, False
    for iterations in range(1, max_iterations + 1):
        assignment = []
        for i in range(len(ids)):
            best, _, gap = _nearest(z[i], centroids)
            margin = min(margin, gap)
            assignment.append(best)
        means = []
        for c, centroid in enumerate(centroids):
            rows = [z[i] for i in range(len(ids)) if assignment[i] == c]
            means.append([sum(float(r[j]) for r in rows) / len(rows) for j in range(z.shape[1])] if rows else list(centroid))
        converged = previous is not None and assignment == previous
        if converged or iterations == max_iterations:
            break
        previous, centroids = assignment, means
    return assignment, means, iterations, converged, margin, initial


def evaluate_cluster(cluster: dict, *, sources: dict, tables: dict[str, list[dict]], as_of: datetime, segments: dict[str, Any] | None = None) -> Result:
    """SPEC 8.1 on plain data: `cluster` is the model's YAML as a dict."""
    as_of = as_of.astimezone(UTC)
    users = R.users_by_id(sources, tables)
    if cluster.get("audience"):
        audience = R.evaluate(segments[cluster["audience"]], sources=sources, tables=tables, as_of=as_of, segments=segments)  # type: ignore[index]
    else:
        audience = R.universe(sources, tables, as_of)
    ids = sorted(audience)
    names = list(cluster["features"])
    missing = float(cluster.get("missing", 0))
    original = np.array([[v if (v := feature_value(cluster["features"][f], u, users, sources, tables, as_of)) is not None else missing for f in names] for u in ids], dtype=float).reshape(len(ids), len(names))
    transformed = original.copy()
    for j, f in enumerate(names):
        if cluster["features"][f].get("transform") == "log1p":
            transformed[:, j] = [log1p(x) for x in original[:, j]]
    scale = cluster.get("scale", "standard")
    z = np.zeros_like(transformed)
    for j in range(len(names)):
        t = transformed[:, j]
        if scale == "none":  # no scaling at all, so a constant stays itself (it moves no distance)
            z[:, j] = t
            continue
        if not len(t) or t.min() == t.max():
            continue  # deviation 0: scaled to 0
        shift, divide = (t.mean(), t.std()) if scale == "standard" else (t.min(), t.max() - t.min())
        z[:, j] = (t - shift) / divide
    if not ids:
        return Result({}, [], {}, 0, False)
    assignment, means, iterations, converged, margin, initial = kmeans(cluster["name"], ids, z, int(cluster["k"]), int(cluster.get("max_iterations", 50)))
    used = sorted(set(assignment))
    order_by = names.index(cluster["order_by"])
    mean_of = {c: original[[i for i in range(len(ids)) if assignment[i] == c]].mean(axis=0).tolist() for c in used}
    ranked = sorted(used, key=lambda c: (-mean_of[c][order_by], c))
    for a, b in itertools.pairwise(ranked):
        margin = min(margin, abs(mean_of[a][order_by] - mean_of[b][order_by]) / max(abs(mean_of[a][order_by]), 1.0))
    labels = cluster.get("labels") or []
    number = {c: n for n, c in enumerate(ranked, 1)}
    label = {c: (labels[number[c] - 1] if labels else None) for c in used}
    members = {u: (number[assignment[i]], label[assignment[i]], math.sqrt(_squared(z[i], means[assignment[i]]))) for i, u in enumerate(ids)}
    rows = [(number[c], label[c], assignment.count(c), mean_of[c]) for c in ranked]
    scaled = {number[c]: means[c] for c in used}
    return Result(members, rows, scaled, iterations, converged, margin, initial)
