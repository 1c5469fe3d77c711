"""`segsql overlap A B ...`: how much segments share, as counts and Jaccard, in one query.

Each pair's intersection is a COUNT over the compiler's fused flags query (one row per user in
any of the segments, one boolean per segment), so n segments cost one pass, not n² queries.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from itertools import combinations_with_replacement
from pathlib import Path
from typing import Any

from sqlglot import exp

from segsql.compiler.dialects import lit
from segsql.compiler.query import flag_name
from segsql.engines import Adapter
from segsql.run.session import Session
from segsql.run.source_check import engine_compiler


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    both: int
    jaccard: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class OverlapResult:
    as_of: str
    segments: list[str]
    sizes: dict[str, int]
    #: every ordered pair (a, b), the diagonal included, so the matrix reads either way
    pairs: list[Pair]

    def cell(self, a: str, b: str) -> Pair:
        return next(p for p in self.pairs if p.a == a and p.b == b)

    def as_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of, "segments": self.segments, "sizes": self.sizes, "pairs": [p.as_dict() for p in self.pairs]}


def overlap_query(session: Session, adapter: Adapter, names: list[str]) -> exp.Select:
    compiler = engine_compiler(session, adapter)
    flags = compiler.flags(names)
    ctes = flags.args.get("with_")
    flags.set("with_", None)
    counts = []
    for a, b in combinations_with_replacement(names, 2):
        both = exp.and_(exp.column(flag_name(a), table="f"), exp.column(flag_name(b), table="f"))
        counts.append(exp.Count(this=exp.Case(ifs=[exp.If(this=both, true=lit(1))])))
    query = exp.select(*(exp.alias_(c, f"k{i}") for i, c in enumerate(counts))).from_(flags.subquery("f"))
    if ctes is not None:
        query.set("with_", ctes)
    return query


def segment_overlap(session: Session, adapter: Adapter, names: list[str]) -> OverlapResult:
    row = adapter.fetch(overlap_query(session, adapter, names))[0]
    both = {pair: int(v) for pair, v in zip(combinations_with_replacement(names, 2), row, strict=True)}
    sizes = {n: both[(n, n)] for n in names}
    pairs = []
    for a in names:
        for b in names:
            shared = both.get((a, b), both.get((b, a), 0))
            union = sizes[a] + sizes[b] - shared
            pairs.append(Pair(a, b, shared, shared / union if union else None))
    return OverlapResult(session.project.as_of, names, sizes, pairs)


def print_overlap(result: OverlapResult) -> None:
    """A matrix: members in both, and the Jaccard index in brackets."""
    from segsql.reports import output

    rows = []
    for a in result.segments:
        cells = []
        for b in result.segments:
            pair = result.cell(a, b)
            cells.append(f"{pair.both:,} ({'–' if pair.jaccard is None else f'{pair.jaccard:.2f}'})")
        rows.append([a, f"{result.sizes[a]:,}", *cells])
    output.print_table(f"overlap at {result.as_of}: members in both (Jaccard)", ["segment", "size", *result.segments], rows)


def overlap_chart(result: OverlapResult, path: Path) -> Path:
    """A heat map of the Jaccard index, each cell labelled with the members in both."""
    from segsql.reports import charts

    records = [
        {"segment": p.a, "with": p.b, "jaccard": p.jaccard or 0.0, "label": f"{p.both:,} ({0.0 if p.jaccard is None else p.jaccard:.2f})"}
        for p in result.pairs
    ]
    return charts.save(charts.heatmap(records, "with", "segment", "jaccard", f"overlap at {result.as_of}", label="label"), path)
