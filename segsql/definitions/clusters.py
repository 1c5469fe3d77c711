"""Cluster models (SPEC 8.1): k-means over per-user features, as a node of the models' DAG.

A feature is a number per user: a users attribute of type number, or an event/purchase
filter with one `measure:` (the measure language of SPEC 3.4/3.5 read as a value instead
of compared). Every mistake is one error at the line where the user can fix it; the
`cluster:` leaf of segments is checked here too, against the models' `k` and `labels`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from segsql.definitions.canonical import body_hash
from segsql.definitions.filters import (
    BehaviourFilter,
    ClusterFilter,
    Condition,
    Measure,
    ValueRef,
    walk,
)
from segsql.definitions.parse_behaviour import parse_rows, parse_window
from segsql.definitions.parse_filters import FilterContext
from segsql.definitions.reader import Node
from segsql.errors import Location, ProjectError
from segsql.project.yaml_lines import plain
from segsql.util.suggest import suggest

CLUSTER_KEYS = (
    "name", "description", "tags", "k", "audience", "features", "missing", "scale",
    "order_by", "labels", "max_iterations", "meta",
)
SCALES = ("standard", "minmax", "none")
TRANSFORMS = ("log1p",)
#: measure → the metric kind of the planner that computes it
MEASURES = {
    "count": "count", "sum": "sum", "avg": "avg", "min": "min", "max": "max",
    "count_distinct": "count_distinct", "revenue": "revenue",
    "days_since_first": "first", "days_since_last": "last",
}
#: measures that read a value of each row (`property:` or `column:`)
VALUE_MEASURES = ("sum", "avg", "min", "max", "count_distinct")
#: the largest k: each iteration's query holds k × d centroid values as literals
MAX_K = 100
DEFAULT_MAX_ITERATIONS = 50
TABLE_PREFIX = "cluster_"


@dataclass(frozen=True)
class Feature:
    """One per-user number: `attribute` (a users column) or `leaf` (one measure of a filter)."""

    name: str
    measure: str
    location: Location = field(compare=False, repr=False)
    attribute: ValueRef | None = None
    leaf: BehaviourFilter | None = None
    transform: str | None = None


@dataclass(frozen=True)
class Cluster:
    kind: ClassVar[str] = "cluster"

    name: str
    location: Location = field(compare=False, repr=False)
    k: int
    features: tuple[Feature, ...]
    order_by: str
    audience: str | None = None
    audience_location: Location | None = field(default=None, compare=False, repr=False)
    missing: float = 0.0
    scale: str = "standard"
    labels: tuple[str, ...] = ()
    max_iterations: int = DEFAULT_MAX_ITERATIONS
    description: str = ""
    tags: tuple[str, ...] = ()
    #: what its result reads outside its YAML (sources, time zone), canonical: part of membership_hash
    environment: Any = field(default=None, compare=False, repr=False)
    #: the entry as rendered from YAML (plain data): what `diff` rebuilds the old definition from
    yaml: Any = field(default=None, compare=False, repr=False)

    @property
    def path(self) -> str:
        return self.location.file

    @property
    def table(self) -> str:
        return TABLE_PREFIX + self.name

    @property
    def centroids_table(self) -> str:
        return TABLE_PREFIX + self.name + "_centroids"

    def feature(self, name: str) -> Feature:
        return next(f for f in self.features if f.name == name)

    def label(self, number: int) -> str | None:
        """The label of cluster `number` (1-based), if labels were given."""
        return self.labels[number - 1] if 0 < number <= len(self.labels) else None

    def dependencies(self) -> tuple[str, ...]:
        return (self.audience,) if self.audience else ()

    def dependency_locations(self) -> list[tuple[str, Location]]:
        return [(self.audience, self.audience_location or self.location)] if self.audience else []

    def membership_hash(self) -> str:
        """Changes when a result may change (its steps, or the sources and time zone it reads): not with a description, tags or a moved line."""
        return body_hash(self, self.environment)

    def metadata_hash(self) -> str:
        return hashlib.sha256(json.dumps([self.description, list(self.tags)]).encode()).hexdigest()[:16]


def _attribute_feature(fn: Node, name: str, ctx: FilterContext) -> ValueRef:
    fn.check_keys(["attribute", "transform"])
    attribute = fn.string("attribute", required=True) or ""
    users = ctx.sources.users
    if users is None:
        raise fn.fail("an attribute feature needs a users source", "declare `users:` in models/sources.yml", "attribute")
    column = users.attributes.get(attribute)
    if column is None:
        raise fn.fail(f"unknown attribute {attribute!r} for feature {name!r}", suggest(attribute, users.attributes, what="users attribute"), "attribute")
    if column.type != "number":
        raise fn.fail(f"feature {name!r} reads attribute {attribute!r} of type {column.type}; a feature is a number", "use an attribute of type number, or a measure such as count", "attribute")
    return ValueRef(attribute, column.column, column.type, (), column.unit)


def _behaviour_feature(fn: Node, name: str, ctx: FilterContext) -> tuple[str, BehaviourFilter]:
    kind = "event" if fn.has("event") else "purchase"
    measures = [m for m in MEASURES if kind == "purchase" or m != "revenue"]
    fn.check_keys([kind, "where", "within", "measure", "property", "column", "type", "transform"])
    table, names, where = parse_rows(fn, ctx, "feature")
    if not fn.has("measure"):
        raise fn.fail(f"feature {name!r} needs `measure:`", f"add measure: one of {', '.join(measures)}")
    measure = fn.string("measure") or ""
    if measure not in measures:
        hint = "revenue is a measure of purchase features" if measure == "revenue" else suggest(measure, measures)
        raise fn.fail(f"unknown measure {measure!r} for feature {name!r}", hint, "measure")
    value = None
    if measure in VALUE_MEASURES:
        if fn.has("property") == fn.has("column"):
            raise fn.fail(f"measure {measure!r} reads one `property:` or one `column:` of each row", f"add property: <name> (e.g. {{{kind}: ..., measure: {measure}, property: amount}})", "measure")
        source = ctx.sources.events if table == "events" else ctx.sources.purchases
        kind_of_value = (fn.string("type", "string") or "string") if measure == "count_distinct" else "number"
        if fn.has("property"):
            if source is None or not source.properties:
                raise fn.fail(f"the {table} source has no `properties:` column", f"declare properties: <json column> for {table} in models/sources.yml", "property")
            path = fn.string("property", required=True) or ""
            value = ValueRef(path, source.properties, kind_of_value, tuple(path.split(".")))
        else:
            column = fn.string("column", required=True) or ""
            value = ValueRef(column, column, kind_of_value)
    else:
        for key in ("property", "column", "type"):
            if fn.has(key):
                raise fn.fail(f"measure {measure!r} reads no value, so `{key}:` means nothing here", f"drop `{key}:` (sum, avg, min, max and count_distinct read one)", key)
    window = parse_window(fn, "within", ctx) if fn.has("within") else None
    leaf = BehaviourFilter(table, names, where, window, (Measure(MEASURES[measure], Condition("gte", 0), value),), fn.loc)
    return measure, leaf


def _features(node: Node, ctx: FilterContext) -> tuple[Feature, ...]:
    fnode = node.child("features", "features")
    if not fnode.data:
        raise node.fail("`features` must name at least one feature", "write features: {orders: {purchase: any, measure: count}}", "features")
    out = []
    for name, item in fnode.data.items():
        fn = Node(item, fnode.line(str(name)), f"feature {name!r}")
        if not isinstance(name, str) or not name.isidentifier() or name != name.lower() or name in ("cluster", "label", "size", "external_user_id", "distance"):
            raise fnode.fail(f"bad feature name {name!r}", "name features like columns: lower-case letters, digits, _ (not cluster, label, size, distance)", str(name))
        transform = fn.string("transform")
        if transform is not None and transform not in TRANSFORMS:
            raise fn.fail(f"unknown transform {transform!r}", suggest(transform, TRANSFORMS), "transform")
        if fn.has("attribute"):
            out.append(Feature(name, "attribute", fn.loc, attribute=_attribute_feature(fn, name, ctx), transform=transform))
        elif fn.has("event") or fn.has("purchase"):
            measure, leaf = _behaviour_feature(fn, name, ctx)
            out.append(Feature(name, measure, fn.loc, leaf=leaf, transform=transform))
        else:
            first = str(next(iter(fn.data), ""))
            raise fn.fail(f"feature {name!r} needs `attribute:`, `event:` or `purchase:`", suggest(first, ["attribute", "event", "purchase"]) if first else "write {attribute: age} or {purchase: any, measure: count}", first or None)
    return tuple(out)


def parse_cluster(data: Any, loc: Location, ctx: FilterContext) -> Cluster:
    """One entry of a `clusters:` list (the audience is checked against the segments later)."""
    node = Node(data, loc, "cluster model")
    node.check_keys(CLUSTER_KEYS)
    name = node.model_name("cluster model")
    raw_k = node.number("k", required=True, minimum=1) or 0
    if raw_k != int(raw_k) or raw_k > MAX_K:
        raise node.fail(f"`k` must be a whole number from 1 to {MAX_K}, got {raw_k!r}", "write k: 4", "k")
    k = int(raw_k)
    features = _features(node, ctx) if node.has("features") else None
    if features is None:
        raise node.fail(f"{node.what} needs `features`", "add features: {orders: {purchase: any, measure: count}}")
    names = [f.name for f in features]
    order_by = node.string("order_by", required=True) or ""
    if order_by not in names:
        raise node.fail(f"order_by {order_by!r} is not a feature of this model", suggest(order_by, names, what="feature"), "order_by")
    scale = node.string("scale", "standard") or "standard"
    if scale not in SCALES:
        raise node.fail(f"unknown scale {scale!r}", suggest(scale, SCALES), "scale")
    missing = node.number("missing")
    labels = node.string_list("labels")
    if labels and len(labels) != k:
        raise node.fail(f"`labels` gives {len(labels)} label(s) for k = {k}", f"give one label per cluster: {k} in all, in the order of order_by", "labels")
    if len(set(labels)) != len(labels):
        twice = next(label for label in labels if labels.count(label) > 1)
        raise node.fail(f"label {twice!r} is given twice", "give every cluster its own label", "labels")
    if any(label.isdigit() for label in labels):
        raise node.fail("a label may not be a number: a `cluster:` leaf reads numbers as cluster numbers", "use a word, e.g. whales", "labels")
    iterations = node.number("max_iterations", minimum=1)
    if iterations is not None and iterations != int(iterations):
        raise node.fail(f"`max_iterations` must be a whole number, got {iterations!r}", "write max_iterations: 50", "max_iterations")
    audience = node.string("audience")
    return Cluster(
        name=name,
        location=node.loc,
        k=k,
        features=features,
        order_by=order_by,
        audience=audience,
        audience_location=node.line("audience") if audience else None,
        missing=float(missing) if missing is not None else 0.0,
        scale=scale,
        labels=labels,
        max_iterations=int(iterations) if iterations is not None else DEFAULT_MAX_ITERATIONS,
        description=node.string("description", "") or "",
        tags=node.string_list("tags"),
        yaml=plain(data),
    )


def check_clusters(clusters: Mapping[str, Cluster], segments: Mapping[str, Any], taken: Mapping[str, str]) -> None:
    """Audiences name segments; names and tables are free (`taken`: lower-case table → its owner);
    every `cluster:` leaf names a model and clusters (numbers or labels) it has."""
    for cluster in clusters.values():
        if cluster.name in segments:
            raise ProjectError(f"cluster model {cluster.name!r} has the name of a segment", cluster.location, f"rename one of them (the segment is at {segments[cluster.name].location})")
        if cluster.audience is not None and cluster.audience not in segments:
            raise ProjectError(
                f"cluster model {cluster.name!r} has unknown audience segment {cluster.audience!r}",
                cluster.audience_location or cluster.location,
                suggest(cluster.audience, segments, what="segment"),
            )
        for table in (cluster.table, cluster.centroids_table):
            if len(table.encode()) > 63:
                raise ProjectError(f"cluster model {cluster.name!r} would write table {table!r}, longer than 63 characters", cluster.location, "shorten the model name (PostgreSQL and Redshift cut longer names)")
            if table.lower() in taken:
                raise ProjectError(f"cluster model {cluster.name!r} would write table {table!r}, {taken[table.lower()]}", cluster.location, "rename the cluster model")
    for seg in segments.values():
        for leaf in walk(seg.where) if seg.where is not None else ():
            if isinstance(leaf, ClusterFilter):
                check_leaf(leaf, clusters)


def check_leaf(leaf: ClusterFilter, clusters: Mapping[str, Cluster]) -> None:
    """`cluster: {model: m, in: [...]}` names a model, and each entry a label or a number 1..k of it."""
    model = clusters.get(leaf.model)
    if model is None:
        raise ProjectError(f"unknown cluster model {leaf.model!r}", leaf.location, suggest(leaf.model, clusters, what="cluster model"))
    for value in leaf.values:
        if isinstance(value, int):
            if not 1 <= value <= model.k:
                raise ProjectError(f"cluster model {model.name!r} has clusters 1..{model.k}, not {value}", leaf.location, f"use a number from 1 to {model.k}" + (f" or a label ({', '.join(model.labels)})" if model.labels else ""))
        elif value not in model.labels:
            hint = suggest(value, model.labels, what="label") if model.labels else f"model {model.name!r} has no labels: use a number from 1 to {model.k}"
            raise ProjectError(f"cluster model {model.name!r} has no label {value!r}", leaf.location, hint)
