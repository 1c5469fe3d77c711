"""`segsql insights A B ...`: segments side by side on the KPIs a marketer checks before a send.

One query per call: the compiler's fused flags query (one row per user of the universe, one
boolean per segment, its shared scans included) joined to one KPI pass per behavioural
source (events, purchases: each read once for every segment), aggregated into one row.
No filter is re-implemented here; every segment's membership is the compiler's predicate.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlglot import exp

from segsql.compiler.behaviour import BehaviourCompiler
from segsql.compiler.dialects import lit
from segsql.compiler.query import flag_name
from segsql.definitions.filters import Window
from segsql.engines import Adapter
from segsql.errors import UsageError
from segsql.planner import plan_models
from segsql.run.session import Session
from segsql.run.source_check import engine_compiler

ID = "external_user_id"
EVENTS, PURCHASES = "__kpi_events", "__kpi_purchases"
ALL = "all"
DAY_SECONDS = 86_400


@dataclass(frozen=True)
class SegmentKpis:
    """One column of the table: a segment (or the baseline) and its KPIs; None where a KPI is
    undefined (no members, no purchases source, nobody with an event)."""

    segment: str
    size: int
    share_of_baseline: float | None
    pct_purchasers: float | None
    revenue_per_member: float | None
    purchases_per_member: float | None
    aov: float | None
    events_per_member: float | None
    median_days_since_last_event: float | None
    median_days_since_last_purchase: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class InsightsResult:
    as_of: str
    within_days: int
    baseline: str
    segments: list[SegmentKpis]
    #: the baseline's own KPIs (all users of the universe, or the baseline segment)
    baseline_kpis: SegmentKpis

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of,
            "within_days": self.within_days,
            "baseline": self.baseline,
            "segments": [s.as_dict() for s in self.segments],
            "baseline_kpis": self.baseline_kpis.as_dict(),
        }


def every_user(flags: exp.Select) -> exp.Select:
    """The fused flags query without its `WHERE <any flag>`: one row per user of the universe,
    which a baseline of all users needs (the same rows the compiler evaluates segments over)."""
    flags.set("where", None)
    return flags


def _seconds_since(behaviour: BehaviourCompiler, time: exp.Expr) -> exp.Expr:
    return exp.DateDiff(this=behaviour.rules.timestamp(behaviour.as_of), expression=time, unit=exp.var("SECOND"))


def _kpi_pass(behaviour: BehaviourCompiler, source: str, within_days: int) -> exp.Select:
    """Per user of one source: rows in the window, days since the latest row (and, for
    purchases, revenue in the window); one grouped read of the seen rows."""
    start, _ = behaviour.bounds(Window("last_days", within_days))
    time = behaviour.time(source)
    recent = exp.and_(*behaviour.in_window(time, Window("last_days", within_days))) if start else exp.true()
    columns: list[exp.Expr] = [
        exp.alias_(behaviour.user(source), ID),
        exp.alias_(exp.Count(this=exp.Case(ifs=[exp.If(this=recent, true=lit(1))])), "n"),
        exp.alias_(exp.Floor(this=exp.Div(this=_seconds_since(behaviour, exp.Max(this=time.copy())), expression=lit(DAY_SECONDS))), "days_since_last"),
    ]
    if source == "purchases":
        src = behaviour.source("purchases")
        price = behaviour.rules.to_number(exp.column(src.price, table="e"))
        quantity = behaviour.rules.to_number(exp.column(src.quantity, table="e")) if src.quantity else lit(1)
        amount = exp.Mul(this=price, expression=exp.Coalesce(this=quantity, expressions=[lit(1)]))
        columns.append(exp.alias_(exp.Sum(this=exp.Case(ifs=[exp.If(this=recent.copy(), true=amount)])), "revenue"))
    return (
        exp.select(*columns)
        .from_(behaviour.rows(source))
        .where(behaviour.seen(source))
        .group_by(behaviour.user(source))
    )


def _when(flag: exp.Expr, value: exp.Expr) -> exp.Expr:
    return exp.Case(ifs=[exp.If(this=flag, true=value)])


def _aggregates(flag: exp.Expr, has_events: bool, has_purchases: bool) -> list[exp.Expr]:
    """The KPI sums of one segment over the per-user rows (`flag` selects its members)."""
    out: list[exp.Expr] = [exp.Count(this=_when(flag.copy(), lit(1)))]
    if has_purchases:
        p = PURCHASES
        out += [
            exp.Count(this=_when(exp.and_(flag.copy(), exp.GT(this=exp.column("n", table=p), expression=lit(0))), lit(1))),
            exp.Sum(this=_when(flag.copy(), exp.column("revenue", table=p))),
            exp.Sum(this=_when(flag.copy(), exp.column("n", table=p))),
            exp.Median(this=_when(flag.copy(), exp.column("days_since_last", table=p))),
        ]
    if has_events:
        e = EVENTS
        out += [
            exp.Sum(this=_when(flag.copy(), exp.column("n", table=e))),
            exp.Median(this=_when(flag.copy(), exp.column("days_since_last", table=e))),
        ]
    return out


def insights_query(session: Session, adapter: Adapter, names: list[str], baseline: str, within_days: int) -> exp.Select:
    """ONE query: a row of KPI aggregates for each of `names` and for the baseline."""
    compiler = engine_compiler(session, adapter)
    flag_segments = list(dict.fromkeys([*names, *([] if baseline == ALL else [baseline])]))
    plan = plan_models(session.definitions, flag_segments, session.as_of)
    flags = every_user(compiler.render(plan))
    ctes = flags.args.get("with_")
    flags.set("with_", None)
    behaviour = compiler.behaviour(plan)
    sources = session.definitions.sources
    has_events, has_purchases = sources.events is not None, sources.purchases is not None
    query = exp.select().from_(flags.subquery("f"))
    for alias, source, present in ((EVENTS, "events", has_events), (PURCHASES, "purchases", has_purchases)):
        if present:
            on = exp.EQ(this=exp.column(ID, table=alias), expression=exp.column(ID, table="f"))
            query = query.join(_kpi_pass(behaviour, source, within_days).subquery(alias), on=on, join_type="left")
    base_flag: exp.Expr = exp.true() if baseline == ALL else exp.column(flag_name(baseline), table="f")
    columns: list[exp.Expr] = []
    for name in [*names, None]:
        flag = base_flag.copy() if name is None else exp.column(flag_name(name), table="f")
        columns += _aggregates(flag, has_events, has_purchases)
        if name is not None:
            columns.append(exp.Count(this=_when(exp.and_(flag.copy(), base_flag.copy()), lit(1))))
    query = query.select(*(exp.alias_(c, f"k{i}") for i, c in enumerate(columns)))
    if ctes is not None:
        query.set("with_", ctes)
    return query


def _ratio(a: Any, b: Any) -> float | None:
    return None if a is None or not b else float(a) / float(b)


def _kpis(name: str, values: list[Any], has_events: bool, has_purchases: bool, in_base: int | None, base_size: int) -> SegmentKpis:
    it = iter(values)
    size = int(next(it))
    purchasers = revenue = purchases = days_purchase = events = days_event = None
    if has_purchases:
        purchasers, revenue, purchases, days_purchase = next(it), next(it) or 0, next(it) or 0, next(it)
    if has_events:
        events, days_event = next(it) or 0, next(it)
    return SegmentKpis(
        segment=name,
        size=size,
        share_of_baseline=_ratio(size if in_base is None else in_base, base_size),
        pct_purchasers=None if purchasers is None else _ratio(100 * int(purchasers), size),
        revenue_per_member=_ratio(revenue, size) if has_purchases else None,
        purchases_per_member=_ratio(purchases, size) if has_purchases else None,
        aov=_ratio(revenue, purchases) if has_purchases else None,
        events_per_member=_ratio(events, size) if has_events else None,
        median_days_since_last_event=None if days_event is None else float(days_event),
        median_days_since_last_purchase=None if days_purchase is None else float(days_purchase),
    )


def segment_insights(session: Session, adapter: Adapter, names: list[str], baseline: str, within_days: int) -> InsightsResult:
    if baseline != ALL and baseline not in session.definitions.segments:
        raise UsageError(f"--baseline {baseline!r} is neither 'all' nor a segment", hint="name a segment of the project, or use --baseline all")
    sources = session.definitions.sources
    has_events, has_purchases = sources.events is not None, sources.purchases is not None
    row = list(adapter.fetch(insights_query(session, adapter, names, baseline, within_days))[0])
    width = 1 + 4 * has_purchases + 2 * has_events
    base_values = row[len(names) * (width + 1):]
    base_size = int(base_values[0])
    segments = []
    for i, name in enumerate(names):
        chunk = row[i * (width + 1):(i + 1) * (width + 1)]
        segments.append(_kpis(name, chunk[:width], has_events, has_purchases, int(chunk[width]), base_size))
    base_name = "all users" if baseline == ALL else baseline
    return InsightsResult(session.project.as_of, within_days, baseline, segments, _kpis(base_name, base_values, has_events, has_purchases, None, base_size))


KPI_ROWS: list[tuple[str, str, str]] = [
    ("size", "size", "{:,.0f}"),
    ("share of baseline", "share_of_baseline", "{:.1%}"),
    ("% purchasers", "pct_purchasers", "{:.1f}%"),
    ("revenue / member", "revenue_per_member", "{:,.2f}"),
    ("purchases / member", "purchases_per_member", "{:.2f}"),
    ("AOV", "aov", "{:,.2f}"),
    ("events / member", "events_per_member", "{:.2f}"),
    ("median days since last event", "median_days_since_last_event", "{:g}"),
    ("median days since last purchase", "median_days_since_last_purchase", "{:g}"),
]


def print_insights(result: InsightsResult) -> None:
    """KPIs as rows, segments as columns, the baseline last (the layout of Braze's compare view)."""
    from segsql.reports import output

    columns = [*result.segments, result.baseline_kpis]
    rows = []
    for label, key, form in KPI_ROWS:
        values = [getattr(c, key) for c in columns]
        rows.append([label, *("–" if v is None else form.format(v) for v in values)])
    title = f"insights at {result.as_of}, behaviour in the last {result.within_days} days, baseline: {result.baseline_kpis.segment}"
    output.print_table(title, ["kpi", *(c.segment for c in result.segments), f"baseline ({result.baseline_kpis.segment})"], rows)
