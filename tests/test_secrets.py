"""SPEC 1: secrets never appear in output, errors, `--debug` tracebacks, `debug`, target/ or logs/segsql.log.

Each test plants one unique secret through environment variables read by `env_var` in
profiles.yml (and as a password), runs the commands that print, fail or write artifacts
— including a connection that fails and a SQL statement that fails, with `--debug` —
and searches stdout, stderr, every file under target/ and the log file (which holds
every statement sent and every error printed) for it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CliResult, run_cli, write_project

SOURCES = "users:\n  table: main.users\n  id: external_id\n  attributes: {country: string}\n"
SEGMENTS = """
segments:
  - name: koreans
    where: {attribute: country, equals: KR}
  - name: broken_sql
    sql: |
      select external_id from main.no_such_table
"""
TESTS = """
unit_tests:
  - name: one_korean
    segment: koreans
    as_of: 2026-06-01
    given: {users: [{external_id: a, country: KR}, {external_id: b, country: JP}]}
    expect: {members: [a]}
"""
AS_OF = "2026-06-01T00:00:00Z"
USERS = [("external_id", "VARCHAR"), ("country", "VARCHAR")]


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    value = f"zzsecret{uuid.uuid4().hex}"
    monkeypatch.setenv("SEGSQL_TEST_SECRET", value)
    yield value


def _project(root: Path, target: str) -> Path:
    profile = "segsql:\n  target: t\n  outputs:\n    t:\n" + "".join(f"      {line}\n" for line in target.strip().splitlines())
    return write_project(root, {"profiles.yml": profile, "models/sources.yml": SOURCES, "models/segments.yml": SEGMENTS, "models/tests.yml": TESTS})


def _commands(root: Path, *, connects: bool) -> list[list[str]]:
    base = ["--project-dir", str(root)]
    commands = [
        [*base, "debug"],
        [*base, "debug", "--format", "json"],
        [*base, "--debug", "debug"],
        [*base, "compile"],
        [*base, "ls", "--format", "json"],
        [*base, "--debug", "run", "--as-of", AS_OF],
        [*base, "run", "--as-of", AS_OF, "--format", "json"],
        [*base, "--debug", "test"],
        [*base, "test", "--format", "json"],
    ]
    if connects:
        commands += [[*base, "--debug", "show", "koreans"], [*base, "--debug", "show", "broken_sql"], [*base, "history", "koreans"], [*base, "--debug", "build", "--as-of", AS_OF], [*base, "--debug", "explain", "koreans", "--as-of", AS_OF], [*base, "build", "--as-of", AS_OF, "--format", "json"],
                     [*base, "--debug", "why", "u1", "--as-of", AS_OF], [*base, "why", "u1", "koreans", "--as-of", AS_OF, "--format", "json"],
                     [*base, "--debug", "diff", "--state", str(root / "target"), "--as-of", AS_OF], [*base, "diff", "--state", str(root / "target"), "--format", "json"]]
    return commands


def _assert_hidden(secret: str, root: Path, results: list[tuple[list[str], CliResult]]) -> None:
    for args, result in results:
        assert secret not in result.out, f"stdout of {args}:\n{result.out}"
        assert secret not in result.err, f"stderr of {args}:\n{result.err}"
    files = [p for p in (root / "target").rglob("*") if p.is_file()]
    assert files, "the commands wrote target/ artifacts"
    log = root / "logs" / "segsql.log"
    assert log.is_file() and "→ exit" in log.read_text(encoding="utf-8"), "every invocation is logged"
    for path in [*files, log]:
        assert secret.encode() not in path.read_bytes(), f"{path} holds the secret"


def _run_all(secret: str, root: Path, *, connects: bool) -> list[tuple[list[str], CliResult]]:
    results = [(args, run_cli(*args)) for args in _commands(root, connects=connects)]
    _assert_hidden(secret, root, results)
    return results


def _codes(results: list[tuple[list[str], CliResult]]) -> dict[str, int]:
    return {" ".join(a[2:]): r.code for a, r in results}


def test_duckdb_failing_sql_and_failing_connection(secret: str, tmp_path: Path) -> None:
    from segsql.engines.duckdb import DuckDBAdapter

    # The database file's name holds the secret (DuckDB names its catalog after the file).
    db = tmp_path / f"db_{secret}.duckdb"
    with DuckDBAdapter(str(db)) as adapter:
        adapter.load_rows("users", USERS, [("u1", "KR"), ("u2", "JP")])
    root = _project(tmp_path / "ok", f"type: duckdb\npath: \"{tmp_path}/db_{{{{ env_var('SEGSQL_TEST_SECRET') }}}}.duckdb\"\nschema: main")
    results = _run_all(secret, root, connects=True)
    codes = _codes(results)
    assert codes["debug"] == 0 and codes["--debug run --as-of " + AS_OF] == 1, codes  # broken_sql fails, koreans commits
    assert codes["--debug test"] == 0 and codes["--debug build --as-of " + AS_OF] == 1, codes
    assert "****" in {" ".join(a[2:]): r for a, r in results}["debug --format json"].out

    (tmp_path / f"dir-{secret}").mkdir()  # a folder where the database file should be: DuckDB cannot open it
    down = _project(tmp_path / "down", f"type: duckdb\npath: \"{tmp_path}/dir-{{{{ env_var('SEGSQL_TEST_SECRET') }}}}\"")
    results = [(args, run_cli(*args)) for args in (["--project-dir", str(down), "--debug", "run"], ["--project-dir", str(down), "debug"])]
    (down / "target").mkdir(exist_ok=True)
    (down / "target" / ".keep").write_text("", encoding="utf-8")
    _assert_hidden(secret, down, results)
    assert [r.code for _, r in results] == [1, 1]
    assert f"cannot open DuckDB database '{tmp_path}/dir-****'" in results[0][1].err

    missing = _project(tmp_path / "missing", "type: duckdb\npath: \"/nonexistent-{{ env_var('SEGSQL_TEST_SECRET') }}/x.duckdb\"")
    result = run_cli("--project-dir", str(missing), "--debug", "run")
    (missing / "target").mkdir(exist_ok=True)
    (missing / "target" / ".keep").write_text("", encoding="utf-8")
    _assert_hidden(secret, missing, [(["run"], result)])
    assert result.code == 2 and "the DuckDB path '/nonexistent-****/x.duckdb' is in a folder that does not exist" in result.err


def test_snowflake_password_in_errors_tracebacks_and_debug(secret: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fakesnow = pytest.importorskip("fakesnow")
    import snowflake.connector

    from segsql.engines.snowflake import SnowflakeAdapter
    from segsql.project.config import Target

    target = "type: snowflake\naccount: acct\nuser: segsql\npassword: \"{{ env_var('SEGSQL_TEST_SECRET') }}\"\ndatabase: SECRETS\nschema: MAIN"
    with fakesnow.patch(create_database_on_connect=True, create_schema_on_connect=True):
        seed = Target("segsql", "seed", "snowflake", {"account": "acct", "user": "u", "password": "x-seed", "database": "SECRETS", "schema": "MAIN"})
        with SnowflakeAdapter.from_target(seed) as adapter:
            adapter.load_rows("users", USERS, [("u1", "KR"), ("u2", "JP")])
        root = _project(tmp_path / "sf", target)
        codes = _codes(_run_all(secret, root, connects=True))
    assert codes["debug"] == 0 and codes["--debug show broken_sql"] == 1, codes

    def echoing_connect(**kwargs: Any) -> Any:
        raise RuntimeError(f"login failed for {kwargs['user']} with password {kwargs['password']}")

    monkeypatch.setattr(snowflake.connector, "connect", echoing_connect)
    results = [(args, run_cli(*args)) for args in (["--project-dir", str(root), "--debug", "run"], ["--project-dir", str(root), "debug", "--format", "json"])]
    _assert_hidden(secret, root, results)
    assert [r.code for _, r in results] == [1, 1]
    assert "with password ****" in results[0][1].err


def test_postgres_password_and_database_name(secret: str, tmp_path: Path, postgres_server: Any) -> None:
    from segsql.engines.postgres import PostgresAdapter
    from segsql.project.config import Target

    server = postgres_server
    dbname = server.create_database()
    try:
        with PostgresAdapter.from_target(Target("segsql", "seed", "postgres", server.settings(dbname))) as adapter:
            adapter.load_rows("users", USERS, [("u1", "KR"), ("u2", "JP")])
        common = f"type: postgres\nhost: 127.0.0.1\nport: {server.port}\nuser: postgres\npassword: \"{{{{ env_var('SEGSQL_TEST_SECRET') }}}}\"\nschema: main"
        root = _project(tmp_path / "pg", f"{common}\ndbname: {dbname}")
        codes = _codes(_run_all(secret, root, connects=True))
        assert codes["debug"] == 0, codes

        # A database named by the secret does not exist: the server's message names it.
        down = _project(tmp_path / "pgdown", f"{common}\ndbname: \"{{{{ env_var('SEGSQL_TEST_SECRET') }}}}\"")
        results = [(args, run_cli(*args)) for args in (["--project-dir", str(down), "--debug", "run"], ["--project-dir", str(down), "debug"])]
        (down / "target").mkdir(exist_ok=True)
        (down / "target" / ".keep").write_text("", encoding="utf-8")
        _assert_hidden(secret, down, results)
        assert [r.code for _, r in results] == [1, 1]
        assert "****" in results[0][1].err
    finally:
        server.drop_database(dbname)
