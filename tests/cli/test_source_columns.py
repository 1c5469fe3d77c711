"""SPEC 1: every table and column sources.yml names exists, checked before anything runs —
one error at the sources.yml line with the table's real columns (issue 11, item 1)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from tests.conftest import run_cli, write_project

AS_OF = "2026-11-22T12:00:00Z"
SOURCES = """
users:
  table: main.users
  id: external_id
  attributes:
    country: string
    age: number
events:
  table: main.events
  user: external_id
  name: event_name
  time: occurred_at
purchases:
  table: main.purchases
  user: external_id
  time: purchased_at
  price: price
"""
SEGMENTS = """
segments:
  - name: koreans
    where: {attribute: country, equals: KR}
  - name: buyers
    where: {purchase: any}
"""


def _project(tmp_path: Path, sources: str = SOURCES) -> Path:
    root = write_project(tmp_path / "p", {"models/sources.yml": sources, "models/a.yml": SEGMENTS})
    db = duckdb.connect(str(root / "test.duckdb"))
    db.execute("CREATE TABLE users (external_id VARCHAR, country VARCHAR, age INTEGER)")
    db.execute("INSERT INTO users VALUES ('u1', 'KR', 30)")
    db.execute("CREATE TABLE events (external_id VARCHAR, event_name VARCHAR, occurred_at TIMESTAMP)")
    db.execute("CREATE TABLE purchases (external_id VARCHAR, purchased_at TIMESTAMP, product_id VARCHAR, price DECIMAL(10, 2), quantity INTEGER)")
    db.close()
    return root


def _tables(root: Path) -> set[str]:
    db = duckdb.connect(str(root / "test.duckdb"))
    try:
        return {r[0] for r in db.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    finally:
        db.close()


# (case, the broken line of sources.yml, its line, words of the message)
WRONG = [
    ("events_time", "  time: occurred_at", "  time: occured_at", 11, ["`time` column 'occured_at' is not a column of main.events", "did you mean 'occurred_at'?", "main.events has occurred_at"]),
    ("purchases_price", "  price: price", "  price: dollar", 16, ["`price` column 'dollar' is not a column of main.purchases", "main.purchases has"]),
    ("unused_attribute", "    age: number", "    age: number\n    tier: string", 7, ["`attribute tier` column 'tier' is not a column of main.users", "main.users has"]),
    ("users_id", "  id: external_id", "  id: user_id", 3, ["`id` column 'user_id' is not a column of main.users"]),
]


@pytest.mark.parametrize(("old", "new", "line", "words"), [c[1:] for c in WRONG], ids=[c[0] for c in WRONG])
@pytest.mark.parametrize("command", [["run", "--as-of", AS_OF], ["show", "koreans", "--as-of", AS_OF]], ids=["run", "show"])
def test_a_wrong_column_is_one_error_at_its_line_before_anything_runs(tmp_path: Path, command: list[str], old: str, new: str, line: int, words: list[str]) -> None:
    root = _project(tmp_path, SOURCES.replace(old, new))
    before = _tables(root)
    result = run_cli("--project-dir", str(root), *command)
    assert result.code == 2, result.output
    assert result.err.startswith(f"error: models/sources.yml:{line}: "), result.err
    for word in words:
        assert word in result.err, result.err
    assert len(result.err.strip().splitlines()) == 1, result.err
    assert "Traceback" not in result.output
    assert _tables(root) == before  # nothing was written, not even segsql's own tables


def test_debug_reports_a_wrong_column_and_exits_2(tmp_path: Path) -> None:
    root = _project(tmp_path, SOURCES.replace("  time: occurred_at", "  time: occured_at"))
    result = run_cli("--project-dir", str(root), "debug", "--format", "json")
    assert result.code == 2, result.output
    report = json.loads(result.out)
    assert report["connection"]["ok"] is True and report["sources"]["ok"] is False
    assert report["sources"]["error"].startswith("models/sources.yml:11:") and "did you mean 'occurred_at'?" in report["sources"]["error"]
    text = run_cli("--project-dir", str(root), "debug")
    assert "sources" in text.out and "FAILED" in text.out


def test_debug_checks_the_sources_of_a_good_project(tmp_path: Path) -> None:
    result = run_cli("--project-dir", str(_project(tmp_path)), "debug", "--format", "json")
    assert result.code == 0, result.output
    assert json.loads(result.out)["sources"] == {"ok": True, "error": None, "tables": 3}


def test_compile_check_fails_on_a_wrong_column_when_the_target_connects(tmp_path: Path) -> None:
    root = _project(tmp_path, SOURCES.replace("  price: price", "  price: dollar"))
    checked = run_cli("--project-dir", str(root), "compile", "--check")
    assert checked.code == 1, checked.output
    assert "models/sources.yml:16: the purchases source's `price` column 'dollar' is not a column of main.purchases" in checked.err
    assert run_cli("--project-dir", str(root), "compile").code == 0  # without --check nothing connects


def test_compile_check_without_a_database_compiles_and_says_why_it_did_not_check(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {"models/sources.yml": SOURCES, "models/a.yml": SEGMENTS})
    result = run_cli("--project-dir", str(root), "compile", "--check")
    assert result.code == 0, result.output
    assert "note: source tables not checked (the DuckDB database" in result.err
    assert not (root / "test.duckdb").exists()  # compiling never creates a database


def test_compile_check_with_a_profile_it_cannot_render_still_compiles(tmp_path: Path) -> None:
    """CI without warehouse credentials: the profile's env_var is unset; --check compiles anyway."""
    root = write_project(tmp_path / "p", {
        "models/sources.yml": SOURCES, "models/a.yml": SEGMENTS,
        "profiles.yml": "segsql:\n  target: prod\n  outputs:\n    prod: {type: snowflake, account: \"{{ env_var('SEGSQL_TEST_SURELY_UNSET') }}\"}\n",
    })
    result = run_cli("--project-dir", str(root), "compile", "--check")
    assert result.code == 0, result.output
