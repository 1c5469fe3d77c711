"""`segsql why USER [NAME ...]`: one user's verdict per segment and the value of every leaf behind it.

The segments are compiled as a run compiles them, then one SELECT evaluates, for that user
only, every node of every tree (each combinator and leaf as its own two-valued column, so
the verdict is the very expression the membership table is built from) and beside each
leaf the values it compared: attribute and trait values, each measure's per-user value,
the earliest matching path of a sequence, a funnel's furthest step and step times, RFM
scores, the bucket of a random_bucket leaf or of a split. Every row the behaviour passes
read is filtered to the user (the user id is a literal in the sqlglot tree), except the
RFM ranking and funnels, which rank and order the user among everyone.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from segsql.compiler import SegmentCompiler
from segsql.compiler.behaviour import ROW, SEQ_USER, BehaviourCompiler
from segsql.compiler.dialects import lit
from segsql.compiler.filters import ID_COLUMN, FilterCompiler, trait_row
from segsql.compiler.query import ID_ROW, USERS_ROW, _Renderer
from segsql.definitions.filters import (
    AllOf,
    AnyOf,
    AttributeFilter,
    BehaviourFilter,
    ClusterFilter,
    Filter,
    FunnelFilter,
    Near,
    Not,
    RandomBucket,
    RfmFilter,
    SegmentRef,
    SequenceFilter,
    TraitFilter,
    walk,
)
from segsql.definitions.segments import Segment
from segsql.definitions.sources import Column
from segsql.engines import Adapter
from segsql.errors import EngineError, Location, UsageError
from segsql.planner import plan_models
from segsql.planner.plan import RfmPass
from segsql.reports.output import TreeLine, print_tree
from segsql.reports.why_labels import condition_label, label
from segsql.run.diff import split_group_sql
from segsql.run.session import Session
from segsql.run.source_check import source_types


@dataclass
class WhyNode:
    """One node of a verdict tree: `verdict` None for a node that informs (a split's group)."""

    kind: str
    label: str
    verdict: bool | None
    values: dict[str, Any] = field(default_factory=dict)
    children: list[WhyNode] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "label": self.label, "verdict": self.verdict, "values": self.values, "children": [c.as_dict() for c in self.children]}


@dataclass(frozen=True)
class Why:
    user: str
    as_of: str
    segments: list[WhyNode]

    def as_dict(self) -> dict[str, Any]:
        return {"user": self.user, "as_of": self.as_of, "segments": [s.as_dict() for s in self.segments]}


def plain_value(value: Any) -> Any:
    """A fetched value as JSON: times as ISO 8601 UTC, exact decimals as numbers."""
    if isinstance(value, dt.datetime):
        moment = value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value
        return moment.isoformat().replace("+00:00", "") + "Z"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, tuple | list):
        return [plain_value(v) for v in value]
    return value


def reached(segments: Mapping[str, Segment], names: list[str]) -> list[str]:
    """`names` and every segment they reference, recursively, sorted."""
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += segments[name].segment_dependencies()
    return sorted(seen)


class _OneUser(BehaviourCompiler):
    """Behaviour SQL that reads only one user's rows — but the RFM ranking, which needs everyone."""

    def __init__(self, base: BehaviourCompiler, user: str):
        super().__init__(base.conditions, base.sources, base.timezone, base.plan, base.dialect)
        self.user_id = user
        self._ranking = False

    def seen(self, source: str, row: str = ROW) -> exp.Expr:
        rows = super().seen(source, row)
        if self._ranking:
            return rows
        return exp.and_(rows, exp.EQ(this=self.user(source, row), expression=lit(self.user_id)))

    def rfm_query(self, rfm: RfmPass) -> exp.Select:
        self._ranking = True
        try:
            return super().rfm_query(rfm)
        finally:
            self._ranking = False


class _WhyQuery(_Renderer):
    """The segments' plan rendered as one SELECT of one user's row, a column per node and value."""

    def __init__(self, compiler: SegmentCompiler, names: list[str], user: str):
        super().__init__(compiler, plan_models(compiler.defs, names, compiler.as_of, "flags"))
        self.names = names
        self.user = user
        self.behaviour = _OneUser(self.behaviour, user)
        self.columns: list[exp.Expr] = []
        self.per_user: dict[str, exp.Query] = {}  # extra one-row CTEs LEFT JOINed by id
        self.roots: list[WhyNode] = []
        self.clusters: set[str] = set()  # cluster models whose published table a leaf reads

    # -- the universe, for one user ---------------------------------------------------------
    def _ids_from(self, table: str, id_column: str, time: Column | None) -> exp.Select:
        select = super()._ids_from(table, id_column, time)
        return select.where(exp.EQ(this=self.rules.to_text(exp.column(id_column)), expression=lit(self.user)))

    def column(self, expression: exp.Expr) -> str:
        name = f"w{len(self.columns)}"
        self.columns.append(exp.alias_(expression, name))
        return name

    def filters(self) -> FilterCompiler:
        return FilterCompiler(
            self.conditions, self.defs.sources, self.defs.config.bucket_salt, self._flag, USERS_ROW, ID_ROW,
            self.behaviour, self.compiler.cluster_tables, self.compiler.funnel_users,
        )

    def _joined(self, alias: str, query: exp.Select) -> str:
        self.per_user[alias] = query
        return alias

    def _funnels_for_user(self) -> None:
        """Each funnel a leaf reads, computed once over this user's rows (a path is one user's)
        as a CTE that the leaf's verdict and its values both read."""
        from segsql.compiler.funnels import FunnelCompiler

        trees = [self.defs.segments[n].where for n in reached(self.defs.segments, self.names)]
        trees += [self.defs.channels[c].where for n in self.names for c in self.defs.segments[n].channels]
        funnels = sorted({leaf.funnel for tree in trees if tree is not None for leaf in walk(tree) if isinstance(leaf, FunnelFilter)})
        for funnel in funnels:
            if funnel in self.compiler.funnel_tables:
                continue
            compiler = FunnelCompiler(self.defs, self.dialect, self.as_of, self.conditions.types, cluster_tables=self.compiler.cluster_tables, funnel_tables=self.compiler.funnel_tables)
            compiler.behaviour = _OneUser(compiler.behaviour, self.user)
            alias = f"__why_funnel_users_{funnel}"
            self.ctes[alias] = compiler.users([funnel])
            self.compiler.funnel_tables[funnel] = exp.to_table(alias)

    # -- the query ----------------------------------------------------------------------------
    def build(self) -> tuple[exp.Select, list[tuple[WhyNode, list[tuple[str, str]]]]]:
        """The SELECT, and each node with its (value key, column) pairs; verdicts use key ''."""
        pending: list[tuple[WhyNode, list[tuple[str, str]]]] = []
        self._funnels_for_user()
        roots = [self.segment(name, pending) for name in self.names]
        select = self._rows(self.names).select(exp.column(ID_COLUMN, table=ID_ROW), *self.columns)
        for alias, query in self.per_user.items():
            self.ctes[alias] = query
            on = exp.EQ(this=exp.column(ID_COLUMN, table=alias), expression=exp.column(ID_COLUMN, table=ID_ROW))
            select = select.join(exp.to_table(alias), on=on, join_type="left")
        select = select.where(exp.EQ(this=exp.column(ID_COLUMN, table=ID_ROW), expression=lit(self.user)))
        self.roots = roots
        return self._with_ctes(select), pending

    def _node(self, pending: list[tuple[WhyNode, list[tuple[str, str]]]], kind: str, text: str, verdict: exp.Expr | None, values: dict[str, exp.Expr] | None = None) -> WhyNode:
        node = WhyNode(kind, text, None)
        columns = [("", self.column(verdict))] if verdict is not None else []
        columns += [(key, self.column(value)) for key, value in (values or {}).items()]
        pending.append((node, columns))
        return node

    def segment(self, name: str, pending: list[tuple[WhyNode, list[tuple[str, str]]]]) -> WhyNode:
        seg = self.defs.segments[name]
        node = self._node(pending, "segment" if seg.sql is None else "sql_segment", f"segment {name}", self.predicate(name))
        if seg.where is not None:
            node.children.append(self.tree(seg.where, pending))
        if seg.split is not None:
            ident = exp.column(ID_COLUMN, table=ID_ROW)
            values = {"bucket": self.rules.bucket(ident, seg.split.salt), "group": split_group_sql(seg, self.dialect, ident.copy())}
            node.children.append(self._node(pending, "split", f"split (salt {seg.split.salt!r})", None, values))
        for channel in seg.channels:
            consent = self._node(pending, "consent", f"consent {channel}", self.consent(channel))
            consent.children.append(self.tree(self.defs.channels[channel].where, pending))
            node.children.append(consent)
        return node

    def tree(self, where: Filter, pending: list[tuple[WhyNode, list[tuple[str, str]]]]) -> WhyNode:
        """The node of `where` with its children, or the leaf with the values it compared."""
        compiled = self.filters().compile(where)
        kind, text = label(where)
        if isinstance(where, AllOf | AnyOf | Not):
            node = self._node(pending, kind, text, compiled)
            node.children = [self.tree(c, pending) for c in (where.children if isinstance(where, AllOf | AnyOf) else (where.child,))]
            return node
        if isinstance(where, SegmentRef):  # its verdict is the referenced segment's, with its tree
            return self.segment(where.segment, pending)
        node = self._node(pending, kind, text, compiled, self._leaf_values(where))
        if isinstance(where, BehaviourFilter):
            for index, measure in enumerate(where.measures):
                value, ask = self.behaviour.measure(where, index)
                values = {"latest_at" if ask.latest is not None else "value": value.sql} if value.per is None else {"sum": value.sql, "count": value.per}
                text = f"{measure.kind} {condition_label(measure.condition)}"
                child = self._node(pending, "measure", text, self.behaviour.measure_test(where, index), values)
                node.children.append(child)
        return node

    def _leaf_values(self, where: Filter) -> dict[str, exp.Expr]:
        """The values a leaf compared, as expressions over the user's row."""
        if isinstance(where, TraitFilter):
            trait = self.defs.sources.traits[where.trait]
            return {"value": self.conditions.value(where.value, trait_row(where.trait), trait.table).sql}
        if isinstance(where, AttributeFilter):
            table = self.defs.sources.users.table if self.defs.sources.users else None
            return {"value": self.conditions.value(where.value, USERS_ROW, table).sql}
        if isinstance(where, RandomBucket):
            return {"bucket": self.rules.bucket(exp.column(ID_COLUMN, table=ID_ROW), self.defs.config.bucket_salt)}
        if isinstance(where, Near):
            users = self.defs.sources.users
            assert users is not None and users.lat is not None and users.lon is not None
            lat, lon = (self.rules.to_number(exp.column(c, table=USERS_ROW)) for c in (users.lat, users.lon))
            return {"distance_km": self.rules.haversine_km(lat, lon, where.lat, where.lon)}
        if isinstance(where, RfmFilter):
            alias = self.plan.rfm_pass(where.window).alias
            return {part: exp.column(part, table=alias) for part in ("recency", "frequency", "monetary")}
        if isinstance(where, SequenceFilter):
            return self._path(where)
        if isinstance(where, FunnelFilter):
            return self._funnel(where)
        if isinstance(where, ClusterFilter):
            if where.model not in self.compiler.cluster_tables:
                self.clusters.add(where.model)
            clusters = self.compiler.cluster_tables.get(where.model) or exp.to_table(f"cluster_{where.model}")
            alias = self._joined(f"__why_cluster_{where.model}", exp.select(ID_COLUMN, "cluster", "label").from_(clusters.copy()).where(exp.EQ(this=exp.column(ID_COLUMN), expression=lit(self.user))))
            return {"cluster": exp.column("cluster", table=alias), "label": exp.column("label", table=alias)}
        return {}

    def _path(self, where: SequenceFilter) -> dict[str, exp.Expr]:
        """The earliest path (by t1, then t2, ...) that satisfies the sequence: one time per step."""
        query = self.behaviour.sequence_query(self.plan.sequence_pass(where))
        query.set("distinct", None)
        times = [exp.column("__t", table=f"s{i}") for i in range(len(where.steps))]
        query = query.select(exp.alias_(exp.column(SEQ_USER, table="s0"), ID_COLUMN), *(exp.alias_(t, f"t{i}") for i, t in enumerate(times)), append=False)
        query = query.order_by(*(t.copy() for t in times)).limit(1)
        alias = self._joined(f"__why_path{len(self.per_user)}", query)
        return {f"step_{i + 1}_at": exp.column(f"t{i}", table=alias) for i in range(len(where.steps))}

    def _funnel(self, where: FunnelFilter) -> dict[str, exp.Expr]:
        """The user's furthest step (0: never entered) and the time of each step reached."""
        width = len(self.defs.funnels[where.funnel].steps)
        rows = exp.alias_(self.compiler.funnel_users(where.funnel), "fu", table=True)
        columns = ["furthest_step", *(f"step_{k}_at" for k in range(1, width + 1))]
        query = exp.select(*(exp.column(c, table="fu") for c in [ID_COLUMN, *columns])).from_(rows).where(
            exp.EQ(this=exp.column("funnel", table="fu"), expression=lit(where.funnel)),
            exp.EQ(this=exp.column(ID_COLUMN, table="fu"), expression=lit(self.user)),
        )
        alias = self._joined(f"__why_funnel{len(self.per_user)}", query)
        values: dict[str, exp.Expr] = {"furthest_step": exp.Coalesce(this=exp.column("furthest_step", table=alias), expressions=[lit(0)])}
        return values | {c: exp.column(c, table=alias) for c in columns[1:]}


def why_query(compiler: SegmentCompiler, names: list[str], user: str) -> tuple[exp.Select, list[WhyNode], list[tuple[WhyNode, list[tuple[str, str]]]], set[str]]:
    """The one SELECT of `why`, the trees it fills, and the cluster models whose tables it reads."""
    query = _WhyQuery(compiler, names, user)
    select, pending = query.build()
    return select, query.roots, pending, query.clusters


def _blame(session: Session, names: list[str], message: str) -> Location | None:
    """Where to blame an engine error: the SQL segment (of those evaluated) whose SQL holds what
    the engine quotes, or the only SQL segment; a filter segment's SQL is segsql's own."""
    segments = session.definitions.segments
    sql = [segments[n] for n in reached(segments, names) if segments[n].sql is not None]
    for seg in sql:
        assert seg.sql is not None
        if seg.error_location(message) != seg.sql.location:
            return seg.error_location(message)
    return sql[0].error_location(message) if len(sql) == 1 else None


def explain_user(session: Session, adapter: Adapter, user: str, names: list[str]) -> Why:
    """Evaluate `names` for `user` at the session's as_of in one query."""
    defs = session.definitions
    compiler = SegmentCompiler(defs, adapter.dialect, session.as_of, source_types(defs.sources, adapter))
    select, roots, pending, clusters = why_query(compiler, names, user)
    for model in sorted(clusters):
        if not adapter.table_exists(f"cluster_{model}"):
            raise UsageError(f"a cluster: leaf reads cluster model {model!r}, whose table cluster_{model} does not exist yet", hint=f"run it first: segsql run --select {model}")
    try:
        columns, rows = adapter.fetch_with_columns(select)
    except EngineError as err:
        blame = _blame(session, names, str(err))
        if blame is None:
            raise
        raise type(err)(str(err), blame) from None
    if not rows:
        raise UsageError(
            f"no user {user!r} at {session.project.as_of}: the id is in none of the users, events or purchases sources (events and purchases count up to --as-of)",
            hint="check the id (ids compare as text, case-sensitively) and --as-of",
        )
    row = dict(zip([c.lower() for c in columns], rows[0], strict=True))
    for node, pairs in pending:
        for key, column in pairs:
            value = row[column]
            if key == "":
                node.verdict = bool(value)
            else:
                node.values[key] = plain_value(value)
        if "sum" in node.values and "count" in node.values:
            total, count = node.values["sum"], node.values["count"]
            node.values["value"] = round(decimal.Decimal(str(total)) / count, 6) if total is not None and count else None
            node.values["value"] = plain_value(node.values["value"])
    return Why(user, session.project.as_of, roots)


def _line(node: WhyNode) -> TreeLine:
    mark = "·" if node.verdict is None else "✓" if node.verdict else "✗"
    values = ", ".join(f"{key}={'missing' if value is None else value}" for key, value in node.values.items())
    return TreeLine(f"{mark} {node.label}" + (f"  [{values}]" if values else ""), [_line(c) for c in node.children])


def print_why(why: Why) -> None:
    """The verdict trees, ✓ true and ✗ false at every node, the compared values in brackets."""
    print_tree(f"why {why.user} at {why.as_of}", [_line(s) for s in why.segments])
