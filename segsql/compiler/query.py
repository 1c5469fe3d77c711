"""Render a Plan as the SQL of one or many segments over the universe of users.

Every segment is a boolean over one per-user row: the universe (SPEC "Words") left-joined
to the users source and to the SQL segments it needs. A `segment:` reference to a
filter segment is inlined as that segment's boolean, so many segments evaluate in one
pass; a SQL segment is joined once as a membership flag. What is computed (scans, passes,
the universe's form) was decided by the planner; this module only spells it out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from sqlglot import exp

from segsql.compiler.behaviour import BehaviourCompiler
from segsql.compiler.column_types import ColumnTypes
from segsql.compiler.conditions import ConditionCompiler
from segsql.compiler.dialects import DialectRules, lit
from segsql.compiler.filters import ID_COLUMN, FilterCompiler, trait_row
from segsql.compiler.registry import rules_for
from segsql.compiler.source_tables import source_table
from segsql.compiler.sql_segments import parse_sql_segment, replace_refs
from segsql.definitions.project import Definitions
from segsql.definitions.sources import Column
from segsql.planner import Plan, plan_models, sql_flags_needed
from segsql.planner.plan import Numbering, RfmPass, SequencePass

UNIVERSE = "__universe"
ID_ROW, USERS_ROW = "v", "u"
FLAG_PREFIX = "__seg_"
#: the fused form's ids seen in a source but not read by its shared scan
OTHER_IDS = "__other_ids"


def flag_name(segment: str) -> str:
    return f"{FLAG_PREFIX}{segment}"


def consent_name(channel: str) -> str:
    """The stage column holding whether a member satisfies a channel's consent (SPEC 8.4)."""
    return f"__consent_{channel}"


def _first(ids: list[exp.Expr]) -> exp.Expr:
    """The first non-NULL of the ids joined so far (a FULL JOIN leaves the others NULL)."""
    return ids[0].copy() if len(ids) == 1 else exp.func("COALESCE", *(i.copy() for i in ids))


def _is_universe_id(node: exp.Expr) -> bool:
    return isinstance(node, exp.Column) and node.name == ID_COLUMN and node.table == ID_ROW


class SegmentCompiler:
    """Renders plans of a project's segments for one dialect and one `as_of`."""

    def __init__(
        self,
        definitions: Definitions,
        dialect: str,
        as_of: dt.datetime,
        types: ColumnTypes | None = None,
        cluster_tables: Mapping[str, exp.Table] | None = None,
        funnel_tables: Mapping[str, exp.Table] | None = None,
    ):
        """`types`: what the engine reports about the source columns (a run knows; `compile` does not);
        `cluster_tables`: where `cluster:` leaves read each model's result (a run's staged one;
        by default the model's published `cluster_<name>` table); `funnel_tables`: where `funnel:`
        leaves read a funnel's users (a run's staged table; by default computed inline)."""
        self.defs = definitions
        self.cluster_tables = dict(cluster_tables or {})
        self.funnel_tables = dict(funnel_tables or {})
        self.dialect = dialect
        self.rules: DialectRules = rules_for(dialect)
        self.as_of = as_of
        self.conditions = ConditionCompiler(self.rules, as_of, types)
        self._sql_cache: dict[str, exp.Query] = {}

    def funnel_users(self, name: str) -> exp.Expr:
        """What a `funnel:` leaf reads (`funnel`, `external_user_id`, `furthest_step`): the run's
        staged users, so a run evaluates each funnel once; outside a run (show, compile, unit
        tests) the funnel's query itself."""
        table = self.funnel_tables.get(name)
        if table is not None:
            return table.copy()
        # imported here: funnels.py compiles audiences with this class
        from segsql.compiler.funnels import FunnelCompiler

        compiler = FunnelCompiler(self.defs, self.dialect, self.as_of, self.conditions.types, cluster_tables=self.cluster_tables, funnel_tables=self.funnel_tables)
        return compiler.users([name]).subquery()

    def members(self, name: str) -> exp.Select:
        """SELECT the external ids of one segment's members (for compile, show, SQL refs)."""
        return self.render(plan_models(self.defs, [name], self.as_of, "members"))

    def flags(self, names: list[str]) -> exp.Select:
        """One row per user in any of `names`, with one boolean column per segment: the fused form."""
        return self.render(plan_models(self.defs, names, self.as_of, "flags"))

    def render(self, plan: Plan) -> exp.Select:
        return _Renderer(self, plan).query()

    def behaviour(self, plan: Plan) -> BehaviourCompiler:
        """The row-level SQL of `plan`'s sources (time, user, seen rows) for queries built beside it."""
        return BehaviourCompiler(self.conditions, self.defs.sources, self.defs.config.timezone, plan, self.dialect)

    def sql_segment(self, name: str) -> exp.Query:
        if name not in self._sql_cache:
            self._sql_cache[name] = parse_sql_segment(self.defs.segments[name], self.dialect)
        return self._sql_cache[name]


class _Renderer:
    """One plan's query: its CTEs are collected while the outer SELECT is built."""

    def __init__(self, compiler: SegmentCompiler, plan: Plan):
        self.compiler = compiler
        self.plan = plan
        self.defs = compiler.defs
        self.dialect = compiler.dialect
        self.rules = compiler.rules
        self.as_of = compiler.as_of
        self.conditions = compiler.conditions
        self.behaviour = compiler.behaviour(plan)
        self.ctes: dict[str, exp.Query] = {}

    def query(self) -> exp.Select:
        names = [node.name for node in self.plan.nodes]
        if self.plan.form == "members":
            (name,) = names
            return self._with_ctes(self._members(name))
        return self._with_ctes(self._flags(names))

    # -- the universe -----------------------------------------------------------------------
    def _ids_from(self, table: str, id_column: str, time: Column | None) -> exp.Select:
        ident = self.rules.to_text(exp.column(id_column))
        select = exp.select(exp.alias_(ident, ID_COLUMN)).from_(source_table(table, self.dialect))
        select = select.where(exp.NEQ(this=ident.copy(), expression=lit("")))
        if time is not None:
            moment = self.conditions.time(exp.column(time.column), table, time.column, time.unit)
            select = select.where(exp.LTE(this=moment, expression=self.rules.timestamp(self.as_of)))
        return select

    def universe(self) -> exp.Query:
        """Non-empty ids of users, plus ids in events and purchases seen at `as_of`.

        A source with a shared scan gives the scan's ids plus those of the seen rows the scan
        skips, rather than a second distinct pass over all of its rows."""
        s = self.defs.sources
        parts: list[exp.Select] = []
        if s.users:
            parts.append(self._ids_from(s.users.table, s.users.id, None))
        for scan_alias, other_ids in self._seen_ids():
            if scan_alias is not None:
                parts.append(exp.select(ID_COLUMN).from_(scan_alias))
            if other_ids is not None:
                parts.append(other_ids)
        query: exp.Query = parts[0]
        for part in parts[1:]:
            query = exp.union(query, part, distinct=True)
        if len(parts) == 1:
            query = parts[0].distinct()
        return query

    def _seen_ids(self) -> list[tuple[str | None, exp.Select | None]]:
        """Per behavioural source, in order: its shared scan's alias (None without one) and the
        seen ids that scan does not hold — all of the source's ids when there is no scan, the
        skipped rows' ids when the scan reads only some rows, else None."""
        out: list[tuple[str | None, exp.Select | None]] = []
        for name, source in (("events", self.defs.sources.events), ("purchases", self.defs.sources.purchases)):
            if source is None:
                continue
            scan = self.plan.scan(name)
            if scan is None:
                out.append((None, self._ids_from(source.table, source.user, source.time)))
            else:
                out.append((scan.alias, self.behaviour.skipped_ids(scan)))
        return out

    def _per_user_joins(self, names: Iterable[str]) -> list[str]:
        """Aliases of the per-user passes (sequences, RFM) and SQL segments to LEFT JOIN by id."""
        joined = [p.alias for p in self.plan.passes if not isinstance(p, Numbering)]
        for name in sql_flags_needed(self.defs.segments, names):
            self._register_sql_cte(name)
            joined.append(self._sql_alias(name))
        return joined

    # -- segments as booleans -------------------------------------------------------------------
    def predicate(self, name: str) -> exp.Expr:
        """The two-valued boolean of segment `name` on the current row."""
        seg = self.defs.segments[name]
        if seg.sql is not None:
            return exp.not_(exp.Is(this=exp.column(ID_COLUMN, table=self._sql_alias(name)), expression=exp.null()))
        assert seg.where is not None
        compiler = FilterCompiler(self.conditions, self.defs.sources, self.defs.config.bucket_salt, self._flag, USERS_ROW, ID_ROW, self.behaviour, self.compiler.cluster_tables, self.compiler.funnel_users)
        return compiler.compile(seg.where)

    def consent(self, channel: str) -> exp.Expr:
        """The two-valued consent of channel `channel` on the current row."""
        compiler = FilterCompiler(self.conditions, self.defs.sources, self.defs.config.bucket_salt, self._flag, USERS_ROW, ID_ROW, self.behaviour, self.compiler.cluster_tables, self.compiler.funnel_users)
        return compiler.compile(self.defs.channels[channel].where)

    def _flag(self, name: str) -> exp.Expr:
        return exp.paren(self.predicate(name))

    def _sql_alias(self, name: str) -> str:
        return f"__sql_{name}"

    # -- whole queries --------------------------------------------------------------------------
    def _rows(self, names: Iterable[str]) -> exp.Select:
        """FROM the universe, joined to users, shared scans and passes, and SQL segments."""
        select = exp.select().from_(exp.alias_(exp.to_table(UNIVERSE), ID_ROW, table=True))
        users = self.defs.sources.users
        if users is not None:
            on = exp.EQ(this=self.rules.to_text(exp.column(users.id, table=USERS_ROW)), expression=exp.column(ID_COLUMN, table=ID_ROW))
            select = select.join(exp.alias_(source_table(users.table, self.dialect), USERS_ROW, table=True), on=on, join_type="left")
        joined = [scan.alias for scan in self.plan.scans] + self._per_user_joins(names)
        for alias in joined:
            on = exp.EQ(this=exp.column(ID_COLUMN, table=alias), expression=exp.column(ID_COLUMN, table=ID_ROW))
            select = select.join(exp.to_table(alias), on=on, join_type="left")
        return self._join_traits(select, exp.column(ID_COLUMN, table=ID_ROW))

    def _join_traits(self, select: exp.Select, user_id: exp.Expr) -> exp.Select:
        """LEFT JOIN each trait table the plan reads, once, by its id as text (SPEC 8.3)."""
        for name in self.plan.traits:
            trait = self.defs.sources.traits[name]
            alias = trait_row(name)
            on = exp.EQ(this=self.rules.to_text(exp.column(trait.id, table=alias)), expression=user_id.copy())
            select = select.join(exp.alias_(source_table(trait.table, self.dialect), alias, table=True), on=on, join_type="left")
        return select

    def _joined_rows(self, names: Iterable[str]) -> tuple[exp.Select, exp.Expr]:
        """The fused form's FROM: users FULL JOIN each shared scan FULL JOIN the other seen ids.

        The join is the universe itself (each part holds an id at most once, so the chain does
        too), and each scan is read once: read by a universe UNION as well as joined, an engine
        materializes the scan's result, a second copy of every per-user aggregate (DuckDB, 1M
        users: ~50 MiB more at peak). Returns the select and the expression of the user's id.
        """
        s = self.defs.sources
        parts: list[tuple[exp.Expr, exp.Expr]] = []  # (a table expression, its id)
        if s.users is not None:
            ident = self.rules.to_text(exp.column(s.users.id))
            users = exp.select(exp.Star()).from_(source_table(s.users.table, self.dialect)).where(exp.NEQ(this=ident, expression=lit("")))
            parts.append((users.subquery(USERS_ROW), self.rules.to_text(exp.column(s.users.id, table=USERS_ROW))))
        others: list[exp.Select] = []
        for scan_alias, other_ids in self._seen_ids():
            if scan_alias is not None:
                parts.append((exp.to_table(scan_alias), exp.column(ID_COLUMN, table=scan_alias)))
            if other_ids is not None:
                others.append(other_ids)
        if others:
            query: exp.Query = others[0].distinct() if len(others) == 1 else exp.union(*others, distinct=True)
            self.ctes[OTHER_IDS] = query
            parts.append((exp.to_table(OTHER_IDS), exp.column(ID_COLUMN, table=OTHER_IDS)))
        select = exp.select().from_(parts[0][0])
        ids = [parts[0][1]]
        for table, ident in parts[1:]:
            select = select.join(table, on=exp.EQ(this=ident, expression=_first(ids)), join_type="full")
            ids.append(ident)
        user_id = _first(ids)
        for alias in self._per_user_joins(names):
            select = select.join(exp.to_table(alias), on=exp.EQ(this=exp.column(ID_COLUMN, table=alias), expression=user_id.copy()), join_type="left")
        return self._join_traits(select, user_id), user_id

    def _anchored_rows(self, names: Iterable[str]) -> tuple[exp.Select, exp.Expr]:
        """The anchored form's FROM: the anchor's scan (each of its users once), LEFT JOIN users,
        the other scans and the per-user passes. Every member has a row the scan reads, so no
        other id can be a member. Returns the select and the expression of the user's id."""
        anchor = self.plan.anchor
        assert anchor is not None
        scan = self.plan.scan(anchor.source)
        assert scan is not None
        user_id = exp.column(ID_COLUMN, table=scan.alias)
        select = exp.select().from_(exp.to_table(scan.alias))
        users = self.defs.sources.users
        if users is not None:
            ident = self.rules.to_text(exp.column(users.id))
            rows = exp.select(exp.Star()).from_(source_table(users.table, self.dialect)).where(exp.NEQ(this=ident, expression=lit("")))
            on = exp.EQ(this=self.rules.to_text(exp.column(users.id, table=USERS_ROW)), expression=user_id.copy())
            select = select.join(rows.subquery(USERS_ROW), on=on, join_type="left")
        others = [s.alias for s in self.plan.scans if s is not scan] + self._per_user_joins(names)
        for alias in others:
            select = select.join(exp.to_table(alias), on=exp.EQ(this=exp.column(ID_COLUMN, table=alias), expression=user_id.copy()), join_type="left")
        return self._join_traits(select, user_id), user_id

    def _register_sql_cte(self, name: str) -> None:
        """A SQL segment as a CTE of distinct ids; CTEs cannot see the outer row, so no accidental correlation."""
        alias = self._sql_alias(name)
        if alias in self.ctes:
            return
        query = replace_refs(self.compiler.sql_segment(name), self._members)
        ids = exp.select(exp.alias_(self.rules.to_text(exp.column(ID_COLUMN, table="q")), ID_COLUMN)).distinct()
        ids = ids.from_(exp.Subquery(this=query, alias=exp.TableAlias(this=exp.to_identifier("q"))))
        self.ctes[alias] = ids.where(exp.not_(exp.Is(this=exp.column(ID_COLUMN, table="q"), expression=exp.null())))

    def _members(self, name: str) -> exp.Select:
        predicate = self.predicate(name)
        return self._rows([name]).select(exp.column(ID_COLUMN, table=ID_ROW)).where(predicate)

    def _pass_query(self, shared: Numbering | SequencePass | RfmPass) -> exp.Select:
        if isinstance(shared, Numbering):
            return self.behaviour.numbering_query(shared)
        if isinstance(shared, SequencePass):
            return self.behaviour.sequence_query(shared)
        return self.behaviour.rfm_query(shared)

    def _with_ctes(self, select: exp.Select) -> exp.Select:
        """Attach CTEs in dependency order: numberings, scans, the universe, passes, SQL segments.

        In place (copy=False): copying the whole query once per CTE was most of compiling 50 segments."""
        for shared in self.plan.passes:
            if isinstance(shared, Numbering):
                select = select.with_(shared.alias, as_=self._pass_query(shared), copy=False)
        for scan in self.plan.scans:
            select = select.with_(scan.alias, as_=self.behaviour.scan_query(scan), copy=False)
        if any(t.name == UNIVERSE for q in (select, *self.ctes.values()) for t in q.find_all(exp.Table)):
            select = select.with_(UNIVERSE, as_=self.universe(), copy=False)
        for shared in self.plan.passes:
            if not isinstance(shared, Numbering):
                select = select.with_(shared.alias, as_=self._pass_query(shared), copy=False)
        for alias, query in self.ctes.items():
            select = select.with_(alias, as_=query, copy=False)
        return select

    def _flags(self, names: list[str]) -> exp.Select:
        predicates = [exp.alias_(self.predicate(name), flag_name(name)) for name in names]
        predicates += [exp.alias_(self.consent(channel), consent_name(channel)) for channel in self.plan.channels]
        if self.plan.universe in ("full_join", "anchored"):
            rows, user_id = self._joined_rows(names) if self.plan.universe == "full_join" else self._anchored_rows(names)
            predicates = [p.transform(lambda node: user_id.copy() if _is_universe_id(node) else node, copy=False) for p in predicates]
        else:
            rows, user_id = self._rows(names), exp.column(ID_COLUMN, table=ID_ROW)
        select = rows.select(exp.alias_(user_id, ID_COLUMN) if user_id.alias_or_name != ID_COLUMN else user_id, *predicates)
        any_flag = exp.or_(*(exp.column(flag_name(n), table="f") for n in names))
        # `select` and `any_flag` are this call's own trees: no copy of the whole fused query
        return exp.select(exp.Star()).from_(select.subquery("f", copy=False), copy=False).where(any_flag, copy=False)
