"""The split readout statistics against statsmodels (the reference implementation)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segsql.reports.stats import compare

statsmodels = pytest.importorskip("statsmodels.stats.proportion")


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
    st.integers(1, 5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
)
def test_z_test_and_interval_equal_statsmodels(group: tuple[int, int], control: tuple[int, int]) -> None:
    (c1, n1), (c0, n0) = group, control
    result = compare(c1, n1, c0, n0)
    assert result is not None
    assert result.difference == pytest.approx(c1 / n1 - c0 / n0)
    if 0 < c1 + c0 < n1 + n0:
        z, p = statsmodels.proportions_ztest([c1, c0], [n1, n0])
        assert result.z == pytest.approx(z, rel=1e-9, abs=1e-12)
        assert result.p_value == pytest.approx(p, rel=1e-6, abs=1e-15)
    else:
        assert result.z is None and result.p_value is None
    low, high = statsmodels.confint_proportions_2indep(c1, n1, c0, n0, method="wald", compare="diff")
    assert (result.ci_low, result.ci_high) == (pytest.approx(low, abs=1e-12), pytest.approx(high, abs=1e-12))


def test_a_known_case() -> None:
    # 120 of 1000 vs 100 of 1000: pooled 0.11, z = 0.02 / sqrt(0.11 · 0.89 · 0.002) = 1.4293, p = 0.1529
    result = compare(120, 1000, 100, 1000)
    assert result is not None and result.z == pytest.approx(1.4293, abs=1e-4) and result.p_value == pytest.approx(0.15292, abs=1e-5)
    assert compare(1, 0, 1, 10) is None
