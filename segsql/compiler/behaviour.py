"""Behavioural leaves → SQL: occurrence predicates, shared aggregate scans, sequence and RFM passes.

A leaf never scans a table itself: it registers the aggregates it needs with the
`SharedSteps` of the query and compares the resulting per-user columns. Aggregates use
`agg(CASE WHEN <occurrence> THEN value END)`, which engines evaluate faster than
`agg(...) FILTER (WHERE ...)`, and skip missing values as the SPEC requires.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlglot import exp

from segsql.compiler.conditions import ConditionCompiler, Typed, two_valued
from segsql.compiler.dialects import lit
from segsql.definitions.filters import (
    BehaviourFilter,
    CatalogCondition,
    Measure,
    RfmFilter,
    RowCondition,
    SequenceFilter,
    SequenceStep,
    ValueRef,
    Window,
)
from segsql.definitions.sources import Sources
from segsql.planner import SharedSteps

ID_COLUMN = "external_user_id"
SEQ_USER = "__uid"  # not external_user_id: the events table may already have that column
UTC_TIME = "__utc_time"  # the converted time column of `rows()`
ROW = "e"
ZERO_WHEN_EMPTY = ("count", "sum", "count_distinct", "revenue")
AGGREGATES = {"count": "COUNT", "sum": "SUM", "avg": "AVG", "min": "MIN", "max": "MAX", "first": "MIN", "last": "MAX", "revenue": "SUM", "count_distinct": "COUNT"}


def existence(measure: Measure) -> bool | None:
    """True if `measure` only asks "at least one matching row", False if only "none", else None.

    A count is a whole number ≥ 0, so `gte: 1`, `gt: 0` and `not_equals: 0` all mean "at least
    one", and `equals: 0`, `lt: 1`, `lte: 0` all mean "none"."""
    cond = measure.condition
    if measure.kind != "count" or cond.or_missing or not isinstance(cond.value, int | float) or isinstance(cond.value, bool):
        return None
    v = cond.value
    at_least_one = {"gte": 0 < v <= 1, "gt": 0 <= v < 1}.get(cond.op, False)
    none = {"lt": 0 < v <= 1, "lte": 0 <= v < 1, "equals": v == 0}.get(cond.op, False)
    if not (at_least_one or none):
        return None
    return at_least_one != cond.negated


class BehaviourCompiler:
    """Compiles event, purchase, sequence and RFM leaves for one query."""

    def __init__(self, conditions: ConditionCompiler, sources: Sources, timezone: str, steps: SharedSteps, dialect: str):
        self.conditions = conditions
        self.rules = conditions.rules
        self.sources = sources
        self.zone = ZoneInfo(timezone)
        self.steps = steps
        self.dialect = dialect
        self.as_of = conditions.as_of

    # -- rows of a source ---------------------------------------------------------------------
    def source(self, name: str) -> Any:
        """The events or purchases source (both have `table`, `user`, `time`)."""
        return self.sources.events if name == "events" else self.sources.purchases

    def _converted(self, source: str) -> bool:
        """Does the time column need converting (zoned, epoch, or of unknown type)?"""
        src = self.source(source)
        return src.time.unit is not None or not self.conditions.types.is_naive(src.table, src.time.column)

    def rows(self, source: str, row: str = ROW) -> exp.Expr:
        """FROM for a pass that reads the time many times: a naive time column is read as it is
        (so range predicates on it prune); any other is converted once per row, in a projection
        below the scan, instead of inside every aggregate."""
        src = self.source(source)
        table = exp.to_table(src.table, dialect=self.dialect)
        if not self._converted(source):
            return exp.alias_(table, row, table=True)
        utc = self.rules.to_utc(exp.column(src.time.column), src.time.unit)
        return exp.select(exp.Star(), exp.alias_(utc, UTC_TIME)).from_(table).subquery(row)

    def time(self, source: str, row: str = ROW) -> exp.Expr:
        """The time of a row of `rows(source)`, as a naive UTC timestamp."""
        column = UTC_TIME if self._converted(source) else self.source(source).time.column
        return exp.column(column, table=row)

    def user(self, source: str, row: str = ROW) -> exp.Expr:
        return self.rules.to_text(exp.column(self.source(source).user, table=row))

    def seen(self, source: str, row: str = ROW) -> exp.Expr:
        """Rows every filter sees: a non-empty user id, at or before as_of."""
        return exp.and_(
            exp.NEQ(this=self.user(source, row), expression=lit("")),
            exp.LTE(this=self.time(source, row), expression=self.rules.timestamp(self.as_of)),
        )

    def bounds(self, window: Window | None) -> tuple[dt.datetime | None, dt.datetime | None]:
        """[start, end) of a window in UTC; `end` None means up to as_of (inclusive)."""
        if window is None:
            return None, None
        if window.kind == "last_days":
            local_day = self.as_of.astimezone(self.zone).date() - dt.timedelta(days=int(window.amount))
            start = dt.datetime(local_day.year, local_day.month, local_day.day, tzinfo=self.zone)
            return start.astimezone(dt.UTC), None
        if window.kind == "last_hours":
            return self.as_of - dt.timedelta(hours=window.amount), None
        return window.since, window.until

    def in_window(self, time: exp.Expr, window: Window | None) -> list[exp.Expr]:
        start, end = self.bounds(window)
        parts: list[exp.Expr] = []
        if start is not None:
            parts.append(exp.GTE(this=time.copy(), expression=self.rules.timestamp(start)))
        if end is not None:
            parts.append(exp.LT(this=time.copy(), expression=self.rules.timestamp(end)))
        return parts

    def _names(self, source: str, names: tuple[str, ...] | None, row: str) -> list[exp.Expr]:
        if names is None:
            return []
        src = self.source(source)
        column = src.name if source == "events" else src.product
        return [exp.In(this=self.rules.to_text(exp.column(column, table=row)), expressions=[lit(n) for n in names])]

    def _where(self, source: str, cond: RowCondition | CatalogCondition, row: str) -> exp.Expr:
        table = self.source(source).table
        if isinstance(cond, RowCondition):
            return self.conditions.condition(self.conditions.value(cond.value, row, table), cond.condition)
        catalog = self.sources.catalogs[cond.catalog]
        keys = exp.select(self.rules.to_text(exp.column(catalog.key, table="c"))).from_(
            exp.alias_(exp.to_table(catalog.table, dialect=self.dialect), "c", table=True)
        )
        for f in cond.filters:
            keys = keys.where(self.conditions.condition(self.conditions.value(f.value, "c", catalog.table), f.condition))
        key = self.conditions.value(cond.key, row, table).sql
        return two_valued(key.isin(query=keys))

    def occurrence(self, source: str, names: tuple[str, ...] | None, where: tuple[RowCondition | CatalogCondition, ...], window: Window | None, row: str = ROW) -> exp.Expr:
        """True for a row that counts: the right name, inside the window, every `where` true."""
        parts = self._names(source, names, row) + self.in_window(self.time(source, row), window)
        parts += [self._where(source, c, row) for c in where]
        return exp.and_(*parts) if parts else exp.true()

    # -- event and purchase filters ----------------------------------------------------------------
    def _aggregate(self, node: BehaviourFilter, kind: str, value_ref: ValueRef | None, window: Window | None) -> exp.Expr:
        """`kind` over the rows of `node` inside `window` (`value_ref` is what sum, avg, ... read)."""
        when = self.occurrence(node.source, node.names, node.where, window)
        if kind == "count":
            value: exp.Expr = lit(1)
        elif kind in ("first", "last"):
            value = self.time(node.source)
        elif kind == "revenue":
            src = self.source("purchases")
            price = self.rules.to_number(exp.column(src.price, table=ROW))
            quantity = self.rules.to_number(exp.column(src.quantity, table=ROW)) if src.quantity else lit(1)
            value = exp.Mul(this=price, expression=exp.Coalesce(this=quantity, expressions=[lit(1)]))
        else:
            assert value_ref is not None
            value = self.conditions.value(value_ref, ROW, self.source(node.source).table).sql
        if when == exp.true():  # every row of the scan counts: no CASE to evaluate per row
            if kind == "count":
                return exp.Count(this=exp.Star())
            case = value
        else:
            case = exp.Case(ifs=[exp.If(this=when, true=value)])
        if kind == "count_distinct":
            return exp.Count(this=exp.Distinct(expressions=[case]))
        return exp.func(AGGREGATES[kind], case)

    def compile_behaviour(self, node: BehaviourFilter) -> exp.Expr:
        start, end = self.bounds(node.window)
        tests = []
        for measure in node.measures:
            occurred = existence(measure) if end is None else None
            if occurred is not None:
                tests.append(self._occurred_since(node, start, occurred))
                continue
            column = self.steps.metric(node.source, self._aggregate(node, measure.kind, measure.value, node.window), node.names, start)
            value: exp.Expr = column
            if measure.kind in ZERO_WHEN_EMPTY:
                value = exp.Coalesce(this=column, expressions=[lit(0)])
            kind = "time" if measure.kind in ("first", "last") else "number"
            tests.append(self.conditions.condition(Typed(value, kind), measure.condition))
        return exp.and_(*tests)

    def _occurred_since(self, node: BehaviourFilter, start: dt.datetime | None, occurred: bool) -> exp.Expr:
        """Did a matching row occur at or after `start` (up to as_of), or (occurred False) none?

        Asked as "the latest matching row is at or after start": one MAX per kind of row, shared
        by every window ending at as_of and by `last`, where a COUNT per window would each keep
        its own state per user."""
        latest = self.steps.metric(node.source, self._aggregate(node, "last", None, None), node.names, start)
        missing = exp.Is(this=latest, expression=exp.null())
        if start is None:
            return exp.not_(missing) if occurred else missing
        recent = exp.GTE(this=latest.copy(), expression=self.rules.timestamp(start))
        return two_valued(recent) if occurred else exp.or_(missing, exp.not_(recent))

    # -- scans ----------------------------------------------------------------------------------
    def scan_query(self, source: str) -> exp.Select:
        """One grouped pass over a source computing every registered aggregate."""
        scan = self.steps.scans[source]
        columns = [exp.alias_(aggregate, alias) for alias, aggregate in scan.metrics.values()]
        select = exp.select(exp.alias_(self.user(source), ID_COLUMN), *columns).from_(self.rows(source), copy=False)
        return select.where(self.seen(source), *self._restriction(source), copy=False).group_by(self.user(source), copy=False)

    def _restriction(self, source: str) -> list[exp.Expr]:
        """What a scan reads of the seen rows: only its names, only since its earliest window start."""
        scan = self.steps.scans[source]
        parts = self._names(source, tuple(sorted(scan.names)), ROW) if scan.names is not None else []
        if scan.start is not None:
            parts.append(exp.GTE(this=self.time(source), expression=self.rules.timestamp(scan.start)))
        return parts

    def skipped_ids(self, source: str) -> exp.Select | None:
        """Ids of the seen rows a scan does not read (other names, before its window), None if it reads all.

        With the scan's own ids they are every id seen in the source, so the universe needs no
        second aggregation over the whole table."""
        restriction = self._restriction(source)
        if not restriction:
            return None
        select = exp.select(exp.alias_(self.user(source), ID_COLUMN)).from_(self.rows(source)).where(self.seen(source))
        return select.where(exp.not_(two_valued(exp.and_(*restriction))))

    # -- sequences -------------------------------------------------------------------------------
    def _interval(self, time: exp.Expr, seconds: float) -> exp.Expr:
        return exp.Add(this=time, expression=exp.Interval(this=exp.Literal.string(str(round(seconds))), unit=exp.var("SECOND")))

    def _step_rows(self, rows: str, step: SequenceStep, alias: str) -> exp.Expr:
        select = exp.select(exp.column(SEQ_USER), exp.column("__t"), exp.column("__rid")).from_(exp.alias_(exp.to_table(rows), ROW, table=True))
        occurrence = self.occurrence("events", step.names, step.where, None)
        return exp.Subquery(this=select.where(occurrence), alias=exp.TableAlias(this=exp.to_identifier(alias)))

    def compile_sequence(self, node: SequenceFilter) -> exp.Expr:
        """True when a path of distinct rows t1 <= ... <= tk satisfies every limit (SPEC 3.6)."""
        key = repr((node.steps, node.window, node.max_span_s, node.then_not, node.then_not_s))
        src = self.source("events")
        base = self.rows("events")
        order = [self.user("events"), self.time("events"), self.rules.to_text(exp.column(src.name, table=ROW))]
        if src.properties:
            order.append(self.rules.to_text(exp.column(src.properties, table=ROW)))
        numbered = exp.select(
            exp.Star(),
            exp.alias_(self.user("events"), SEQ_USER),
            exp.alias_(self.time("events"), "__t"),
            exp.alias_(exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=[exp.Ordered(this=o) for o in order])), "__rid"),
        ).from_(base).where(self.seen("events"))
        rows_alias = self.steps.shared_pass("rows:" + key, "seq_rows", numbered)
        t = [exp.column("__t", table=f"s{i}") for i in range(len(node.steps))]
        select = exp.select(exp.alias_(exp.column(SEQ_USER, table="s0"), ID_COLUMN)).distinct().from_(self._step_rows(rows_alias, node.steps[0], "s0"))
        for i, step in enumerate(node.steps[1:], start=1):
            on = [
                exp.EQ(this=exp.column(SEQ_USER, table=f"s{i}"), expression=exp.column(SEQ_USER, table="s0")),
                exp.GTE(this=t[i].copy(), expression=t[i - 1].copy()),
                *(exp.NEQ(this=exp.column("__rid", table=f"s{i}"), expression=exp.column("__rid", table=f"s{j}")) for j in range(i)),
            ]
            if step.within_previous_s is not None:
                on.append(exp.LTE(this=t[i].copy(), expression=self._interval(t[i - 1].copy(), step.within_previous_s)))
            if step.after_previous_s is not None:
                on.append(exp.GTE(this=t[i].copy(), expression=self._interval(t[i - 1].copy(), step.after_previous_s)))
            select = select.join(self._step_rows(rows_alias, step, f"s{i}"), on=exp.and_(*on))
        where = self.in_window(t[0].copy(), node.window)
        last = t[-1]
        if node.max_span_s is not None:
            where.append(exp.LTE(this=last.copy(), expression=self._interval(t[0].copy(), node.max_span_s)))
        if node.then_not is not None and node.then_not_s is not None:
            later = exp.select(lit(1)).from_(self._step_rows(rows_alias, node.then_not, "x")).where(
                exp.and_(
                    exp.EQ(this=exp.column(SEQ_USER, table="x"), expression=exp.column(SEQ_USER, table="s0")),
                    exp.GT(this=exp.column("__t", table="x"), expression=last.copy()),
                    exp.LTE(this=exp.column("__t", table="x"), expression=self._interval(last.copy(), node.then_not_s)),
                )
            )
            where.append(exp.not_(exp.Exists(this=later)))
        if where:
            select = select.where(exp.and_(*where))
        alias = self.steps.shared_pass("seq:" + key, "seq", select)
        return exp.not_(exp.Is(this=exp.column(ID_COLUMN, table=alias), expression=exp.null()))

    # -- RFM ---------------------------------------------------------------------------------------
    def _score(self, value: str) -> exp.Expr:
        """CEIL(5 × CUME_DIST()) in exact integer arithmetic: FLOOR((5c + n − 1) / n)."""
        peers = self.rules.count_at_or_below(exp.column(value))
        total = exp.Window(this=exp.Count(this=exp.Star()))
        numerator = exp.paren(exp.Sub(this=exp.Add(this=exp.Mul(this=lit(5), expression=peers), expression=total), expression=lit(1)))
        return exp.Floor(this=exp.Div(this=numerator, expression=total.copy()))

    def compile_rfm(self, node: RfmFilter) -> exp.Expr:
        src = self.source("purchases")
        price = self.rules.to_number(exp.column(src.price, table=ROW))
        quantity = self.rules.to_number(exp.column(src.quantity, table=ROW)) if src.quantity else lit(1)
        per_user = (
            exp.select(
                exp.alias_(self.user("purchases"), ID_COLUMN),
                exp.alias_(exp.Max(this=self.time("purchases")), "last_at"),
                exp.alias_(exp.Count(this=exp.Star()), "purchases"),
                exp.alias_(exp.Coalesce(this=exp.Sum(this=exp.Mul(this=price, expression=exp.Coalesce(this=quantity, expressions=[lit(1)]))), expressions=[lit(0)]), "revenue"),
            )
            .from_(self.rows("purchases"))
            .where(exp.and_(self.seen("purchases"), *self.in_window(self.time("purchases"), node.window)))
            .group_by(self.user("purchases"))
        )
        scores = exp.select(
            exp.column(ID_COLUMN),
            exp.alias_(self._score("last_at"), "recency"),
            exp.alias_(self._score("purchases"), "frequency"),
            exp.alias_(self._score("revenue"), "monetary"),
        ).from_(per_user.subquery("p"))
        alias = self.steps.shared_pass("rfm:" + repr(node.window), "rfm", scores)
        tests: list[exp.Expr] = [exp.not_(exp.Is(this=exp.column(ID_COLUMN, table=alias), expression=exp.null()))]
        for part, conds in (("recency", node.recency), ("frequency", node.frequency), ("monetary", node.monetary)):
            tests += [self.conditions.condition(Typed(exp.column(part, table=alias), "number"), c) for c in conds]
        return exp.and_(*tests)
