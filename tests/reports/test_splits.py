"""SPEC 8.5 split readouts on every engine: sizes and converters per group from the membership
table's split_group and entered_at, and the statistics of the reference library."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from segsql.engines.base import Adapter
from segsql.errors import UsageError
from segsql.reports.splits import parse_metric, split_readout
from segsql.reports.stats import compare
from segsql.run.materialize import run_models
from segsql.run.session import Options, open_session
from tests.conftest import write_project

ENTERED = dt.datetime(2026, 6, 1, 12)
READ_AT = "2026-06-20T12:00:00Z"
USERS = [(f"u{i:02d}", "KR") for i in range(40)]
FILES = {
    "models/sources.yml": """
        users: {table: main.users, id: external_id, attributes: {country: string}}
        events: {table: main.events, user: external_id, name: event_name, time: occurred_at}
        purchases: {table: main.purchases, user: external_id, time: purchased_at, product: product_id, price: price}
    """,
    "models/segments.yml": """
        segments:
          - name: campaign
            where: {attribute: country, equals: KR}
            split:
              salt: spring
              groups: {holdout: 30, variant_a: 35, variant_b: 35}
              holdout: holdout
          - name: plain
            where: {attribute: country, equals: KR}
    """,
}


def group_of(user: str) -> str:
    """SPEC 2 / 3.7: bucket = int(md5(salt || id)[:8], 16) mod 10000; holdout [0, 3000), then 35 % each."""
    bucket = int(hashlib.md5(f"spring{user}".encode()).hexdigest()[:8], 16) % 10000
    return "holdout" if bucket < 3000 else "variant_a" if bucket < 6500 else "variant_b"


def purchases() -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for i, (user, _) in enumerate(USERS):
        if i % 2 == 0:
            rows.append((user, ENTERED + dt.timedelta(days=1 + i % 5), "p", 1.0))  # within 7 days of entering
        if i % 3 == 0:
            rows.append((user, ENTERED + dt.timedelta(days=9), "p", 1.0))  # outside 7 days, inside 14
        if i % 7 == 0:
            rows.append((user, ENTERED - dt.timedelta(days=2), "p", 1.0))  # before entering: never counts
    return rows


def expected(within_days: int) -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    bought = {u for u, t, *_ in purchases() if ENTERED <= t < ENTERED + dt.timedelta(days=within_days)}
    for user, _ in USERS:
        size, conv = out.get(group_of(user), (0, 0))
        out[group_of(user)] = (size + 1, conv + (user in bought))
    return out


@pytest.mark.parametrize("within", [7, 14])
def test_groups_converters_and_statistics(tmp_path: Path, engine: Callable[[], Adapter], within: int) -> None:
    adapter = engine()
    adapter.load_rows("users", [("external_id", "VARCHAR"), ("country", "VARCHAR")], USERS)
    adapter.load_rows("events", [("external_id", "VARCHAR"), ("event_name", "VARCHAR"), ("occurred_at", "TIMESTAMP")], [("u01", "app_open", ENTERED + dt.timedelta(days=1))])
    adapter.load_rows("purchases", [("external_id", "VARCHAR"), ("purchased_at", "TIMESTAMP"), ("product_id", "VARCHAR"), ("price", "DOUBLE")], purchases())
    root = write_project(tmp_path / "p", FILES)
    run = open_session(Options(root), ENTERED.isoformat() + "Z", need_target=False)
    assert run_models(run, adapter, ["campaign", "plain"]).ok
    # u00 converts on day 1, then leaves the segment: an intent-to-treat readout still counts it
    adapter.load_rows("users", [("external_id", "VARCHAR"), ("country", "VARCHAR")], [("u00", "JP"), *USERS[1:]])
    later = open_session(Options(root), (ENTERED + dt.timedelta(days=3)).isoformat() + "Z", need_target=False)
    assert run_models(later, adapter, ["campaign"]).models[0].exited == 1
    session = open_session(Options(root), READ_AT, need_target=False)
    result = split_readout(session, adapter, "campaign", parse_metric("purchase"), within)
    want = expected(within)
    assert [g.group for g in result.groups] == ["holdout", "variant_a", "variant_b"]
    assert {g.group: (g.size, g.converters) for g in result.groups} == want
    control = want["holdout"]
    for g in result.groups[1:]:
        stats = compare(*want[g.group][::-1], *control[::-1])
        assert stats is not None
        assert g.p_value == (None if stats.p_value is None else pytest.approx(stats.p_value))
        assert (g.ci_low, g.ci_high) == (pytest.approx(stats.ci_low), pytest.approx(stats.ci_high))
        assert g.lift == pytest.approx((g.converters / g.size) / (control[1] / control[0]) - 1)
    events = split_readout(session, adapter, "campaign", parse_metric("event:app_open"), within)
    assert sum(g.converters for g in events.groups) == 1
    with pytest.raises(UsageError, match="has no split"):
        split_readout(session, adapter, "plain", parse_metric("purchase"), within)


def test_bad_metric_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="purchase or event:NAME"):
        parse_metric("clicks")
