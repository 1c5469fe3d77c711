"""The two sides of `diff --state`: the old definitions and the new, each compiled at one `as_of`.

A `funnel:` leaf and a funnel's own rows compile inline from that side's funnel. A cluster
model is iterative (a query per k-means step), so each side's cluster models that the diff
reads are computed first, as a dry run computes them: into TEMPORARY tables of the session,
dropped when the diff ends — nothing is written to the target schema.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, replace

from sqlglot import exp

from segsql.compiler import SegmentCompiler
from segsql.compiler.column_types import ColumnTypes
from segsql.compiler.funnels import FunnelCompiler
from segsql.definitions.dag import topological_order
from segsql.definitions.project import Definitions
from segsql.engines import Adapter
from segsql.errors import EngineError, RunFailure
from segsql.reports.model_diff import no_rows, rows_of
from segsql.run.session import Session
from segsql.run.strategies.base import RunContext
from segsql.run.strategies.clusters import ClusterStrategy, clusters_read

ID = "external_user_id"


@dataclass(frozen=True)
class DiffSide:
    defs: Definitions
    segments: SegmentCompiler
    funnels: FunnelCompiler
    cluster_tables: dict[str, exp.Table]

    def members(self, name: str) -> exp.Select:
        """A segment's members on this side (no rows where it does not exist)."""
        if name not in self.defs.segments:
            return exp.select(exp.alias_(exp.cast(exp.null(), exp.DataType.Type.VARCHAR), ID)).where(exp.false())
        return self.segments.members(name)

    def funnel_rows(self, name: str) -> exp.Select:
        """(external_user_id, v = furthest step) of a funnel's entered users."""
        return rows_of(self.funnels.users([name]).subquery("m"), "furthest_step") if name in self.defs.funnels else no_rows()

    def cluster_rows(self, name: str) -> exp.Select:
        """(external_user_id, v = cluster number) of a cluster model's users."""
        table = self.cluster_tables.get(name)
        return rows_of(exp.alias_(table.copy(), "m", table=True), "cluster") if table is not None else no_rows()


def _needed(defs: Definitions, names: list[str]) -> list[str]:
    """The cluster models among `names` and those `names` read, dependencies first."""
    present = [n for n in names if n in defs.models]
    wanted = set(clusters_read(defs, present)) | {n for n in present if n in defs.clusters}
    return [n for n in topological_order(defs.models, sorted(wanted)) if n in wanted]


def _stage(session: Session, adapter: Adapter, defs: Definitions, names: list[str], types: ColumnTypes, tag: str, scratch: list[exp.Table]) -> dict[str, exp.Table]:
    """Compute the cluster models `names` need into temporary tables (appended to `scratch`)."""
    clusters = _needed(defs, names)
    if not clusters:
        return {}
    ctx = RunContext(replace(session, definitions=defs, run_id=f"{session.run_id}{tag}"), adapter, True, False, lambda _message: None, types=types)
    strategy = ClusterStrategy(ctx, clusters)
    try:
        strategy.stage()
    finally:
        scratch.extend(ctx.scratch)
    failed = next((r for r in strategy.results.values() if r.status != "success"), None)
    if failed is not None:
        raise RunFailure(f"cluster model {failed.name} ({tag} definition) could not be computed: {failed.message}")
    return dict(ctx.cluster_tables)


@contextlib.contextmanager
def diff_sides(session: Session, adapter: Adapter, old_defs: Definitions, names: list[str], types: tuple[ColumnTypes, ColumnTypes]) -> Iterator[tuple[DiffSide, DiffSide]]:
    """(old, new) sides for diffing the models `names`; `types`: the old and new sources' column types."""
    scratch: list[exp.Table] = []
    try:
        sides = []
        for tag, defs, kinds in (("old", old_defs, types[0]), ("new", session.definitions, types[1])):
            tables = _stage(session, adapter, defs, names, kinds, tag, scratch)
            segments = SegmentCompiler(defs, adapter.dialect, session.as_of, kinds, tables)
            funnels = FunnelCompiler(defs, adapter.dialect, session.as_of, kinds, cluster_tables=tables)
            sides.append(DiffSide(defs, segments, funnels, tables))
        yield sides[0], sides[1]
    finally:
        for table in scratch:
            with contextlib.suppress(EngineError):
                adapter.execute(exp.Drop(tables=[table], kind="TABLE", exists=True))
