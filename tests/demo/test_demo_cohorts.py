"""The demo's monthly buyer cohort tells a story: 13 months of cohorts, a full triangle, and
buyers coming back in every period (the oldest cohort still in its twelfth month)."""

from __future__ import annotations

from pathlib import Path

from segsql.demo.seed import seed_demo
from segsql.engines.duckdb import DuckDBAdapter
from segsql.reports.cohorts import cohort_report
from segsql.run.session import Options, open_session

ROOT = Path(__file__).resolve().parents[2]
AS_OF = "2026-11-22T12:00:00Z"


def test_the_demo_buyer_cohort_is_a_full_non_trivial_triangle(tmp_path: Path) -> None:
    session = open_session(Options(ROOT), AS_OF, need_target=False)
    cohort = session.definitions.cohorts["monthly_buyers"]
    assert (cohort.period, cohort.periods) == ("month", 12) and cohort.description
    with DuckDBAdapter(str(tmp_path / "demo.duckdb")) as adapter:
        seed_demo(adapter, users=1500, seed=42, as_of=session.as_of)
        report = cohort_report(session, adapter, "monthly_buyers")
    starts = sorted({r["cohort_start"] for r in report.rows})
    assert len(starts) >= 13 and starts[-1] == "2026-11-01"
    periods = {start: [r for r in report.rows if r["cohort_start"] == start] for start in starts}
    assert [len(periods[s]) for s in starts[-13:]] == list(range(13, 0, -1))  # the triangle
    assert all(r["returned"] > 0 for r in report.rows if r["period"] > 0 and r["cohort_size"] >= 50)
    assert 0.05 < sum(r["returned"] for r in report.rows if r["period"] == 1) / sum(r["cohort_size"] for r in report.rows if r["period"] == 1) < 0.6
