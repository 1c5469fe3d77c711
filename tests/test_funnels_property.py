"""Property tests: random funnels over random event streams give the reference's results on
DuckDB, fakesnow and PostgreSQL (furthest step and step times per user, the step table, trends)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings

from segsql.engines.base import Adapter
from tests import funnel_harness as H
from tests import funnel_strategies as FS

EXAMPLES = {"duckdb": 40, "fakesnow": 12, "postgres": 12}


def test_random_funnels_match_the_reference(engine: Callable[[], Adapter], request: Any) -> None:
    adapter = engine()
    examples = EXAMPLES[request.node.callspec.params["engine"]]

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
    @given(case=FS.funnel_case())
    def check(case: dict[str, Any]) -> None:
        case = copy.deepcopy(case)
        got = H.on_engine(adapter, case["funnels"], case["tables"], FS.AS_OF, case["timezone"])
        want = H.on_reference(case["funnels"], case["tables"], FS.AS_OF, case["timezone"])
        for funnel in case["funnels"]:
            H.assert_same(got[funnel["name"]], want[funnel["name"]], bool(funnel.get("breakdown")))

    check()
