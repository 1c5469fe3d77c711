"""The demo project gives identical memberships on DuckDB and on Snowflake (fakesnow)."""

from __future__ import annotations

from pathlib import Path

import pytest

from segsql.definitions.filters import AttributeFilter, walk
from segsql.demo.seed import seed_demo
from segsql.engines.base import Adapter
from segsql.run.materialize import run_models
from segsql.run.session import Options, Session, open_session

ROOT = Path(__file__).parent.parent
AS_OF = "2026-11-22T12:00:00Z"


def _uses_arrays(session: Session, name: str) -> bool:
    """fakesnow cannot run Snowflake's ARRAY_CONTAINS/ARRAYS_OVERLAP (README: fakesnow gaps)."""
    seg = session.definitions.segments[name]
    nodes = walk(seg.where) if seg.where is not None else []
    if any(isinstance(n, AttributeFilter) and n.value.type == "array" and n.condition.op != "exists" for n in nodes):
        return True
    return any(_uses_arrays(session, dep) for dep in seg.segment_dependencies())


@pytest.fixture(scope="module")
def session() -> Session:
    return open_session(Options(ROOT), AS_OF, need_target=False)


def _memberships(adapter: Adapter, session: Session, names: list[str]) -> dict[str, set[str]]:
    result = run_models(session, adapter, names)
    assert result.ok, [s.message for s in result.models if s.message]
    prefix = session.definitions.config.segment_prefix
    return {n: {str(r[0]) for r in adapter.fetch(f"SELECT external_user_id FROM {adapter.schema}.{prefix}{n}")} for n in names}


def test_demo_segments_are_neither_empty_nor_everyone(session: Session, tmp_path: Path) -> None:
    from segsql.engines.duckdb import DuckDBAdapter

    names = [n for n, s in session.definitions.segments.items() if s.materialized == "table"]
    assert len(session.definitions.segments) >= 12
    with DuckDBAdapter(str(tmp_path / "demo.duckdb")) as adapter:
        seed_demo(adapter, users=1500, seed=42)
        universe = adapter.fetch("SELECT COUNT(DISTINCT external_id) FROM main.users")[0][0]
        members = _memberships(adapter, session, names)
    for name, ids in members.items():
        assert 0 < len(ids) < universe, f"demo segment {name} has {len(ids)} of {universe} users"
    for seg in session.definitions.segments.values():
        assert seg.description, f"demo segment {seg.name} needs a description"


def test_demo_memberships_equal_on_duckdb_and_fakesnow(session: Session, tmp_path: Path) -> None:
    fakesnow = pytest.importorskip("fakesnow")
    from segsql.engines.duckdb import DuckDBAdapter
    from segsql.engines.snowflake import SnowflakeAdapter
    from segsql.project.config import Target

    names = sorted(n for n, s in session.definitions.segments.items() if s.materialized == "table" and not _uses_arrays(session, n))
    assert len(names) >= 8
    with DuckDBAdapter(str(tmp_path / "demo.duckdb")) as duck:
        seed_demo(duck, users=250, seed=7)
        on_duckdb = _memberships(duck, session, names)
    with fakesnow.patch(create_database_on_connect=True, create_schema_on_connect=True):
        target = Target("segsql", "sf", "snowflake", {"account": "a", "user": "u", "password": "p-secret", "database": "DEMO", "schema": "MAIN"})
        with SnowflakeAdapter.from_target(target) as snow:
            seed_demo(snow, users=250, seed=7)
            on_snowflake = _memberships(snow, session, names)
    assert on_duckdb == on_snowflake
    assert any(on_duckdb.values())
