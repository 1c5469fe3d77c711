"""One strategy per model kind; a new kind of model is one more entry here."""

from __future__ import annotations

from segsql.run.strategies.base import Strategy
from segsql.run.strategies.segments import SegmentStrategy

#: model kind → its strategy, in the order a run stages and writes them
STRATEGIES: dict[str, type[Strategy]] = {
    SegmentStrategy.kind: SegmentStrategy,
}

__all__ = ["STRATEGIES", "Strategy"]
