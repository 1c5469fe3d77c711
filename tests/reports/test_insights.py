"""SPEC 6 `insights`: every KPI on every engine equals a plain-Python computation over the same rows."""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Callable
from pathlib import Path

import pytest

from segsql.engines.base import Adapter
from segsql.reports.insights import segment_insights
from segsql.run.session import Options, open_session
from tests.conftest import write_project

AS_OF = dt.datetime(2026, 6, 1, 12, 0, 0)
WINDOW_START = dt.datetime(2026, 5, 2)  # 00:00 of day 30 (UTC project)
USERS = [("u1", "KR"), ("u2", "KR"), ("u3", "JP"), ("u4", "JP")]
EVENTS = [
    ("u1", "app_open", dt.datetime(2026, 5, 30, 10)), ("u1", "app_open", dt.datetime(2026, 5, 31, 12)),
    ("u1", "app_open", dt.datetime(2026, 3, 1)), ("u2", "search", dt.datetime(2026, 4, 1, 12)),
    ("u3", "app_open", dt.datetime(2026, 5, 28, 12)), ("u3", "app_open", dt.datetime(2026, 7, 1)),  # after as_of: unseen
    ("u4", "app_open", dt.datetime(2026, 5, 2, 0, 0, 0)),  # exactly the window start: inside
]
PURCHASES = [  # user, time, product, price, quantity
    ("u1", dt.datetime(2026, 5, 25), "p1", 10.0, 2), ("u1", dt.datetime(2026, 1, 1), "p2", 100.0, 1),
    ("u3", dt.datetime(2026, 5, 31), "p1", 5.5, None), ("u5", dt.datetime(2026, 5, 10), "p3", 7.0, 3),
]
FILES = {
    "models/sources.yml": """
        users: {table: main.users, id: external_id, attributes: {country: string}}
        events: {table: main.events, user: external_id, name: event_name, time: occurred_at}
        purchases: {table: main.purchases, user: external_id, time: purchased_at, product: product_id, price: price, quantity: quantity}
    """,
    "models/segments.yml": """
        segments:
          - name: koreans
            where: {attribute: country, equals: KR}
          - name: recent_buyers
            where: {purchase: any, within: {last_days: 30}}
          - name: app_openers
            where: {event: app_open, within: {last_days: 7}}
    """,
}
MEMBERS = {"koreans": {"u1", "u2"}, "recent_buyers": {"u1", "u3", "u5"}, "app_openers": {"u1", "u3"}}
UNIVERSE = {"u1", "u2", "u3", "u4", "u5"}


def load(adapter: Adapter) -> None:
    adapter.load_rows("users", [("external_id", "VARCHAR"), ("country", "VARCHAR")], USERS)
    adapter.load_rows("events", [("external_id", "VARCHAR"), ("event_name", "VARCHAR"), ("occurred_at", "TIMESTAMP")], EVENTS)
    adapter.load_rows("purchases", [("external_id", "VARCHAR"), ("purchased_at", "TIMESTAMP"), ("product_id", "VARCHAR"), ("price", "DOUBLE"), ("quantity", "BIGINT")], PURCHASES)


def expected(members: set[str], base: set[str]) -> dict[str, float | int | None]:
    """SPEC 6's KPIs, straight from the rows."""
    seen_events = [e for e in EVENTS if e[2] <= AS_OF and e[0] in members]
    seen_purchases = [p for p in PURCHASES if p[1] <= AS_OF and p[0] in members]
    recent = [p for p in seen_purchases if p[1] >= WINDOW_START]
    revenue = sum(p[3] * (p[4] or 1) for p in recent)

    def median_days(rows: list[tuple], at: int) -> float | None:
        last: dict[str, dt.datetime] = {}
        for row in rows:
            last[row[0]] = max(last.get(row[0], row[at]), row[at])
        return float(statistics.median((AS_OF - t).total_seconds() // 86400 for t in last.values())) if last else None

    size = len(members)
    return {
        "size": size,
        "share_of_baseline": len(members & base) / len(base),
        "pct_purchasers": 100 * len({p[0] for p in recent}) / size,
        "revenue_per_member": revenue / size,
        "purchases_per_member": len(recent) / size,
        "aov": revenue / len(recent) if recent else None,
        "events_per_member": len([e for e in seen_events if e[2] >= WINDOW_START]) / size,
        "median_days_since_last_event": median_days(seen_events, 2),
        "median_days_since_last_purchase": median_days(seen_purchases, 1),
    }


def _check(actual: dict[str, object], wanted: dict[str, float | int | None]) -> None:
    for key, value in wanted.items():
        assert actual[key] == (None if value is None else pytest.approx(value)), key


@pytest.mark.parametrize("baseline", ["all", "koreans"])
def test_every_kpi_matches_the_rows_on_every_engine(tmp_path: Path, engine: Callable[[], Adapter], baseline: str) -> None:
    adapter = engine()
    load(adapter)
    session = open_session(Options(write_project(tmp_path / "p", FILES)), AS_OF.isoformat() + "Z", need_target=False)
    names = ["koreans", "recent_buyers", "app_openers"]
    result = segment_insights(session, adapter, names, baseline, 30)
    base = UNIVERSE if baseline == "all" else MEMBERS[baseline]
    assert [s.segment for s in result.segments] == names
    for kpis in result.segments:
        _check(kpis.as_dict(), expected(MEMBERS[kpis.segment], base))
    _check(result.baseline_kpis.as_dict(), expected(base, base))
    assert result.baseline_kpis.size == len(base)


def test_one_query_per_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from segsql.engines.duckdb import DuckDBAdapter

    adapter = DuckDBAdapter(str(tmp_path / "e.duckdb"), "main")
    load(adapter)
    session = open_session(Options(write_project(tmp_path / "p", FILES)), AS_OF.isoformat() + "Z", need_target=False)
    queries: list[str] = []
    fetch = adapter.fetch

    def counting(query: object) -> list[tuple[object, ...]]:
        queries.append(str(query))
        return fetch(query)  # type: ignore[arg-type]

    monkeypatch.setattr(adapter, "fetch", counting)
    segment_insights(session, adapter, ["koreans", "recent_buyers", "app_openers"], "recent_buyers", 30)
    reads = [q for q in queries if "LIMIT 0" not in q.upper()]  # the column-type probes read no rows
    assert len(reads) == 1, reads
