"""Every table and column sources.yml names must exist, checked before anything runs (SPEC 1).

A wrong `time: occured_at` would otherwise pass `compile` and come back from the engine as
one binder error per segment — blamed on each segment's line, even segments that never read
that table, after other segments committed. Reading each table's columns once, with a query
that reads no rows, turns it into one error at the sources.yml line, naming the table's real
columns; the same read gives the column types the compiler uses (`ColumnTypes`).
"""

from __future__ import annotations

from pathlib import Path

from segsql.compiler import SegmentCompiler
from segsql.compiler.column_types import ColumnTypes
from segsql.compiler.registry import rules_for
from segsql.compiler.source_tables import source_table
from segsql.definitions.sources import (
    CatalogSource,
    EventsSource,
    NamedColumn,
    PurchasesSource,
    Sources,
    TraitSource,
    UsersSource,
)
from segsql.engines import Adapter, EngineError
from segsql.errors import ProjectError
from segsql.project.config import Target
from segsql.run.session import Session
from segsql.util.suggest import closest

#: Real columns listed in the hint; a wide table lists the closest first and says how many more.
LISTED = 12

Source = UsersSource | EventsSource | PurchasesSource | CatalogSource | TraitSource


def _declared(sources: Sources) -> list[tuple[str, Source]]:
    named: list[tuple[str, Source | None]] = [("users", sources.users), ("events", sources.events), ("purchases", sources.purchases)]
    named += [(f"catalog {name}", cat) for name, cat in sources.catalogs.items()]
    named += [(f"trait {name}", trait) for name, trait in sources.traits.items()]
    return [(what, src) for what, src in named if src is not None]


def _read(source: Source, adapter: Adapter) -> list[tuple[str, str]]:
    try:
        return adapter.column_types(source_table(source.table, adapter.dialect))
    except EngineError as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else "unreadable"
        raise ProjectError(
            f"source table {source.table} cannot be read on this target ({reason})",
            source.location,
            hint="create the table (segsql seed --demo for the demo data), fix `table:`, or grant SELECT on it",
        ) from None


def _missing(what: str, table: str, named: NamedColumn, real: list[str]) -> ProjectError:
    best = closest(named.column, real)
    shown = sorted(real, key=lambda c: c != best)[:LISTED]
    more = f" and {len(real) - LISTED} more" if len(real) > LISTED else ""
    columns = f"{table} has {', '.join(shown)}{more}"
    hint = f"did you mean {best!r}? ({columns})" if best else f"name one of its columns ({columns})"
    return ProjectError(f"the {what} source's `{named.role}` column {named.column!r} is not a column of {table}", named.location, hint)


def source_types(sources: Sources, adapter: Adapter) -> ColumnTypes:
    """Check every declared source table and named column; return the tables' column types.

    Raises a ProjectError at the sources.yml line of the first table that cannot be read or
    column it does not have. Names compare without case (Snowflake reports unquoted names in
    upper case, PostgreSQL in lower case)."""
    found: dict[str, list[tuple[str, str]]] = {}
    for what, source in _declared(sources):
        if source.table not in found:
            found[source.table] = _read(source, adapter)
        real = [name for name, _ in found[source.table]]
        lowered = {name.lower() for name in real}
        for named in source.columns:
            if named.column.strip('"').lower() not in lowered:
                raise _missing(what, source.table, named, real)
    return ColumnTypes.from_engine(found, rules_for(adapter.dialect))


def connectable(target: Target, root: Path) -> str | None:
    """Why `compile --check` cannot check the sources on this target, or None when it can:
    compiling never creates a DuckDB database, so a missing file or `:memory:` has no tables."""
    if target.type != "duckdb":
        return None
    path = str(target.settings.get("path", ":memory:"))
    if path == ":memory:":
        return "the DuckDB target is in memory"
    return None if (root / path).is_file() else f"the DuckDB database {path} does not exist yet"


def engine_compiler(session: Session, adapter: Adapter) -> SegmentCompiler:
    """A compiler for the session's project on this engine, knowing the source columns' types
    (read, and every column sources.yml names checked, first)."""
    return SegmentCompiler(session.definitions, adapter.dialect, session.as_of, source_types(session.definitions.sources, adapter))
