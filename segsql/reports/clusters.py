"""`segsql clusters NAME`: the centroids, sizes and labels of a cluster model's last run.

Read, not recomputed: `cluster_<name>_centroids` holds each cluster's size and feature
means in original units, and the run-state row of the run that wrote it (the same commit)
holds what the tables do not — the centroids in scaled units, the iterations and whether
they converged. The chart is a heat map of the scaled centroids (features across, clusters
down), each cell labelled with the mean in original units.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from segsql.definitions.clusters import Cluster
from segsql.engines import Adapter
from segsql.errors import RunFailure
from segsql.reports.history import iso
from segsql.run.state import RUNS

if TYPE_CHECKING:
    import altair as alt


@dataclass(frozen=True)
class Centroid:
    cluster: int
    label: str | None
    size: int
    #: feature → mean in original units (after `missing`, before any transform)
    means: dict[str, float | None]
    #: feature → mean in scaled units (None: the run recorded none)
    scaled: dict[str, float | None]

    @property
    def name(self) -> str:
        """The cluster's row name: its number, label and size."""
        return f"{self.cluster} {self.label or ''}".rstrip() + f" ({self.size:,})"


@dataclass(frozen=True)
class ClusterReport:
    model: str
    run_id: str
    as_of: str
    iterations: int | None
    converged: bool | None
    scale: str
    features: list[str]
    centroids: list[Centroid]
    #: whether the definition changed since that run (the tables are of the old one)
    changed: bool

    @property
    def has_scaled(self) -> bool:
        """Whether the run recorded the scaled centroids (runs before segsql recorded them did not)."""
        return any(v is not None for c in self.centroids for v in c.scaled.values())

    @property
    def users(self) -> int:
        return sum(c.size for c in self.centroids)

    def as_dict(self) -> dict[str, Any]:
        return {
            "cluster_model": self.model, "run_id": self.run_id, "as_of": self.as_of, "iterations": self.iterations,
            "converged": self.converged, "scale": self.scale, "features": self.features, "users": self.users,
            "definition_changed_since": self.changed,
            "clusters": [
                {"cluster": c.cluster, "label": c.label, "size": c.size, "share": c.size / self.users if self.users else 0.0, "means": c.means, "scaled": c.scaled}
                for c in self.centroids
            ],
        }

    def summary(self) -> str:
        how = {True: "converged", False: "stopped at max_iterations", None: "convergence not recorded"}[self.converged]
        steps = f"{self.iterations} iterations, " if self.iterations is not None else ""
        return f"{self.model}: {len(self.centroids)} clusters of {self.users:,} users at {self.as_of} (run {self.run_id}, {steps}{how})"

    def table(self, scaled: bool) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Text columns: cluster, label, size, share, then one column per feature."""
        rows = []
        for c in self.centroids:
            values = c.scaled if scaled else c.means
            share = f"{c.size / self.users:.1%}" if self.users else ""
            rows.append((c.cluster, c.label or "", f"{c.size:,}", share, *(_number(values.get(f)) for f in self.features)))
        return ["cluster", "label", "size", "share", *self.features], rows


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:,.2f}" if abs(value) < 1e6 else f"{value:,.0f}"


def last_run(adapter: Adapter, name: str) -> tuple[str, str, dict[str, Any]] | None:
    """(run id, as_of, the model's state entry) of the newest committed run that wrote it."""
    if not adapter.table_exists(RUNS):
        return None
    query = (
        exp.select("run_id", "as_of", "segments")
        .from_(adapter.table(RUNS))
        .where(exp.column("segments").like(exp.Literal.string(f'%"{name}": {{%')))
        .order_by(exp.Ordered(this=exp.column("finished_at"), desc=True))
        .limit(5)
    )
    for run_id, as_of, state in adapter.fetch(query):
        entry = json.loads(str(state)).get(name)
        if isinstance(entry, dict):
            return str(run_id), iso(as_of), entry
    return None


def cluster_report(adapter: Adapter, cluster: Cluster, target: str) -> ClusterReport:
    """The last run's centroids of `cluster`; a model that never ran is a failure saying so."""
    found = last_run(adapter, cluster.name)
    if found is None or not adapter.table_exists(cluster.centroids_table):
        raise RunFailure(f"cluster model {cluster.name!r} has not been run on target {target} yet: run `segsql run --select {cluster.name}` first", cluster.location)
    run_id, as_of, state = found
    features = [str(f) for f in state.get("features") or [f.name for f in cluster.features]]
    columns, rows = adapter.fetch_with_columns(exp.select(exp.Star()).from_(adapter.table(cluster.centroids_table)).order_by("cluster"))
    index = {c.lower(): i for i, c in enumerate(columns)}
    scaled: dict[str, list[float]] = state.get("scaled") or {}
    centroids = []
    for row in rows:
        number = int(row[index["cluster"]])
        means = {f: (float(row[index[f]]) if f in index and row[index[f]] is not None else None) for f in features}
        z = scaled.get(str(number))
        centroids.append(Centroid(
            number, row[index["label"]], int(row[index["size"]]), means,
            {f: (float(z[j]) if z is not None and j < len(z) else None) for j, f in enumerate(features)},
        ))
    return ClusterReport(
        cluster.name, run_id, as_of, state.get("iterations"), state.get("converged"), str(state.get("scale", cluster.scale)),
        features, centroids, state.get("membership_hash") != cluster.membership_hash(),
    )


def chart(report: ClusterReport) -> alt.LayerChart:
    """The scaled centroids as a heat map: one row per cluster (number, label, size), one
    column per feature, coloured by the scaled mean and labelled with the original mean."""
    from segsql.reports import charts

    records = [
        {"cluster": c.name, "feature": f, "scaled": c.scaled[f], "mean": _number(c.means[f])}
        for c in report.centroids
        for f in report.features
    ]
    title = f"{report.model}: centroids ({report.scale} scale; labels in original units), at {report.as_of}"
    return charts.diverging_heatmap(records, "feature", "cluster", "scaled", title, label="mean")
