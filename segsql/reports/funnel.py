"""`segsql funnel NAME`: a funnel's step table (or its trends) at `as_of`, and its chart.

The funnel is computed on the target as `run` computes it (one staged query for the
funnel's users, then the step table and the trends from that), in a temporary table that
is dropped afterwards: nothing is written.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from segsql.compiler.funnel_tables import step_table, trends_table
from segsql.compiler.funnels import FunnelCompiler
from segsql.engines import Adapter
from segsql.run.session import Session
from segsql.run.source_check import source_types

if TYPE_CHECKING:
    import altair as alt

STEP_COLUMNS = ("step", "step_name", "breakdown", "users", "conversion_from_previous", "conversion_from_first", "median_seconds_from_previous")
TREND_COLUMNS = ("period_start", "breakdown", "entered", "completed", "conversion")


@dataclass(frozen=True)
class FunnelReport:
    funnel: str
    as_of: str
    order: str
    breakdown: str | None
    steps: list[dict[str, Any]]
    trends: list[dict[str, Any]] | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"funnel": self.funnel, "as_of": self.as_of, "order": self.order, "breakdown": self.breakdown, "steps": self.steps}
        if self.trends is not None:
            out["trends"] = self.trends
        return out


def _records(adapter: Adapter, query: exp.Query, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    names, rows = adapter.fetch_with_columns(query)
    found = [n.lower() for n in names]
    return [{c: row[found.index(c)] if c in found else None for c in columns} for row in rows]


def funnel_report(session: Session, adapter: Adapter, name: str, trends: bool) -> FunnelReport:
    defs = session.definitions
    funnel = defs.funnels[name]
    compiler = FunnelCompiler(defs, adapter.dialect, session.as_of, source_types(defs.sources, adapter))
    staged = exp.table_(f"__segsql_funnel_{uuid.uuid4().hex[:12]}")
    temporary = exp.Properties(expressions=[exp.TemporaryProperty()])
    adapter.execute(exp.Create(this=staged.copy(), kind="TABLE", expression=compiler.users([name]), properties=temporary))
    try:
        steps = _records(adapter, step_table(funnel, staged, compiler.rules), STEP_COLUMNS)
        periods = _records(adapter, trends_table(funnel, staged, defs.config.timezone), TREND_COLUMNS) if trends else None
    finally:
        adapter.execute(exp.Drop(tables=[staged], kind="TABLE", exists=True))
    for row in steps:
        row["step"] = int(row["step"])
        row["users"] = int(row["users"])
    for row in periods or []:
        row["period_start"] = str(row["period_start"])[:10]
    return FunnelReport(name, session.project.as_of, funnel.order, funnel.breakdown.name if funnel.breakdown else None, steps, periods)


def duration(seconds: float | None) -> str:
    """A median time as people read it: 45s, 12m, 3.5h, 2.1d."""
    if seconds is None:
        return ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            value = seconds / size
            return f"{value:.1f}{unit}" if value < 10 else f"{value:.0f}{unit}"
    return f"{seconds:.0f}s"


def percent(share: float | None) -> str:
    return "" if share is None else f"{100 * share:.1f}%"


def step_rows(report: FunnelReport) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The step table as text columns (the breakdown column only with a breakdown)."""
    columns = ["step", "name", *(["breakdown"] if report.breakdown else []), "users", "from previous", "from first", "median time from previous"]
    rows = []
    for r in report.steps:
        value = [r["breakdown"]] if report.breakdown else []
        rows.append((r["step"], r["step_name"], *value, f"{r['users']:,}", percent(r["conversion_from_previous"]), percent(r["conversion_from_first"]), duration(r["median_seconds_from_previous"])))
    return columns, rows


def breakdown_label(value: object) -> str:
    """A breakdown value as a chart shows it: users without one and an empty value are named."""
    return "(no value)" if value is None else "(empty)" if value == "" else str(value)


def chart(report: FunnelReport, trends: bool) -> alt.Chart:
    from segsql.reports import charts

    color = "breakdown" if report.breakdown else None
    if trends:
        assert report.trends is not None
        rows = [{**r, "breakdown": breakdown_label(r["breakdown"])} for r in report.trends] if color else report.trends
        return charts.conversion_lines(rows, "period_start", "conversion", f"{report.funnel}: conversion by entry period", color)
    records = []
    for r in report.steps:
        label = f"{r['users']:,} · {percent(r['conversion_from_first'])}" + (f" · {duration(r['median_seconds_from_previous'])}" if r["median_seconds_from_previous"] is not None else "")
        records.append({**r, "breakdown": breakdown_label(r["breakdown"]) if report.breakdown else None, "label": label})
    return charts.funnel(records, f"{report.funnel} ({report.order}) at {report.as_of}", color)
