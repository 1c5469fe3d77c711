"""`segsql diff` as text: one table per kind of model, then the sample ids of each change.

Segments: members added (+) and removed (-). Funnels and cluster models: users who enter (+)
or leave (-) the model and users who stay but move (~: another furthest step, another
cluster), then the model's table compared row by row (users per step, users per cluster).
"""

from __future__ import annotations

from segsql.reports.model_diff import ModelDiff, Side
from segsql.reports.output import print_table, print_text
from segsql.reports.state_diff import SegmentDiff, StateDiff


def _change(change: str, parts: list[str]) -> str:
    return change + (f" ({', '.join(parts)})" if change == "modified" else "")


def _samples(name: str, sides: list[tuple[str, Side]]) -> None:
    for mark, side in sides:
        if side.sample:
            more = f" and {side.count - len(side.sample)} more" if side.count > len(side.sample) else ""
            print_text(f"{name} {mark} {', '.join(side.sample)}{more}")


def _delta(old: int | None, new: int | None) -> str:
    return f"{new - old:+d}" if old is not None and new is not None else ""


def _segments(report: StateDiff, rows: list[SegmentDiff]) -> None:
    table = [
        (s.segment, _change(s.change, s.parts), s.old_size, s.new_size, f"+{s.added.count}", f"-{s.removed.count}", s.guard_status + (f": {s.guard_message}" if s.guard_message else ""))
        for s in rows
    ]
    print_table(f"changes against {report.state} at {report.as_of}", ["segment", "change", "old size", "new size", "added", "removed", "guards"], table)
    for s in rows:
        _samples(s.segment, [("+", s.added), ("-", s.removed)])


def _models(report: StateDiff, kind: str, rows: list[ModelDiff]) -> None:
    """A funnel's size is its entered users (furthest step >= 1); a cluster model's, its clustered users."""
    what, moved, key, label = ("funnel", "step moved", "step", "name") if kind == "funnel" else ("cluster model", "cluster moved", "cluster", "label")
    sized = "entered" if kind == "funnel" else "users"
    table = [(m.name, _change(m.change, m.parts), m.old_size, m.new_size, f"+{m.added.count}", f"-{m.removed.count}", f"~{m.moved.count}") for m in rows]
    print_table(f"{what} changes against {report.state} at {report.as_of}", [what, "change", f"old {sized}", f"new {sized}", "entered", "left", moved], table)
    for m in rows:
        groups = [
            (g.key, g.new_name if g.old_name in (None, g.new_name) else f"{g.new_name or ''} (was {g.old_name})", g.old_users, g.new_users, _delta(g.old_users, g.new_users))
            for g in m.groups
        ]
        print_table(f"{m.name}: users per {key}" + (" (furthest step >= step)" if kind == "funnel" else ""), [key, label, "old users", "new users", "change"], groups)
        _samples(m.name, [("+", m.added), ("-", m.removed), ("~", m.moved)])


def print_diff(report: StateDiff) -> None:
    if not (report.segments or report.funnels or report.clusters):
        print_text(f"no segment, funnel or cluster model changed against {report.state}")
        return
    if report.segments:
        _segments(report, report.segments)
    if report.funnels:
        _models(report, "funnel", report.funnels)
    if report.clusters:
        _models(report, "cluster", report.clusters)
