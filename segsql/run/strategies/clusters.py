"""The cluster strategy (SPEC 8.1): k-means in the warehouse, published in the run's one commit.

`stage` computes each model by SQL only: the per-user features are staged once in a
temporary table, then scaled and grouped into a second one (the distinct points with the users
on each), the deterministic k-means++ picks each initial centroid with one query, and each
Lloyd iteration is one query over the points with the centroids written into it as literals;
only k × d numbers come back per step. The last assignment is staged too, so that segments of
the same run read it (`cluster:` leaves) and `write` publishes it with DML only.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from segsql.compiler.clusters import ClusterCompiler
from segsql.definitions.clusters import Cluster
from segsql.definitions.project import Definitions
from segsql.engines.base import Adapter
from segsql.errors import StatementFailure
from segsql.run.state import create_table
from segsql.run.strategies.base import ModelResult, RunContext, Strategy
from segsql.util.words import plural

Vector = list[float]
Fetch = Callable[[exp.Expr], list[tuple[Any, ...]]]


@dataclass
class ClusterResult(ModelResult):
    """A cluster model's outcome: `size` is the number of users clustered."""

    clusters: int = 0
    iterations: int = 0
    converged: bool = False

    @property
    def note(self) -> str:
        if self.status != "success":
            return ""
        how = "converged" if self.converged else "stopped at max_iterations"
        return f"{plural(self.clusters, 'cluster')} of {plural(self.size, 'user')}, {plural(self.iterations, 'iteration')}, {how}"


@dataclass
class KMeans:
    """What the iterations found, indexed in the order the centroids were chosen."""

    centroids: list[Vector] = field(default_factory=list)
    means: list[Vector] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    iterations: int = 0
    converged: bool = False


@dataclass
class Staged:
    cluster: Cluster
    assignment: exp.Table
    #: index → (number, label, size, feature means in original units), numbered by order_by
    rows: dict[int, tuple[int, str | None, int, list[float | None]]]
    fit: KMeans = field(default_factory=KMeans)

    def scaled(self) -> dict[str, list[float]]:
        """Cluster number → its centroid in scaled units (the mean of its members' scaled
        features): `segsql clusters` reports it beside the original units of the table."""
        return {str(row[0]): self.fit.means[idx] for idx, row in self.rows.items()}


def clusters_read(defs: Definitions, names: list[str]) -> list[str]:
    """The cluster models that `names` read through `cluster:` leaves (however deep, and through
    the audiences of those models): a run computes them too, so a segment never reads a stale or
    missing result."""
    found: list[str] = []
    stack, seen = list(names), set()
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in defs.clusters and name not in names and name not in found:
            found.append(name)
        model = defs.models.get(name)
        stack.extend(model.dependencies() if model is not None else ())
    return sorted(found)


def fresh_fetch(adapter: Adapter) -> Fetch:
    """The adapter's fetch, rendering each query without sqlglot's defensive copy of the tree:
    every query of the fit is built for one use (the copy was a third of an iteration's Python)."""
    return lambda query: adapter.fetch(query.sql(adapter.dialect, copy=False))


def initial_centroids(fetch: Fetch, sql: ClusterCompiler, cluster: Cluster, rows: exp.Select, points: exp.Table, d: int) -> list[Vector]:
    """k-means++ made deterministic: one query per centroid over the points (over the users of
    `rows`, the scaled features, when two points tie), fewer when every user sits on one."""
    centroids: list[Vector] = [[float(v) for v in fetch(sql.first_point(points, d))[0]]]
    while len(centroids) < cluster.k:
        found = fetch(sql.next_point(points, d, centroids))
        if not found:  # every user sits on a chosen centroid: fewer distinct points than k
            break
        if len(found) > 1 and found[0][d] == found[1][d]:  # users of two points tie: by id
            found = fetch(sql.next_centroid(cluster, rows, d, centroids))
        centroids.append([float(v) for v in found[0][:d]])
    return centroids


def _step(fetch: Fetch, query: exp.Select, k: int, d: int) -> tuple[list[int], list[list[float]], int]:
    """(users per centroid, Σ z per centroid, users whose nearest centroid changed) of one iteration's rows."""
    counts, sums, changed = [0] * k, [[0.0] * d for _ in range(k)], 0
    for index, same, count, *values in fetch(query):
        a = int(index)
        counts[a] += int(count)
        for j, v in enumerate(values):
            sums[a][j] += float(v)
        changed += 0 if same else int(count)
    return counts, sums, changed


def lloyd(fetch: Fetch, sql: ClusterCompiler, cluster: Cluster, points: exp.Table, d: int, centroids: list[Vector]) -> KMeans:
    """Lloyd iterations from `centroids` over the distinct points, one query each, until an
    assignment repeats. An assignment can equal the previous one only if every cluster kept its
    size, so only then is the iteration's query the one that also computes the previous
    centroids' assignment and counts the users that moved (twice the distances)."""
    k = len(centroids)
    fit = KMeans()
    previous: list[Vector] | None = None
    last_counts: list[int] | None = None
    for iteration in range(1, cluster.max_iterations + 1):
        counts, sums, _ = _step(fetch, sql.iteration(points, d, centroids, None), k, d)
        converged = False
        if previous is not None and counts == last_counts:
            counts, sums, changed = _step(fetch, sql.iteration(points, d, centroids, previous), k, d)
            converged = changed == 0
        means = [[s / counts[i] for s in sums[i]] if counts[i] else list(c) for i, c in enumerate(centroids)]
        fit = KMeans(list(centroids), means, counts, iteration, converged)
        if converged:
            break
        previous, centroids, last_counts = centroids, means, counts
    return fit


def scaling(scale: str, stats: tuple[Any, ...], d: int) -> tuple[list[float], list[float]]:
    """(shift, divide) per feature from COUNT, then AVG, STDDEV_POP, MIN, MAX of each; a
    constant feature (MIN = MAX: deviation 0) gets divide 0, which scales it to 0."""
    shift, divide = [], []
    for j in range(d):
        mean, sd, low, high = (float(v) if v is not None else 0.0 for v in stats[1 + 4 * j: 5 + 4 * j])
        constant = low == high
        if scale == "standard":
            shift.append(mean)
            divide.append(0.0 if constant or sd == 0 else sd)
        elif scale == "minmax":
            shift.append(low)
            divide.append(0.0 if constant else high - low)
        else:
            shift.append(0.0)
            divide.append(1.0)
    return shift, divide


class ClusterStrategy(Strategy):
    kind = "cluster"

    def __init__(self, ctx: RunContext, names: list[str]):
        super().__init__(ctx, names)
        self.results: dict[str, ModelResult] = {n: ClusterResult(n, self.kind, ctx.defs.clusters[n].table) for n in names}
        self.staged: dict[str, Staged] = {}
        self.compiler = ClusterCompiler(ctx.defs, ctx.adapter.dialect, ctx.as_of)

    # -- stage -----------------------------------------------------------------------------------
    def stage(self) -> None:
        ctx = self.ctx
        # the source types are known now; a cluster staged earlier in this run is read where staged
        self.compiler = ClusterCompiler(ctx.defs, ctx.adapter.dialect, ctx.as_of, ctx.types, ctx.cluster_tables)
        for i, name in enumerate(self.names):
            cluster = ctx.defs.clusters[name]
            ctx.progress(f"clustering {name}: k = {cluster.k} over {plural(len(cluster.features), 'feature')}")
            started = time.monotonic()
            try:
                self.staged[name] = self._stage(cluster, i)
            except StatementFailure as err:
                self.results[name].fail(f"{cluster.location}: {err}")
            else:
                ctx.cluster_tables[name] = self.staged[name].assignment
            self.results[name].seconds = time.monotonic() - started
            ctx.timings[f"cluster {name}"] = self.results[name].seconds

    def _stage(self, cluster: Cluster, i: int) -> Staged:
        ctx, sql, d = self.ctx, self.compiler, len(cluster.features)
        features = ctx.stage_table(f"cf{i}", sql.features(cluster))
        stats = ctx.adapter.fetch(sql.statistics(features, d))[0]
        users = int(stats[0])
        shift, divide = scaling(cluster.scale, stats, d)
        scaled = sql.scaled(features, d, shift, divide)
        fit = self._fit(cluster, scaled, ctx.stage_table(f"cg{i}", sql.points(cluster, scaled, d)), d) if users else KMeans()
        assignment = ctx.stage_table(f"ca{i}", sql.assignment(scaled, d, fit.centroids, fit.means) if fit.centroids else sql.assignment(scaled, d, [[0.0] * d], [[0.0] * d]))
        found = ctx.adapter.fetch(sql.centroid_means(assignment, d)) if fit.centroids else []
        by_index = {int(row[0]): (int(row[1]), [float(v) if v is not None else None for v in row[2:]]) for row in found}
        order = cluster.features.index(cluster.feature(cluster.order_by))
        ranked = sorted(by_index, key=lambda idx: (-(by_index[idx][1][order] or 0.0), idx))
        rows = {idx: (n, cluster.label(n), by_index[idx][0], by_index[idx][1]) for n, idx in enumerate(ranked, 1)}
        published = ctx.stage_table(f"cp{i}", sql.published(assignment, {idx: r[0] for idx, r in rows.items()}, {idx: r[1] for idx, r in rows.items()}))
        res = self.results[cluster.name]
        assert isinstance(res, ClusterResult)
        res.size, res.clusters, res.iterations, res.converged = users, len(rows), fit.iterations, fit.converged
        return Staged(cluster, published, rows, fit)

    def _fit(self, cluster: Cluster, rows: exp.Select, points: exp.Table, d: int) -> KMeans:
        """k-means++, then Lloyd over the users' distinct points."""
        fetch = fresh_fetch(self.ctx.adapter)
        return lloyd(fetch, self.compiler, cluster, points, d, initial_centroids(fetch, self.compiler, cluster, rows, points, d))

    # -- prepare and write -----------------------------------------------------------------------
    def _passing(self) -> list[Staged]:
        return [s for name, s in self.staged.items() if self.results[name].status == "success"]

    def prepare(self) -> None:
        """Create the published tables (or add feature columns a model gained) before the commit."""
        ctx = self.ctx
        if ctx.dry_run:
            return
        for staged in self._passing():
            cluster = staged.cluster
            if cluster.table.lower() not in ctx.catalogue:
                create_table(ctx.adapter, cluster.table, [("external_user_id", "VARCHAR"), ("cluster", "INT"), ("label", "VARCHAR"), ("distance", "DOUBLE")])
            columns = [("cluster", "INT"), ("label", "VARCHAR"), ("size", "BIGINT")] + [(f.name, "DOUBLE") for f in cluster.features]
            existing = ctx.catalogue.get(cluster.centroids_table.lower())
            if existing is None:
                create_table(ctx.adapter, cluster.centroids_table, columns)
                continue
            for column, kind in columns:
                if column not in existing:
                    ctx.adapter.execute(exp.Alter(this=ctx.adapter.table(cluster.centroids_table), kind="TABLE", actions=[exp.ColumnDef(this=exp.to_identifier(column), kind=exp.DataType.build(kind))]))

    def write(self) -> Iterator[exp.Expr]:
        """Each model's two tables replaced in place: DML only, inside the run's transaction."""
        adapter = self.ctx.adapter
        for staged in self._passing():
            cluster = staged.cluster
            users, centroids = adapter.table(cluster.table), adapter.table(cluster.centroids_table)
            yield exp.delete(users)
            yield exp.insert(exp.select(exp.Star()).from_(staged.assignment), users, columns=["external_user_id", "cluster", "label", "distance"])
            yield exp.delete(centroids)
            rows = [(n, label, size, *means) for n, label, size, means in sorted(staged.rows.values())]
            if rows:
                values = exp.Values(expressions=[exp.Tuple(expressions=[_literal(v) for v in row]) for row in rows])
                yield exp.insert(values, centroids, columns=["cluster", "label", "size", *(f.name for f in cluster.features)])

    def state(self) -> dict[str, dict[str, Any]]:
        """Besides hash and size, what `segsql clusters` reports of the run and the published
        tables do not hold: the iterations, convergence and the scaled centroids."""
        return {
            s.cluster.name: {
                "membership_hash": s.cluster.membership_hash(), "size": self.results[s.cluster.name].size,
                "kind": self.kind, "iterations": s.fit.iterations, "converged": s.fit.converged, "scale": s.cluster.scale,
                "features": [f.name for f in s.cluster.features], "scaled": s.scaled(),
            }
            for s in self._passing()
        }


def _literal(value: Any) -> exp.Expr:
    if value is None:
        return exp.null()
    if isinstance(value, float):
        return exp.cast(exp.Literal.string(repr(value)), exp.DataType.Type.DOUBLE)
    return exp.Literal.number(value) if isinstance(value, int) else exp.Literal.string(str(value))

