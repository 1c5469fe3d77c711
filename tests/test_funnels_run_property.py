"""Property test through `run`: random funnels over random event streams, materialized by
`run_models` (what `segsql run` executes: one staged query, one commit), give the reference's
tables — `funnel_<name>` (step table), `funnel_<name>_users` (furthest step and step times),
`funnel_<name>_trends` — and a segment reading the funnel through `funnel:` gets the members
the reference's furthest steps give. The same database takes every example, so each run also
replaces the previous run's rows (a funnel that loses a step or its breakdown included)."""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segsql.engines.base import Adapter
from segsql.run.materialize import run_models
from segsql.run.session import Options, open_session
from tests import funnel_harness as H
from tests import funnel_strategies as FS
from tests import reference as R

EXAMPLES = {"duckdb": 12, "fakesnow": 3, "postgres": 3}
CONDITIONS = ({"gte": 1}, {"equals": 0}, {"equals": 1}, {"lt": 2}, {"gte": 2})


def _ids(value: Any) -> str:
    return str(value)


def _written(adapter: Adapter, funnel: dict[str, Any]) -> H.Result:
    """The tables the run wrote for `funnel`, in the harness's shape (users without breakdowns)."""
    s, name, k = adapter.schema, funnel["name"], len(funnel["steps"])
    result = H.Result()
    times = ", ".join(f"step_{j}_at" for j in range(1, k + 1))
    for row in adapter.fetch(f"SELECT external_user_id, furthest_step, {times} FROM {s}.funnel_{name}_users"):
        furthest = int(row[1])
        result.users[_ids(row[0])] = (furthest, tuple(H.aware(t) for t in row[2:2 + furthest]), None)
    breakdown = ", breakdown" if funnel.get("breakdown") else ""
    columns, rows = adapter.fetch_with_columns(
        f"SELECT step, step_name{breakdown}, users, conversion_from_previous, conversion_from_first, median_seconds_from_previous FROM {s}.funnel_{name}"
    )
    result.steps = [{c.lower(): H.aware(v) for c, v in zip(columns, r, strict=True)} for r in rows]
    if funnel.get("trends"):
        columns, rows = adapter.fetch_with_columns(f"SELECT period_start{breakdown}, entered, completed, conversion FROM {s}.funnel_{name}_trends")
        result.trends = [{c.lower(): v for c, v in zip(columns, r, strict=True)} for r in rows]
    return result


def _holds(condition: dict[str, int], k: int) -> bool:
    (op, value), = condition.items()
    return {"gte": k >= value, "equals": k == value, "lt": k < value}[op]


def test_random_funnels_through_run_match_the_reference(engine: Callable[[], Adapter], request: Any) -> None:
    adapter = engine()
    examples = EXAMPLES[request.node.callspec.params["engine"]]

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
    @given(case=FS.funnel_case(), data=st.data())
    def check(case: dict[str, Any], data: st.DataObject) -> None:
        case = copy.deepcopy(case)
        funnels, tables = case["funnels"], case["tables"]
        k = len(funnels[0]["steps"])  # a comparison no step count 0..k meets is a compile error
        condition = data.draw(st.sampled_from([c for c in CONDITIONS if any(_holds(c, j) for j in range(k + 1))]))
        segment = {"name": "leaf", "where": {"funnel": "a", "furthest_step": condition}}
        H.load(adapter, tables)
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            (root / "models").mkdir()
            (root / "segsql_project.yml").write_text(H.dump({"name": "f", "timezone": case["timezone"]}))
            (root / "models" / "sources.yml").write_text(H.dump(H.SOURCES))
            (root / "models" / "funnels.yml").write_text(H.dump({"funnels": funnels, "segments": [segment]}))
            session = open_session(Options(root), FS.AS_OF.isoformat(), need_target=False)
            result = run_models(session, adapter, ["a", "b", "leaf"])
        assert result.ok, [m.message for m in result.models]
        want = H.on_reference(funnels, tables, FS.AS_OF, case["timezone"])
        for funnel in funnels:
            expected = want[funnel["name"]]
            expected.users = {u: (f, times, None) for u, (f, times, _) in expected.users.items()}
            H.assert_same(_written(adapter, funnel), expected, bool(funnel.get("breakdown")))
        furthest = {u: want["a"].users[u][0] if u in want["a"].users else 0 for u in R.universe(H.SOURCES, tables, FS.AS_OF)}
        members = {_ids(r[0]) for r in adapter.fetch(f"SELECT external_user_id FROM {adapter.schema}.seg_leaf")}
        assert members == {u for u, k in furthest.items() if _holds(condition, k)}

    check()
