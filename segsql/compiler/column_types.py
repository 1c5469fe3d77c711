"""Which source time columns are naive timestamps already, as the engine reports them.

`to_utc` turns every time column into a naive UTC timestamp. On a column that already is
one (every adapter runs its session in UTC) that is the identity, yet it costs a time-zone
conversion per row and hides the column from the engine's min/max pruning, so such columns
are read as they are. A run learns each source table's column types once from the engine;
without a connection (`compile`) nothing is known and every time column keeps the safe
conversion.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from segsql.compiler.dialects import DialectRules


@dataclass(frozen=True)
class ColumnTypes:
    """(source table as written in sources.yml, lower-case column) pairs known to be naive timestamps."""

    naive: frozenset[tuple[str, str]] = frozenset()

    @classmethod
    def from_engine(cls, tables: Mapping[str, Iterable[tuple[str, str]]], rules: DialectRules) -> ColumnTypes:
        """From {table: [(column, engine type name)]}; a name that differs only in case is left unknown."""
        naive: set[tuple[str, str]] = set()
        for table, columns in tables.items():
            kinds: dict[str, set[bool]] = {}
            for column, type_name in columns:
                kinds.setdefault(column.lower(), set()).add(type_name.strip().upper() in rules.naive_timestamps)
            naive |= {(table, column) for column, is_naive in kinds.items() if is_naive == {True}}
        return cls(frozenset(naive))

    def is_naive(self, table: str | None, column: str) -> bool:
        return table is not None and (table, column.lower()) in self.naive
