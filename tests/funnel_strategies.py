"""Hypothesis strategies for funnels (SPEC 4) and the event streams they run over.

Times come from a small pool around the window edges the funnels use (1 hour, 1 day and 7
day windows, a 10 minute `within_previous`, `last_days: 1`), so equal timestamps, rows
exactly at an edge and one second past it are common; names repeat, rows after `as_of`
and ids absent from users appear, and held values are sometimes missing, '' or numbers.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

AS_OF = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
BASE = datetime(2026, 11, 21, 9, 0)  # naive UTC, day 1 in UTC
OFFSETS_S = (0, 0, 0, 1, 60, 599, 600, 601, 3600, 3601, 7200, 86400, 86401, 90000, 604800, 604801)
SECOND = timedelta(seconds=1)
EVENT_NAMES = ("view", "view", "cart", "cart", "checkout", "search")
PRODUCT_VALUES = ("p1", "p1", "p2", "", None, 7)
USER_IDS = ("u1", "u2", "u3", "ghost")
STEP_POOL: tuple[dict, ...] = (
    {"event": "view"},
    {"event": "cart"},
    {"event": "checkout"},
    {"event": ["view", "cart"]},
    {"event": "view", "where": [{"property": "product_id", "equals": "p1"}]},
    {"purchase": "any"},
    {"purchase": "p1"},
)
WINDOWS = ({"hours": 1}, {"days": 1}, {"days": 7})
ENTERED = ({"last_days": 1}, {"last_hours": 20}, {"since": "2026-11-21T09:00:00Z", "until": "2026-11-21T10:00:00Z"})


def _time(draw: st.DrawFn) -> datetime:
    if draw(st.integers(0, 15)) == 0:
        return AS_OF.replace(tzinfo=None) + SECOND * draw(st.sampled_from((0, 1)))
    return BASE + timedelta(seconds=draw(st.sampled_from(OFFSETS_S)))


@st.composite
def tables(draw: st.DrawFn) -> dict[str, list[dict]]:
    users = [{"external_id": u, "country": draw(st.sampled_from(("KR", "JP", None))), "is_vip": draw(st.sampled_from((True, False, None)))} for u in USER_IDS[:3]]
    events = []
    for _ in range(draw(st.integers(0, 14))):
        product = draw(st.sampled_from(PRODUCT_VALUES))
        props = json.dumps({"product_id": product}) if draw(st.booleans()) else None
        events.append({"external_id": draw(st.sampled_from(USER_IDS)), "event_name": draw(st.sampled_from(EVENT_NAMES)), "occurred_at": _time(draw), "platform": None, "properties": props})
    purchases = [
        {"external_id": draw(st.sampled_from(USER_IDS)), "purchased_at": _time(draw), "product_id": draw(st.sampled_from(("p1", "p2"))), "price": 1.0, "quantity": 1, "properties": None}
        for _ in range(draw(st.integers(0, 4)))
    ]
    return {"main.users": users, "main.events": events, "main.purchases": purchases}


@st.composite
def funnel(draw: st.DrawFn, name: str) -> dict[str, Any]:
    order = draw(st.sampled_from(("sequential", "sequential", "strict", "any")))
    steps = [dict(draw(st.sampled_from(STEP_POOL))) for _ in range(draw(st.integers(1, 3)))]
    out: dict[str, Any] = {"name": name, "order": order, "steps": steps}
    if draw(st.booleans()):
        out["conversion_window"] = dict(draw(st.sampled_from(WINDOWS)))
    if draw(st.integers(0, 3)) == 0:
        out["entered_within"] = dict(draw(st.sampled_from(ENTERED)))
    if order != "any" and len(steps) > 1:
        for step in steps[1:]:
            if draw(st.integers(0, 3)) == 0:
                step["within_previous"] = {"minutes": 10}
        if draw(st.integers(0, 3)) == 0:
            after = draw(st.integers(1, len(steps) - 1))
            before = draw(st.integers(after + 1, len(steps)))
            out["exclusions"] = [{"event": draw(st.sampled_from(("search", "cart"))), "between": [after, before]}]
    if draw(st.integers(0, 3)) == 0:
        out["hold_constant"] = [{"property": "product_id"}]
        for step in steps:
            if "purchase" in step:
                step["hold"] = [{"column": "product_id"}]
    if draw(st.integers(0, 2)) == 0:
        out["breakdown"] = draw(st.sampled_from(("country", "is_vip")))
    if draw(st.integers(0, 2)) == 0:
        out["trends"] = {"period": draw(st.sampled_from(("day", "week", "month")))}
    return out


@st.composite
def funnel_case(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "tables": draw(tables()),
        "funnels": [draw(funnel("a")), draw(funnel("b"))],
        "timezone": draw(st.sampled_from(("UTC", "Asia/Seoul", "America/New_York"))),
    }
