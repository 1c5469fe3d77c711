"""Cohort retention → SQL (SPEC 8.2): one pass over each source for every cohort of a run.

`CohortCompiler.table(names)` is one query whose rows are every cohort's table, tagged with
the cohort's name: `cohort`, `cohort_start` (DATE), `breakdown` (text, NULL its own group),
`period`, `cohort_size`, `returned`, `retention`. Its CTEs:

- `__cohort_rows`: the seen rows of each source any cohort reads (a UNION ALL of one SELECT per
  source), with one boolean per cohort for "is an entry row" and one for "is a return row", so
  more cohorts add columns, not passes;
- `__cohort_entry`: every user's first entry time per cohort, one grouped pass over those rows;
- per cohort, its users (entry time in the model's window, in the audience, the entry's
  period start and the breakdown value) and its returns (each user's distinct periods with a
  return row strictly after the entry instant);
- the table: the cohort sizes crossed with the periods 0..`periods` that have started by
  `as_of`, plus the returned counts, summed per (cohort_start, breakdown, period).

Periods are calendar periods in the project time zone: a time is converted to local time, then
truncated to its day, its Monday or the first of its month, so a DST change moves no row into
another period. A return's period index is the number of whole periods between the two
period starts (days, days / 7, or months by year × 12 + month).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlglot import exp

from segsql.compiler.behaviour import BehaviourCompiler
from segsql.compiler.column_types import ColumnTypes
from segsql.compiler.conditions import ConditionCompiler, two_valued
from segsql.compiler.dialects import lit
from segsql.compiler.query import SegmentCompiler
from segsql.compiler.registry import rules_for
from segsql.compiler.source_tables import source_table
from segsql.definitions.cohorts import Cohort, CohortRows
from segsql.definitions.project import Definitions
from segsql.planner.plan import Plan

ROWS = "__cohort_rows"
ENTRY = "__cohort_entry"
GRID = "__cohort_grid"
UID, T, N = "__uid", "__t", "__n"
SOURCES = ("events", "purchases")
#: the staged table's columns, in order
COLUMNS = ("cohort", "cohort_start", "breakdown", "period", "cohort_size", "returned", "retention")


def local_period_start(moment: dt.datetime, period: str, timezone: str) -> dt.date:
    """The first day of the period (in `timezone`) of a UTC instant: what the SQL computes per row."""
    day = moment.astimezone(ZoneInfo(timezone)).date()
    if period == "week":
        return day - dt.timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


class CohortCompiler:
    """Compiles the cohorts of a project for one dialect and one `as_of`."""

    def __init__(self, definitions: Definitions, dialect: str, as_of: dt.datetime, types: ColumnTypes | None = None):
        self.defs = definitions
        self.dialect = dialect
        self.rules = rules_for(dialect)
        self.as_of = as_of
        self.timezone = definitions.config.timezone
        self.conditions = ConditionCompiler(self.rules, as_of, types)
        self.behaviour = BehaviourCompiler(self.conditions, definitions.sources, self.timezone, Plan("flags", as_of, ()), dialect)

    def cohort(self, name: str) -> Cohort:
        return self.defs.cohorts[name]

    # -- periods ---------------------------------------------------------------------------
    def period_start(self, time: exp.Expr, period: str) -> exp.Expr:
        """The first day (a DATE) of the local period of a naive UTC timestamp."""
        local = time if self.timezone == "UTC" else exp.ConvertTimezone(source_tz=lit("UTC"), target_tz=lit(self.timezone), timestamp=time)
        unit = self.rules.week_unit if period == "week" else period.upper()
        return exp.cast(exp.TimestampTrunc(this=local, unit=exp.var(unit)), exp.DataType.Type.DATE)

    @staticmethod
    def periods_between(start: exp.Expr, end: exp.Expr, period: str) -> exp.Expr:
        """Whole periods from one period start (a DATE) to a later one."""
        if period == "month":
            def months(day: exp.Expr) -> exp.Expr:
                year = exp.Extract(this=exp.var("YEAR"), expression=day)
                return exp.Add(this=exp.Mul(this=year, expression=lit(12)), expression=exp.Extract(this=exp.var("MONTH"), expression=day.copy()))

            return exp.cast(exp.Sub(this=months(end), expression=exp.paren(months(start))), exp.DataType.Type.BIGINT)
        days: exp.Expr = exp.DateDiff(this=end, expression=start, unit=exp.var("DAY"))
        if period == "week":
            days = exp.Div(this=days, expression=lit(7))
        return exp.cast(days, exp.DataType.Type.BIGINT)

    # -- the shared pass -------------------------------------------------------------------
    @staticmethod
    def _filters(cohorts: list[Cohort], source: str) -> list[CohortRows]:
        return [r for c in cohorts for r in (c.entry, c.returns) if r is not None and r.source == source]

    def _flag(self, source: str, rows: CohortRows | None) -> exp.Expr:
        if rows is None or rows.source != source:
            return exp.false()
        return two_valued(self.behaviour.occurrence(source, rows.names, rows.where, None))

    def _part(self, cohorts: list[Cohort], source: str) -> exp.Select:
        b = self.behaviour
        columns: list[exp.Expr] = [exp.alias_(b.user(source), UID), exp.alias_(b.time(source), T)]
        for i, c in enumerate(cohorts):
            columns += [exp.alias_(self._flag(source, c.entry), f"__c{i}_e"), exp.alias_(self._flag(source, c.returns), f"__c{i}_r")]
        select = exp.select(*columns).from_(b.rows(source), copy=False).where(b.seen(source), copy=False)
        filters = self._filters(cohorts, source)
        if all(r.names is not None for r in filters):  # only the rows of the names some cohort reads
            names = tuple(sorted({n for r in filters for n in r.names or ()}))
            select = select.where(b.occurrence(source, names, (), None), copy=False)
        return select

    def shared_rows(self, cohorts: list[Cohort]) -> exp.Query:
        """One pass over each source the cohorts read: its seen rows with every cohort's flags."""
        parts = [self._part(cohorts, s) for s in SOURCES if self._filters(cohorts, s)]
        query: exp.Query = parts[0]
        for part in parts[1:]:
            query = exp.union(query, part, distinct=False)
        return query

    def first_entries(self, cohorts: list[Cohort]) -> exp.Select:
        """Each user's first entry row time per cohort with an entry filter, in one grouped pass."""
        columns = [
            exp.alias_(exp.Min(this=exp.Case(ifs=[exp.If(this=exp.column(f"__c{i}_e"), true=exp.column(T))])), f"__c{i}")
            for i, c in enumerate(cohorts) if c.entry is not None
        ]
        return exp.select(exp.column(UID), *columns).from_(ROWS).group_by(exp.column(UID))

    # -- one cohort ------------------------------------------------------------------------
    def _users(self, i: int, cohort: Cohort) -> exp.Select:
        """The cohort's users: id, entry time, the entry's period start and the breakdown value."""
        c = exp.column
        users = self.defs.sources.users
        if cohort.entry_attribute is not None:
            assert users is not None
            uid = self.rules.to_text(c(users.id, table="u"))
            entry = self.conditions.value(cohort.entry_attribute, "u", users.table).sql
            select = exp.select(exp.alias_(uid, UID)).from_(exp.alias_(source_table(users.table, self.dialect), "u", table=True))
            select = select.where(exp.NEQ(this=uid.copy(), expression=lit("")))
        else:
            uid, entry = c(UID, table="x"), c(f"__c{i}", table="x")
            select = exp.select(exp.alias_(uid, UID)).from_(exp.alias_(exp.to_table(ENTRY), "x", table=True))
            if cohort.breakdown is not None and users is not None:
                on = exp.EQ(this=self.rules.to_text(c(users.id, table="u")), expression=uid.copy())
                select = select.join(exp.alias_(source_table(users.table, self.dialect), "u", table=True), on=on, join_type="left")
        breakdown: exp.Expr = exp.cast(exp.null(), exp.DataType.Type.VARCHAR)
        if cohort.breakdown is not None and users is not None:
            breakdown = self.rules.to_text(self.conditions.value(cohort.breakdown, "u", users.table).sql)
        select = select.select(
            exp.alias_(entry, "__entry"),
            exp.alias_(self.period_start(entry.copy(), cohort.period), "cohort_start"),
            exp.alias_(breakdown, "breakdown"),
        )
        start, end = self.behaviour.bounds(cohort.entered_within)
        select = select.where(exp.LTE(this=entry.copy(), expression=self.rules.timestamp(self.as_of)))
        if start is not None:
            select = select.where(exp.GTE(this=entry.copy(), expression=self.rules.timestamp(start)))
        if end is not None:
            select = select.where(exp.LT(this=entry.copy(), expression=self.rules.timestamp(end)))
        if cohort.audience is not None:
            members = SegmentCompiler(self.defs, self.dialect, self.as_of, self.conditions.types).members(cohort.audience)
            select = select.where(uid.copy().isin(query=members))
        return select

    def _returns(self, i: int, cohort: Cohort, users: str) -> exp.Select:
        """Each user's distinct periods 0..periods with a return row strictly after its entry."""
        c = exp.column
        n = self.periods_between(c("cohort_start", table="c"), self.period_start(c(T, table="r"), cohort.period), cohort.period)
        return (
            exp.select(c(UID, table="r"), c("cohort_start", table="c"), c("breakdown", table="c"), exp.alias_(n, N))
            .distinct()
            .from_(exp.alias_(exp.to_table(ROWS), "r", table=True))
            .join(exp.alias_(exp.to_table(users), "c", table=True), on=exp.EQ(this=c(UID, table="r"), expression=c(UID, table="c")))
            .where(c(f"__c{i}_r", table="r"), exp.GT(this=c(T, table="r"), expression=c("__entry", table="c")), exp.LTE(this=n.copy(), expression=lit(cohort.periods)))
        )

    def _table(self, cohort: Cohort, users: str, returns: str) -> exp.Select:
        """The cohort's rows: sizes crossed with the started periods, plus the returned counts."""
        c = exp.column
        started_by = self.periods_between(c("cohort_start", table="s"), exp.cast(lit(local_period_start(self.as_of, cohort.period, self.timezone).isoformat()), exp.DataType.Type.DATE), cohort.period)
        sizes = exp.select("cohort_start", "breakdown", exp.alias_(exp.Count(this=exp.Star()), "size")).from_(users).group_by("cohort_start", "breakdown")
        grid = (
            exp.select(c("cohort_start", table="s"), c("breakdown", table="s"), exp.alias_(c(N, table="g"), "period"), exp.alias_(c("size", table="s"), "cohort_size"), exp.alias_(lit(0), "returned"))
            .from_(sizes.subquery("s"))
            .join(exp.alias_(exp.to_table(GRID), "g", table=True), join_type="cross")
            .where(exp.LTE(this=c(N, table="g"), expression=lit(cohort.periods)), exp.LTE(this=c(N, table="g"), expression=started_by))
        )
        back = (
            exp.select("cohort_start", "breakdown", exp.alias_(c(N), "period"), exp.alias_(lit(0), "cohort_size"), exp.alias_(exp.Count(this=exp.Star()), "returned"))
            .from_(returns)
            .group_by("cohort_start", "breakdown", c(N))
        )
        size, returned = (exp.cast(exp.Sum(this=c(name)), exp.DataType.Type.BIGINT) for name in ("cohort_size", "returned"))
        retention = exp.Div(this=exp.cast(exp.Sum(this=c("returned")), exp.DataType.Type.DOUBLE), expression=exp.cast(exp.Sum(this=c("cohort_size")), exp.DataType.Type.DOUBLE))
        return (
            exp.select(
                exp.alias_(lit(cohort.name), "cohort"), "cohort_start", "breakdown", exp.alias_(exp.cast(c("period"), exp.DataType.Type.INT), "period"),
                exp.alias_(size, "cohort_size"), exp.alias_(returned, "returned"), exp.alias_(retention, "retention"),
            )
            .from_(exp.union(grid, back, distinct=False).subquery("t"))
            .group_by("cohort_start", "breakdown", "period")
        )

    # -- the query -------------------------------------------------------------------------
    def table(self, names: list[str]) -> exp.Select:
        """Every cohort's table rows, tagged by cohort, from one pass per source."""
        cohorts = [self.cohort(n) for n in names]
        ctes: dict[str, exp.Query] = {ROWS: self.shared_rows(cohorts)}
        if any(c.entry is not None for c in cohorts):
            ctes[ENTRY] = self.first_entries(cohorts)
        width = max(c.periods for c in cohorts)
        ctes[GRID] = exp.select(N).from_(exp.Values(
            expressions=[exp.Tuple(expressions=[lit(n)]) for n in range(width + 1)],
            alias=exp.TableAlias(this=exp.to_identifier("g"), columns=[exp.to_identifier(N)]),
        ))
        parts: list[exp.Select] = []
        for i, cohort in enumerate(cohorts):
            users, returns = f"__cohort{i}_users", f"__cohort{i}_returns"
            ctes[users] = self._users(i, cohort)
            ctes[returns] = self._returns(i, cohort, users)
            parts.append(self._table(cohort, users, returns))
        query: exp.Query = parts[0]
        for part in parts[1:]:
            query = exp.union(query, part, distinct=False)
        select = exp.select(*COLUMNS).from_(query.subquery("cohorts"))
        for alias, cte in ctes.items():
            select = select.with_(alias, as_=cte, copy=False)
        return select.order_by("cohort", "cohort_start", exp.Ordered(this=exp.column("breakdown"), nulls_first=False), "period")
