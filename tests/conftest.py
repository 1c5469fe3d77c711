"""Shared fixtures: projects written from dicts, the CLI run in-process, one `engine` per backend."""

from __future__ import annotations

import contextlib
import io
import textwrap
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from segsql.engines.base import Adapter
from segsql.project.config import Target

ENGINES = ("duckdb", "fakesnow", "postgres")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="Rewrite tests/golden/*.sql from the current compiler.")


@pytest.fixture(autouse=True)
def _artifacts_match_their_schemas(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every manifest.json and run_results.json a test writes under its tmp_path is valid
    against the JSON Schema segsql ships for it (SPEC 6, artifacts)."""
    root: Path | None = request.getfixturevalue("tmp_path") if "tmp_path" in request.fixturenames else None
    yield
    if root is None:
        return
    for kind in ("manifest", "run_results"):
        for path in root.rglob(f"target/{kind}.json"):
            validate_artifact(path, kind)


def validate_artifact(path: Path, kind: str) -> None:
    import json

    import jsonschema

    from segsql.run.artifacts import schema

    jsonschema.validate(json.loads(path.read_text(encoding="utf-8")), schema(kind), format_checker=jsonschema.FormatChecker())


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


def write_project(root: Path, files: dict[str, str], *, duckdb_path: str | None = None) -> Path:
    """Write a project folder; a default duckdb profile is added unless files has one."""
    root.mkdir(parents=True, exist_ok=True)
    files = dict(files)
    files.setdefault("profiles.yml", f"segsql:\n  target: dev\n  outputs:\n    dev: {{type: duckdb, path: '{duckdb_path or root / 'test.duckdb'}', schema: main}}\n")
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    (root / "models").mkdir(exist_ok=True)
    return root


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    @property
    def output(self) -> str:
        return self.out + self.err


def run_cli(*args: str) -> CliResult:
    """The real `main()` in-process, with exit code and both streams captured."""
    from segsql.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exit_:
            code = int(exit_.code or 0)
    return CliResult(code, out.getvalue(), err.getvalue())


@pytest.fixture
def cli() -> Callable[..., CliResult]:
    return run_cli


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[object]:
    """One real PostgreSQL server per test process (tests/engines/server.py); skipped without binaries."""
    from tests.engines.server import server_or_skip, stop_server

    yield server_or_skip()
    stop_server()


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> Iterator[Callable[[], Adapter]]:
    """A factory of adapters on a fresh database of one backend (DuckDB, Snowflake via fakesnow, PostgreSQL)."""
    kind = request.param
    if kind == "duckdb":
        from segsql.engines.duckdb import DuckDBAdapter

        path = request.getfixturevalue("tmp_path") / "engine.duckdb"
        yield lambda: DuckDBAdapter(str(path), "main")
        return
    if kind == "postgres":
        request.getfixturevalue("postgres_server")
        from segsql.engines.postgres import PostgresAdapter
        from tests.engines.server import fresh_database

        with fresh_database() as pg_target:
            pg_adapters: list[Adapter] = []

            def make_pg() -> Adapter:
                adapter = PostgresAdapter.from_target(pg_target)
                pg_adapters.append(adapter)
                return adapter

            yield make_pg
            for adapter in pg_adapters:
                with contextlib.suppress(Exception):
                    adapter.close()
        return
    fakesnow = pytest.importorskip("fakesnow")
    from segsql.engines.snowflake import SnowflakeAdapter

    database = f"DB_{uuid.uuid4().hex[:8].upper()}"
    with fakesnow.patch(create_database_on_connect=True, create_schema_on_connect=True):
        target = Target("segsql", "test", "snowflake", {"account": "acct", "user": "tester", "password": "pw-test-secret", "database": database, "schema": "MAIN"})
        adapters: list[Adapter] = []

        def make_snow() -> Adapter:
            adapter = SnowflakeAdapter.from_target(target)
            adapters.append(adapter)
            return adapter

        yield make_snow
        for adapter in adapters:
            with contextlib.suppress(Exception):
                adapter.close()
