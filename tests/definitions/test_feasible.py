"""`possible` decides exactly whether some whole number in a range satisfies ANDed comparisons."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from segsql.definitions.feasible import possible
from segsql.definitions.filters import Condition

VALUES = st.integers(-3, 12) | st.sampled_from([-0.5, 2.5, 4.5])


@st.composite
def conditions(draw: st.DrawFn) -> Condition:
    op = draw(st.sampled_from(["gt", "gte", "lt", "lte", "equals", "in", "between", "exists"]))
    negated = op in ("equals", "in") and draw(st.booleans())
    if op == "in":
        return Condition(op, tuple(draw(st.lists(VALUES, min_size=1, max_size=3))), negated)
    if op == "between":
        low = draw(VALUES)
        return Condition(op, (low, low + draw(st.integers(0, 6))))
    return Condition(op, draw(VALUES), negated)


def holds(c: Condition, v: int) -> bool:
    if c.op == "exists":
        return True
    result = {
        "gt": lambda: v > c.value, "gte": lambda: v >= c.value, "lt": lambda: v < c.value, "lte": lambda: v <= c.value,
        "equals": lambda: v == c.value, "in": lambda: v in c.value, "between": lambda: c.value[0] <= v <= c.value[1],
    }[c.op]()
    return not result if c.negated else result


@settings(max_examples=150, deadline=None)
@given(st.lists(conditions(), min_size=1, max_size=3), st.integers(0, 2), st.integers(3, 10))
def test_possible_matches_brute_force(conds: list[Condition], low: int, high: int) -> None:
    assert possible(conds, low, high) == any(all(holds(c, v) for c in conds) for v in range(low, high + 1))


def test_unbounded_range_is_possible_above_every_excluded_value() -> None:
    assert possible([Condition("gte", 3), Condition("equals", 3, negated=True)], 0, float("inf"))
    assert not possible([Condition("lt", 0)], 0, float("inf"))


def test_or_missing_is_always_possible() -> None:
    assert possible([Condition("lt", 0, or_missing=True)], 0, float("inf"))
