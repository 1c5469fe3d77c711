"""SPEC 8.2 definitions: what a cohort parses into, and every mistake as one error at its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from segsql.errors import ProjectError
from segsql.run.session import Options, open_session
from tests.conftest import write_project

SOURCES = """
users: {table: main.users, id: external_id, attributes: {country: string, age: number, signup_at: time, period: string}}
events: {table: main.events, user: external_id, name: event_name, time: occurred_at, properties: properties}
purchases: {table: main.purchases, user: external_id, time: purchased_at, product: product_id, price: price}
"""
SEGMENT = "segments:\n  - name: koreans\n    where: {attribute: country, equals: KR}\n"


def load(tmp_path: Path, cohorts: str):
    root = write_project(tmp_path / "p", {"models/sources.yml": SOURCES, "models/c.yml": SEGMENT + cohorts})
    return open_session(Options(root), "2026-11-22T12:00:00Z", need_target=False).definitions


def test_a_cohort_parses_every_option(tmp_path: Path) -> None:
    defs = load(tmp_path, """cohorts:
  - name: monthly_buyers
    description: first purchase month, buying again
    tags: [retention]
    entry: {purchase: any}
    return: {event: app_open, where: [{property: platform, equals: ios}]}
    period: month
    periods: 12
    entered_within: {last_days: 400}
    audience: koreans
    breakdown: country
""")
    c = defs.cohorts["monthly_buyers"]
    assert c.entry is not None and (c.entry.source, c.entry.names) == ("purchases", None)
    assert (c.returns.source, c.returns.names, len(c.returns.where)) == ("events", ("app_open",), 1)
    assert (c.period, c.periods, c.audience, c.table) == ("month", 12, "koreans", "cohort_monthly_buyers")
    assert c.entered_within is not None and c.entered_within.amount == 400
    assert c.breakdown is not None and c.breakdown.name == "country"
    assert str(c.location) == "models/c.yml:5"
    assert defs.models["monthly_buyers"] is c and c.dependencies() == ("koreans",)


def test_an_attribute_entry(tmp_path: Path) -> None:
    c = load(tmp_path, "cohorts:\n  - name: c\n    entry: {attribute: signup_at}\n    return: {purchase: [p1, p2]}\n    period: week\n    periods: 0\n").cohorts["c"]
    assert c.entry is None and c.entry_attribute is not None and c.entry_attribute.column == "signup_at"
    assert (c.returns.names, c.periods, c.breakdown, c.audience) == (("p1", "p2"), 0, None, None)


def test_editing_a_description_keeps_the_membership_hash(tmp_path: Path) -> None:
    body = "    entry: {purchase: any}\n    return: {purchase: any}\n    period: day\n    periods: 3\n"
    a = load(tmp_path / "a", "cohorts:\n  - name: c\n" + body).cohorts["c"]
    b = load(tmp_path / "b", "cohorts:\n\n  - name: c\n    description: moved\n" + body).cohorts["c"]
    c = load(tmp_path / "c", "cohorts:\n  - name: c\n" + body.replace("periods: 3", "periods: 4")).cohorts["c"]
    assert a.membership_hash() == b.membership_hash() != c.membership_hash() and a.metadata_hash() != b.metadata_hash()


OK = {"entry": "    entry: {purchase: any}\n", "return": "    return: {purchase: any}\n", "period": "    period: month\n", "periods": "    periods: 12\n"}


def body(**replace: str) -> str:
    """A valid cohort body (from line 6) with some lines replaced; '' drops one."""
    return "".join(replace.get(k, v) for k, v in OK.items()) + replace.get("extra", "")


BROKEN = [
    ("unknown_key", body(extra="    breakdwon: country\n"), 10, "did you mean 'breakdown'?"),
    ("no_entry", body(entry=""), 5, "needs `entry`"),
    ("no_return", body(**{"return": ""}), 5, "needs `return`"),
    ("unknown_period", body(period="    period: monht\n"), 8, "did you mean 'month'?"),
    ("no_periods", body(periods=""), 5, "needs `periods`"),
    ("fractional_periods", body(periods="    periods: 1.5\n"), 9, "whole number"),
    ("negative_periods", body(periods="    periods: -1\n"), 9, "at least 0"),
    ("entry_with_within", body(entry="    entry: {purchase: any, within: {last_days: 3}}\n"), 6, "entered_within"),
    ("entry_with_a_measure", body(entry="    entry: {purchase: any, count: {gte: 2}}\n"), 6, "takes no measure"),
    ("return_with_within", body(**{"return": "    return: {event: a, within: {last_days: 3}}\n"}), 7, "`period:` and `periods:` bound the returns"),
    ("return_typo", body(**{"return": "    return: {event: a, wher: []}\n"}), 7, "did you mean 'where'?"),
    ("return_attribute", body(**{"return": "    return: {attribute: signup_at}\n"}), 7, "an event or purchase filter"),
    ("return_neither", body(**{"return": "    return: {where: []}\n"}), 7, "exactly one of `event:` or `purchase:`"),
    ("entry_attribute_unknown", body(entry="    entry: {attribute: signup}\n"), 6, "did you mean 'signup_at'?"),
    ("entry_attribute_not_a_time", body(entry="    entry: {attribute: age}\n"), 6, "of type number; an entry attribute is a time"),
    ("entry_attribute_and_rows", body(entry="    entry: {attribute: signup_at, event: a}\n"), 6, "unknown key 'event'"),
    ("unknown_audience", body(extra="    audience: korean\n"), 10, "did you mean 'koreans'?"),
    ("unknown_breakdown", body(extra="    breakdown: countyr\n"), 10, "did you mean 'country'?"),
    ("number_breakdown", body(extra="    breakdown: age\n"), 10, "of type number"),
    ("breakdown_named_like_a_column", body(extra="    breakdown: period\n"), 10, "name of a column of the cohort table"),
    ("bad_window", body(extra="    entered_within: {last_dayz: 3}\n"), 10, "did you mean 'last_days'?"),
    ("bad_where", body(**{"return": "    return:\n      event: a\n      where: [{property: x, gtt: 3}]\n"}), 9, "unknown key 'gtt'"),
]


@pytest.mark.parametrize(("case", "text", "line", "words"), BROKEN, ids=[b[0] for b in BROKEN])
def test_cohort_mistakes_are_errors_at_their_line(tmp_path: Path, case: str, text: str, line: int, words: str) -> None:
    with pytest.raises(ProjectError) as err:
        load(tmp_path, "cohorts:\n  - name: c\n" + text)
    assert str(err.value.location) == f"models/c.yml:{line}", err.value.render()
    assert words in err.value.render(), err.value.render()


def test_names_are_unique_across_kinds_and_tables(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="cohort 'koreans' has the name of a segment"):
        load(tmp_path / "a", "cohorts:\n  - name: koreans\n" + body())
    with pytest.raises(ProjectError, match="cohort 'c' is defined twice"):
        load(tmp_path / "b", "cohorts:\n  - name: c\n" + body() + "  - name: c\n" + body())
    root = write_project(tmp_path / "c", {
        "segsql_project.yml": "name: p\ntable_prefix: {segment: cohort_k}\n",
        "models/sources.yml": SOURCES,
        "models/c.yml": SEGMENT.replace("koreans", "oreans") + "cohorts:\n  - name: koreans\n" + body(),
    })
    with pytest.raises(ProjectError, match="would write table 'cohort_koreans', the membership table of segment 'oreans'"):
        open_session(Options(root), "2026-11-22T12:00:00Z", need_target=False)
