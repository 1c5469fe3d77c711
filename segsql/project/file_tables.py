"""Which source `table:` values name files that DuckDB reads (SPEC 1) instead of warehouse tables.

Shared by the sources reader (which validates them), `source()` in SQL segments and the
compiler's source tables, so the three agree on one rule: a value with a path separator or
glob character, or ending in a data suffix, is a file; its suffix picks DuckDB's reader.
"""

from __future__ import annotations

#: What a file `table:` may end in (before an optional .gz/.zst).
FILE_SUFFIXES = (".parquet", ".csv", ".tsv", ".json", ".jsonl", ".ndjson")
#: Characters a file table may not hold: they would end the quoted SQL that names it.
UNSAFE = "\"'`;\n\r"


def file_suffix(table: str) -> str | None:
    """The data suffix of a `table:` naming a file or glob, else None."""
    path = table.lower().removesuffix(".gz").removesuffix(".zst")
    return next((s for s in FILE_SUFFIXES if path.endswith(s)), None)


def is_file_table(table: str) -> bool:
    return file_suffix(table) is not None or any(c in table for c in "/\\*?")


def sql_reference(table: str) -> str:
    """How `{{ source(...) }}` names a table in a SQL segment: a file as a quoted name, which
    DuckDB reads as that file (its replacement scan); the reader rejects quotes in paths."""
    return f'"{table}"' if is_file_table(table) else table
