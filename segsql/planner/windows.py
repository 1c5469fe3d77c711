"""Windows resolved against `as_of` (SPEC 3.4): the instants a plan and its SQL compare with.

Planning needs them (how far back a scan must read, whether a window ends at `as_of`) and
so does rendering; both read them from here, so the two can never disagree.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from segsql.definitions.filters import Window


def bounds(window: Window | None, as_of: dt.datetime, timezone: str) -> tuple[dt.datetime | None, dt.datetime | None]:
    """[start, end) of a window in UTC; `end` None means up to as_of (inclusive), `start` None: all time."""
    if window is None:
        return None, None
    if window.kind == "last_days":
        zone = ZoneInfo(timezone)
        local_day = as_of.astimezone(zone).date() - dt.timedelta(days=int(window.amount))
        start = dt.datetime(local_day.year, local_day.month, local_day.day, tzinfo=zone)
        return start.astimezone(dt.UTC), None
    if window.kind == "last_hours":
        return as_of - dt.timedelta(hours=window.amount), None
    since: dt.datetime | None = window.since
    until: dt.datetime | None = window.until
    return since, until
