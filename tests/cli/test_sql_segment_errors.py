"""An engine error in a SQL segment names the SQL the user wrote — its `.sql` file and line —
not the YAML entry that only carries its metadata (issue 11, item 7)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from tests.conftest import run_cli, write_project

SOURCES = "users:\n  table: main.users\n  id: external_id\n  attributes: {country: string}\n"
FILES = {
    "models/sources.yml": SOURCES,
    "models/meta.yml": "segments:\n  - name: koreans\n    description: metadata only, the SQL is in crm/koreans.sql\n    tags: [crm]\n  - name: fine\n    where: {attribute: country, equals: KR}\n",
    "models/crm/koreans.sql": "{# owner: crm #}\nselect external_id\nfrom {{ source('users') }}\nwhere contry = 'KR'\n",
}


def _project(tmp_path: Path, files: dict[str, str] = FILES) -> Path:
    root = write_project(tmp_path / "p", files)
    db = duckdb.connect(str(root / "test.duckdb"))
    db.execute("CREATE TABLE users AS SELECT * FROM (VALUES ('u1', 'KR')) t(external_id, country)")
    db.close()
    return root


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_run_blames_the_sql_file_line(tmp_path: Path, fmt: str) -> None:
    result = run_cli("--project-dir", str(_project(tmp_path)), "run", "--format", fmt)
    assert result.code == 1, result.output
    if fmt == "json":
        failed = {r["name"]: r for r in json.loads(result.out)["results"]}["koreans"]
        assert failed["status"] == "error" and failed["message"].startswith("models/crm/koreans.sql:4: "), failed
    else:
        assert "koreans: models/crm/koreans.sql:4: " in result.err, result.err
        assert "models/meta.yml" not in result.err


def test_show_blames_the_sql_file_line(tmp_path: Path) -> None:
    result = run_cli("--project-dir", str(_project(tmp_path)), "show", "koreans")
    assert result.code == 1, result.output
    assert result.err.startswith("error: models/crm/koreans.sql:4: "), result.err


def test_an_inline_sql_segment_is_blamed_at_its_line_under_sql(tmp_path: Path) -> None:
    files = {"models/sources.yml": SOURCES, "models/a.yml": "segments:\n  - name: koreans\n    sql: |\n      select external_id\n      from main.users\n      where contry = 'KR'\n"}
    result = run_cli("--project-dir", str(_project(tmp_path, files)), "show", "koreans")
    assert result.code == 1, result.output
    assert result.err.startswith("error: models/a.yml:6: "), result.err


def test_show_json_error_names_the_sql_file_line(tmp_path: Path) -> None:
    result = run_cli("--project-dir", str(_project(tmp_path)), "show", "koreans", "--format", "json")
    assert result.code == 1, result.output
    error = json.loads(result.out)["error"]
    assert (error["file"], error["line"], error["exit_code"]) == ("models/crm/koreans.sql", 4, 1)
