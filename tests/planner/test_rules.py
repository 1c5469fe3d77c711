"""Each planner rule on a small hand-made plan, as sqlglot tests its optimizer passes."""

from __future__ import annotations

import datetime as dt

import pytest

from segsql.definitions.filters import (
    BehaviourFilter,
    Condition,
    Measure,
    RfmFilter,
    SequenceFilter,
    SequenceStep,
    Window,
)
from segsql.errors import Location
from segsql.planner.plan import Ask, MetricSpec, Numbering, Plan, RfmPass, SegmentNode, SequencePass
from segsql.planner.rules import (
    choose_universe,
    existence,
    group_into_scans,
    latest_row_for_existence,
    push_down_rows,
    read_every_seen_row,
    share_passes,
)
from segsql.planner.windows import bounds

AS_OF = dt.datetime(2026, 11, 22, 12, tzinfo=dt.UTC)
UTC = "UTC"
WEEK = Window("last_days", 7)


def leaf(*measures: Measure, names: tuple[str, ...] | None = ("app_open",), window: Window | None = WEEK, source: str = "events", line: int = 1) -> BehaviourFilter:
    return BehaviourFilter(source, names, (), window, measures or (Measure("count", Condition("gte", 1)),), Location("models/s.yml", line))


def ask(node: BehaviourFilter, model: str, index: int = 0) -> Ask:
    m = node.measures[index]
    spec = MetricSpec(node.source, m.kind, node.names, node.where, node.window, m.value)
    return Ask(node, index, model, spec, bounds(node.window, AS_OF, UTC)[0])


def plan(*asks: Ask, form: str = "flags", **fields: object) -> Plan:
    models = tuple(dict.fromkeys(a.model for a in asks)) or ("s",)
    return Plan(form=form, as_of=AS_OF, nodes=tuple(SegmentNode(m, "filter", "table") for m in models), asks=asks, **fields)  # type: ignore[arg-type]


# -- latest_row_for_existence ------------------------------------------------------------------
def test_at_least_one_in_a_window_ending_at_as_of_reads_the_latest_row() -> None:
    (out,) = latest_row_for_existence(plan(ask(leaf(), "s")), UTC).asks
    assert (out.spec.kind, out.spec.window, out.latest) == ("last", None, True)
    assert out.since == dt.datetime(2026, 11, 15, tzinfo=dt.UTC), "the window's start stays what the leaf compares with"


def test_none_in_a_window_reads_the_latest_row_as_absence() -> None:
    (out,) = latest_row_for_existence(plan(ask(leaf(Measure("count", Condition("equals", 0))), "s")), UTC).asks
    assert (out.spec.kind, out.latest) == ("last", False)


@pytest.mark.parametrize(
    "node",
    [
        leaf(Measure("count", Condition("gte", 2))),
        leaf(window=Window("range", since=dt.datetime(2026, 8, 1, tzinfo=dt.UTC), until=dt.datetime(2026, 9, 1, tzinfo=dt.UTC))),
        leaf(Measure("sum", Condition("gte", 1))),
    ],
    ids=["count of two", "window ending before as_of", "a sum"],
)
def test_other_counts_and_windows_keep_their_aggregate(node: BehaviourFilter) -> None:
    before = ask(node, "s")
    (out,) = latest_row_for_existence(plan(before), UTC).asks
    assert out == before


# -- group_into_scans --------------------------------------------------------------------------
def test_equal_measures_from_two_models_and_two_lines_are_one_metric() -> None:
    grouped = group_into_scans(plan(ask(leaf(line=3), "a"), ask(leaf(line=9), "b")), UTC)
    (scan,) = grouped.scans
    assert [(m.alias, m.used_by) for m in scan.metrics] == [("m0", ("a", "b"))]


def test_one_scan_per_source_events_first() -> None:
    purchase = leaf(Measure("revenue", Condition("gte", 5)), names=None, source="purchases")
    grouped = group_into_scans(plan(ask(purchase, "a"), ask(leaf(), "b"), ask(leaf(Measure("count", Condition("gte", 3)), window=Window("last_days", 30)), "b")), UTC)
    assert [(s.source, s.alias, len(s.metrics)) for s in grouped.scans] == [("events", "__scan_events", 2), ("purchases", "__scan_purchases", 1)]


# -- push_down_rows ----------------------------------------------------------------------------
def test_a_scan_reads_the_names_and_the_earliest_start_its_metrics_need() -> None:
    month = leaf(names=("search",), window=Window("last_days", 30))
    pushed = push_down_rows(group_into_scans(plan(ask(leaf(), "a"), ask(month, "b")), UTC), UTC)
    (scan,) = pushed.scans
    assert scan.names == ("app_open", "search")
    assert scan.start == dt.datetime(2026, 10, 23, tzinfo=dt.UTC)


@pytest.mark.parametrize(("other", "expect_names", "expect_start"), [(leaf(names=None), None, True), (leaf(window=None), ("app_open",), None)])
def test_any_name_or_all_time_widens_the_scan(other: BehaviourFilter, expect_names: object, expect_start: object) -> None:
    pushed = push_down_rows(group_into_scans(plan(ask(leaf(), "a"), ask(other, "b")), UTC), UTC)
    (scan,) = pushed.scans
    assert scan.names == expect_names
    assert (scan.start is not None) is bool(expect_start)


# -- share_passes ------------------------------------------------------------------------------
def _sequence(*names: str, line: int = 1) -> SequenceFilter:
    return SequenceFilter(tuple(SequenceStep((n,), ()) for n in names), WEEK, None, None, None, Location("models/s.yml", line))


def test_sequences_over_the_same_events_share_one_numbering() -> None:
    shared = share_passes(plan(pass_leaves=((_sequence("view", "cart"), "a"), (_sequence("cart", "buy"), "b"))), UTC)
    numberings = [p for p in shared.passes if isinstance(p, Numbering)]
    sequences = [p for p in shared.passes if isinstance(p, SequencePass)]
    assert len(numberings) == 1 and len(sequences) == 2
    assert {s.numbering("events") for s in sequences} == {numberings[0].alias}


def test_a_sequence_with_a_purchase_step_numbers_purchases_once_too() -> None:
    buy = SequenceFilter((SequenceStep(("view",), ()), SequenceStep(None, (), source="purchases")), WEEK, None, None, None, Location("m.yml", 1))
    shared = share_passes(plan(pass_leaves=((buy, "a"), (_sequence("view", "cart"), "b"))), UTC)
    numberings = [(p.source, p.alias) for p in shared.passes if isinstance(p, Numbering)]
    assert [source for source, _ in numberings] == ["events", "purchases"]
    first = next(p for p in shared.passes if isinstance(p, SequencePass))
    assert first.numberings == tuple(numberings)


def test_the_same_sequence_in_two_models_is_one_pass() -> None:
    shared = share_passes(plan(pass_leaves=((_sequence("view", "cart", line=2), "a"), (_sequence("view", "cart", line=8), "b"))), UTC)
    (sequence,) = [p for p in shared.passes if isinstance(p, SequencePass)]
    assert sequence.used_by == ("a", "b")


def test_rfm_leaves_share_a_pass_per_window() -> None:
    year, month = Window("last_days", 365), Window("last_days", 30)
    leaves = [(RfmFilter((Condition("gte", 4),), (), (), w, Location("m.yml", i)), m) for i, (w, m) in enumerate([(year, "a"), (year, "b"), (month, "c")])]
    shared = share_passes(plan(pass_leaves=tuple(leaves)), UTC)
    assert [(p.window, p.used_by) for p in shared.passes if isinstance(p, RfmPass)] == [(year, ("a", "b")), (month, ("c",))]


# -- choose_universe ---------------------------------------------------------------------------
@pytest.mark.parametrize(("form", "with_scan", "expected"), [("flags", True, "full_join"), ("flags", False, "union"), ("members", True, "union")])
def test_the_universe_is_a_join_only_for_the_fused_form_with_scans(form: str, with_scan: bool, expected: str) -> None:
    p = plan(ask(leaf(), "s"), form=form) if with_scan else plan(form=form)
    assert choose_universe(group_into_scans(p, UTC), UTC).universe == expected


# -- read_every_seen_row (cluster features) ----------------------------------------------------
@pytest.mark.parametrize("form", ["flags", "members"])
def test_a_join_of_every_user_reads_each_source_once_and_the_others_keep_their_push_down(form: str) -> None:
    month = leaf(names=("search",), window=Window("last_days", 30))
    pushed = choose_universe(push_down_rows(group_into_scans(plan(ask(leaf(), "a"), ask(month, "b"), form=form), UTC), UTC), UTC)
    (scan,) = read_every_seen_row(pushed, UTC).scans
    if form == "flags":  # users FULL JOIN the scan: every seen row read, each metric picks its own
        assert (scan.names, scan.start) == (None, None)
        assert scan.metrics == pushed.scans[0].metrics
    else:  # a UNION universe reads the ids itself: the scan keeps only the rows it needs
        assert (scan.names, scan.start) == (("app_open", "search"), dt.datetime(2026, 10, 23, tzinfo=dt.UTC))


# -- existence ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("op", "value", "negated", "expected"),
    [
        ("gte", 1, False, True), ("gt", 0, False, True), ("gt", 0.5, False, True), ("equals", 0, True, True),
        ("equals", 0, False, False), ("lt", 1, False, False), ("lte", 0, False, False), ("gte", 1, True, False),
        ("gte", 2, False, None), ("gte", 0, False, None), ("lt", 3, False, None), ("equals", 1, False, None),
        ("between", (0, 0), False, None), ("gt", -1, False, None),
    ],
)
def test_a_count_is_read_as_existence_only_when_it_asks_nothing_more(op: str, value: object, negated: bool, expected: bool | None) -> None:
    assert existence(Measure("count", Condition(op, value, negated))) is expected


def test_other_measures_are_never_read_as_existence() -> None:
    assert existence(Measure("count_distinct", Condition("gte", 1))) is None
    assert existence(Measure("sum", Condition("gte", 1))) is None
    assert existence(Measure("count", Condition("gte", 1, or_missing=True))) is None
