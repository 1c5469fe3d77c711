"""`segsql ls`: every model with tags, materialization and dependencies."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlglot import exp

from segsql.definitions.dag import dependents
from segsql.definitions.project import Definitions


@dataclass(frozen=True)
class ModelRow:
    name: str
    kind: str
    materialized: str
    table: str | None
    tags: list[str]
    depends_on: list[str]
    used_by: list[str]
    path: str
    description: str
    cdi_extension_sql: str | None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def list_models(defs: Definitions, names: list[str], schema: str | None, dialect: str) -> list[ModelRow]:
    """One row per model; `cdi_extension_sql` is what a Braze CDI Segment Extension selects."""
    rows = []
    for name in names:
        seg = defs.segments[name]
        table = defs.config.segment_prefix + name if seg.materialized == "table" else None
        extension = None
        if table:
            query = exp.select("external_user_id").from_(exp.table_(table, db=schema))
            if seg.split and seg.split.holdout:
                query = query.where(exp.column("split_group").neq(exp.Literal.string(seg.split.holdout)))
            if seg.channels:  # SPEC 8.4: only members satisfying every channel (NULL: from before channels)
                query = query.where(exp.func("COALESCE", exp.column("consented"), exp.true()))
            extension = query.sql(dialect)
        rows.append(ModelRow(
            name=name,
            kind="sql" if seg.sql is not None else "filter",
            materialized=seg.materialized,
            table=table,
            tags=list(seg.tags),
            depends_on=sorted(seg.dependencies()),
            used_by=sorted(d for d in dependents(defs.segments, name) if name in defs.segments[d].dependencies()),
            path=str(seg.location),
            description=seg.description,
            cdi_extension_sql=extension,
        ))
    return rows
