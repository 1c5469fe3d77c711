"""What the docs site knows about each kind of model: one registration per kind.

A kind is a function from the project to its `ModelDoc`s. Segments are registered here; a
new model kind (funnels, cohorts, clusters) adds one function with `@register("funnel")`
beside it: the index, search, pages and lineage pick it up with no other change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from segsql.errors import ProjectError
from segsql.run.session import Session


@dataclass
class ModelDoc:
    kind: str
    name: str
    description: str
    tags: list[str]
    #: file:line where the owner wrote it
    location: str
    #: the definition as written in its file (owner-facing YAML, or a .sql file's text)
    source: str
    source_language: str = "yaml"
    #: node ids ("kind:name") this model reads
    depends_on: list[str] = field(default_factory=list)
    #: dialect → compiled SQL, or → the error that stopped it
    sql: dict[str, str] = field(default_factory=dict)
    facts: list[tuple[str, str]] = field(default_factory=list)
    #: SQL a Braze CDI Segment Extension would run against the membership table
    cdi_extension_sql: str | None = None
    #: a materialized table, whose runs have a history
    table: str | None = None

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.name}"

    @property
    def page(self) -> str:
        return f"{self.kind}/{self.name}.html"


Collector = Callable[[Session], list[ModelDoc]]
KINDS: dict[str, Collector] = {}


def register(kind: str) -> Callable[[Collector], Collector]:
    def add(collector: Collector) -> Collector:
        KINDS[kind] = collector
        return collector

    return add


def collect(session: Session) -> list[ModelDoc]:
    return [doc for kind in KINDS.values() for doc in kind(session)]


def definition_text(root: Path, file: str, line: int | None) -> str:
    """The lines of a YAML list item as the owner wrote them (before Jinja): from its line to
    the next item at the same indentation or a line less indented."""
    lines = (root / file).read_text(encoding="utf-8").splitlines()
    if not line:
        return "\n".join(lines)
    start = line - 1
    first = lines[start]
    indent = len(first) - len(first.lstrip(" "))
    item = first.lstrip(" ").startswith("- ")
    out = [first]
    for text in lines[start + 1:]:
        stripped = text.lstrip(" ")
        depth = len(text) - len(stripped)
        if stripped and (depth < indent or (depth == indent and (stripped.startswith("- ") or not item))):
            break
        out.append(text)
    while out and not out[-1].strip():
        out.pop()
    return "\n".join(out)


@register("segment")
def segments(session: Session) -> list[ModelDoc]:
    from segsql.compiler import COMPILE_DIALECTS, SegmentCompiler
    from segsql.reports.listing import list_models
    from segsql.run.compile import segment_sql

    defs = session.definitions
    names = sorted(defs.segments)
    schema = session.project.target.schema if session.project.target else None
    rows = {r.name: r for r in list_models(defs, names, schema, session.dialect)}
    compilers = {d: SegmentCompiler(defs, d, session.as_of) for d in COMPILE_DIALECTS}
    docs = []
    for name in names:
        seg = defs.segments[name]
        row = rows[name]
        is_sql_file = seg.location.file.endswith(".sql")
        sql: dict[str, str] = {}
        for dialect in COMPILE_DIALECTS:
            try:
                sql[dialect] = segment_sql(session, name, dialect, compilers[dialect])
            except ProjectError as err:
                sql[dialect] = f"-- does not compile: {err.render()}"
        facts = [("kind", row.kind), ("materialized", seg.materialized), ("table", row.table or "none (inlined where used)")]
        if seg.split:
            groups = ", ".join(f"{g} {p:g}%" for g, p in seg.split.groups)
            facts.append(("split", groups + (f"; holdout: {seg.split.holdout}" if seg.split.holdout else "")))
        docs.append(ModelDoc(
            kind="segment", name=name, description=seg.description, tags=list(seg.tags), location=str(seg.location),
            source=definition_text(session.root, seg.location.file, None if is_sql_file else seg.location.line),
            source_language="sql" if is_sql_file else "yaml",
            depends_on=[f"segment:{d}" for d in sorted(seg.dependencies())],
            sql=sql, facts=facts, cdi_extension_sql=row.cdi_extension_sql, table=row.table,
        ))
    return docs
