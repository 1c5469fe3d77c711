"""Property test, SPEC 8.3: `attribute: <trait>.<name>` on DuckDB and fakesnow gives the
reference evaluator's members.

A random case's filter has some of its attribute leaves moved onto a trait table that
declares the same attributes; the trait table holds a random subset of the users (with
their attribute values shuffled between them, so a trait is not the users' own value) and
rows for ids that are nobody's — who has no row has every trait missing, and a row never
brings a user into the universe.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests import strategies
from tests.test_semantics_property import (
    USER_TYPES,
    _settings,
    load_case,
    members_on_engine,
    open_engine,
    reference_members,
    without_array_operators,
)

TRAIT_TYPES = {("user_id" if c == "external_id" else c): t for c, t in USER_TYPES.items()}


def _move_to_trait(node: Any, moves: st.DataObject) -> Any:
    """The tree with each users attribute leaf kept or renamed `scores.<name>` at random."""
    if isinstance(node, list):
        return [_move_to_trait(n, moves) for n in node]
    if not isinstance(node, dict):
        return node
    if "attribute" in node and moves.draw(st.booleans()):
        return {**node, "attribute": f"scores.{node['attribute']}"}
    return {k: _move_to_trait(v, moves) for k, v in node.items()}


@st.composite
def trait_case(draw: st.DrawFn) -> dict[str, Any]:
    case = copy.deepcopy(draw(strategies.case_strategy()))
    users = case["tables"]["main.users"]
    case["sources"]["traits"] = {"scores": {"table": "main.scores", "id": "user_id", "attributes": copy.deepcopy(case["sources"]["users"]["attributes"])}}
    kept = [row for row in users if draw(st.booleans())]
    values = draw(st.permutations([{k: v for k, v in row.items() if k != "external_id"} for row in kept]))
    rows = [{"user_id": row["external_id"], **value} for row, value in zip(kept, values, strict=True)]
    rows += [{**{c: None for c in TRAIT_TYPES}, "user_id": ghost, "country": "KR", "age": 30.0} for ghost in draw(st.lists(st.sampled_from(["ghost1", "ghost2"]), unique=True))]
    case["tables"]["main.scores"] = rows
    case["filter"] = _move_to_trait(case["filter"], draw(st.data()))
    return case


@pytest.mark.parametrize(("engine_name", "examples"), [("duckdb", 60), ("fakesnow", 20)])
def test_random_trait_filters_match_the_reference(engine_name: str, examples: int) -> None:
    with open_engine(engine_name) as adapter:

        @_settings(examples)
        @given(case=trait_case())
        def check(case: dict[str, Any]) -> None:
            if engine_name == "fakesnow":
                case["filter"] = without_array_operators(case["filter"])
            load_case(adapter, case)
            rows = case["tables"]["main.scores"]
            adapter.load_rows("scores", list(TRAIT_TYPES.items()), [tuple(row.get(c) for c in TRAIT_TYPES) for row in rows])
            got = members_on_engine(adapter, case, {"s": case["filter"]})["s"]
            assert got == reference_members(case, case["filter"])
            assert not got & {"ghost1", "ghost2"}, "a trait row never adds a user"

        check()
