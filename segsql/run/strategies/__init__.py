"""One strategy per model kind; a new kind of model is one more entry here."""

from __future__ import annotations

from segsql.run.strategies.base import Strategy
from segsql.run.strategies.clusters import ClusterStrategy
from segsql.run.strategies.cohorts import CohortStrategy
from segsql.run.strategies.funnels import FunnelStrategy
from segsql.run.strategies.segments import SegmentStrategy

#: model kind → its strategy, in the order a run stages and writes them (cluster models and funnels first:
#: segments of the same run read their results through `cluster:` and `funnel:` leaves)
STRATEGIES: dict[str, type[Strategy]] = {
    ClusterStrategy.kind: ClusterStrategy,
    FunnelStrategy.kind: FunnelStrategy,
    SegmentStrategy.kind: SegmentStrategy,
    CohortStrategy.kind: CohortStrategy,
}

__all__ = ["STRATEGIES", "Strategy"]
