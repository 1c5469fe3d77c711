"""Build the SQL of one or many segments over the universe of users.

Every segment is a boolean over one per-user row: the universe (SPEC "Words") left-joined
to the users source and to the SQL segments it needs. A `segment:` reference to a
filter segment is inlined as that segment's boolean, so many segments evaluate in one
pass; a SQL segment is joined once as a membership flag.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlglot import exp

from segsql.compiler.behaviour import BehaviourCompiler
from segsql.compiler.column_types import ColumnTypes
from segsql.compiler.conditions import ConditionCompiler
from segsql.compiler.dialects import DialectRules, lit, rules_for
from segsql.compiler.filters import ID_COLUMN, FilterCompiler
from segsql.compiler.sql_segments import parse_sql_segment, replace_refs
from segsql.definitions.project import Definitions
from segsql.definitions.sources import Column
from segsql.errors import ProjectError
from segsql.planner import SharedSteps

UNIVERSE = "__universe"
ID_ROW, USERS_ROW = "v", "u"
FLAG_PREFIX = "__seg_"
#: the fused form's ids seen in a source but not read by its shared scan
OTHER_IDS = "__other_ids"


def flag_name(segment: str) -> str:
    return f"{FLAG_PREFIX}{segment}"


def source_table(name: str, dialect: str) -> exp.Table:
    """A source table name as written in sources.yml ([database.]schema.table)."""
    try:
        return exp.to_table(name, dialect=dialect)
    except Exception:
        raise ProjectError(f"bad table name {name!r} in sources.yml", hint="write [database.]schema.table") from None


def _first(ids: list[exp.Expr]) -> exp.Expr:
    """The first non-NULL of the ids joined so far (a FULL JOIN leaves the others NULL)."""
    return ids[0].copy() if len(ids) == 1 else exp.func("COALESCE", *(i.copy() for i in ids))


def _is_universe_id(node: exp.Expr) -> bool:
    return isinstance(node, exp.Column) and node.name == ID_COLUMN and node.table == ID_ROW


class SegmentCompiler:
    """Compiles the segments of a project for one dialect and one `as_of`."""

    def __init__(self, definitions: Definitions, dialect: str, as_of: dt.datetime, types: ColumnTypes | None = None):
        """`types`: what the engine reports about the source columns (a run knows; `compile` does not)."""
        self.defs = definitions
        self.dialect = dialect
        self.rules: DialectRules = rules_for(dialect)
        self.as_of = as_of
        self.conditions = ConditionCompiler(self.rules, as_of, types)
        self._sql_cache: dict[str, exp.Query] = {}
        self._reset()

    def _reset(self) -> None:
        """Each top-level query gets its own shared steps, so a segment alone stays readable."""
        self.steps = SharedSteps()
        self.behaviour = BehaviourCompiler(self.conditions, self.defs.sources, self.defs.config.timezone, self.steps, self.dialect)

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
        skips, rather than a second distinct pass over all of its rows; call it after the
        predicates have registered their scans."""
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
            scan = self.steps.scans.get(name)
            if scan is None:
                out.append((None, self._ids_from(source.table, source.user, source.time)))
            else:
                out.append((scan.alias, self.behaviour.skipped_ids(name)))
        return out

    def _per_user_joins(self, names: Iterable[str], ctes: dict[str, exp.Query]) -> list[str]:
        """Aliases of the per-user passes (sequences, RFM) and SQL segments to LEFT JOIN by id."""
        joined = [alias for alias, _ in self.steps.passes.values() if not alias.startswith("__seq_rows")]
        for name in self.sql_joins_needed(names):
            self._register_sql_cte(name, ctes)
            joined.append(self._sql_alias(name))
        return joined

    # -- segments as booleans -------------------------------------------------------------------
    def sql_segment(self, name: str) -> exp.Query:
        if name not in self._sql_cache:
            self._sql_cache[name] = parse_sql_segment(self.defs.segments[name], self.dialect)
        return self._sql_cache[name]

    def sql_joins_needed(self, names: Iterable[str]) -> list[str]:
        """SQL segments that must be joined as flags: selected ones and those reached by `segment:`."""
        out: list[str] = []
        seen: set[str] = set()

        def visit(name: str) -> None:
            if name in seen:
                return
            seen.add(name)
            seg = self.defs.segments[name]
            if seg.sql is not None:
                out.append(name)
                return
            for dep in seg.dependencies():
                visit(dep)

        for name in names:
            visit(name)
        return out

    def predicate(self, name: str) -> exp.Expr:
        """The two-valued boolean of segment `name` on the current row."""
        seg = self.defs.segments[name]
        if seg.sql is not None:
            return exp.not_(exp.Is(this=exp.column(ID_COLUMN, table=self._sql_alias(name)), expression=exp.null()))
        assert seg.where is not None
        compiler = FilterCompiler(self.conditions, self.defs.sources, self.defs.config.bucket_salt, self._flag, USERS_ROW, ID_ROW, self.behaviour)
        return compiler.compile(seg.where)

    def _flag(self, name: str) -> exp.Expr:
        return exp.paren(self.predicate(name))

    def _sql_alias(self, name: str) -> str:
        return f"__sql_{name}"

    # -- whole queries --------------------------------------------------------------------------
    def _rows(self, names: Iterable[str], ctes: dict[str, exp.Query]) -> exp.Select:
        """FROM the universe, joined to users, shared scans and passes, and SQL segments.

        Call it after compiling the predicates: they register the scans and passes it joins.
        """
        select = exp.select().from_(exp.alias_(exp.to_table(UNIVERSE), ID_ROW, table=True))
        users = self.defs.sources.users
        if users is not None:
            on = exp.EQ(this=self.rules.to_text(exp.column(users.id, table=USERS_ROW)), expression=exp.column(ID_COLUMN, table=ID_ROW))
            select = select.join(exp.alias_(source_table(users.table, self.dialect), USERS_ROW, table=True), on=on, join_type="left")
        joined = [scan.alias for scan in self.steps.scans.values()] + self._per_user_joins(names, ctes)
        for alias in joined:
            on = exp.EQ(this=exp.column(ID_COLUMN, table=alias), expression=exp.column(ID_COLUMN, table=ID_ROW))
            select = select.join(exp.to_table(alias), on=on, join_type="left")
        return select

    def _joined_rows(self, names: Iterable[str], ctes: dict[str, exp.Query]) -> tuple[exp.Select, exp.Expr]:
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
            ctes[OTHER_IDS] = query
            parts.append((exp.to_table(OTHER_IDS), exp.column(ID_COLUMN, table=OTHER_IDS)))
        select = exp.select().from_(parts[0][0])
        ids = [parts[0][1]]
        for table, ident in parts[1:]:
            select = select.join(table, on=exp.EQ(this=ident, expression=_first(ids)), join_type="full")
            ids.append(ident)
        user_id = _first(ids)
        for alias in self._per_user_joins(names, ctes):
            select = select.join(exp.to_table(alias), on=exp.EQ(this=exp.column(ID_COLUMN, table=alias), expression=user_id.copy()), join_type="left")
        return select, user_id

    def _register_sql_cte(self, name: str, ctes: dict[str, exp.Query]) -> None:
        """A SQL segment as a CTE of distinct ids; CTEs cannot see the outer row, so no accidental correlation."""
        alias = self._sql_alias(name)
        if alias in ctes:
            return
        query = replace_refs(self.sql_segment(name), lambda ref: self._members(ref, ctes))
        ids = exp.select(exp.alias_(self.rules.to_text(exp.column(ID_COLUMN, table="q")), ID_COLUMN)).distinct()
        ids = ids.from_(exp.Subquery(this=query, alias=exp.TableAlias(this=exp.to_identifier("q"))))
        ctes[alias] = ids.where(exp.not_(exp.Is(this=exp.column(ID_COLUMN, table="q"), expression=exp.null())))

    def _members(self, name: str, ctes: dict[str, exp.Query]) -> exp.Select:
        predicate = self.predicate(name)
        return self._rows([name], ctes).select(exp.column(ID_COLUMN, table=ID_ROW)).where(predicate)

    def _with_ctes(self, select: exp.Select, ctes: dict[str, exp.Query]) -> exp.Select:
        """Attach CTEs in dependency order: scans, the universe, shared passes, SQL segments.

        In place (copy=False): copying the whole query once per CTE was most of compiling 50 segments."""
        passes = list(self.steps.passes.values())
        for alias, query in passes:
            if alias.startswith("__seq_rows"):
                select = select.with_(alias, as_=query, copy=False)
        for source, scan in self.steps.scans.items():
            select = select.with_(scan.alias, as_=self.behaviour.scan_query(source), copy=False)
        if any(t.name == UNIVERSE for q in (select, *ctes.values()) for t in q.find_all(exp.Table)):
            select = select.with_(UNIVERSE, as_=self.universe(), copy=False)
        for alias, query in passes:
            if not alias.startswith("__seq_rows"):
                select = select.with_(alias, as_=query, copy=False)
        for alias, query in ctes.items():
            select = select.with_(alias, as_=query, copy=False)
        return select

    def members(self, name: str) -> exp.Select:
        """SELECT the external ids of one segment's members (for compile, show, SQL refs)."""
        self._reset()
        ctes: dict[str, exp.Query] = {}
        return self._with_ctes(self._members(name, ctes), ctes)

    def flags(self, names: list[str]) -> exp.Select:
        """One row per user in any of `names`, with one boolean column per segment: the fused form."""
        self._reset()
        ctes: dict[str, exp.Query] = {}
        predicates = [exp.alias_(self.predicate(name), flag_name(name)) for name in names]
        if self.steps.scans:
            rows, user_id = self._joined_rows(names, ctes)
            predicates = [p.transform(lambda node: user_id.copy() if _is_universe_id(node) else node, copy=False) for p in predicates]
        else:
            rows, user_id = self._rows(names, ctes), exp.column(ID_COLUMN, table=ID_ROW)
        select = rows.select(exp.alias_(user_id, ID_COLUMN) if user_id.alias_or_name != ID_COLUMN else user_id, *predicates)
        any_flag = exp.or_(*(exp.column(flag_name(n), table="f") for n in names))
        # `select` and `any_flag` are this call's own trees: no copy of the whole fused query
        outer = exp.select(exp.Star()).from_(select.subquery("f", copy=False), copy=False).where(any_flag, copy=False)
        return self._with_ctes(outer, ctes)

    def plan(self, names: list[str]) -> list[str]:
        """What one fused query over `names` computes (for --dry-run and explain)."""
        self.flags(names)
        return self.steps.describe()
