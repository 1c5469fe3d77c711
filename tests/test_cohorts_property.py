"""Property tests (SPEC 8.2): random cohorts over random rows around DST changes, in New York,
Berlin, Sydney and UTC, give the pandas reference's retention triangle on DuckDB, fakesnow and
PostgreSQL (several cohorts in one query, as a run computes them)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings

from segsql.engines.base import Adapter
from tests import cohort_harness as H

EXAMPLES = {"duckdb": 40, "fakesnow": 10, "postgres": 12}


def test_random_cohorts_match_the_pandas_reference(engine: Callable[[], Adapter], request: Any) -> None:
    adapter = engine()
    examples = EXAMPLES[request.node.callspec.params["engine"]]

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
    @given(case=H.case())
    def check(case: dict[str, Any]) -> None:
        case = copy.deepcopy(case)
        got = H.on_engine(adapter, case["cohorts"], case["tables"], H.AS_OF, case["timezone"])
        want = H.on_reference(case["cohorts"], case["tables"], H.AS_OF, case["timezone"])
        for cohort in case["cohorts"]:
            H.assert_same(got[cohort["name"]], want[cohort["name"]])

    check()
