"""The did-you-mean hint: closest valid name first, short lists in full, long ones cut."""

from __future__ import annotations

from segsql.util.suggest import SHOWN, closest, suggest


def test_closest_name_comes_first() -> None:
    assert suggest("last_day", ["since", "until", "last_days", "last_hours"]).startswith("did you mean 'last_days'?")


def test_case_and_prefix_count_as_close() -> None:
    assert closest("Equals", ["equals", "in"]) == "equals"
    assert closest("count_dist", ["count", "count_distinct"]) == "count_distinct"


def test_no_close_name_lists_the_valid_ones() -> None:
    assert suggest("zzz", ["alpha", "beta"]) == "use one of: alpha, beta"


def test_a_long_list_is_cut() -> None:
    names = [f"segment_{i:02d}" for i in range(45)]
    hint = suggest("segmnt_07", names)
    assert hint.startswith("did you mean 'segment_07'?")
    assert hint.count("segment_") == SHOWN + 1
    assert "and 34 more" in hint


def test_nothing_to_suggest() -> None:
    assert "no segment" in suggest("x", [], what="segment")


def test_plural() -> None:
    from segsql.util.words import plural

    assert [plural(n, "segment") for n in (0, 1, 2)] == ["0 segments", "1 segment", "2 segments"]
    assert plural(1, "CDI row") == "1 CDI row"
    assert plural(1200, "member") == "1200 members"
