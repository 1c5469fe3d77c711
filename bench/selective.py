"""The "selective" workload (issue 17): 50 segments that each ask one event name over one window.

Events: `main.sel_events` (time order) and `main.sel_events_shuffled`, over 30 event names
with skewed shares (26 % for the commonest down to 1.3 % for the rarest), the same users,
times and ghost ids as the mixed workload (`datagen.py`). Each segment asks one name over
one window (1, 7, 30, 90, 365 days or all time) — count >= k, did not, lapsed, first
before — and one segment in four adds one attribute condition. It is where one wide GROUP
BY loses to one filtered aggregation per segment, so it is where the cost rule must choose.
"""

from __future__ import annotations

import time
from typing import Any

from datagen import MACROS, _moment, _user
from segments import KR_JP, VIP, Attr, Not, Segment, agg, count, ev

NAMES = tuple(f"ev{i:02d}" for i in range(30))
TOP, BOTTOM = 0.26, 0.013


def _shares() -> list[float]:
    """26 % for the first name, then shares falling geometrically to 1.3 %, summing to 1."""
    low, high = 0.5, 1.0  # the ratio r of the 29 geometric shares: BOTTOM / r^28 ... BOTTOM
    for _ in range(60):
        r = (low + high) / 2
        rest = sum(BOTTOM / r ** (28 - i) for i in range(29))
        low, high = (r, high) if rest > 1 - TOP else (low, r)
    r = (low + high) / 2
    return [TOP, *(BOTTOM / r ** (28 - i) for i in range(29))]


SHARES = _shares()


def _event_name(i: str) -> str:
    bounds, total = [], 0.0
    for name, share in zip(NAMES[:-1], SHARES[:-1], strict=True):
        total += share
        bounds.append(f"WHEN u01({i}, 4) < {total:.6f} THEN '{name}'")
    return f"CASE {' '.join(bounds)} ELSE '{NAMES[-1]}' END"


def generate_selective(con: Any, users: int, events: int, log=print) -> None:
    """Create-or-replace main.sel_events (time order) and main.sel_events_shuffled."""
    con.execute("SET TimeZone = 'UTC'")
    con.execute(MACROS)
    tick = time.monotonic()
    con.execute(f"""
        CREATE OR REPLACE TABLE main.sel_events AS
        SELECT {_user('i', 61, users, 0.01)} AS external_id, {_event_name('i')} AS event_name, {_moment('i', 70)} AS occurred_at,
               json_object('platform', CASE WHEN u01(i, 74) < 0.5 THEN 'ios' ELSE 'android' END)::JSON AS properties
        FROM range({events}) t(i)
        ORDER BY occurred_at, i
    """)
    log(f"  sel_events (30 names, time order): {events:,} rows in {time.monotonic() - tick:.1f}s")
    tick = time.monotonic()
    con.execute("CREATE OR REPLACE TABLE main.sel_events_shuffled AS SELECT * FROM main.sel_events ORDER BY hash(external_id, occurred_at, event_name)")
    log(f"  sel_events_shuffled: {time.monotonic() - tick:.1f}s")
    con.execute("CREATE OR REPLACE TABLE main.sel_meta AS SELECT ? AS users, ? AS events", [users, events])
    con.execute("CHECKPOINT")


def existing_selective(con: Any) -> tuple[int, int] | None:
    import duckdb

    try:
        row = con.execute("SELECT users, events FROM main.sel_meta").fetchone()
    except duckdb.Error:
        return None
    return (int(row[0]), int(row[1])) if row else None


WINDOWS = (1, 7, 30, 90, 365, None)
ATTRS = (KR_JP, VIP, Attr("country", "equals", "US"), Attr("age", "gte", 30))


def _segment(k: int) -> Segment:
    """The k-th segment: a name (common and rare alike), a window, a kind, sometimes an attribute."""
    name = NAMES[(k * 7) % 30]
    days = WINDOWS[(k // 4) % 6]
    kind = ("count", "did-not", "lapsed", "first")[k % 4]
    if days is None and kind in ("lapsed", "first"):  # these need a window: count over all time
        kind = "count"
    if kind == "count":
        leaf: Any = ev(name, days, count("gte", 1 + k % 3 * 2))
    elif kind == "did-not":
        leaf = Not(ev(name, days))
    elif kind == "lapsed":  # done it, but not in the window
        leaf = ev(name, None, agg("last", None, "more_than_days_ago", days))
    else:  # first did it before the window
        leaf = ev(name, None, agg("first", None, "more_than_days_ago", days))
    leaves = (leaf, ATTRS[k // 5 % 4]) if k % 5 == 4 else (leaf,)
    window = "all" if days is None else f"{days}d"
    return Segment(f"s{k:02d}_{kind.replace('-', '_')}_{name}_{window}", leaves, kind + ("+attr" if len(leaves) > 1 else ""))


SELECTIVE: list[Segment] = [_segment(k) for k in range(50)]
assert len({s.name for s in SELECTIVE}) == 50
