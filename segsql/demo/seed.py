"""`segsql seed --demo`: load the synthetic shop into the target through its adapter."""

from __future__ import annotations

import datetime as dt

from segsql.demo.data import generate_demo
from segsql.engines import Adapter


def seed_demo(adapter: Adapter, users: int, seed: int, as_of: dt.datetime | None = None) -> dict[str, int]:
    """Create-or-replace the demo tables, their story dated to end at `as_of` (default: the
    generator's fixed instant, so library callers get stable data); returns rows per table."""
    counts = {}
    for table in generate_demo(users=users, seed=seed, as_of=as_of):
        adapter.load_rows(table.name, table.columns, table.rows)
        counts[table.name] = len(table.rows)
    return counts
