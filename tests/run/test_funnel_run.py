"""`run` writes each funnel's tables in its one commit, equal to the reference, and a segment's
`funnel:` leaf reads the same run's staged result (SPEC 4, 3.7)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from sqlglot import exp

from segsql.engines.base import Adapter, EngineError
from segsql.run.materialize import run_models
from segsql.run.session import Options, open_session
from segsql.run.strategies.funnels import FunnelStrategy
from tests import funnel_harness as H
from tests import reference as R

AS_OF = datetime(2026, 6, 1, tzinfo=UTC)
T0 = AS_OF - timedelta(days=2)
FUNNELS = [{"name": "buy", "steps": [{"event": "view"}, {"event": "cart"}, {"purchase": "any"}], "conversion_window": {"days": 1}, "trends": {"period": "day"}}]
SEGMENTS = [
    {"name": "carted_not_bought", "where": {"funnel": "buy", "furthest_step": {"equals": 2}}},
    {"name": "never_viewed", "where": {"funnel": "buy", "furthest_step": {"lt": 1}}},
]


def _event(user: str, name: str, minutes: int) -> dict:
    return {"external_id": user, "event_name": name, "occurred_at": (T0 + timedelta(minutes=minutes)).replace(tzinfo=None), "properties": "{}"}


TABLES = {
    "main.users": [{"external_id": u, "country": "KR"} for u in ("u1", "u2", "u3", "u4")],
    "main.events": [_event("u1", "view", 0), _event("u1", "cart", 5), _event("u2", "view", 0), _event("u2", "cart", 1), _event("u3", "view", 3)],
    "main.purchases": [{"external_id": "u1", "purchased_at": (T0 + timedelta(minutes=9)).replace(tzinfo=None), "product_id": "p", "price": 1.0, "quantity": 1, "properties": "{}"}],
}


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    (root / "models").mkdir(parents=True)
    (root / "segsql_project.yml").write_text(H.dump({"name": "f"}))
    (root / "models" / "sources.yml").write_text(H.dump(H.SOURCES))
    (root / "models" / "funnels.yml").write_text(H.dump({"funnels": FUNNELS, "segments": SEGMENTS}))
    return root


def test_run_writes_the_funnel_tables_and_leaf_segments_as_the_reference(engine: Callable[[], Adapter], tmp_path: Path) -> None:
    adapter = engine()
    H.load(adapter, TABLES)
    session = open_session(Options(_project(tmp_path)), AS_OF.isoformat(), need_target=False)
    result = run_models(session, adapter, ["carted_not_bought", "never_viewed"])
    assert result.ok, [m.message for m in result.models]
    assert {m.name: m.kind for m in result.models} == {"buy": "funnel", "carted_not_bought": "segment", "never_viewed": "segment"}
    want = H.on_reference(FUNNELS, TABLES, AS_OF)["buy"]
    s = adapter.schema
    users = {str(r[0]): int(r[1]) for r in adapter.fetch(f"SELECT external_user_id, furthest_step FROM {s}.funnel_buy_users")}
    assert users == {u: r[0] for u, r in want.users.items()}
    steps = sorted(adapter.fetch(f"SELECT step, users FROM {s}.funnel_buy"))
    assert [(int(a), int(b)) for a, b in steps] == [(r["step"], r["users"]) for r in sorted(want.steps, key=lambda r: r["step"])]
    trends = adapter.fetch(f"SELECT entered, completed FROM {s}.funnel_buy_trends")
    assert [(int(a), int(b)) for a, b in trends] == [(r["entered"], r["completed"]) for r in want.trends]
    universe = R.universe(H.SOURCES, TABLES, AS_OF)
    furthest = {u: users.get(u, 0) for u in universe}
    for name, test in (("carted_not_bought", lambda k: k == 2), ("never_viewed", lambda k: k < 1)):
        members = {str(r[0]) for r in adapter.fetch(f"SELECT external_user_id FROM {s}.seg_{name}")}
        assert members == {u for u, k in furthest.items() if test(k)}, name


def _tables(adapter: Adapter) -> dict[str, list[tuple]]:
    """Every row of the funnel's three tables, sorted (what a failed run must leave as it was)."""
    s = adapter.schema
    return {t: sorted(map(tuple, adapter.fetch(f"SELECT * FROM {s}.{t}")), key=str) for t in ("funnel_buy", "funnel_buy_users", "funnel_buy_trends")}


CHANGED = {**TABLES, "main.events": [*TABLES["main.events"], _event("u4", "view", 7), _event("u3", "cart", 8)], "main.purchases": []}


def test_a_failed_commit_or_a_dry_run_leaves_the_funnel_tables_as_they_were(engine: Callable[[], Adapter], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    adapter = engine()
    H.load(adapter, TABLES)
    assert run_models(open_session(Options(_project(tmp_path / "a")), AS_OF.isoformat(), need_target=False), adapter, ["buy", "carted_not_bought"]).ok
    before = _tables(adapter)
    H.load(adapter, CHANGED)
    session = open_session(Options(_project(tmp_path / "b")), AS_OF.isoformat(), need_target=False)
    assert run_models(session, adapter, ["buy", "carted_not_bought"], dry_run=True).ok
    assert _tables(adapter) == before
    original = type(adapter).execute

    def failing(self: Adapter, statement: object) -> None:
        if self.sql(statement).upper().startswith(f"INSERT INTO {self.schema.upper()}.SEGSQL_RUNS"):  # type: ignore[arg-type]
            raise EngineError("injected failure at the end of the commit")
        original(self, statement)  # type: ignore[arg-type]

    monkeypatch.setattr(type(adapter), "execute", failing)
    result = run_models(session, adapter, ["buy", "carted_not_bought"])
    monkeypatch.undo()
    assert not result.ok and all(m.status == "error" for m in result.models)
    assert _tables(adapter) == before
    assert run_models(session, adapter, ["buy", "carted_not_bought"]).ok
    after = _tables(adapter)
    assert after != before, "the changed rows change the funnel, so the unchanged tables above mean something"
    want = H.on_reference(FUNNELS, CHANGED, AS_OF)["buy"]
    assert {str(r[0]): int(r[1]) for r in after["funnel_buy_users"]} == {u: r[0] for u, r in want.users.items()}


def test_a_funnel_whose_audience_fails_its_guard_keeps_its_tables_while_other_models_run(engine: Callable[[], Adapter], tmp_path: Path) -> None:
    adapter = engine()
    H.load(adapter, TABLES)
    guarded = [{**FUNNELS[0], "audience": "koreans"}]
    segments = [{"name": "koreans", "where": {"attribute": "country", "equals": "KR"}, "guards": {"max_change_pct": 10}}, SEGMENTS[1], {"name": "carters", "where": {"event": "cart"}}]

    def project(root: Path) -> Path:
        path = _project(root)
        (path / "models" / "funnels.yml").write_text(H.dump({"funnels": guarded, "segments": segments}))
        return path

    first = run_models(open_session(Options(project(tmp_path / "a")), AS_OF.isoformat(), need_target=False), adapter, ["buy", "koreans", "never_viewed", "carters"])
    assert first.ok, [m.message for m in first.models]
    before = _tables(adapter)
    s = adapter.schema
    never_viewed = sorted(adapter.fetch(f"SELECT external_user_id FROM {s}.seg_never_viewed"))
    H.load(adapter, {**CHANGED, "main.users": [*TABLES["main.users"], {"external_id": "u5", "country": "KR"}]})  # koreans grow by 25 %
    result = run_models(open_session(Options(project(tmp_path / "b")), AS_OF.isoformat(), need_target=False), adapter, ["buy", "koreans", "never_viewed", "carters"])
    statuses = {m.name: (m.status, m.message) for m in result.models}
    assert statuses["koreans"][0] == "error" and "max_change_pct" in statuses["koreans"][1], statuses
    assert statuses["buy"] == ("skipped", "skipped: depends on koreans, which failed")
    assert _tables(adapter) == before
    assert statuses["never_viewed"][0] == "skipped", "a segment reading the skipped funnel is skipped too"
    assert sorted(adapter.fetch(f"SELECT external_user_id FROM {s}.seg_never_viewed")) == never_viewed
    assert statuses["carters"][0] == "success"
    assert {str(r[0]) for r in adapter.fetch(f"SELECT external_user_id FROM {s}.seg_carters")} == {"u1", "u2", "u3"}, "the other segment committed"


def _staging_statements(adapter: Adapter, monkeypatch: pytest.MonkeyPatch, session_root: Path, names: list[str]) -> list[str]:
    """The SQL of every statement (execute or fetch) the funnel strategy sends while staging a run
    of `names` (other parts of a run — source checks, fingerprints — read sources on their own)."""
    sent: list[str] = []
    staging = [False]
    execute, fetch, stage = type(adapter)._execute, type(adapter)._fetch, FunnelStrategy.stage

    def record_execute(self: Adapter, sql: str) -> None:
        if staging[0]:
            sent.append(sql)
        execute(self, sql)

    def record_fetch(self: Adapter, sql: str) -> Any:
        if staging[0]:
            sent.append(sql)
        return fetch(self, sql)

    def record_stage(self: FunnelStrategy) -> None:
        staging[0] = True
        try:
            stage(self)
        finally:
            staging[0] = False

    monkeypatch.setattr(type(adapter), "_execute", record_execute)
    monkeypatch.setattr(type(adapter), "_fetch", record_fetch)
    monkeypatch.setattr(FunnelStrategy, "stage", record_stage)
    try:
        result = run_models(open_session(Options(session_root), AS_OF.isoformat(), need_target=False), adapter, names)
    finally:
        monkeypatch.undo()
    assert result.ok, [m.message for m in result.models]
    return sent


def _source_reads(statements: list[str], dialect: str) -> dict[str, int]:
    """How many times the statements name each source table (a scan each, unless the engine shares it)."""
    tables = [t.name for sql in statements for parsed in sqlglot.parse(sql, read=dialect) if parsed is not None for t in parsed.find_all(exp.Table)]
    return {name: tables.count(name) for name in ("events", "purchases")}


def test_a_run_reads_each_source_as_often_for_five_funnels_as_for_one(engine: Callable[[], Adapter], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SPEC 4 / issue 12: the passes over each source do not grow with the number of funnels —
    counted over every statement the run's funnel staging sends (the shared query, the step
    tables, the trends, the counts) and, on DuckDB, in the plan of the shared query."""
    adapter = engine()
    H.load(adapter, TABLES)
    kinds = [
        {"steps": [{"event": "view"}, {"event": "cart"}, {"purchase": "any"}], "trends": {"period": "day"}},
        {"steps": [{"event": "view"}, {"event": "cart"}], "order": "strict"},
        {"steps": [{"event": "cart"}, {"event": "view"}], "order": "any", "breakdown": "country"},
        {"steps": [{"event": "view"}, {"event": "view", "within_previous": {"minutes": 5}}], "exclusions": [{"event": "cart", "between": [1, 2]}]},
        {"steps": [{"event": "view"}, {"purchase": "any"}], "order": "strict"},
    ]
    reads: dict[int, dict[str, int]] = {}
    staged: dict[int, str] = {}
    for count in (1, 5):
        funnels = [{"name": f"f{i}", **kinds[i]} for i in range(count)]
        root = _project(tmp_path / f"p{count}")
        (root / "models" / "funnels.yml").write_text(H.dump({"funnels": funnels}))
        sent = _staging_statements(adapter, monkeypatch, root, [f["name"] for f in funnels])
        reads[count] = _source_reads(sent, adapter.dialect)
        staged[count] = next(sql for sql in sent if "__funnel_rows" in sql)
    assert reads[1] == reads[5] == {"events": 1, "purchases": 1}, reads
    if adapter.dialect == "duckdb":
        for count, sql in staged.items():
            query = sqlglot.parse_one(sql, read="duckdb").find(exp.Select)
            assert query is not None
            plan = json.dumps([json.loads(r[1]) for r in adapter.fetch("EXPLAIN (FORMAT json) " + query.sql("duckdb"))])
            scans = re.findall(r'"Table": "[^"]*\.(events|purchases)"', plan)
            assert sorted(scans) == ["events", "purchases"], (count, scans)
