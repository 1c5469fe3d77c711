"""Run cohorts on an engine and on the pandas reference, in the same shape, plus random cases.

A case is plain data (`main.users`, `main.events`, `main.purchases` rows as dicts), cohorts
as YAML dicts and a project time zone. `on_engine` writes a real project folder, compiles
the cohorts with segsql and reads back the rows of `CohortCompiler.table`; `on_reference`
computes them with `tests/reference_cohorts.py`.

Times come from a pool of instants around local midnights (00:00, 04:00, 05:00, 13:00, 14:00,
22:00, 23:00 UTC, one second either side) on days around the 2026 DST changes of New York
(1 Nov), Berlin (25 Oct) and Sydney (4 Oct), month ends and Mondays, so a row one second
before or after a local period boundary, on either side of a DST change, is common.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from segsql.compiler.cohorts import CohortCompiler
from segsql.engines.base import Adapter
from segsql.run.session import Options, open_session
from tests import reference_cohorts as RC
from tests.funnel_harness import dump

AS_OF = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)
TIMEZONES = ("America/New_York", "Europe/Berlin", "Australia/Sydney", "UTC")
DAYS = ("2026-08-31", "2026-09-30", "2026-10-01", "2026-10-03", "2026-10-04", "2026-10-05", "2026-10-24", "2026-10-25",
        "2026-10-26", "2026-10-31", "2026-11-01", "2026-11-02", "2026-11-03")
HOURS = (0, 4, 5, 13, 14, 22, 23)
USER_IDS = ("u1", "u1", "u2", "u3", "u4", "ghost")
USER_TYPES = {"external_id": "VARCHAR", "country": "VARCHAR", "is_vip": "BOOLEAN", "signup_at": "TIMESTAMP"}
EVENT_TYPES = {"external_id": "VARCHAR", "event_name": "VARCHAR", "occurred_at": "TIMESTAMP"}
PURCHASE_TYPES = {"external_id": "VARCHAR", "purchased_at": "TIMESTAMP", "product_id": "VARCHAR", "price": "DOUBLE"}
TABLES = {"users": USER_TYPES, "events": EVENT_TYPES, "purchases": PURCHASE_TYPES}
SOURCES = {
    "users": {"table": "main.users", "id": "external_id", "attributes": {"country": "string", "is_vip": "boolean", "signup_at": "time"}},
    "events": {"table": "main.events", "user": "external_id", "name": "event_name", "time": "occurred_at"},
    "purchases": {"table": "main.purchases", "user": "external_id", "time": "purchased_at", "product": "product_id", "price": "price"},
}
SEGMENTS = [{"name": "koreans", "where": {"attribute": "country", "equals": "KR"}}]
ENTRIES = ({"purchase": "any"}, {"event": "a"}, {"event": ["a", "b"]}, {"attribute": "signup_at"}, {"purchase": "p1"})
RETURNS = ({"purchase": "any"}, {"event": "a"}, {"event": "b"}, {"purchase": "p1"}, {"event": ["a", "b"]})
MOST_PERIODS = {"day": 6, "week": 4, "month": 3}
WINDOWS = ({"last_days": 10}, {"last_hours": 100}, {"since": "2026-10-25", "until": "2026-11-02"})


def _time(draw: st.DrawFn) -> datetime:
    if draw(st.integers(0, 12)) == 0:  # after as_of: never seen
        return AS_OF.replace(tzinfo=None) + timedelta(seconds=draw(st.sampled_from((1, 3600))))
    day = datetime.fromisoformat(draw(st.sampled_from(DAYS)))
    return day + timedelta(hours=draw(st.sampled_from(HOURS)), seconds=draw(st.sampled_from((-1, 0, 0, 1))))


@st.composite
def tables(draw: st.DrawFn) -> dict[str, list[dict]]:
    users = [
        {"external_id": u, "country": draw(st.sampled_from(("KR", "JP", None))), "is_vip": draw(st.sampled_from((True, False, None))),
         "signup_at": _time(draw) if draw(st.booleans()) else None}
        for u in ("u1", "u2", "u3", "u4")
    ]
    events = [{"external_id": draw(st.sampled_from(USER_IDS)), "event_name": draw(st.sampled_from(("a", "a", "b", "c"))), "occurred_at": _time(draw)} for _ in range(draw(st.integers(6, 24)))]
    purchases = [{"external_id": draw(st.sampled_from(USER_IDS)), "purchased_at": _time(draw), "product_id": draw(st.sampled_from(("p1", "p2"))), "price": 1.0} for _ in range(draw(st.integers(3, 12)))]
    return {"main.users": users, "main.events": events, "main.purchases": purchases}


@st.composite
def cohort(draw: st.DrawFn, name: str) -> dict[str, Any]:
    period = draw(st.sampled_from(("day", "week", "month")))
    out: dict[str, Any] = {"name": name, "entry": dict(draw(st.sampled_from(ENTRIES))), "return": dict(draw(st.sampled_from(RETURNS))),
                           "period": period, "periods": draw(st.integers(0, MOST_PERIODS[period]))}
    if draw(st.integers(0, 3)) == 0:
        out["entered_within"] = dict(draw(st.sampled_from(WINDOWS)))
    if draw(st.integers(0, 3)) == 0:
        out["audience"] = "koreans"
    if draw(st.booleans()):
        out["breakdown"] = draw(st.sampled_from(("country", "is_vip")))
    return out


@st.composite
def case(draw: st.DrawFn) -> dict[str, Any]:
    cohorts = [draw(cohort(f"c{i}")) for i in range(draw(st.integers(1, 3)))]
    return {"tables": draw(tables()), "cohorts": cohorts, "timezone": draw(st.sampled_from(TIMEZONES))}


def load(adapter: Adapter, tables: dict[str, list[dict]]) -> None:
    for table, types in TABLES.items():
        rows = tables.get(f"main.{table}", [])
        adapter.load_rows(table, list(types.items()), [tuple(row.get(c) for c in types) for row in rows])


def project(root: Path, cohorts: list[dict], timezone: str) -> Path:
    (root / "models").mkdir(parents=True, exist_ok=True)
    (root / "segsql_project.yml").write_text(dump({"name": "c", "timezone": timezone}))
    (root / "models" / "sources.yml").write_text(dump(SOURCES))
    (root / "models" / "cohorts.yml").write_text(dump({"segments": SEGMENTS, "cohorts": cohorts}))
    return root


def on_engine(adapter: Adapter, cohorts: list[dict], tables: dict[str, list[dict]], as_of: datetime, timezone: str) -> dict[str, list[dict]]:
    """Every cohort's rows from one query (all cohorts together, as a run computes them)."""
    load(adapter, tables)
    with tempfile.TemporaryDirectory() as tmp:
        session = open_session(Options(project(Path(tmp), cohorts, timezone)), as_of.isoformat(), need_target=False)
    query = CohortCompiler(session.definitions, adapter.dialect, session.as_of).table([c["name"] for c in cohorts])
    columns, rows = adapter.fetch_with_columns(query)
    out: dict[str, list[dict]] = {c["name"]: [] for c in cohorts}
    for row in rows:
        record = {k.lower(): v for k, v in zip(columns, row, strict=True)}
        out[str(record["cohort"])].append(RC.normalise(record))
    return {name: sorted(found, key=RC.key) for name, found in out.items()}


def on_reference(cohorts: list[dict], tables: dict[str, list[dict]], as_of: datetime, timezone: str) -> dict[str, list[dict]]:
    segments = {s["name"]: s["where"] for s in SEGMENTS}
    return {c["name"]: RC.evaluate_cohort(c, sources=SOURCES, tables=tables, as_of=as_of, timezone=timezone, segments=segments) for c in cohorts}


def assert_same(got: list[dict], want: list[dict]) -> None:
    assert [RC.key(r) for r in got] == [RC.key(r) for r in want], (got, want)
    for g, w in zip(got, want, strict=True):
        assert (g["cohort_size"], g["returned"]) == (w["cohort_size"], w["returned"]), (g, w)
        assert abs(g["retention"] - w["retention"]) < 1e-12, (g, w)
