"""A source `table:` as a sqlglot table: a warehouse table, or (DuckDB) a file or glob.

SPEC 1 lets a DuckDB project point `table:` at warehouse exports as they are
(`data/events/*.parquet`, `.csv`, `.json`), so nobody writes loader code first. Such a
table becomes DuckDB's reader call, `read_parquet('data/events/*.parquet')`; the path
stays relative in the SQL (and in target/compiled/) and the DuckDB adapter resolves it
against the project folder (`file_search_path`). Other engines cannot read local files,
so a file table on a non-DuckDB target is an error at its sources.yml line.
"""

from __future__ import annotations

from sqlglot import exp

from segsql.definitions.sources import Sources
from segsql.errors import ProjectError
from segsql.project.file_tables import file_suffix, is_file_table

_READERS = {".parquet": "read_parquet", ".csv": "read_csv", ".tsv": "read_csv", ".json": "read_json", ".jsonl": "read_json", ".ndjson": "read_json"}


def source_table(name: str, dialect: str) -> exp.Table:
    """A source table name as written in sources.yml ([database.]schema.table, or a file)."""
    suffix = file_suffix(name)
    if suffix is not None:
        return exp.Table(this=exp.Anonymous(this=_READERS[suffix], expressions=[exp.Literal.string(name)]))
    try:
        return exp.to_table(name, dialect=dialect)
    except Exception:
        raise ProjectError(f"bad table name {name!r} in sources.yml", hint="write [database.]schema.table") from None


def check_file_tables(sources: Sources, target_type: str | None) -> None:
    """Only DuckDB reads files: on any other target a file `table:` is the user's to fix."""
    if target_type in (None, "duckdb"):
        return
    declared = [s for s in (sources.users, sources.events, sources.purchases) if s is not None]
    for source in [*declared, *sources.catalogs.values()]:
        if is_file_table(source.table):
            raise ProjectError(
                f"table {source.table!r} is a file, which only a DuckDB target can read; this target is {target_type}",
                source.location,
                hint="load the files into a warehouse table and name it here, or run on a duckdb target",
            )
