"""`state:modified` hashes a template with `as_of` as a placeholder: a SQL segment that uses
`{{ as_of }}` is not modified just because as_of moved (issue 11, item 8)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import run_cli, write_project

SOURCES = "users:\n  table: main.users\n  id: external_id\n  attributes: {country: string, signup_at: time}\n"
FILES = {
    "models/sources.yml": SOURCES,
    "segsql_project.yml": "vars: {days: 30}\n",
    "models/recent.sql": "select external_id from {{ source('users') }}\nwhere signup_at > timestamp '{{ as_of }}' - interval {{ var('days') }} day\n",
    "models/a.yml": (
        "segments:\n"
        "  - name: inline_recent\n"
        "    sql: |\n"
        "      select external_id from main.users where signup_at <= '{{ as_of }}'\n"
        "  - name: koreans\n"
        "    where: {attribute: country, equals: KR}\n"
    ),
}


def _modified(root: Path, state: Path, *extra: str) -> list[str]:
    result = run_cli("--project-dir", str(root), *extra, "ls", "--select", "state:modified", "--state", str(state), "--format", "json")
    assert result.code == 0, result.output
    return [r["name"] for r in json.loads(result.out)]


def test_a_template_using_as_of_is_not_modified_when_only_as_of_moves(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", FILES)
    assert run_cli("--project-dir", str(root), "compile", "--dialect", "duckdb", "--as-of", "2026-01-01T00:00:00Z").code == 0
    state = tmp_path / "state"
    shutil.copytree(root / "target", state)
    assert _modified(root, state) == []  # ls evaluates at now, not 2026-01-01
    recompiled = run_cli("--project-dir", str(root), "compile", "--dialect", "duckdb", "--as-of", "2026-06-01T00:00:00Z")
    assert recompiled.code == 0
    assert "2026-06-01" in (root / "target" / "compiled" / "duckdb" / "recent.sql").read_text()  # the SQL itself uses the real as_of


def test_what_the_user_changed_still_counts(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", FILES)
    assert run_cli("--project-dir", str(root), "compile", "--dialect", "duckdb").code == 0
    state = tmp_path / "state"
    shutil.copytree(root / "target", state)
    assert _modified(root, state, "--vars", '{"days": 7}') == ["recent"]  # a var the template uses
    sql = root / "models" / "recent.sql"
    sql.write_text(sql.read_text().replace("signup_at >", "signup_at >="), encoding="utf-8")
    a = root / "models" / "a.yml"
    a.write_text(a.read_text().replace("<= '{{ as_of }}'", "< '{{ as_of }}'"), encoding="utf-8")
    assert _modified(root, state) == ["inline_recent", "recent"]
