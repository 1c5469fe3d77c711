"""The shared steps of one query: per-source aggregate scans, sequence passes, RFM passes.

Every behavioural measure a set of segments needs is registered here and deduplicated by
structure, so N segments over the events table still read it in one grouped scan; the
number of scans depends on the sources used, not on the number of segments.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlglot import exp


@dataclass
class Scan:
    """One grouped pass over a source: aggregates keyed by their SQL, plus pushdown hints."""

    source: str
    alias: str
    metrics: dict[str, tuple[str, exp.Expr]] = field(default_factory=dict)
    #: union of the names every metric needs; None once any metric needs all rows
    names: set[str] | None = field(default_factory=set)
    #: earliest window start of all metrics; None once any metric is unbounded
    start: dt.datetime | None = field(default_factory=lambda: dt.datetime.max.replace(tzinfo=dt.UTC))


@dataclass
class SharedSteps:
    """Registry filled while compiling predicates, turned into CTEs afterwards."""

    scans: dict[str, Scan] = field(default_factory=dict)
    passes: dict[str, tuple[str, exp.Query]] = field(default_factory=dict)

    def metric(self, source: str, aggregate: exp.Expr, names: tuple[str, ...] | None, start: dt.datetime | None) -> exp.Column:
        """Register an aggregate over `source`; identical aggregates share one column."""
        scan = self.scans.setdefault(source, Scan(source, f"__scan_{source}"))
        key = aggregate.sql()
        if key not in scan.metrics:
            scan.metrics[key] = (f"m{len(scan.metrics)}", aggregate)
        if names is None or scan.names is None:
            scan.names = None
        else:
            scan.names |= set(names)
        if start is None or scan.start is None:
            scan.start = None
        else:
            scan.start = min(scan.start, start)
        return exp.column(scan.metrics[key][0], table=scan.alias)

    def shared_pass(self, key: str, prefix: str, build: exp.Query) -> str:
        """Register a per-user pass (a sequence, an RFM window) once; returns its CTE alias."""
        if key not in self.passes:
            self.passes[key] = (f"__{prefix}_{len(self.passes)}", build)
        return self.passes[key][0]

    def describe(self) -> list[str]:
        """A readable plan: which scans and passes one query runs."""
        lines = []
        for scan in self.scans.values():
            names = "all rows" if scan.names is None else ", ".join(sorted(scan.names))
            since = "all time" if scan.start is None else scan.start.isoformat()
            lines.append(f"scan {scan.source}: {len(scan.metrics)} aggregates over {names}, since {since}")
        lines += [f"pass {alias}" for alias, _ in self.passes.values()]
        return lines
