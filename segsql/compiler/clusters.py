"""Cluster models (SPEC 8.1) → SQL: the per-user feature table and the queries of k-means.

Nothing here loops or fetches: `run/strategies/clusters.py` drives the algorithm and each
step is one query built here. The features are staged once (one grouped read of each source)
and grouped, scaled, into a second table: the distinct scaled points with the number of users
on each, which is all a Lloyd iteration needs — users on the same point always share a
cluster — and each point's k-means++ weight −ln(u) and first user in md5 order, computed there
once, not in every k-means++ query. After that every query carries the centroids it needs as
k × d literals (no join, no table of centroids), so an iteration is one scan of the points on
any engine and only k × d numbers travel between iterations.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import replace

from sqlglot import exp

from segsql.compiler.behaviour import ZERO_WHEN_EMPTY
from segsql.compiler.column_types import ColumnTypes
from segsql.compiler.dialects import lit
from segsql.compiler.filters import ID_COLUMN
from segsql.compiler.query import ID_ROW, USERS_ROW, SegmentCompiler, _Renderer
from segsql.definitions.clusters import Cluster, Feature
from segsql.definitions.project import Definitions
from segsql.planner.collect import collect
from segsql.planner.plan import Ask, MetricSpec, Plan
from segsql.planner.rules import RULES, optimize, read_every_seen_row
from segsql.planner.windows import bounds

DOUBLE = exp.DataType.Type.DOUBLE
#: the index (in the order chosen) of a user's centroid, and its distance to it
ASSIGNED, DISTANCE = "__cluster", "__distance"
#: a user's k-means++ weight −ln(u(x)) (SPEC 8.1), the users on a distinct point, and its first
#: user in md5 order (`_first`)
WEIGHT, USERS, FIRST = "__w", "__n", "__f"


def original(j: int) -> str:
    """Feature j after `missing` is substituted, before any transform: what centroids report."""
    return f"__o{j}"


def transformed(j: int) -> str:
    return f"__t{j}"


def scaled(j: int) -> str:
    return f"__z{j}"


def number(value: float) -> exp.Expr:
    """A double as a literal every engine reads back bit for bit (the shortest repr, parsed as
    DOUBLE); the nodes built directly, as `exp.cast` would, at half its cost (k × d per query)."""
    return exp.Cast(this=exp.Literal.string(repr(float(value))), to=exp.DataType(this=DOUBLE))


def squared_distance(centroid: Sequence[float]) -> exp.Expr:
    """Σ (z_j − c_j)², added left to right (the reference adds in the same order)."""
    total: exp.Expr | None = None
    for j, c in enumerate(centroid):  # fresh nodes throughout: copying sqlglot trees is what costs here
        term = exp.Mul(this=exp.Paren(this=exp.Sub(this=exp.column(scaled(j)), expression=number(c))), expression=exp.Paren(this=exp.Sub(this=exp.column(scaled(j)), expression=number(c))))
        total = term if total is None else exp.Add(this=total, expression=term)
    assert total is not None
    return exp.Paren(this=total)


def _least(values: list[exp.Expr]) -> exp.Expr:
    return values[0] if len(values) == 1 else exp.func("LEAST", *values)


def ranking(centroid: Sequence[float]) -> exp.Expr:
    """‖c‖² − 2 z·c: the squared distance less ‖z‖², which is the same for every centroid, so it
    ranks the centroids as the distance does with half the arithmetic (d products and sums, no
    differences); ‖c‖² and −2c are computed here, once."""
    total: exp.Expr = number(sum(c * c for c in centroid))
    for j, c in enumerate(centroid):
        total = exp.Add(this=total, expression=exp.Mul(this=exp.column(scaled(j)), expression=number(-2.0 * c)))
    return exp.Paren(this=total)


def distances(centroids: Sequence[Sequence[float]], prefix: str) -> list[exp.Expr]:
    """Each centroid's `ranking` of the row, as columns `<prefix>d<i>`."""
    return [exp.alias_(ranking(c), f"{prefix}d{i}", copy=False) for i, c in enumerate(centroids)]


def least(k: int, prefix: str) -> exp.Expr:
    """The smallest of the k distance columns, as column `<prefix>b` (computed once per row)."""
    return exp.alias_(_least([exp.column(f"{prefix}d{i}") for i in range(k)]), f"{prefix}b", copy=False)


def nearest(k: int, prefix: str) -> exp.Expr:
    """The index of the nearest centroid, ties to the first chosen, from the distance columns
    and their `least` (a CASE reading both, so no engine computes LEAST once per branch)."""
    if k == 1:
        return lit(0)
    best = exp.column(f"{prefix}b")
    ifs = [exp.If(this=exp.EQ(this=exp.column(f"{prefix}d{i}"), expression=best.copy()), true=lit(i)) for i in range(k - 1)]
    return exp.Case(ifs=ifs, default=lit(k - 1))


def _select(columns: list[exp.Expr], source: exp.Expr) -> exp.Select:
    """SELECT columns FROM source, taking the nodes as they are (no copies)."""
    return exp.Select(expressions=columns).from_(source, copy=False)


class ClusterCompiler:
    """The SQL of one project's cluster models for one dialect and one `as_of`."""

    def __init__(self, definitions: Definitions, dialect: str, as_of: dt.datetime, types: ColumnTypes | None = None, cluster_tables: Mapping[str, exp.Table] | None = None):
        self.defs = definitions
        self.dialect = dialect
        self.as_of = as_of
        self.segments = SegmentCompiler(definitions, dialect, as_of, types, cluster_tables=cluster_tables)
        self.rules = self.segments.rules

    # -- the feature table ----------------------------------------------------------------------
    def plan(self, cluster: Cluster) -> Plan:
        """The audience's plan with one more ask per measured feature: one shared scan per source,
        reading the source once when the universe is every user (`read_every_seen_row`)."""
        tz = self.defs.config.timezone
        base = collect(self.defs, [cluster.audience] if cluster.audience else [], self.as_of, "flags")
        asks = []
        for f in cluster.features:
            if f.leaf is None:
                continue
            measure = f.leaf.measures[0]
            start, _ = bounds(f.leaf.window, self.as_of, tz)
            spec = MetricSpec(f.leaf.source, measure.kind, f.leaf.names, f.leaf.where, f.leaf.window, measure.value)
            asks.append(Ask(f.leaf, 0, cluster.name, spec, start))
        return optimize(replace(base, asks=base.asks + tuple(asks)), tz, (*RULES, read_every_seen_row))

    def _value(self, f: Feature, plan: Plan) -> exp.Expr:
        """Feature `f` of the current row in its own units; NULL when missing."""
        if f.attribute is not None:
            users = self.defs.sources.users
            return self.segments.conditions.value(f.attribute, USERS_ROW, users.table if users else None).sql
        assert f.leaf is not None
        spec = plan.ask(f.leaf, 0).spec
        kind = spec.kind
        scan, metric = plan.column(replace(spec, kind="sum") if kind == "avg" else spec)
        column: exp.Expr = exp.column(metric, table=scan)
        if kind in ZERO_WHEN_EMPTY:
            return exp.Coalesce(this=column, expressions=[lit(0)])
        if kind == "avg":
            count_scan, count_metric = plan.column(replace(spec, kind="avg_count"))
            count = exp.Nullif(this=exp.column(count_metric, table=count_scan), expression=lit(0))
            return exp.Div(this=exp.cast(column, DOUBLE), expression=exp.cast(count, DOUBLE))
        if kind in ("first", "last"):  # whole days from the occurrence to as_of, floored
            seconds = self.rules.seconds_between(column, self.rules.timestamp(self.as_of))
            return exp.Floor(this=exp.Div(this=seconds, expression=lit(86400.0)))
        return column

    def _transform(self, f: Feature, value: exp.Expr) -> exp.Expr:
        """`log1p`, symmetric so that it is defined below 0: sign(x) · ln(1 + |x|)."""
        if f.transform != "log1p":
            return value
        magnitude = exp.Ln(this=exp.Add(this=lit(1.0), expression=exp.Abs(this=value.copy())))
        return exp.Mul(this=exp.func("SIGN", value), expression=magnitude)

    def features(self, cluster: Cluster) -> exp.Select:
        """One row per audience member: its id, each feature in original units and transformed."""
        plan = self.plan(cluster)
        renderer = _Renderer(self.segments, plan)
        audience = [cluster.audience] if cluster.audience else []
        if plan.universe == "full_join":
            rows, user_id = renderer._joined_rows(audience)
        else:
            rows, user_id = renderer._rows(audience), exp.column(ID_COLUMN, table=ID_ROW)
        columns: list[exp.Expr] = [exp.alias_(user_id, ID_COLUMN)]
        for j, f in enumerate(cluster.features):
            value = exp.cast(exp.Coalesce(this=exp.cast(self._value(f, plan), DOUBLE), expressions=[number(cluster.missing)]), DOUBLE)
            columns.append(exp.alias_(value, original(j)))
            columns.append(exp.alias_(exp.cast(self._transform(f, value.copy()), DOUBLE), transformed(j)))
        select = rows.select(*columns)
        if cluster.audience:
            predicate = renderer.predicate(cluster.audience)
            if plan.universe == "full_join":
                predicate = predicate.transform(lambda n: user_id.copy() if isinstance(n, exp.Column) and n.name == ID_COLUMN and n.table == ID_ROW else n, copy=False)
            select = select.where(predicate)
        return renderer._with_ctes(select)

    # -- scaling ----------------------------------------------------------------------------------
    def statistics(self, table: exp.Table, d: int) -> exp.Select:
        """COUNT(*), then per feature AVG, STDDEV_POP, MIN and MAX of the transformed value."""
        columns: list[exp.Expr] = [exp.Count(this=exp.Star())]
        for j in range(d):
            t = exp.column(transformed(j))
            columns += [exp.Avg(this=t), exp.func("STDDEV_POP", t.copy()), exp.Min(this=t.copy()), exp.Max(this=t.copy())]
        return exp.select(*columns).from_(table.copy())

    def scaled(self, table: exp.Table, d: int, shift: Sequence[float], divide: Sequence[float]) -> exp.Select:
        """The features table scaled: z_j = (t_j − shift_j) / divide_j, or 0 where divide_j is 0,
        beside the id and the original units. Not staged: the few queries that read every user
        (`points`, `assignment`, a tie of `next_centroid`) compute z again, cheaper than writing it."""
        columns: list[exp.Expr] = [exp.column(ID_COLUMN)]
        for j in range(d):
            t = exp.column(transformed(j))
            z: exp.Expr = number(0.0) if divide[j] == 0 else exp.Div(this=exp.paren(exp.Sub(this=t, expression=number(shift[j]))), expression=number(divide[j]))
            columns += [exp.alias_(z, scaled(j)), exp.column(original(j))]
        return exp.select(*columns).from_(table.copy())

    def points(self, cluster: Cluster, rows: exp.Select, d: int) -> exp.Select:
        """The distinct scaled points of `rows` (`scaled`), the users on each (what every Lloyd
        iteration reads), their smallest k-means++ weight (what `next_point` reads) and their
        first user in md5 order (what `first_point` reads)."""
        z = [exp.column(scaled(j)) for j in range(d)]
        weighed = _select([*z, exp.alias_(self._weight(cluster), WEIGHT, copy=False), exp.alias_(self._first(cluster), FIRST, copy=False)], rows.subquery("s"))
        columns = [*(c.copy() for c in z), exp.alias_(exp.Count(this=exp.Star()), USERS), exp.alias_(exp.Min(this=exp.column(WEIGHT)), WEIGHT), exp.alias_(exp.Min(this=exp.column(FIRST)), FIRST)]
        return _select(columns, weighed.subquery("w", copy=False)).group_by(*(c.copy() for c in z), copy=False)

    # -- k-means++ (deterministic) --------------------------------------------------------------
    def _ids(self) -> exp.Expr:
        return exp.column(ID_COLUMN)

    def _weight(self, cluster: Cluster) -> exp.Expr:
        """A user's k-means++ weight −ln(u(x)), u = (bucket + 1) / 10001 (salt: the model name)."""
        bucket = self.rules.bucket(self._ids(), cluster.name)
        u = exp.Div(this=exp.cast(exp.Add(this=bucket, expression=lit(1)), DOUBLE), expression=lit(10001.0))
        return exp.Neg(this=exp.Ln(this=u))

    def _first(self, cluster: Cluster) -> exp.Expr:
        """hex md5(name || external_id) || external_id: the digest has a fixed length, so the
        smallest such text is the smallest digest, ties to the smaller id."""
        digest = exp.MD5(this=exp.DPipe(this=lit(cluster.name), expression=self._ids(), safe=True))
        return exp.DPipe(this=digest, expression=self._ids(), safe=True)

    def first_point(self, points: exp.Table, d: int) -> exp.Select:
        """The point of the user with the smallest hex md5(name || external_id): the first centroid."""
        select = _select([exp.column(scaled(j)) for j in range(d)], points.copy())
        return select.order_by(exp.Ordered(this=exp.column(FIRST)), copy=False).limit(1, copy=False)

    def next_centroid(self, cluster: Cluster, rows: exp.Select, d: int, chosen: Sequence[Sequence[float]]) -> exp.Select:
        """The user of `rows` (`scaled`) minimising −ln(u(x)) / D(x)² among those with D > 0, ties to the smaller id."""
        d2 = _least([squared_distance(c) for c in chosen])
        inner = exp.select(self._ids(), *(exp.column(scaled(j)) for j in range(d)), exp.alias_(d2, "__d2"), exp.alias_(self._weight(cluster), WEIGHT)).from_(rows.subquery("s"))
        key = exp.Div(this=exp.column(WEIGHT), expression=exp.column("__d2"))
        select = exp.select(*(exp.column(scaled(j)) for j in range(d))).from_(inner.subquery("c"))
        select = select.where(exp.GT(this=exp.column("__d2"), expression=number(0.0)))
        return select.order_by(exp.Ordered(this=key), exp.Ordered(this=self._ids())).limit(1)

    def next_point(self, points: exp.Table, d: int, chosen: Sequence[Sequence[float]]) -> exp.Select:
        """`next_centroid` over the distinct points: a point's best user is its smallest weight,
        so the two smallest keys −ln(u)/D² of points with D > 0, with each point's coordinates.
        When they tie, users of two points tie and the smaller id decides: `next_centroid`."""
        d2 = _least([squared_distance(c) for c in chosen])
        z = [exp.column(scaled(j)) for j in range(d)]
        inner = _select([*z, exp.alias_(d2, "__d2", copy=False), exp.column(WEIGHT)], points.copy())
        key = exp.alias_(exp.Div(this=exp.column(WEIGHT), expression=exp.column("__d2")), "__key", copy=False)
        select = _select([*(c.copy() for c in z), key], inner.subquery("c", copy=False)).where(exp.GT(this=exp.column("__d2"), expression=number(0.0)), copy=False)
        return select.order_by(exp.Ordered(this=exp.column("__key")), copy=False).limit(2, copy=False)

    # -- Lloyd ----------------------------------------------------------------------------------
    def iteration(self, table: exp.Table, d: int, centroids: Sequence[Sequence[float]], previous: Sequence[Sequence[float]] | None) -> exp.Select:
        """Per (nearest centroid, nearest `previous` centroid): the users and Σ z_j over them —
        one scan of the distinct points (`points`), each weighed by its users."""
        sets = [("n", centroids)] + ([("p", previous)] if previous is not None else [])

        def carried() -> list[exp.Expr]:
            return [*(exp.column(scaled(j)) for j in range(d)), exp.column(USERS)]

        layer = _select([*carried(), *(c for prefix, cs in sets for c in distances(cs, prefix))], table.copy())
        columns = [exp.column(f"{prefix}d{i}") for prefix, cs in sets for i in range(len(cs))]
        layer = _select([*carried(), *columns, *(least(len(cs), prefix) for prefix, cs in sets)], layer.subquery("d", copy=False))
        indexed = _select([*carried(), *(exp.alias_(nearest(len(cs), prefix), f"__a{prefix}", copy=False) for prefix, cs in sets)], layer.subquery("b", copy=False))
        same: exp.Expr = exp.EQ(this=exp.column("__an"), expression=exp.column("__ap")) if previous is not None else exp.true()
        sums = [exp.Sum(this=exp.Mul(this=exp.column(scaled(j)), expression=exp.column(USERS))) for j in range(d)]
        total = _select([exp.column("__an"), exp.alias_(same, "__same", copy=False), exp.Sum(this=exp.column(USERS)), *sums], indexed.subquery("a", copy=False))
        return total.group_by(*(exp.column(f"__a{prefix}") for prefix, _ in sets), copy=False)

    def assignment(self, rows: exp.Select, d: int, centroids: Sequence[Sequence[float]], means: Sequence[Sequence[float]]) -> exp.Select:
        """Each user of `rows` (`scaled`): the nearest centroid (index) and the distance to that
        cluster's mean; original units kept."""
        z = [exp.column(scaled(j)) for j in range(d)]
        o = [exp.column(original(j)) for j in range(d)]
        carried = [exp.column(ID_COLUMN), *z, *o]
        k = len(centroids)
        inner = exp.select(*carried, *distances(centroids, "n")).from_(rows.subquery("s"))
        layer = exp.select(*(c.copy() for c in carried), *(exp.column(f"nd{i}") for i in range(k)), least(k, "n")).from_(inner.subquery("d"))
        with_index = exp.select(*(c.copy() for c in carried), exp.alias_(nearest(k, "n"), ASSIGNED)).from_(layer.subquery("b"))
        to_mean = exp.Case(ifs=[exp.If(this=exp.EQ(this=exp.column(ASSIGNED), expression=lit(i)), true=squared_distance(m)) for i, m in enumerate(means)])
        distance = exp.func("SQRT", to_mean)
        return exp.select(exp.column(ID_COLUMN), exp.column(ASSIGNED), exp.alias_(distance, DISTANCE), *(c.copy() for c in o)).from_(with_index.subquery("a"))

    def centroid_means(self, table: exp.Table, d: int) -> exp.Select:
        """Per cluster index: its size and each feature's mean in original units."""
        means = [exp.Avg(this=exp.column(original(j))) for j in range(d)]
        return exp.select(exp.column(ASSIGNED), exp.Count(this=exp.Star()), *means).from_(table.copy()).group_by(exp.column(ASSIGNED))

    def published(self, table: exp.Table, numbers: Mapping[int, int], labels: Mapping[int, str | None]) -> exp.Select:
        """`cluster_<name>` rows: id, the cluster's number and label, the distance."""
        index = exp.column(ASSIGNED)
        # no numbers: an empty audience, whose assignment has no rows (a CASE needs a WHEN)
        cluster = exp.Case(ifs=[exp.If(this=exp.EQ(this=index.copy(), expression=lit(i)), true=lit(n)) for i, n in numbers.items()]) if numbers else exp.null()
        label_ifs = [exp.If(this=exp.EQ(this=index.copy(), expression=lit(i)), true=lit(text)) for i, text in labels.items() if text is not None]
        label: exp.Expr = exp.cast(exp.Case(ifs=label_ifs), exp.DataType.Type.VARCHAR) if label_ifs else exp.cast(exp.null(), exp.DataType.Type.VARCHAR)
        return exp.select(
            exp.column(ID_COLUMN), exp.alias_(exp.cast(cluster, exp.DataType.Type.INT), "cluster"), exp.alias_(label, "label"), exp.alias_(exp.column(DISTANCE), "distance")
        ).from_(table.copy())
