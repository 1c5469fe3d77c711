"""`segsql cohort NAME`: a cohort model's retention triangle at `as_of`, and its heat map.

The triangle is computed on the target by the query `run` stages (`CohortCompiler.table`),
read back without writing anything: one row per cohort (and breakdown value), one column
per period, each cell the share of the cohort that returned in that period.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from segsql.compiler.cohorts import COLUMNS, CohortCompiler
from segsql.engines import Adapter
from segsql.run.session import Session
from segsql.run.source_check import source_types

if TYPE_CHECKING:
    import altair as alt


@dataclass(frozen=True)
class CohortReport:
    cohort: str
    as_of: str
    period: str
    periods: int
    breakdown: str | None
    rows: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {"cohort": self.cohort, "as_of": self.as_of, "period": self.period, "periods": self.periods, "breakdown": self.breakdown, "rows": self.rows}

    def label(self, row: dict[str, Any]) -> str:
        """A cohort's row name: its start, and its breakdown value when there is one."""
        start = str(row["cohort_start"])
        if self.breakdown is None:
            return start
        return f"{start} · {row['breakdown'] if row['breakdown'] is not None else '(missing)'}"

    def triangle(self) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Text columns: the cohort, its size, then the retention of each period (blank: not started)."""
        columns = ["cohort", "users", *(str(n) for n in range(self.periods + 1))]
        lines: dict[str, list[Any]] = {}
        for row in self.rows:
            line = lines.setdefault(self.label(row), [self.label(row), f"{row['cohort_size']:,}", *([""] * (self.periods + 1))])
            line[2 + row["period"]] = f"{100 * row['retention']:.1f}%"
        return columns, [tuple(line) for line in lines.values()]


def cohort_report(session: Session, adapter: Adapter, name: str) -> CohortReport:
    defs = session.definitions
    cohort = defs.cohorts[name]
    compiler = CohortCompiler(defs, adapter.dialect, session.as_of, source_types(defs.sources, adapter))
    names, rows = adapter.fetch_with_columns(compiler.table([name]))
    found = [n.lower() for n in names]
    records = []
    for row in rows:
        record = {c: row[found.index(c)] for c in COLUMNS if c != "cohort"}
        records.append({
            "cohort_start": str(record["cohort_start"])[:10], "breakdown": record["breakdown"], "period": int(record["period"]),
            "cohort_size": int(record["cohort_size"]), "returned": int(record["returned"]), "retention": float(record["retention"]),
        })
    return CohortReport(name, session.project.as_of, cohort.period, cohort.periods, cohort.breakdown.name if cohort.breakdown else None, records)


def chart(report: CohortReport) -> alt.Chart:
    """The retention triangle as a heat map: cohorts down, periods across, cells labelled in %."""
    from segsql.reports import charts

    records = [{**r, "cohort": report.label(r), "label": f"{100 * r['retention']:.0f}%"} for r in report.rows]
    return charts.heatmap(records, "period", "cohort", "retention", f"{report.cohort}: retention by {report.period} since entry, at {report.as_of}", label="label")
