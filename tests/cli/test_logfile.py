"""logs/segsql.log: every invocation appends its statements (with timings), command line
and exit status, as dbt's logs/dbt.log (secrets: tests/test_secrets.py)."""

from __future__ import annotations

import re
from pathlib import Path

from segsql.engines.duckdb import DuckDBAdapter
from tests.conftest import run_cli, write_project

AS_OF = "2026-06-01T00:00:00Z"
FILES = {
    "models/sources.yml": "users:\n  table: main.users\n  id: external_id\n  attributes: {country: string}\n",
    "models/segments.yml": """
        segments:
          - name: koreans
            where: {attribute: country, equals: KR}
          - name: broken_sql
            sql: select external_id from main.no_such_table
        """,
}


def _project(root: Path) -> Path:
    write_project(root, FILES)
    with DuckDBAdapter(str(root / "test.duckdb")) as adapter:
        adapter.load_rows("users", [("external_id", "VARCHAR"), ("country", "VARCHAR")], [("u1", "KR"), ("u2", "JP")])
    return root


def test_each_invocation_appends_statements_timings_command_and_exit(tmp_path: Path) -> None:
    root = _project(tmp_path / "shop")
    log = root / "logs" / "segsql.log"
    assert run_cli("--project-dir", str(root), "run", "--as-of", AS_OF, "--select", "koreans").code == 0
    first = log.read_text(encoding="utf-8")
    assert f"segsql --project-dir {root} run --as-of {AS_OF} --select koreans → exit 0 in " in first
    statements = re.findall(r"^\S+Z \[\d+\] duckdb (\d+\.\d{3})s (.*)$", first, re.MULTILINE)
    texts = [text for _, text in statements]
    assert any(t.startswith("CREATE TEMPORARY TABLE __segsql_stage_") for t in texts), texts
    assert "BEGIN" in texts and "COMMIT" in texts
    assert any(t.startswith("INSERT INTO main.seg_koreans") for t in texts)

    failed = run_cli("--project-dir", str(root), "run", "--as-of", AS_OF)
    missing = run_cli("--project-dir", str(root), "show", "nobody")
    assert (failed.code, missing.code) == (1, 2)
    text = log.read_text(encoding="utf-8")
    assert text.startswith(first), "the log is appended to, never rewritten"
    later = text[len(first):]
    assert re.search(r"duckdb \d+\.\d{3}s failed: .*no_such_table.* \| .*main\.no_such_table", later), later
    assert f"run --as-of {AS_OF} → exit 1 in " in later
    assert "error: no segment named 'nobody'" in later and f"segsql --project-dir {root} show nobody → exit 2 in " in later


def test_no_log_outside_a_project_folder(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run_cli("--project-dir", str(empty), "ls").code == 2
    assert not (empty / "logs").exists()
