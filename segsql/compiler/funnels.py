"""Funnels → SQL: one shared pass over each source for every funnel, then each funnel's paths.

`FunnelCompiler.users(names)` is one query returning, for every funnel of `names`, one row
per user who entered it (SPEC 4): `funnel`, `external_user_id`, `breakdown`,
`furthest_step`, `step_1_at` .. `step_<k>_at` (k the most steps of any funnel). Its first
CTE, `__funnel_rows`, reads each source once (a UNION ALL of the events and purchases rows
any funnel needs, with one boolean per funnel step and exclusion and the held values), so
adding funnels adds columns, not passes. The step table and the trends (`funnel_tables.py`)
are computed from that result once it is staged.

Each funnel takes one of two shapes (`is_greedy`):

- **greedy** — sequential, strict over event steps only, or any order; no `within_previous`,
  no exclusions, and no row can match two steps. From each entry time the earliest
  continuation is optimal, so the rows are grouped per (user, held values, time), a window
  gives each group the next time of every step at or after it, and a path is a chain of
  equi-joins on those times (strict: on the next *event* time of the user, by counts of
  events at or before each time). The entry with the most steps, then the earliest times, wins.
- **paths** — everything else: occurrences are joined step by step as in SPEC 4's
  definition of a path (distinct rows by a per-user row number, every limit in the join),
  exact but slower on users with many candidate rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations

from sqlglot import exp

from segsql.compiler.behaviour import BehaviourCompiler
from segsql.compiler.column_types import ColumnTypes
from segsql.compiler.conditions import ConditionCompiler, two_valued
from segsql.compiler.dialects import lit
from segsql.compiler.funnel_paths import PathBuilder
from segsql.compiler.query import SegmentCompiler
from segsql.compiler.registry import rules_for
from segsql.definitions.funnels import Funnel, RowFilter
from segsql.definitions.project import Definitions
from segsql.planner.plan import Plan

ROWS = "__funnel_rows"
SEQ = "__funnel_seq"
SRC, UID, T, RID, EV_LE, EV_AT = "__src", "__uid", "__t", "__rid", "__ev_le", "__ev_at"
SOURCES = ("events", "purchases")
ID_COLUMN = "external_user_id"


def is_greedy(funnel: Funnel) -> bool:
    """Can the earliest continuation from each entry decide the funnel (see the module docstring)?"""
    if funnel.exclusions or any(s.within_previous_s is not None for s in funnel.steps):
        return False
    if any(a.rows.may_overlap(b.rows) for a, b in combinations(funnel.steps, 2)):
        return False
    return not (funnel.order == "strict" and any(s.rows.source != "events" for s in funnel.steps))


@dataclass(frozen=True)
class Columns:
    """Names of one funnel's columns in the shared pass (funnel index `fi`, 1-based steps)."""

    fi: int

    def step(self, j: int) -> str:
        return f"__f{self.fi}_s{j}"

    def exclusion(self, x: int) -> str:
        return f"__f{self.fi}_x{x}"

    def hold(self, j: int, m: int) -> str:
        return f"__f{self.fi}_h{j}_{m}"


class FunnelCompiler:
    """Compiles the funnels of a project for one dialect and one `as_of`."""

    def __init__(
        self,
        definitions: Definitions,
        dialect: str,
        as_of: dt.datetime,
        types: ColumnTypes | None = None,
        *,
        cluster_tables: Mapping[str, exp.Table] | None = None,
        funnel_tables: Mapping[str, exp.Table] | None = None,
    ):
        """`cluster_tables` and `funnel_tables`: where an audience's `cluster:` and `funnel:`
        leaves read results a run has staged (see `SegmentCompiler`)."""
        self.defs = definitions
        self.cluster_tables = dict(cluster_tables or {})
        self.funnel_tables = dict(funnel_tables or {})
        self.dialect = dialect
        self.rules = rules_for(dialect)
        self.as_of = as_of
        self.conditions = ConditionCompiler(self.rules, as_of, types)
        # the row-level SQL of the sources (time, user, seen rows, occurrences) needs no segment plan
        self.behaviour = BehaviourCompiler(self.conditions, definitions.sources, definitions.config.timezone, Plan("flags", as_of, ()), dialect)

    def funnel(self, name: str) -> Funnel:
        return self.defs.funnels[name]

    def max_steps(self, names: list[str]) -> int:
        return max(len(self.funnel(n).steps) for n in names)

    # -- the shared pass ---------------------------------------------------------------------
    def _filters(self, funnels: list[Funnel], source: str) -> list[RowFilter]:
        return [r for f in funnels for r in [*(s.rows for s in f.steps), *(x.rows for x in f.exclusions)] if r.source == source]

    def _restriction(self, funnels: list[Funnel], source: str) -> list[exp.Expr]:
        """The rows a source's part reads: the names any funnel needs (strict order needs every event)."""
        if source == "events" and any(f.order == "strict" for f in funnels):
            return []
        filters = self._filters(funnels, source)
        if any(r.names is None for r in filters):
            return []
        names = tuple(sorted({n for r in filters for n in (r.names or ())}))
        return [self.behaviour.occurrence(source, names, (), None)]

    def _hold_value(self, source: str, funnel: Funnel, j: int, m: int) -> exp.Expr:
        """Held value m of step j on a row of `source`, NULL when missing ('' is missing too)."""
        step = funnel.steps[j - 1]
        ref = step.hold[m]
        kind = exp.DataType.Type.VARCHAR if ref.type == "string" else exp.DataType.Type.DOUBLE
        if step.rows.source != source:
            return exp.cast(exp.null(), kind)
        value = self.conditions.value(ref, "e", self.behaviour.source(source).table).sql
        if ref.type == "string":
            return exp.Nullif(this=self.rules.to_text(value), expression=lit(""))
        return self.rules.to_number(value)

    def _flag(self, source: str, rows: RowFilter) -> exp.Expr:
        if rows.source != source:
            return exp.false()
        return two_valued(self.behaviour.occurrence(source, rows.names, rows.where, None))

    def _part(self, funnels: list[Funnel], source: str) -> exp.Select:
        b = self.behaviour
        columns: list[exp.Expr] = [exp.alias_(lit(SOURCES.index(source)), SRC), exp.alias_(b.user(source), UID), exp.alias_(b.time(source), T)]
        for fi, f in enumerate(funnels):
            c = Columns(fi)
            for j, step in enumerate(f.steps, start=1):
                columns.append(exp.alias_(self._flag(source, step.rows), c.step(j)))
                columns += [exp.alias_(self._hold_value(source, f, j, m), c.hold(j, m)) for m in range(f.holds)]
            columns += [exp.alias_(self._flag(source, x.rows), c.exclusion(i)) for i, x in enumerate(f.exclusions)]
        select = exp.select(*columns).from_(b.rows(source), copy=False)
        return select.where(b.seen(source), *self._restriction(funnels, source), copy=False)

    def shared_rows(self, funnels: list[Funnel]) -> exp.Query:
        """One pass over each source the funnels read: its rows with every funnel's flags."""
        used = [s for s in SOURCES if getattr(self.defs.sources, s) is not None and (self._filters(funnels, s) or (s == "events" and any(f.order == "strict" for f in funnels)))]
        parts = [self._part(funnels, s) for s in used]
        query: exp.Query = parts[0]
        for part in parts[1:]:
            query = exp.union(query, part, distinct=False)
        return query

    def numbered_rows(self, funnels: list[Funnel]) -> exp.Select | None:
        """The shared rows with what strict order and path joins need, or None if no funnel does:
        counts of the user's events at or before / at each time, and a per-user row number."""
        strict = any(f.order == "strict" for f in funnels)
        general = [(fi, f) for fi, f in enumerate(funnels) if not is_greedy(f)]
        if not strict and not general:
            return None
        columns: list[exp.Expr] = [exp.Star()]
        by_time = exp.Order(expressions=[exp.Ordered(this=exp.column(T))])
        if strict:
            is_event = exp.Case(ifs=[exp.If(this=exp.EQ(this=exp.column(SRC), expression=lit(0)), true=lit(1))])
            for alias, frame in ((EV_LE, ("UNBOUNDED", "PRECEDING")), (EV_AT, ("CURRENT ROW", None))):
                spec = exp.WindowSpec(kind="RANGE", start=frame[0], start_side=frame[1], end="CURRENT ROW")
                window = exp.Window(this=exp.Count(this=is_event.copy()), partition_by=[exp.column(UID)], order=by_time.copy(), spec=spec)
                columns.append(exp.alias_(window, alias))
        if general:
            keys = [exp.column(T), exp.column(SRC)]
            for fi, f in general:
                c = Columns(fi)
                keys += [exp.column(c.step(j)) for j in range(1, len(f.steps) + 1)]
                keys += [exp.column(c.hold(j, m)) for j in range(1, len(f.steps) + 1) for m in range(f.holds)]
                keys += [exp.column(c.exclusion(i)) for i in range(len(f.exclusions))]
            order = exp.Order(expressions=[exp.Ordered(this=k, nulls_first=True) for k in keys])
            columns.append(exp.alias_(exp.Window(this=exp.RowNumber(), partition_by=[exp.column(UID)], order=order), RID))
        return exp.select(*columns).from_(ROWS)

    # -- the query ---------------------------------------------------------------------------
    def users(self, names: list[str]) -> exp.Select:
        """Every funnel's entered users, one row per (funnel, user), from one pass per source."""
        funnels = [self.funnel(n) for n in names]
        width = self.max_steps(names)
        ctes: dict[str, exp.Query] = {ROWS: self.shared_rows(funnels)}
        numbered = self.numbered_rows(funnels)
        if numbered is not None:
            ctes[SEQ] = numbered
        parts = []
        for fi, f in enumerate(funnels):
            builder = PathBuilder(self, f, Columns(fi), SEQ if numbered is not None else ROWS, lambda alias, q: ctes.setdefault(alias, q))
            chosen = builder.chosen(f"__funnel{fi}")
            parts.append(self._output(f, chosen, width))
        query: exp.Query = parts[0]
        for part in parts[1:]:
            query = exp.union(query, part, distinct=False)
        select = self._with_breakdowns(funnels, query.subquery("f", copy=False), width)
        for alias, cte in ctes.items():
            select = select.with_(alias, as_=cte, copy=False)
        return select

    def _with_breakdowns(self, funnels: list[Funnel], rows: exp.Subquery, width: int) -> exp.Select:
        """The funnels' rows with each one's breakdown value: one join to users for all of them."""
        c = exp.column
        users = self.defs.sources.users
        ifs = []
        if users is not None:
            for f in funnels:
                if f.breakdown is not None:
                    value = self.rules.to_text(self.conditions.value(f.breakdown, "u", users.table).sql)
                    ifs.append(exp.If(this=exp.EQ(this=c("funnel", table="f"), expression=lit(f.name)), true=value))
        breakdown: exp.Expr = exp.Case(ifs=ifs) if ifs else exp.cast(exp.null(), exp.DataType.Type.VARCHAR)
        columns = [c("funnel", table="f"), c(ID_COLUMN, table="f"), exp.alias_(breakdown, "breakdown"), c("furthest_step", table="f")]
        select = exp.select(*columns, *(c(f"step_{j}_at", table="f") for j in range(1, width + 1))).from_(rows, copy=False)
        if ifs and users is not None:
            on = exp.EQ(this=self.rules.to_text(c(users.id, table="u")), expression=c(ID_COLUMN, table="f"))
            select = select.join(exp.alias_(exp.to_table(users.table, dialect=self.dialect), "u", table=True), on=on, join_type="left", copy=False)
        return select

    def _output(self, funnel: Funnel, chosen: str, width: int) -> exp.Select:
        """The funnel's rows of the result: its audience applied, step times padded to `width`."""
        c = exp.column
        select = exp.select().from_(exp.alias_(exp.to_table(chosen), "c", table=True))
        times = [c(f"__t{j}", table="c") if j <= len(funnel.steps) else exp.cast(exp.null(), self.rules.timestamp_type) for j in range(1, width + 1)]
        select = select.select(
            exp.alias_(lit(funnel.name), "funnel"),
            exp.alias_(c(UID, table="c"), ID_COLUMN),
            exp.alias_(c("__reached", table="c"), "furthest_step"),
            *(exp.alias_(t, f"step_{j}_at") for j, t in enumerate(times, start=1)),
        )
        if funnel.audience is not None:
            members = SegmentCompiler(self.defs, self.dialect, self.as_of, self.conditions.types, self.cluster_tables, self.funnel_tables).members(funnel.audience)
            select = select.where(c(UID, table="c").isin(query=members))
        return select

