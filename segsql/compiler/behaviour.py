"""Behavioural leaves → SQL: occurrence predicates, shared aggregate scans, sequence and RFM passes.

A leaf never scans a table itself: the plan says which metric of which scan answers each
of its measures (and which pass answers a sequence or RFM leaf), and the leaf compares
that per-user column. Scans and passes are rendered from the plan's specs. Aggregates use
`agg(CASE WHEN <occurrence> THEN value END)`, which engines evaluate faster than
`agg(...) FILTER (WHERE ...)`, and skip missing values as the SPEC requires.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from sqlglot import exp

from segsql.compiler.conditions import ConditionCompiler, Typed, two_valued
from segsql.compiler.dialects import lit
from segsql.compiler.source_tables import source_table
from segsql.definitions.filters import (
    BehaviourFilter,
    CatalogCondition,
    RfmFilter,
    RowCondition,
    SequenceFilter,
    SequenceStep,
    Window,
)
from segsql.definitions.sources import Sources
from segsql.planner.plan import Ask, MetricSpec, Numbering, Plan, RfmPass, Scan, SequencePass
from segsql.planner.windows import bounds

ID_COLUMN = "external_user_id"
SEQ_USER = "__uid"  # not external_user_id: the events table may already have that column
UTC_TIME = "__utc_time"  # the converted time column of `rows()`
ROW = "e"
ZERO_WHEN_EMPTY = ("count", "sum", "count_distinct", "revenue")
#: Exact DECIMAL sums (SPEC 3.4); an average is its sum compared against value × `avg_count`.
MONEY = ("sum", "avg", "revenue", "avg_count")
AGGREGATES = {"count": "COUNT", "sum": "SUM", "avg": "SUM", "avg_count": "COUNT", "min": "MIN", "max": "MAX", "first": "MIN", "last": "MAX", "revenue": "SUM", "count_distinct": "COUNT"}


class BehaviourCompiler:
    """Compiles event, purchase, sequence and RFM leaves for one query."""

    def __init__(self, conditions: ConditionCompiler, sources: Sources, timezone: str, plan: Plan, dialect: str):
        self.conditions = conditions
        self.rules = conditions.rules
        self.sources = sources
        self.timezone = timezone
        self.plan = plan
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
        table = source_table(src.table, self.dialect)
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
        return bounds(window, self.as_of, self.timezone)

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
            exp.alias_(source_table(catalog.table, self.dialect), "c", table=True)
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
    def aggregate(self, spec: MetricSpec) -> exp.Expr:
        """`spec.kind` over the rows of `spec` (its value is what sum, avg, ... read)."""
        when = self.occurrence(spec.source, spec.names, spec.where, spec.window)
        kind = spec.kind
        if kind == "count":
            value: exp.Expr = lit(1)
        elif kind in ("first", "last"):
            value = self.time(spec.source)
        elif kind == "revenue":
            value = self._revenue_line()
        elif kind in MONEY:
            assert spec.value is not None
            value = self.conditions.money(spec.value, ROW)
        else:
            assert spec.value is not None
            value = self.conditions.value(spec.value, ROW, self.source(spec.source).table).sql
        if when == exp.true():  # every row of the scan counts: no CASE to evaluate per row
            if kind == "count":
                return exp.Count(this=exp.Star())
            case = value
        else:
            case = exp.Case(ifs=[exp.If(this=when, true=value)])
        if kind in MONEY and AGGREGATES[kind] == "SUM" and not isinstance(case, exp.Cast):
            case = self.rules.as_money(case)  # a no-op, but fakesnow sums an argument that is no CAST as DOUBLE
        if kind == "count_distinct":
            return exp.Count(this=exp.Distinct(expressions=[case]))
        return exp.func(AGGREGATES[kind], case)

    def _revenue_line(self) -> exp.Expr:
        """A purchase row's price × quantity (no quantity: 1), multiplied exactly, as money."""
        src = self.source("purchases")
        price = self.rules.exact(exp.column(src.price, table=ROW))
        if not src.quantity:
            return self.rules.money(price)
        quantity = exp.Coalesce(this=exp.column(src.quantity, table=ROW), expressions=[lit(1)])
        return self.rules.money(exp.Mul(this=price, expression=quantity))

    def measure(self, node: BehaviourFilter, index: int) -> tuple[Typed, Ask]:
        """The per-user value measure `index` of `node` compares, and how the plan answers it:
        with `ask.latest` set, the value is the latest matching row's time (the latest-row rule).
        `why` selects it beside the leaf's boolean."""
        measure = node.measures[index]
        ask = self.plan.ask(node, index)
        scan, metric = self.plan.column(replace(ask.spec, kind="sum") if ask.spec.kind == "avg" else ask.spec)
        column = exp.column(metric, table=scan)
        if ask.latest is not None:
            return Typed(column, "time"), ask
        value: exp.Expr = column
        if measure.kind in ZERO_WHEN_EMPTY:
            value = exp.Coalesce(this=column, expressions=[lit(0)])
        per = None
        if measure.kind == "avg":
            count_scan, count_metric = self.plan.column(replace(ask.spec, kind="avg_count"))
            per = exp.column(count_metric, table=count_scan)
        kind = "time" if measure.kind in ("first", "last") else "money" if measure.kind in MONEY else "number"
        return Typed(value, kind, per), ask

    def measure_test(self, node: BehaviourFilter, index: int) -> exp.Expr:
        """The two-valued comparison of one measure of `node`."""
        value, ask = self.measure(node, index)
        if ask.latest is not None:
            return self._occurred_since(value.sql, ask.since, ask.latest)
        return self.conditions.condition(value, node.measures[index].condition)

    def compile_behaviour(self, node: BehaviourFilter) -> exp.Expr:
        return exp.and_(*(self.measure_test(node, index) for index in range(len(node.measures))))

    def _occurred_since(self, latest: exp.Expr, start: dt.datetime | None, occurred: bool) -> exp.Expr:
        """Did a matching row occur at or after `start` (up to as_of), or (occurred False) none?
        `latest` is the latest matching row's time (the plan's latest-row rule)."""
        missing = exp.Is(this=latest, expression=exp.null())
        if start is None:
            return exp.not_(missing) if occurred else missing
        recent = exp.GTE(this=latest.copy(), expression=self.rules.timestamp(start))
        return two_valued(recent) if occurred else exp.or_(missing, exp.not_(recent))

    # -- scans ----------------------------------------------------------------------------------
    def scan_query(self, scan: Scan) -> exp.Select:
        """One grouped pass over a source computing every metric of the scan."""
        columns = [exp.alias_(self.aggregate(m.spec), m.alias) for m in scan.metrics]
        source = scan.source
        select = exp.select(exp.alias_(self.user(source), ID_COLUMN), *columns).from_(self.rows(source), copy=False)
        return select.where(self.seen(source), *self._restriction(scan), copy=False).group_by(self.user(source), copy=False)

    def _restriction(self, scan: Scan) -> list[exp.Expr]:
        """What a scan reads of the seen rows: only its names, only since its earliest window start."""
        parts = self._names(scan.source, scan.names, ROW) if scan.names is not None else []
        if scan.start is not None:
            parts.append(exp.GTE(this=self.time(scan.source), expression=self.rules.timestamp(scan.start)))
        return parts

    def name_counts(self, source: str, starts: list[dt.datetime]) -> exp.Select:
        """Rows per name (event name or product) up to as_of: in all, and at or after each of
        `starts` (columns n, n0, n1, ...): the facts the cost rule estimates from, in one grouped
        read of two columns (an estimate: rows without a user id are counted too)."""
        src = self.source(source)
        name = self.rules.to_text(exp.column(src.name if source == "events" else src.product, table=ROW))
        since = [
            exp.alias_(exp.Count(this=exp.Case(ifs=[exp.If(this=exp.GTE(this=self.time(source), expression=self.rules.timestamp(start)), true=lit(1))])), f"n{i}")
            for i, start in enumerate(starts)
        ]
        select = exp.select(exp.alias_(name, "name"), exp.alias_(exp.Count(this=exp.Star()), "n"), *since).from_(self.rows(source))
        return select.where(exp.LTE(this=self.time(source), expression=self.rules.timestamp(self.as_of))).group_by(name.copy())

    def skipped_ids(self, scan: Scan) -> exp.Select | None:
        """Ids of the seen rows a scan does not read (other names, before its window), None if it reads all.

        With the scan's own ids they are every id seen in the source, so the universe needs no
        second aggregation over the whole table."""
        restriction = self._restriction(scan)
        if not restriction:
            return None
        select = exp.select(exp.alias_(self.user(scan.source), ID_COLUMN)).from_(self.rows(scan.source)).where(self.seen(scan.source))
        return select.where(exp.not_(two_valued(exp.and_(*restriction))))

    # -- sequences -------------------------------------------------------------------------------
    def _interval(self, time: exp.Expr, seconds: float) -> exp.Expr:
        return exp.Add(this=time, expression=exp.Interval(this=exp.Literal.string(str(round(seconds))), unit=exp.var("SECOND")))

    def _step_rows(self, rows: str, step: SequenceStep, alias: str) -> exp.Expr:
        select = exp.select(exp.column(SEQ_USER), exp.column("__t"), exp.column("__rid")).from_(exp.alias_(exp.to_table(rows), ROW, table=True))
        occurrence = self.occurrence(step.source, step.names, step.where, None)
        return exp.Subquery(this=select.where(occurrence), alias=exp.TableAlias(this=exp.to_identifier(alias)))

    def numbering_query(self, numbering: Numbering) -> exp.Select:
        """Every seen row of a source with its user, time and a row number: the rows sequences join."""
        source = numbering.source
        src = self.source(source)
        name = src.name if source == "events" else src.product
        order = [self.user(source), self.time(source), self.rules.to_text(exp.column(name, table=ROW))]
        if src.properties:
            order.append(self.rules.to_text(exp.column(src.properties, table=ROW)))
        return exp.select(
            exp.Star(),
            exp.alias_(self.user(source), SEQ_USER),
            exp.alias_(self.time(source), "__t"),
            exp.alias_(exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=[exp.Ordered(this=o) for o in order])), "__rid"),
        ).from_(self.rows(source)).where(self.seen(source))

    def compile_sequence(self, node: SequenceFilter) -> exp.Expr:
        alias = self.plan.sequence_pass(node).alias
        return exp.not_(exp.Is(this=exp.column(ID_COLUMN, table=alias), expression=exp.null()))

    def sequence_query(self, sequence_pass: SequencePass) -> exp.Select:
        """The ids with a path of distinct rows t1 <= ... <= tk satisfying every limit (SPEC 3.6)."""
        node, rows = sequence_pass.sequence, sequence_pass.numbering
        steps = node.steps
        t = [exp.column("__t", table=f"s{i}") for i in range(len(steps))]
        select = exp.select(exp.alias_(exp.column(SEQ_USER, table="s0"), ID_COLUMN)).distinct().from_(self._step_rows(rows(steps[0].source), steps[0], "s0"))
        for i, step in enumerate(steps[1:], start=1):
            on = [
                exp.EQ(this=exp.column(SEQ_USER, table=f"s{i}"), expression=exp.column(SEQ_USER, table="s0")),
                exp.GTE(this=t[i].copy(), expression=t[i - 1].copy()),
                # rows of one source are distinct by number; an event is never a purchase row
                *(exp.NEQ(this=exp.column("__rid", table=f"s{i}"), expression=exp.column("__rid", table=f"s{j}")) for j in range(i) if steps[j].source == step.source),
            ]
            if step.within_previous_s is not None:
                on.append(exp.LTE(this=t[i].copy(), expression=self._interval(t[i - 1].copy(), step.within_previous_s)))
            if step.after_previous_s is not None:
                on.append(exp.GTE(this=t[i].copy(), expression=self._interval(t[i - 1].copy(), step.after_previous_s)))
            select = select.join(self._step_rows(rows(step.source), step, f"s{i}"), on=exp.and_(*on))
        where = self.in_window(t[0].copy(), node.window)
        last = t[-1]
        if node.max_span_s is not None:
            where.append(exp.LTE(this=last.copy(), expression=self._interval(t[0].copy(), node.max_span_s)))
        if node.then_not is not None:
            after = [
                exp.EQ(this=exp.column(SEQ_USER, table="x"), expression=exp.column(SEQ_USER, table="s0")),
                exp.GT(this=exp.column("__t", table="x"), expression=last.copy()),
            ]
            if node.then_not_s is not None:  # without within_hours: up to as_of (the numbering holds only seen rows)
                after.append(exp.LTE(this=exp.column("__t", table="x"), expression=self._interval(last.copy(), node.then_not_s)))
            later = exp.select(lit(1)).from_(self._step_rows(rows(node.then_not.source), node.then_not, "x")).where(exp.and_(*after))
            where.append(exp.not_(exp.Exists(this=later)))
        if where:
            select = select.where(exp.and_(*where))
        return select

    # -- RFM ---------------------------------------------------------------------------------------
    def _score(self, value: str) -> exp.Expr:
        """CEIL(5 × CUME_DIST()) in exact integer arithmetic: FLOOR((5c + n − 1) / n)."""
        peers = self.rules.count_at_or_below(exp.column(value))
        total = exp.Window(this=exp.Count(this=exp.Star()))
        numerator = exp.paren(exp.Sub(this=exp.Add(this=exp.Mul(this=lit(5), expression=peers), expression=total), expression=lit(1)))
        return exp.Floor(this=exp.Div(this=numerator, expression=total.copy()))

    def rfm_query(self, rfm: RfmPass) -> exp.Select:
        """Each purchaser's recency, frequency and monetary scores over the window (SPEC 3.7)."""
        per_user = (
            exp.select(
                exp.alias_(self.user("purchases"), ID_COLUMN),
                exp.alias_(exp.Max(this=self.time("purchases")), "last_at"),
                exp.alias_(exp.Count(this=exp.Star()), "purchases"),
                exp.alias_(exp.Coalesce(this=exp.Sum(this=self._revenue_line()), expressions=[lit(0)]), "revenue"),
            )
            .from_(self.rows("purchases"))
            .where(exp.and_(self.seen("purchases"), *self.in_window(self.time("purchases"), rfm.window)))
            .group_by(self.user("purchases"))
        )
        return exp.select(
            exp.column(ID_COLUMN),
            exp.alias_(self._score("last_at"), "recency"),
            exp.alias_(self._score("purchases"), "frequency"),
            exp.alias_(self._score("revenue"), "monetary"),
        ).from_(per_user.subquery("p"))

    def compile_rfm(self, node: RfmFilter) -> exp.Expr:
        alias = self.plan.rfm_pass(node.window).alias
        tests: list[exp.Expr] = [exp.not_(exp.Is(this=exp.column(ID_COLUMN, table=alias), expression=exp.null()))]
        for part, conds in (("recency", node.recency), ("frequency", node.frequency), ("monetary", node.monetary)):
            tests += [self.conditions.condition(Typed(exp.column(part, table=alias), "number"), c) for c in conds]
        return exp.and_(*tests)
