"""A DuckDB target's `memory_limit`: applied to the session, a bad size is exit 2 at the target."""

from __future__ import annotations

from pathlib import Path

from segsql.run.session import Options, open_session
from tests.conftest import run_cli, write_project


def _project(tmp_path: Path, limit: str) -> Path:
    profile = f"segsql:\n  target: dev\n  outputs:\n    dev: {{type: duckdb, path: '{tmp_path / 'db.duckdb'}', schema: main, memory_limit: {limit}}}\n"
    return write_project(tmp_path / "p", {"profiles.yml": profile})


def test_memory_limit_is_the_sessions_limit(tmp_path: Path) -> None:
    session = open_session(Options(_project(tmp_path, "512MB")), "2026-11-22T12:00:00Z")
    adapter = session.connect()
    assert adapter.fetch("SELECT current_setting('memory_limit')")[0][0] in ("488.2 MiB", "512.0 MB")


def test_a_memory_limit_that_is_not_a_size_is_exit_2_at_the_target(tmp_path: Path) -> None:
    result = run_cli("--project-dir", str(_project(tmp_path, "lots")), "run")
    assert result.code == 2, result.output
    assert "memory_limit 'lots' is not a size" in result.err and "profiles.yml:4" in result.err and "Traceback" not in result.output
