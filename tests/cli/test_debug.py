"""SPEC 6 `debug`: project, profile and connection checked; exit 0 ok, 1 connection failed, 2 invalid."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from tests.conftest import run_cli, write_project

SOURCES = "users:\n  table: main.users\n  id: external_id\n  attributes: {country: string}\n"
SEGMENT = "segments:\n  - name: koreans\n    where: {attribute: country, equals: KR}\n"


def _with_users(root: Path) -> Path:
    """The users table sources.yml declares, so the sources check passes."""
    db = duckdb.connect(str(root / "test.duckdb"))
    db.execute("CREATE TABLE users (external_id VARCHAR, country VARCHAR)")
    db.close()
    return root


def _debug(root: Path, *extra: str) -> tuple[int, dict]:
    result = run_cli("--project-dir", str(root), "debug", "--format", "json", *extra)
    return result.code, json.loads(result.out)


def test_a_valid_project_on_duckdb_reports_every_check_ok(tmp_path: Path) -> None:
    root = _with_users(write_project(tmp_path / "p", {"segsql_project.yml": "name: shop\n", "models/sources.yml": SOURCES, "models/a.yml": SEGMENT}))
    code, report = _debug(root)
    assert code == 0 and report["ok"]
    assert report["project"] == {"dir": str(root.resolve()), "name": "shop", "segments": 1, "ok": True, "error": None}
    profile = report["profile"]
    assert (profile["file"], profile["name"], profile["target"], profile["type"], profile["ok"]) == ("profiles.yml", "segsql", "dev", "duckdb", True)
    assert profile["settings"]["schema"] == "main"
    assert report["connection"]["ok"] is True and report["connection"]["error"] is None
    assert report["sources"] == {"ok": True, "error": None, "tables": 1}
    assert {"segsql", "python", "sqlglot", "duckdb"} <= set(report["versions"])


def test_text_output_lists_the_checks(tmp_path: Path) -> None:
    root = _with_users(write_project(tmp_path / "p", {"models/sources.yml": SOURCES, "models/a.yml": SEGMENT}))
    result = run_cli("--project-dir", str(root), "debug")
    assert result.code == 0, result.output
    for words in ("project", "profile", "connection", "sources", "target dev (duckdb)", "versions", "sqlglot"):
        assert words in result.out
    assert "FAILED" not in result.out


def test_a_broken_model_is_exit_2_but_the_connection_is_still_checked(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {"models/sources.yml": SOURCES, "models/a.yml": "segments:\n  - name: a\n    where:\n      attribute: colour\n      equals: red\n"})
    code, report = _debug(root)
    assert code == 2
    assert report["project"]["ok"] is False and report["project"]["error"].startswith("models/a.yml:4:")
    assert report["profile"]["ok"] is True and report["connection"]["ok"] is True


def test_an_invalid_profile_is_exit_2_and_no_connection_is_tried(tmp_path: Path) -> None:
    profile = "segsql:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      pth: x.duckdb\n"
    root = write_project(tmp_path / "p", {"profiles.yml": profile, "models/sources.yml": SOURCES, "models/a.yml": SEGMENT})
    code, report = _debug(root)
    assert code == 2
    assert report["profile"]["error"].startswith("profiles.yml:6: unknown key 'pth'")
    assert report["connection"]["ok"] is None
    assert report["project"]["ok"] is True


def test_a_failing_connection_is_exit_1_with_the_error(tmp_path: Path) -> None:
    profile = f"segsql:\n  target: dev\n  outputs:\n    dev: {{type: duckdb, path: '{tmp_path}'}}\n"  # a folder: DuckDB cannot open it
    root = write_project(tmp_path / "p", {"profiles.yml": profile, "models/sources.yml": SOURCES, "models/a.yml": SEGMENT})
    code, report = _debug(root)
    assert code == 1 and not report["ok"]
    assert report["connection"]["ok"] is False and "cannot open DuckDB database" in report["connection"]["error"]
    text = run_cli("--project-dir", str(root), "debug")
    assert text.code == 1 and "FAILED" in text.out and "Traceback" not in text.output


def test_snowflake_settings_are_shown_without_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fakesnow = pytest.importorskip("fakesnow")
    monkeypatch.setenv("SEGSQL_TEST_SF_ACCOUNT", "xy12345")
    profile = (
        "segsql:\n  target: prod\n  outputs:\n    prod:\n      type: snowflake\n"
        "      account: \"{{ env_var('SEGSQL_TEST_SF_ACCOUNT') }}\"\n      user: segsql\n      password: hunter2-pw\n"
        "      role: SEGSQL\n      warehouse: SEGMENTS_WH\n      database: DEBUGDB\n      schema: MAIN\n"
    )
    root = write_project(tmp_path / "p", {"profiles.yml": profile, "models/sources.yml": SOURCES, "models/a.yml": SEGMENT})
    with fakesnow.patch(create_database_on_connect=True, create_schema_on_connect=True):
        code, report = _debug(root)
    assert report["connection"]["ok"] is True, report
    # the empty fake warehouse has no users table: the sources check says so (exit 2), without the password
    assert code == 2 and report["sources"]["ok"] is False and "source table main.users cannot be read" in report["sources"]["error"]
    assert "hunter2" not in json.dumps(report)
    assert report["profile"]["settings"] == {
        "account": "****", "database": "DEBUGDB", "password": "****", "role": "SEGSQL", "schema": "MAIN",
        "type": "snowflake", "user": "segsql", "warehouse": "SEGMENTS_WH",
    }


def test_bad_vars_are_a_usage_error(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {"models/sources.yml": SOURCES, "models/a.yml": SEGMENT})
    result = run_cli("--project-dir", str(root), "--vars", "[1]", "debug")
    assert result.code == 2 and "--vars must be a JSON object" in result.err
