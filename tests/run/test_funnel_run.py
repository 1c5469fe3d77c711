"""`run` writes each funnel's tables in its one commit, equal to the reference, and a segment's
`funnel:` leaf reads the same run's staged result (SPEC 4, 3.7)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from segsql.engines.base import Adapter
from segsql.run.materialize import run_models
from segsql.run.session import Options, open_session
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
