"""Property test: whatever grouping the cost rule runs, a run writes the reference's members.

hypothesis draws a random project (the behavioural cases of `tests/strategies.py`) with
several segments — many anchored on event or purchase rows, some not — and runs it with
each strategy forced in `segsql_project.yml` (and with auto, which measures row counts);
every segment's table must hold exactly the reference evaluator's members.
"""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from segsql.run.materialize import run_models
from segsql.run.session import Options, open_session
from tests import strategies
from tests.test_semantics_property import (
    _dump,
    load_case,
    open_engine,
    reference_members,
    without_array_operators,
    write_case,
)

FORCED = ("auto", "fused", "per_name", "grouped", "split")


@st.composite
def project_strategy(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """A behavioural case and five segments: its own filter, an event and a purchase leaf, an
    event leaf AND another filter, and a reference to the event leaf OR another event leaf."""
    case = draw(strategies.behaviour_case_strategy(max_depth=2))
    as_of = case["as_of"]
    segments = {
        "s_case": case["filter"],
        "s_event": draw(strategies.event_leaf_strategy(as_of)),
        "s_purchase": draw(strategies.purchase_leaf_strategy(as_of)),
        "s_both": {"all": [draw(strategies.event_leaf_strategy(as_of)), draw(strategies.filter_strategy(as_of, 1, True))]},
        "s_either": {"any": [{"segment": "s_event"}, draw(strategies.event_leaf_strategy(as_of))]},
    }
    assume(all(since < until for since, until in strategies._window_bounds(segments, ZoneInfo(case["timezone"]))))
    return case, segments


def members_of_run(adapter: Any, case: dict[str, Any], segments: dict[str, Any], strategy: str) -> tuple[dict[str, set[str]], list[str]]:
    """Run every segment with `strategy` forced; each table's members and the run's plan lines."""
    with tempfile.TemporaryDirectory() as tmp:
        root = write_case(Path(tmp), case, segments)
        (root / "segsql_project.yml").write_text(_dump({"name": "prop", "timezone": case["timezone"], "bucket_salt": case["bucket_salt"], "planner": {"strategy": strategy}}))
        session = open_session(Options(root), case["as_of"].isoformat(), need_target=False)
        result = run_models(session, adapter, list(segments))
        assert result.ok, [m.message for m in result.models]
        plan = result.plan.describe() if result.plan is not None else []
        got = {name: {str(r[0]) for r in adapter.fetch(f"SELECT external_user_id FROM {adapter.table('seg_' + name).sql(adapter.dialect)}")} for name in segments}
        return got, plan


@pytest.mark.parametrize(("engine_name", "examples"), [("duckdb", 15), ("fakesnow", 4)])
def test_every_strategy_gives_the_reference_members(engine_name: str, examples: int) -> None:
    @settings(max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
    @given(drawn=project_strategy())
    def check(drawn: tuple[dict[str, Any], dict[str, Any]]) -> None:
        case, segments = copy.deepcopy(drawn)
        if engine_name == "fakesnow":
            segments = {n: without_array_operators(f) for n, f in segments.items()}
        expected = {name: reference_members(case, where, segments) for name, where in segments.items()}
        for strategy in FORCED:
            with open_engine(engine_name) as adapter:
                load_case(adapter, case)
                got, plan = members_of_run(adapter, case, segments, strategy)
            assert got == expected, (strategy, plan)
            if strategy != "auto":
                assert any(line.startswith(f"strategy: {strategy} ") for line in plan)

    check()
