"""`segsql seed --demo`: load the synthetic shop into the target through its adapter."""

from __future__ import annotations

from segsql.demo.data import generate_demo
from segsql.engines import Adapter


def seed_demo(adapter: Adapter, users: int, seed: int) -> dict[str, int]:
    """Create-or-replace the demo tables; returns rows per table."""
    counts = {}
    for table in generate_demo(users=users, seed=seed):
        adapter.load_rows(table.name, table.columns, table.rows)
        counts[table.name] = len(table.rows)
    return counts
