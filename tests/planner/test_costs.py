"""The cost rule: which segments are anchored, what each grouping is estimated at, and why one is chosen."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from segsql.definitions.project import Definitions
from segsql.errors import ProjectError
from segsql.planner import plan_models
from segsql.planner.anchors import Anchor, segment_anchors
from segsql.planner.costs import Facts, choose, group_cost, segment_shapes
from segsql.run.session import Options, open_session
from tests.conftest import write_project

SOURCES = """
users: {table: main.users, id: external_id, attributes: {country: string}}
events: {table: main.events, user: external_id, name: event_name, time: occurred_at}
purchases: {table: main.purchases, user: external_id, time: purchased_at, product: product_id, price: price}
"""
AS_OF = "2026-11-22T12:00:00Z"
WEEK_AGO = dt.datetime(2026, 11, 15, tzinfo=dt.UTC)


def _defs(tmp_path: Path, segments: dict[str, str], project: str = "name: p\n") -> Definitions:
    body = "segments:\n" + "".join(f"  - name: {n}\n    where: {w}\n" for n, w in segments.items())
    root = write_project(tmp_path / "p", {"models/sources.yml": SOURCES, "models/s.yml": body, "segsql_project.yml": project})
    return open_session(Options(root), AS_OF, need_target=False).definitions


@pytest.mark.parametrize(
    ("where", "anchored"),
    [
        ("{event: a}", True),  # no measure: at least one
        ("{event: a, count: {gte: 3}}", True),
        ("{event: a, count: {not_equals: 0}}", True),
        ("{event: a, count: {equals: 0}}", False),  # did not
        ("{event: a, count: {lt: 2}}", False),
        ("{event: a, count: {between: [0, 2]}}", False),
        ("{event: a, count: {between: [1, 2]}}", True),
        ("{not: {event: a}}", False),
        ("{event: a, first: {before: '2026-11-01T00:00:00Z'}}", True),
        ("{event: a, last: {more_than_days_ago: 30}}", True),
        ("{purchase: any, revenue: {gte: 10}}", True),
        ("{purchase: any, revenue: {lte: 10}}", False),
        ("{attribute: country, equals: KR}", False),
    ],
)
def test_a_segment_is_anchored_only_when_no_user_without_a_row_can_match(tmp_path: Path, where: str, anchored: bool) -> None:
    defs = _defs(tmp_path, {"s": where})
    anchors = segment_anchors(defs.segments, "s", dt.datetime(2026, 11, 22, 12, tzinfo=dt.UTC), "UTC")
    assert bool(anchors) == anchored


def test_all_any_and_references_combine_anchors(tmp_path: Path) -> None:
    defs = _defs(tmp_path, {
        "a": "{event: a, within: {last_days: 7}}",
        "both": "{all: [{segment: a}, {event: b, within: {last_days: 30}}, {attribute: country, equals: KR}]}",
        "either": "{any: [{event: a}, {event: b, count: {gte: 2}}]}",
        "half": "{any: [{event: a}, {attribute: country, equals: KR}]}",
        "mixed": "{any: [{event: a}, {purchase: any}]}",
    })
    as_of = dt.datetime(2026, 11, 22, 12, tzinfo=dt.UTC)
    anchors = {n: segment_anchors(defs.segments, n, as_of, "UTC") for n in defs.segments}
    assert anchors["a"] == {"events": Anchor("events", ("a",), WEEK_AGO)}
    assert anchors["both"] == {"events": Anchor("events", ("a", "b"), dt.datetime(2026, 10, 23, tzinfo=dt.UTC))}
    assert anchors["either"] == {"events": Anchor("events", ("a", "b"), None)}
    assert anchors["half"] == {} and anchors["mixed"] == {}, "an `any` is anchored only if every child is, on one source"


def test_a_run_plan_starts_from_the_anchor_scan_and_an_unanchored_one_from_every_user(tmp_path: Path) -> None:
    defs = _defs(tmp_path, {"a": "{event: a, within: {last_days: 7}}", "b": "{purchase: any, count: {gte: 2}, within: {last_days: 7}}", "c": "{not: {event: a}}"})
    as_of = dt.datetime(2026, 11, 22, 12, tzinfo=dt.UTC)
    anchored = plan_models(defs, ["a"], as_of, anchored=True)
    assert anchored.universe == "anchored" and anchored.anchor == Anchor("events", ("a",), WEEK_AGO)
    assert plan_models(defs, ["a"], as_of).universe == "full_join", "other callers (insights) see every user"
    assert plan_models(defs, ["a", "c"], as_of, anchored=True).universe == "full_join"
    assert plan_models(defs, ["a", "b"], as_of, anchored=True).universe == "full_join", "no source anchors both"
    assert "universe: the users of the events scan" in "\n".join(anchored.describe())


def _facts() -> Facts:
    """1M users; 10M events: `big` 5M rows (1M of them in the last week), 30 small names of 100k."""
    names = {"big": {None: 5_000_000, WEEK_AGO: 1_000_000}}
    names |= {f"n{i}": {None: 100_000, WEEK_AGO: 20_000} for i in range(30)}
    return Facts(1_000_000, {"events": 8_000_000}, {"events": names})


def test_facts_count_rows_per_name_since_a_start() -> None:
    facts = _facts()
    assert facts.count("events", ["big", "n0"], WEEK_AGO) == 1_020_000
    assert facts.count("events", None, None) == 8_000_000


def test_a_segment_over_many_rows_leaves_the_selective_ones_their_own_query(tmp_path: Path) -> None:
    selective = {f"s{i}": f"{{event: n{i}, within: {{last_days: 7}}, count: {{gte: 2}}}}" for i in range(30)}
    defs = _defs(tmp_path, {**selective, "heavy": "{event: big, count: {gte: 5}}"})
    shapes = segment_shapes(defs, [*selective, "heavy"], dt.datetime(2026, 11, 22, 12, tzinfo=dt.UTC))
    choice = choose(shapes, "auto", _facts())
    # together, 30 CASEs run on all 8M rows of all time; apart, the 30 read 600k rows of a week
    assert (choice.strategy, choice.reason, choice.groups) == ("grouped", "the cheapest estimate", (tuple(selective), ("heavy",)))
    estimates = dict(choice.estimates)
    assert estimates["grouped"] == min(estimates.values()) < estimates["fused"] < estimates["split"]
    assert group_cost(shapes[:30], _facts()) + group_cost(shapes[30:], _facts()) < group_cost(shapes, _facts())


def test_segments_over_every_user_stay_fused(tmp_path: Path) -> None:
    wide = {f"w{i}": f"{{not: {{event: big, within: {{last_days: {i + 1}}}}}}}" for i in range(5)}
    defs = _defs(tmp_path, {**wide, "x": "{event: n1, within: {last_days: 7}}"})
    shapes = segment_shapes(defs, [*wide, "x"], dt.datetime(2026, 11, 22, 12, tzinfo=dt.UTC))
    choice = choose(shapes, "auto", _facts())
    assert choice.strategy in ("fused", "grouped")
    assert any(set(wide) <= set(g) for g in choice.groups), "the unanchored segments share one query"


@pytest.mark.parametrize(
    ("segments", "strategy", "facts", "reason"),
    [
        ({"a": "{event: n1}"}, "auto", True, "one segment"),
        ({"a": "{not: {event: n1}}", "b": "{attribute: country, equals: KR}"}, "auto", True, "no segment is anchored on rows of its own"),
        ({"a": "{event: n1}", "b": "{event: n2}"}, "auto", False, "no row counts measured: a run measures them"),
        ({"a": "{event: n1}", "b": "{event: n2}"}, "split", False, "forced"),
    ],
)
def test_the_choice_says_why(tmp_path: Path, segments: dict[str, str], strategy: str, facts: bool, reason: str) -> None:
    defs = _defs(tmp_path, segments)
    shapes = segment_shapes(defs, list(segments), dt.datetime(2026, 11, 22, 12, tzinfo=dt.UTC))
    choice = choose(shapes, strategy, _facts() if facts else None)
    assert choice.reason == reason
    assert choice.strategy == ("split" if strategy == "split" else "fused")
    assert len(choice.groups) == (len(segments) if strategy == "split" else 1)
    assert choice.describe()[0].startswith(f"strategy: {choice.strategy} — {len(choice.groups)} quer")


def test_pinned_segments_stay_in_one_query(tmp_path: Path) -> None:
    segments = {"a": "{event: n1}", "b": "{sequence: [{event: n1}, {event: n2}]}", "c": "{all: [{event: n2}, {sequence: [{event: n2}, {event: n1}]}]}"}
    defs = _defs(tmp_path, segments)
    shapes = segment_shapes(defs, list(segments), dt.datetime(2026, 11, 22, 12, tzinfo=dt.UTC))
    assert [s.pinned for s in shapes] == [False, True, True]
    assert choose(shapes, "split", None).groups == (("a",), ("b", "c"))


def test_an_unknown_planner_strategy_is_an_error_at_its_line(tmp_path: Path) -> None:
    with pytest.raises(ProjectError) as err:
        _defs(tmp_path, {"a": "{event: n1}"}, "name: p\nplanner:\n  strategy: per-name\n")
    assert err.value.location is not None and err.value.location.line == 3
    assert "did you mean 'per_name'" in err.value.render()
    with pytest.raises(ProjectError, match="unknown key 'stratgy'"):
        _defs(tmp_path, {"a": "{event: n1}"}, "name: p\nplanner: {stratgy: auto}\n")
