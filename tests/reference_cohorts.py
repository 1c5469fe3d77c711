"""A pandas reference of SPEC 8.2 cohort retention (tests only).

Which rows are entries and returns is decided by the pure-Python reference of SPEC 3
(`tests/reference.py`, the same matchers the funnel reference uses); everything that is
cohort arithmetic — entry times, local periods, period indexes, the triangle — is computed
here with pandas, independently of the SQL: local times by `tz_convert`, periods by pandas'
own calendar (`to_period`), counts by `groupby`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pandas as pd

try:
    from tests import reference as R
    from tests import reference_funnels as RF
except ImportError:  # pragma: no cover - pytest rootdir-less import mode
    import reference as R  # type: ignore[no-redef]
    import reference_funnels as RF  # type: ignore[no-redef]

FREQ = {"day": "D", "week": "W-SUN", "month": "M"}  # W-SUN: weeks ending on Sunday, so starting on Monday
MISSING = "\x00missing"  # the NULL breakdown group, as a key pandas groups like any other
COLUMNS = ["cohort_start", "breakdown", "period", "cohort_size", "returned", "retention"]


def _first_rows(spec: dict, ctx: Any) -> dict[str, list[datetime]]:
    """Every seen occurrence time of an entry or return filter, by user."""
    source, matches = RF._matcher(spec, ctx)
    if source not in ctx.sources:
        return {}
    return {user: [o.time for o in occurrences if matches(o.row)] for user, occurrences in R._occurrences(ctx, source).items()}


def _entries(cohort: dict, ctx: Any) -> dict[str, datetime]:
    entry = cohort["entry"]
    if "attribute" in entry:
        column, kind, unit = R._attribute_declaration(entry["attribute"], ctx.sources["users"]["attributes"][entry["attribute"]])
        out = {}
        for user, row in ctx.users_by_id.items():
            value = R._column_value(kind, row.get(column), unit)
            if value is not None:
                out[user] = value
        return out
    return {user: min(times) for user, times in _first_rows(entry, ctx).items() if times}


def _ordinal(local: pd.Series, period: str) -> pd.Series:
    """A period's number on pandas' calendar: consecutive periods differ by one."""
    periods = local.dt.tz_localize(None).dt.to_period(FREQ[period])
    return periods.map(lambda p: p.ordinal).astype("int64")


def evaluate_cohort(cohort: dict, *, sources: dict, tables: dict, as_of: datetime, timezone: str = "UTC", segments: dict | None = None) -> list[dict]:
    """The rows of `cohort_<name>` for `cohort` (its YAML as a dict), sorted."""
    ctx = RF._context(sources, tables, as_of, timezone, segments)
    window = R._window_of({"within": cohort["entered_within"]} if "entered_within" in cohort else {}, ctx)
    audience = R.evaluate({"segment": cohort["audience"]}, sources=sources, tables=tables, as_of=as_of, timezone=timezone, segments=segments) if cohort.get("audience") else None
    entries = {u: t for u, t in _entries(cohort, ctx).items() if window(t) and (audience is None or u in audience)}
    period, periods = cohort["period"], int(cohort["periods"])
    if not entries:
        return []
    users = pd.DataFrame({"user": list(entries), "entry": pd.to_datetime(list(entries.values()), utc=True)})
    users["breakdown"] = [MISSING if b is None else b for b in (RF._breakdown(cohort, u, ctx) for u in users["user"])]
    users["cohort"] = _ordinal(users["entry"].dt.tz_convert(timezone), period)
    users["cohort_start"] = users["entry"].dt.tz_convert(timezone).dt.tz_localize(None).dt.to_period(FREQ[period]).dt.start_time.dt.date

    returns = [(u, t) for u, times in _first_rows(cohort["return"], ctx).items() if u in entries for t in times]
    back = pd.DataFrame(returns, columns=["user", "time"])
    back["time"] = pd.to_datetime(back["time"], utc=True)
    back = back.merge(users, on="user")
    back = back[back["time"] > back["entry"]]
    back["period"] = _ordinal(back["time"].dt.tz_convert(timezone), period) - back["cohort"]
    back = back[back["period"] <= periods].drop_duplicates(["user", "period"])
    returned = back.groupby(["cohort_start", "breakdown", "period"]).size()

    now = _ordinal(pd.Series(pd.to_datetime([as_of], utc=True)).dt.tz_convert(timezone), period).iloc[0]
    rows = []
    for (start, breakdown, ordinal), group in users.groupby(["cohort_start", "breakdown", "cohort"]):
        size = len(group)
        value = None if breakdown == MISSING else breakdown
        for n in range(min(periods, int(now - ordinal)) + 1):
            count = int(returned.get((start, breakdown, n), 0))
            rows.append({"cohort_start": start, "breakdown": value, "period": n, "cohort_size": size, "returned": count, "retention": count / size})
    return sorted(rows, key=key)


def key(row: dict) -> tuple:
    return (row["cohort_start"], row["breakdown"] is None, str(row["breakdown"]), row["period"])


def normalise(row: dict) -> dict:
    """An engine's row in the reference's shape (dates as dates, counts as ints)."""
    start = row["cohort_start"]
    if isinstance(start, datetime):
        start = start.astimezone(UTC).date() if start.tzinfo else start.date()
    elif isinstance(start, str):
        start = date.fromisoformat(start[:10])
    return {
        "cohort_start": start, "breakdown": row.get("breakdown"), "period": int(row["period"]),
        "cohort_size": int(row["cohort_size"]), "returned": int(row["returned"]), "retention": float(row["retention"]),
    }
