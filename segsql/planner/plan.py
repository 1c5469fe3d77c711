"""The plan of one query as a frozen value: what is computed once, and for which models.

A `Plan` says *what* to compute — per-source grouped scans and the aggregates (metrics)
each holds, the shared per-user passes (sequence numbering, sequences, RFM), how the
universe of users is formed, and one node per model — and how every behavioural leaf is
answered from them. The compiler renders it for a dialect; nothing in it is SQL, so the
same plan prints itself for `--dry-run` and `compile`, and rules can rewrite it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

from segsql.definitions.filters import (
    BehaviourFilter,
    CatalogCondition,
    RfmFilter,
    RowCondition,
    SequenceFilter,
    ValueRef,
    Window,
)
from segsql.planner.anchors import Anchor

#: The form of the query: one boolean column per model over every user, or one model's member ids.
Form = Literal["flags", "members"]
#: How the universe (SPEC "Words") is built: users FULL JOIN each scan FULL JOIN the ids the scans
#: skip (no second pass over a scanned source), a UNION of the ids of every source, or only the
#: users of the anchor's scan (every segment of the query needs such a row: `anchors.py`).
Universe = Literal["full_join", "union", "anchored"]


@dataclass(frozen=True)
class MetricSpec:
    """One aggregate over the rows of a source: `kind` of `value` over the rows that match.

    kind: count, sum, avg, min, max, count_distinct, first, last, revenue, and avg_count (the
    number of values an avg adds, planned beside it). Two specs that are
    equal compute the same column, whichever segments and lines asked for them."""

    source: str
    kind: str
    names: tuple[str, ...] | None
    where: tuple[RowCondition | CatalogCondition, ...]
    window: Window | None
    value: ValueRef | None = None


@dataclass(frozen=True)
class Ask:
    """One measure of one behavioural leaf, and how the plan answers it.

    `latest` None: compare the metric with the measure's condition. True / False: the
    metric is the latest matching row's time, and the leaf is "a row at or after `since`"
    / "no such row" (the latest-row rule)."""

    leaf: BehaviourFilter
    index: int
    model: str
    spec: MetricSpec
    #: the earliest row time the answer needs (None: every seen row)
    since: dt.datetime | None
    latest: bool | None = None


@dataclass(frozen=True)
class Metric:
    alias: str
    spec: MetricSpec
    used_by: tuple[str, ...]


@dataclass(frozen=True)
class Scan:
    """One grouped pass over a source computing `metrics`, reading only the rows they need."""

    source: str
    alias: str
    metrics: tuple[Metric, ...]
    #: the names (events) or products (purchases) every metric reads; None: any
    names: tuple[str, ...] | None = None
    #: the earliest time any metric reads; None: all time
    start: dt.datetime | None = None


@dataclass(frozen=True)
class Numbering:
    """Every seen row of a source numbered once, so one row never serves two steps."""

    alias: str
    source: str = "events"


@dataclass(frozen=True)
class SequencePass:
    alias: str
    sequence: SequenceFilter
    #: source → the alias of its numbering, for every source the steps read
    numberings: tuple[tuple[str, str], ...]
    used_by: tuple[str, ...]

    def numbering(self, source: str) -> str:
        return dict(self.numberings)[source]


@dataclass(frozen=True)
class RfmPass:
    alias: str
    window: Window
    used_by: tuple[str, ...]


SharedPass = Numbering | SequencePass | RfmPass


@dataclass(frozen=True)
class SegmentNode:
    """A selected segment: a boolean per user (`filter`) or a SQL segment's ids (`sql`)."""

    name: str
    kind: Literal["filter", "sql"]
    materialized: str


ModelNode = SegmentNode


@dataclass(frozen=True)
class Choice:
    """How a run groups its segments into queries (`costs.choose`), and why."""

    strategy: str
    #: the segments of each query, in selection order
    groups: tuple[tuple[str, ...], ...]
    #: strategy → estimated seconds (empty: no row counts were measured)
    estimates: tuple[tuple[str, float], ...]
    reason: str

    def describe(self) -> list[str]:
        n = len(self.groups)
        lines = [f"strategy: {self.strategy} — {n} quer{'y' if n == 1 else 'ies'} ({self.reason})"]
        if self.estimates:
            lines.append("estimates: " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in self.estimates))
        if n > 1:
            lines += [f"  query {i}: {', '.join(group)}" for i, group in enumerate(self.groups, start=1)]
        return lines


@dataclass(frozen=True)
class Plan:
    form: Form
    as_of: dt.datetime
    nodes: tuple[ModelNode, ...]
    asks: tuple[Ask, ...] = ()
    scans: tuple[Scan, ...] = ()
    passes: tuple[SharedPass, ...] = ()
    universe: Universe = "union"
    #: SQL segments joined by id as membership flags (selected ones and those reached by `segment:`)
    sql_joins: tuple[str, ...] = ()
    #: trait tables (SPEC 8.3) the models read, each LEFT JOINed once by id
    traits: tuple[str, ...] = ()
    #: consent channels (SPEC 8.4) whose filter the flags form computes per member, beside the flags
    channels: tuple[str, ...] = ()
    #: per source, the rows every selected segment needs (only a run's flags plans look; `anchors.py`)
    anchors: tuple[Anchor, ...] = ()
    #: the anchor the universe starts from, when `universe` is "anchored"
    anchor: Anchor | None = None
    #: how a run groups the segments into queries (None: not decided, one query)
    choice: Choice | None = None
    #: the sequence and RFM leaves (with their model) met while collecting, before `share_passes` keys them
    pass_leaves: tuple[tuple[SequenceFilter | RfmFilter, str], ...] = field(default=(), repr=False)

    # -- look-ups for the renderer ----------------------------------------------------------
    @cached_property
    def _asks(self) -> Mapping[tuple[BehaviourFilter, int], Ask]:
        return {(a.leaf, a.index): a for a in self.asks}

    @cached_property
    def _columns(self) -> Mapping[MetricSpec, tuple[str, str]]:
        return {m.spec: (scan.alias, m.alias) for scan in self.scans for m in scan.metrics}

    def ask(self, leaf: BehaviourFilter, index: int) -> Ask:
        return self._asks[(leaf, index)]

    def column(self, spec: MetricSpec) -> tuple[str, str]:
        """(scan alias, column alias) of the metric computing `spec`."""
        return self._columns[spec]

    def scan(self, source: str) -> Scan | None:
        return next((s for s in self.scans if s.source == source), None)

    def sequence_pass(self, sequence: SequenceFilter) -> SequencePass:
        return next(p for p in self.passes if isinstance(p, SequencePass) and p.sequence == sequence)

    def rfm_pass(self, window: Window) -> RfmPass:
        return next(p for p in self.passes if isinstance(p, RfmPass) and p.window == window)

    # -- a plan prints itself ----------------------------------------------------------------
    def describe(self) -> list[str]:
        """Readable lines: each scan with the rows it reads and every metric with its users."""
        lines = []
        for scan in self.scans:
            rows = ("any event" if scan.source == "events" else "any product") if scan.names is None else ", ".join(scan.names)
            since = "all time" if scan.start is None else f"since {scan.start.isoformat()}"
            lines.append(f"scan {scan.source}: {len(scan.metrics)} aggregate{'s' if len(scan.metrics) != 1 else ''} over {rows}, {since}")
            lines += [f"  {m.alias} = {describe_spec(m.spec)}  — used by {', '.join(m.used_by)}" for m in scan.metrics]
        for p in self.passes:
            if isinstance(p, Numbering):
                lines.append(f"pass {p.alias}: number every seen row of {p.source} per user, in time order")
            elif isinstance(p, SequencePass):
                steps = " → ".join("|".join(s.names) if s.names is not None else "any purchase" for s in p.sequence.steps)
                numbered = ", ".join(alias for _, alias in p.numberings)
                lines.append(f"pass {p.alias}: sequence {steps} over {numbered}  — used by {', '.join(p.used_by)}")
            else:
                lines.append(f"pass {p.alias}: RFM scores over purchases in {describe_window(p.window)}  — used by {', '.join(p.used_by)}")
        if self.sql_joins:
            lines.append(f"join SQL segments: {', '.join(self.sql_joins)}")
        if self.traits:
            lines.append(f"join trait tables: {', '.join(self.traits)}")
        if self.channels:
            lines.append(f"consent per member: {', '.join(self.channels)}")
        if self.universe == "anchored" and self.anchor is not None:
            universe = f"the users of the {self.anchor.source} scan (every segment needs a row of {self.anchor.describe()}) LEFT JOIN users"
        elif self.universe == "full_join":
            universe = "users FULL JOIN each scan FULL JOIN the ids the scans skip"
        else:
            universe = "UNION of the ids of every source"
        lines.append(f"universe: {universe}")
        return lines + (self.choice.describe() if self.choice is not None else [])


def describe_window(window: Window | None) -> str:
    if window is None:
        return "all time"
    if window.kind in ("last_days", "last_hours"):
        return f"the {window.kind.replace('_', ' ')} {window.amount:g}"
    parts = [f"since {window.since.isoformat()}" if window.since else "", f"until {window.until.isoformat()}" if window.until else ""]
    return " ".join(p for p in parts if p)


def describe_spec(spec: MetricSpec) -> str:
    """`count of app_open where 1 condition in the last days 7`, as a user would say it."""
    kind = {"last": "latest time", "first": "first time", "count_distinct": "distinct count"}.get(spec.kind, spec.kind)
    what = f"{kind} of {spec.value.name}" if spec.value is not None else kind
    rows = "any " + ("event" if spec.source == "events" else "purchase") if spec.names is None else "|".join(spec.names)
    where = f" where {len(spec.where)} condition{'s' if len(spec.where) != 1 else ''}" if spec.where else ""
    window = f" in {describe_window(spec.window)}" if spec.window is not None else ""
    return f"{what} over {rows}{where}{window}"
