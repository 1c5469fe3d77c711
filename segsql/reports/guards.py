"""The guards part of `segsql test`: each selected segment's guards against its size at the last run.

Read from `segsql_history` on the target. A guard tightened since (or a max_change_pct
the last run's change already breaks) shows here before the next run fails on it. When
the target cannot be reached the report says so instead of failing: unit tests need no
warehouse.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from sqlglot import exp

from segsql.definitions.segments import Guards, Segment
from segsql.engines import Adapter, EngineError
from segsql.errors import UserError
from segsql.run.session import Session
from segsql.run.state import HISTORY


@dataclass(frozen=True)
class GuardCheck:
    segment: str
    min_size: int | None
    max_size: int | None
    max_change_pct: float | None
    #: size at the last run and at the one before (None: no such run)
    size: int | None
    previous: int | None
    #: ok | broken | never run
    status: str
    message: str = ""


@dataclass
class GuardReport:
    #: whether the last run's sizes were read (False: `reason` says why not)
    checked: bool
    reason: str = ""
    checks: list[GuardCheck] = field(default_factory=list)

    @property
    def broken(self) -> list[GuardCheck]:
        return [c for c in self.checks if c.status == "broken"]

    def as_dict(self) -> dict[str, object]:
        return {"checked": self.checked, "reason": self.reason, "segments": [asdict(c) for c in self.checks]}


def _sizes(adapter: Adapter, names: list[str]) -> dict[str, list[int]]:
    """Each segment's sizes at its last two committed runs, newest first."""
    if not names or not adapter.table_exists(HISTORY):
        return {}
    query = (
        exp.select("segment", "size")
        .from_(adapter.table(HISTORY))
        .where(exp.column("segment").isin(*(exp.Literal.string(n) for n in names)))
        .order_by(exp.Ordered(this=exp.column("as_of"), desc=True))
    )
    sizes: dict[str, list[int]] = {}
    for segment, size in adapter.fetch(query):
        found = sizes.setdefault(str(segment), [])
        if len(found) < 2:
            found.append(int(size))
    return sizes


def check(seg: Segment, sizes: list[int]) -> GuardCheck:
    g = seg.guards
    size = sizes[0] if sizes else None
    previous = sizes[1] if len(sizes) > 1 else None
    if size is None:
        return GuardCheck(seg.name, g.min_size, g.max_size, g.max_change_pct, None, None, "never run")
    problems = []
    if g.min_size is not None and size < g.min_size:
        problems.append(f"min_size: {size} members, fewer than {g.min_size}")
    if g.max_size is not None and size > g.max_size:
        problems.append(f"max_size: {size} members, more than {g.max_size}")
    if g.max_change_pct is not None and previous:
        change = abs(size - previous) * 100 / previous
        if change > g.max_change_pct:
            problems.append(f"max_change_pct: the last run changed the size {change:.1f}% ({previous} → {size}), limit {g.max_change_pct:g}%")
    return GuardCheck(seg.name, g.min_size, g.max_size, g.max_change_pct, size, previous, "broken" if problems else "ok", "; ".join(problems))


def guard_report(session: Session, names: list[str]) -> GuardReport:
    """The guards of the `table` segments among `names` that declare any."""
    segments = session.definitions.segments
    guarded = [n for n in names if segments[n].materialized == "table" and segments[n].guards != Guards()]
    if not guarded:
        return GuardReport(False, "no selected segment declares guards")
    if session.project.target is None:
        return GuardReport(False, "no connection target (profiles.yml): guards not checked")
    try:
        with session.connect() as adapter:
            sizes = _sizes(adapter, guarded)
    except (EngineError, UserError) as err:
        return GuardReport(False, f"target {session.project.target.name} not reachable, guards not checked: {err}")
    return GuardReport(True, "", [check(segments[n], sizes.get(n, [])) for n in guarded])
