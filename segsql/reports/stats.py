"""Two-proportion statistics for split readouts, in stdlib math (no numeric library needed).

The z-test pools the two proportions under the null hypothesis (as statsmodels'
`proportions_ztest` does); the 95 % interval of the difference is the unpooled Wald interval
(statsmodels' `confint_proportions_2indep(method="wald")`). tests/reports/test_stats.py
checks both against statsmodels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

Z_95 = NormalDist().inv_cdf(0.975)


@dataclass(frozen=True)
class Comparison:
    difference: float
    z: float | None
    p_value: float | None
    ci_low: float | None
    ci_high: float | None


def compare(converted: int, size: int, control_converted: int, control_size: int) -> Comparison | None:
    """Group vs control: the difference of conversion rates, the two-sided z-test and its
    95 % interval; None when either group is empty; z and p None when both rates are 0 or 1
    (no variance: the test is undefined)."""
    if size == 0 or control_size == 0:
        return None
    p1, p0 = converted / size, control_converted / control_size
    diff = p1 - p0
    pooled = (converted + control_converted) / (size + control_size)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / size + 1 / control_size))
    z = p_value = None
    if se_pooled > 0:
        z = diff / se_pooled
        p_value = math.erfc(abs(z) / math.sqrt(2))
    se = math.sqrt(p1 * (1 - p1) / size + p0 * (1 - p0) / control_size)
    return Comparison(diff, z, p_value, diff - Z_95 * se, diff + Z_95 * se)
