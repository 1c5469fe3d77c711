"""Independent pure-Python reference of SPEC section 4 (funnels), for tests only.

Written from the SPEC, sharing no code with the `segsql` package (rows and `where:`
conditions are read by `tests/reference.py`). It is a brute force: for every user it
tries every choice of distinct rows for the steps and keeps those that satisfy the
definition of a path, so it is slow and obviously right. Choices the SPEC leaves open,
as segsql documents them in its README:

- the funnel's default `conversion_window` is 30 days; `tk − t1 <= window` is inclusive;
- exclusions void a path that reaches their second step (a path that stops earlier is not
  affected); the exclusion row's time must be strictly between the two steps' times;
- strict order looks at the events source only: a purchase between two steps does not
  break it;
- `any` order: step k's time is the time at which the user had done k of the steps (the
  path's times sorted), t1 is the earliest of them;
- held values are compared as text (`type: string`, a JSON string only; `''` is missing)
  or as numbers (`type: number`);
- the users table lists entered users only (furthest step >= 1); the breakdown value is the
  attribute as text (NULL for users without one);
- step 1's conversion_from_previous is 1.0; conversions over 0 users are None; medians
  over no users are None.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

try:
    from tests import reference as R
except ImportError:  # pragma: no cover - pytest rootdir-less import mode
    import reference as R  # type: ignore[no-redef]

DEFAULT_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class Row:
    """One occurrence: its source and position are its identity."""

    source: str
    index: int
    time: datetime
    data: dict


@dataclass
class UserResult:
    furthest: int
    times: tuple[datetime, ...]  # step_1_at .. step_<furthest>_at
    breakdown: str | None = None


def _context(sources: dict, tables: dict, as_of: datetime, timezone: str, segments: dict | None) -> R._Context:
    as_of = as_of.astimezone(UTC)
    return R._Context(
        sources=sources, tables=tables, users_by_id=R.users_by_id(sources, tables),
        universe=R.universe(sources, tables, as_of), as_of=as_of, tz=ZoneInfo(timezone),
        bucket_salt="", segments=dict(segments or {}),
    )


def _matcher(spec: Mapping, ctx: R._Context) -> tuple[str, Any]:
    """(source, test on a row dict) of a step or an exclusion."""
    if "event" in spec:
        return "events", R._event_matcher({k: v for k, v in spec.items() if k in ("event", "where")}, ctx)
    source = ctx.sources["purchases"]
    product = R._product_selector(spec["purchase"], source)
    conditions = R._conditions({k: v for k, v in spec.items() if k == "where"}, "purchases", ctx)
    return "purchases", lambda row: product(row) and all(c(row) for c in conditions)


def _hold_reader(entry: Mapping, source: str, ctx: R._Context) -> Any:
    kind = entry.get("type", "string")
    read = R._property_reader(entry["property"], kind, source, ctx) if "property" in entry else R._cell_reader(entry["column"], kind, source, ctx)

    def value(row: dict) -> Any:
        v = read(row)
        if kind == "string" and (v is None or v == ""):
            return None
        return v

    return value


def _seconds(spec: Mapping) -> timedelta:
    return R._duration(spec, "duration")


def evaluate_funnel(funnel: dict, *, sources: dict, tables: dict, as_of: datetime, timezone: str = "UTC", segments: dict | None = None) -> dict[str, UserResult]:
    """Entered users (furthest >= 1) of `funnel` (its YAML as a dict), with their path times."""
    ctx = _context(sources, tables, as_of, timezone, segments)
    order = funnel.get("order", "sequential")
    window = _seconds(funnel["conversion_window"]) if "conversion_window" in funnel else DEFAULT_WINDOW
    entered = R._window_of({"within": funnel["entered_within"]} if "entered_within" in funnel else {}, ctx)
    default_hold = funnel.get("hold_constant", [])
    steps = []
    for spec in funnel["steps"]:
        source, matches = _matcher(spec, ctx)
        holds = [_hold_reader(e, source, ctx) for e in spec.get("hold", default_hold)]
        limit = _seconds(spec["within_previous"]) if "within_previous" in spec else None
        steps.append((source, matches, holds, limit))
    exclusions = [(*_matcher(x, ctx), x["between"][0], x["between"][1]) for x in funnel.get("exclusions", [])]

    rows_by_user: dict[str, list[Row]] = {}
    for source in ("events", "purchases"):
        if source not in sources:
            continue
        for user, occurrences in R._occurrences(ctx, source).items():
            rows_by_user.setdefault(user, []).extend(Row(source, o.index, o.time, o.row) for o in occurrences)

    audience = None
    if funnel.get("audience"):
        audience = R.evaluate({"segment": funnel["audience"]}, sources=sources, tables=tables, as_of=as_of, timezone=timezone, segments=segments)

    out: dict[str, UserResult] = {}
    for user, rows in rows_by_user.items():
        if audience is not None and user not in audience:
            continue
        best = _best_path(rows, steps, exclusions, order, window, entered)
        if best is not None:
            out[user] = UserResult(len(best), best, _breakdown(funnel, user, ctx))
    return out


def _best_path(rows: list[Row], steps: list, exclusions: list, order: str, window: timedelta, entered: Any) -> tuple[datetime, ...] | None:
    """The times of the best path: most steps, then earliest t1, then earliest later times."""
    candidates: list[list[tuple[Row, tuple]]] = []
    for source, matches, holds, _ in steps:
        options = []
        for row in rows:
            if row.source == source and matches(row.data):
                values = tuple(h(row.data) for h in holds)
                if all(v is not None for v in values):
                    options.append((row, values))
        candidates.append(options)
    event_times = sorted(r.time for r in rows if r.source == "events")
    best: tuple[int, tuple[datetime, ...]] | None = None

    def key(path: list[tuple[Row, tuple]]) -> tuple[datetime, ...]:
        times = [r.time for r, _ in path]
        return tuple(sorted(times)) if order == "any" else tuple(times)

    def valid(path: list[tuple[Row, tuple]]) -> bool:
        times = [r.time for r, _ in path]
        first, last = (min(times), max(times)) if order == "any" else (times[0], times[-1])
        if not entered(first) or last - first > window:
            return False
        if len({(r.source, r.index) for r, _ in path}) != len(path) or len({v for _, v in path}) != 1:
            return False
        if order == "any":
            return True
        for i in range(1, len(path)):
            gap = times[i] - times[i - 1]
            if gap < timedelta(0):
                return False
            limit = steps[i][3]
            if limit is not None and gap > limit:
                return False
            if order == "strict" and any(times[i - 1] < t < times[i] for t in event_times):
                return False
        for x_source, x_matches, after, before in exclusions:
            if before <= len(path) and any(
                r.source == x_source and x_matches(r.data) and times[after - 1] < r.time < times[before - 1] for r in rows
            ):
                return False
        return True

    def extend(path: list[tuple[Row, tuple]]) -> None:
        nonlocal best
        if path and valid(path):
            found = (len(path), key(path))
            if best is None or found[0] > best[0] or (found[0] == best[0] and found[1] < best[1]):
                best = found
        if len(path) == len(steps):
            return
        for option in candidates[len(path)]:
            if path and not _promising(path, option, order, window):
                continue
            extend([*path, option])

    extend([])
    return best[1] if best else None


def _promising(path: list[tuple[Row, tuple]], option: tuple[Row, tuple], order: str, window: timedelta) -> bool:
    """A cheap pruning that never drops a valid path: same held values, times within the window."""
    if option[1] != path[0][1] or any(option[0] == r for r, _ in path):
        return False
    times = [r.time for r, _ in path] + [option[0].time]
    if order != "any" and times[-1] < times[-2]:
        return False
    return max(times) - min(times) <= window


def _breakdown(funnel: dict, user: str, ctx: R._Context) -> str | None:
    name = funnel.get("breakdown")
    if not name:
        return None
    declared = ctx.sources["users"]["attributes"][name]
    column, kind, unit = R._attribute_declaration(name, declared)
    row = ctx.users_by_id.get(user)
    if row is None:
        return None
    value = R._column_value(kind, row.get(column), unit)
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# -- tables -----------------------------------------------------------------------------------


def step_table(funnel: dict, users: dict[str, UserResult]) -> list[dict]:
    """One row per breakdown value (entered users' values; None without a breakdown) and step."""
    k = len(funnel["steps"])
    groups: dict[str | None, list[UserResult]] = {}
    if not funnel.get("breakdown"):
        groups[None] = list(users.values())
    else:
        for result in users.values():
            groups.setdefault(result.breakdown, []).append(result)
    out = []
    for value, results in groups.items():
        counts = [sum(1 for r in results if r.furthest >= j) for j in range(1, k + 1)]
        for j in range(1, k + 1):
            gaps = [(r.times[j - 1] - r.times[j - 2]).total_seconds() for r in results if j > 1 and r.furthest >= j]
            previous = counts[j - 2] if j > 1 else counts[0]
            out.append({
                "breakdown": value, "step": j, "step_name": _step_name(funnel["steps"][j - 1]), "users": counts[j - 1],
                "conversion_from_previous": counts[j - 1] / previous if previous else None,
                "conversion_from_first": counts[j - 1] / counts[0] if counts[0] else None,
                "median_seconds_from_previous": statistics.median(gaps) if gaps else None,
            })
    return out


def _step_name(spec: Mapping) -> str:
    if "name" in spec:
        return str(spec["name"])
    if "event" in spec:
        names = spec["event"] if isinstance(spec["event"], list) else [spec["event"]]
        return " or ".join(map(str, names))
    if spec["purchase"] == "any":
        return "purchase"
    names = spec["purchase"] if isinstance(spec["purchase"], list) else [spec["purchase"]]
    return "purchase " + " or ".join(map(str, names))


def period_start(moment: datetime, period: str, timezone: str) -> date:
    local = moment.astimezone(ZoneInfo(timezone)).date()
    if period == "day":
        return local
    if period == "week":
        return local - timedelta(days=local.weekday())
    return local.replace(day=1)


def trends(funnel: dict, users: dict[str, UserResult], timezone: str) -> list[dict]:
    """One row per (period of t1, breakdown value): entered, completed, conversion."""
    k = len(funnel["steps"])
    period = funnel["trends"]["period"]
    cells: dict[tuple[date, str | None], list[int]] = {}
    for result in users.values():
        cell = cells.setdefault((period_start(result.times[0], period, timezone), result.breakdown), [0, 0])
        cell[0] += 1
        cell[1] += result.furthest == k
    return [
        {"period_start": p, "breakdown": b, "entered": e, "completed": c, "conversion": c / e}
        for (p, b), (e, c) in sorted(cells.items(), key=lambda item: (item[0][0], str(item[0][1])))
    ]
