"""`segsql insights SEG --by-split` (SPEC 8.5): did the variants convert better than the holdout?

Every user a run ever put in the segment counts, in the group and from the instant of its
first entry (the change log `segsql_changes`, whose `as_of` is the membership table's
`entered_at`) — also those who left since: a readout of current members only would drop
exactly the users whom the campaign moved out of the audience (a lapsed user who came back
and bought), an intent-to-treat readout keeps them. A user converts when it does the metric
(any purchase, or an event of a name) in [entered, entered + W days), seen at `as_of`. One
query counts users and converters per group; the statistics are computed in Python
(segsql/reports/stats.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from sqlglot import exp

from segsql.compiler.dialects import lit
from segsql.engines import Adapter
from segsql.errors import UsageError
from segsql.planner import plan_models
from segsql.reports.stats import compare
from segsql.run.session import Session
from segsql.run.source_check import engine_compiler
from segsql.run.state import CHANGES, ENTERED_AT, SEGMENT_ID, SPLIT_GROUP


@dataclass(frozen=True)
class Metric:
    source: str  # "events" or "purchases"
    event: str | None = None

    @property
    def label(self) -> str:
        return "purchase" if self.source == "purchases" else f"event:{self.event}"


def parse_metric(text: str) -> Metric:
    if text == "purchase":
        return Metric("purchases")
    if text.startswith("event:") and text[6:].strip():
        return Metric("events", text[6:].strip())
    raise UsageError(f"--metric {text!r} is not a metric", hint="use purchase or event:NAME (e.g. event:app_open)")


@dataclass(frozen=True)
class GroupReadout:
    group: str
    holdout: bool
    size: int
    converters: int
    conversion: float | None
    #: relative lift of the conversion over the control's: (p − p0) / p0
    lift: float | None
    difference: float | None
    p_value: float | None
    ci_low: float | None
    ci_high: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SplitReadout:
    segment: str
    as_of: str
    metric: str
    within_days: int
    control: str
    groups: list[GroupReadout]

    def as_dict(self) -> dict[str, Any]:
        return {"segment": self.segment, "as_of": self.as_of, "metric": self.metric, "within_days": self.within_days,
                "control": self.control, "groups": [g.as_dict() for g in self.groups]}


def _after(moment: exp.Expr, days: int) -> exp.Expr:
    seconds = int(dt.timedelta(days=days).total_seconds())
    return exp.Add(this=moment, expression=exp.Interval(this=exp.Literal.string(str(seconds)), unit=exp.var("SECOND")))


def first_entries(adapter: Adapter, segment: str) -> exp.Select:
    """Each user's first entry into `segment`: (external_user_id, split_group, entered_at)."""
    ranked = exp.select(
        exp.column(SEGMENT_ID), exp.column(SPLIT_GROUP), exp.alias_(exp.column("as_of"), ENTERED_AT),
        exp.alias_(exp.Window(this=exp.RowNumber(), partition_by=[exp.column(SEGMENT_ID)],
                              order=exp.Order(expressions=[exp.Ordered(this=exp.column("as_of"))])), "__n"),
    ).from_(adapter.table(CHANGES)).where(exp.and_(
        exp.EQ(this=exp.column("segment"), expression=lit(segment)),
        exp.EQ(this=exp.column("change"), expression=lit("entered")),
    ))
    return exp.select(exp.column(SEGMENT_ID), exp.column(SPLIT_GROUP), exp.column(ENTERED_AT)).from_(ranked.subquery("r")).where(
        exp.EQ(this=exp.column("__n"), expression=lit(1)))


def readout_query(session: Session, adapter: Adapter, segment: str, metric: Metric, within_days: int) -> exp.Select:
    """Per split group: users assigned, and those who did the metric within the days after entering."""
    compiler = engine_compiler(session, adapter)
    behaviour = compiler.behaviour(plan_models(session.definitions, [segment], session.as_of))
    source = metric.source
    entered = exp.column(ENTERED_AT, table="m")
    time = behaviour.time(source)
    on = [
        exp.EQ(this=behaviour.user(source), expression=exp.column(SEGMENT_ID, table="m")),
        behaviour.seen(source),
        exp.GTE(this=time.copy(), expression=entered.copy()),
        exp.LT(this=time.copy(), expression=_after(entered.copy(), within_days)),
    ]
    if metric.event is not None:
        name = exp.column(session.definitions.sources.events.name, table="e")  # type: ignore[union-attr]
        on.append(exp.EQ(this=behaviour.rules.to_text(name), expression=lit(metric.event)))
    converters = (
        exp.select(exp.column(SEGMENT_ID, table="m")).distinct()
        .from_(first_entries(adapter, segment).subquery("m"))
        .join(behaviour.rows(source), on=exp.and_(*on))
    )
    return (
        exp.select(
            exp.column(SPLIT_GROUP, table="m"),
            exp.Count(this=exp.Star()),
            exp.Count(this=exp.column(SEGMENT_ID, table="c")),
        )
        .from_(first_entries(adapter, segment).subquery("m"))
        .join(converters.subquery("c"), on=exp.EQ(this=exp.column(SEGMENT_ID, table="c"), expression=exp.column(SEGMENT_ID, table="m")), join_type="left")
        .group_by(exp.column(SPLIT_GROUP, table="m"))
    )


def split_readout(session: Session, adapter: Adapter, name: str, metric: Metric, within_days: int) -> SplitReadout:
    seg = session.definitions.segments[name]
    if seg.split is None:
        raise UsageError(f"segment {name!r} has no split", location=seg.location, hint="add split: with groups (SPEC 2) or drop --by-split")
    sources = session.definitions.sources
    if (sources.events if metric.source == "events" else sources.purchases) is None:
        raise UsageError(f"--metric {metric.label}: the project declares no {metric.source} source", hint="declare it in models/sources.yml")
    counts = {}
    if adapter.table_exists(CHANGES):
        counts = {str(r[0]): (int(r[1]), int(r[2])) for r in adapter.fetch(readout_query(session, adapter, name, metric, within_days))}
    if not counts:
        raise UsageError(f"no run has put anyone in segment {name!r} yet: a readout reads each member's group and entry time from the runs' change log",
                         hint=f"run it first: segsql run --select {name}")
    names = [g for g, _ in seg.split.groups]
    control = seg.split.holdout or names[0]
    c_size, c_conv = counts.get(control, (0, 0))
    groups = []
    for group in names:
        size, conv = counts.get(group, (0, 0))
        rate = conv / size if size else None
        is_control = group == control
        stats = None if is_control else compare(conv, size, c_conv, c_size)
        base = c_conv / c_size if c_size else None
        lift = None if is_control or rate is None or not base else (rate - base) / base
        groups.append(GroupReadout(
            group, group == seg.split.holdout, size, conv, rate, lift,
            stats.difference if stats else None, stats.p_value if stats else None,
            stats.ci_low if stats else None, stats.ci_high if stats else None,
        ))
    return SplitReadout(name, session.project.as_of, metric.label, within_days, control, groups)


def print_readout(result: SplitReadout) -> None:
    from segsql.reports import output

    def pct(v: float | None, signed: bool = False) -> str:
        return "–" if v is None else f"{v:+.2%}" if signed else f"{v:.2%}"

    rows = []
    for g in result.groups:
        ci = "–" if g.ci_low is None or g.ci_high is None else f"[{g.ci_low:+.2%}, {g.ci_high:+.2%}]"
        p = "–" if g.p_value is None else f"{g.p_value:.4f}"
        name = g.group + (" (holdout)" if g.holdout else " (control)" if g.group == result.control else "")
        rows.append([name, f"{g.size:,}", f"{g.converters:,}", pct(g.conversion), pct(g.lift, True), pct(g.difference, True), ci, p])
    title = f"{result.segment} by split at {result.as_of}: {result.metric} within {result.within_days} days of entering"
    output.print_table(title, ["group", "size", "converters", "conversion", "lift", "difference", "95% CI", "p-value"], rows)
