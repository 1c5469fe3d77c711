"""PostgreSQL execution (SPEC 7) on a real server started by the tests (tests/engines/server.py).

The adapter's own behaviour (types, COPY loading, UTC session, transactions, redaction,
profile targets), the SQL of PostgresRules on the server, the hypothesis comparison
with the reference evaluator, and the demo's memberships equal to DuckDB's.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from sqlglot import exp

from segsql.compiler.dialects import PostgresRules
from segsql.engines.base import Adapter, connect
from segsql.errors import EngineError, ProjectError
from tests import strategies
from tests import test_demo_parity as demo
from tests import test_semantics_property as sem
from tests.conftest import run_cli, write_project
from tests.engines.server import PASSWORD, fresh_database

pytestmark = pytest.mark.usefixtures("postgres_server")


@contextlib.contextmanager
def pg_adapter(schema: str = "main") -> Iterator[Adapter]:
    from segsql.engines.postgres import PostgresAdapter

    with fresh_database(schema) as target, PostgresAdapter.from_target(target) as adapter:
        yield adapter


@pytest.fixture
def pg() -> Iterator[Adapter]:
    with pg_adapter() as adapter:
        yield adapter


# -- the adapter --------------------------------------------------------------------------------
def test_load_rows_round_trips_every_logical_type(pg: Adapter) -> None:
    seoul = dt.timezone(dt.timedelta(hours=9))
    columns = [("id", "VARCHAR"), ("n", "BIGINT"), ("d", "DOUBLE"), ("b", "BOOLEAN"), ("t", "TIMESTAMP"),
               ("tz", "TIMESTAMPTZ"), ("j", "JSON"), ("tags", "VARCHAR[]")]
    rows = [
        ("u1", 2**40, 1.5, True, dt.datetime(2026, 1, 1, 12), dt.datetime(2026, 1, 1, 8, tzinfo=seoul), '{"a": [1, "x"]}', ["a", "b, c", 'q"']),
        ("u2", None, None, None, None, None, None, None),
        ("u3\ttab", -1, -0.25, False, dt.datetime(1999, 12, 31, 23, 59, 59), dt.datetime(2026, 1, 1, tzinfo=dt.UTC), "[]", []),
    ]
    pg.load_rows("t", columns, rows)
    pg.load_rows("t", columns, rows)  # replaces, does not append
    got = pg.fetch("SELECT id, n, d, b, t, tz, CAST(j AS TEXT), jsonb_typeof(tags), jsonb_array_length(tags) FROM main.t ORDER BY id")
    assert [r[0] for r in got] == ["u1", "u2", "u3\ttab"]
    assert got[0][1:6] == (2**40, 1.5, True, dt.datetime(2026, 1, 1, 12), dt.datetime(2025, 12, 31, 23, tzinfo=dt.UTC))
    assert got[0][6] == '{"a": [1, "x"]}' and got[0][7:] == ("array", 3)
    assert got[1][1:] == (None,) * 8
    assert got[2][7:] == ("array", 0)
    assert pg.schema_tables()["t"] == {c for c, _ in columns}
    assert pg.table_exists("t") and not pg.table_exists("missing")
    assert pg.fetch("SELECT tags FROM main.t WHERE id = 'u1'")[0][0] == '["a", "b, c", "q\\""]'


def test_session_is_utc_and_the_schema_is_created() -> None:
    with pg_adapter("segs") as adapter:
        assert adapter.fetch("SHOW TimeZone") == [("UTC",)]
        assert adapter.fetch("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = 'segs'") == [(1,)]
        adapter.load_rows("x", [("a", "VARCHAR")], [("1",)])
        assert adapter.table_exists("x") and adapter.fetch("SELECT a FROM segs.x") == [("1",)]


def test_dml_rolls_back_when_a_later_statement_fails(pg: Adapter) -> None:
    pg.load_rows("kept", [("a", "BIGINT")], [(1,)])
    with pytest.raises(EngineError), pg.transaction():
        pg.execute("INSERT INTO main.kept VALUES (2)")
        pg.execute("SELECT * FROM main.no_such_table")
    assert pg.fetch("SELECT a FROM main.kept") == [(1,)]
    with pg.transaction():
        pg.execute("INSERT INTO main.kept VALUES (3)")
    assert pg.fetch("SELECT a FROM main.kept ORDER BY a") == [(1,), (3,)]


def test_the_password_is_redacted_from_every_error(pg: Adapter) -> None:
    from segsql.engines.postgres import PostgresAdapter
    from segsql.project.config import Target

    with pytest.raises(EngineError) as err:
        pg.execute(exp.select(exp.cast(exp.Literal.string(PASSWORD), "INT")))
    assert PASSWORD not in str(err.value) and "****" in str(err.value)
    # a connection failure: a closed port, with the password in the message source
    bad = Target("segsql", "pg", "postgres", {"host": "127.0.0.1", "port": 1, "user": PASSWORD, "password": PASSWORD, "dbname": "x", "schema": "main"})
    with pytest.raises(EngineError) as err:
        PostgresAdapter.from_target(bad)
    assert PASSWORD not in str(err.value) and "cannot connect to PostgreSQL" in str(err.value)


def test_profile_target_runs_segments_through_the_cli(tmp_path: Path) -> None:
    with fresh_database() as target:
        s = target.settings
        profile = (f"segsql:\n  target: pg\n  outputs:\n    pg: {{type: postgres, host: '{s['host']}', port: {s['port']}, "
                   f"user: {s['user']}, password: '{{{{ env_var(\"SEGSQL_PG_PW\") }}}}', dbname: {s['dbname']}, schema: main}}\n")
        files = {
            "profiles.yml": profile,
            "models/sources.yml": "users:\n  table: main.users\n  id: external_id\n  attributes: {country: string}\n",
            "models/s.yml": "segments:\n  - name: koreans\n    where: {attribute: country, equals: KR}\n",
        }
        root = write_project(tmp_path / "p", files)
        with connect(target) as adapter:
            adapter.load_rows("users", [("external_id", "VARCHAR"), ("country", "VARCHAR")], [("u1", "KR"), ("u2", "JP")])
        mp = pytest.MonkeyPatch()
        mp.setenv("SEGSQL_PG_PW", PASSWORD)
        try:
            result = run_cli("--project-dir", str(root), "run", "--as-of", "2026-06-01T00:00:00Z")
        finally:
            mp.undo()
        assert result.code == 0, result.output
        assert PASSWORD not in result.output
        with connect(target) as adapter:
            assert adapter.fetch("SELECT external_user_id FROM main.seg_koreans") == [("u1",)]


def test_a_postgres_target_needs_host_user_and_dbname(tmp_path: Path) -> None:
    from jinja2.sandbox import SandboxedEnvironment

    from segsql.errors import Location
    from segsql.project.config import parse_target

    data = {"segsql": {"target": "pg", "outputs": {"pg": {"type": "postgres", "host": "h", "user": "u"}}}}
    with pytest.raises(ProjectError, match="needs `dbname`"):
        parse_target(data, Location("profiles.yml"), "segsql", None, SandboxedEnvironment())


# -- the rules on the server -----------------------------------------------------------------------
def _truth(adapter: Adapter, condition: exp.Expression) -> Any:
    return adapter.fetch(exp.select(condition))[0][0]


def test_regex_is_an_unanchored_search_and_honours_a_leading_case_flag(pg: Adapter) -> None:
    r = PostgresRules()
    text = exp.Literal.string("Nike SNEAKERS sale")
    assert _truth(pg, r.regex_search(text, "(?i)sneaker")) is True
    assert _truth(pg, r.regex_search(text.copy(), "sneaker")) is False
    assert _truth(pg, r.regex_search(text.copy(), "^Nike")) is True
    assert _truth(pg, r.regex_search(text.copy(), "^SNEAKERS")) is False
    assert _truth(pg, r.regex_search(text.copy(), r"\s[A-Z]+\s")) is True


def test_string_operators_take_values_literally(pg: Adapter) -> None:
    r = PostgresRules()
    text = exp.Literal.string("50%_off's")
    assert _truth(pg, r.starts_with(text, "50%_")) is True
    assert _truth(pg, r.starts_with(text.copy(), "5_%")) is False
    assert _truth(pg, r.ends_with(text.copy(), "_off's")) is True
    assert _truth(pg, r.ends_with(text.copy(), "")) is True
    assert _truth(pg, r.ends_with(text.copy(), "x50%_off's")) is False
    assert _truth(pg, r.contains(text.copy(), "%_o")) is True


def test_bucket_matches_python_and_duckdb(pg: Adapter) -> None:
    import hashlib

    from segsql.compiler.dialects import DialectRules
    from segsql.engines.duckdb import DuckDBAdapter

    ids = ["u1", "user-000042", "", "한국", "zz" * 40]
    expected = [int(hashlib.md5(("salt" + i).encode()).hexdigest()[:8], 16) % 10000 for i in ids]
    got = [pg.fetch(exp.select(PostgresRules().bucket(exp.Literal.string(i), "salt")))[0][0] for i in ids]
    with DuckDBAdapter(":memory:") as duck:
        on_duck = [duck.fetch(exp.select(DialectRules().bucket(exp.Literal.string(i), "salt")))[0][0] for i in ids]
    assert got == expected == on_duck


def test_json_time_text_that_is_not_iso_is_missing(pg: Adapter) -> None:
    r = PostgresRules()
    for text, want in [("2026-11-21T12:00:00Z", dt.datetime(2026, 11, 21, 12)), ("2026-11-20T21:00:00+09:00", dt.datetime(2026, 11, 20, 12)),
                       ("2026-11-21T12:00:00", dt.datetime(2026, 11, 21, 12)), ("yesterday", None), ("epoch", None), ("", None)]:
        assert _truth(pg, r.text_to_utc(exp.Literal.string(text))) == want, text


# -- the reference evaluator and the demo ----------------------------------------------------------
def test_random_filters_match_the_reference_on_postgres() -> None:
    """All operators, arrays included (PostgreSQL runs them, unlike fakesnow)."""
    with pg_adapter() as adapter:

        @sem._settings(40)
        @given(case=strategies.case_strategy())
        def check(case: dict[str, Any]) -> None:
            case = copy.deepcopy(case)
            sem.load_case(adapter, case)
            got = sem.members_on_engine(adapter, case, {"s": case["filter"]})["s"]
            assert got == sem.reference_members(case, case["filter"])

        check()


def test_random_behavioural_filters_match_the_reference_on_postgres() -> None:
    with pg_adapter() as adapter:

        @sem._settings(30)
        @given(case=strategies.behaviour_case_strategy())
        def check(case: dict[str, Any]) -> None:
            case = copy.deepcopy(case)
            sem.load_case(adapter, case)
            got = sem.members_on_engine(adapter, case, {"s": case["filter"]})["s"]
            assert got == sem.reference_members(case, case["filter"])

        check()


def test_random_money_filters_match_the_reference_on_postgres() -> None:
    """SPEC 3.4's exact sums (NUMERIC(38, 6) here) over 0.1 / 0.2 / 0.3 and halfway values."""
    with pg_adapter() as adapter:

        @sem._settings(20)
        @given(case=strategies.money_case_strategy())
        def check(case: dict[str, Any]) -> None:
            sem.load_case(adapter, case)
            got = sem.members_on_engine(adapter, case, {"s": case["filter"]})["s"]
            assert got == sem.reference_members(case, case["filter"])

        check()


def test_demo_memberships_equal_on_duckdb_and_postgres(tmp_path: Path) -> None:
    """Every materialized demo segment, arrays included."""
    from segsql.engines.duckdb import DuckDBAdapter
    from segsql.run.session import Options, open_session

    session = open_session(Options(demo.ROOT), demo.AS_OF, need_target=False)
    names = sorted(n for n, s in session.definitions.segments.items() if s.materialized == "table")
    assert len(names) >= 12
    from segsql.demo.seed import seed_demo

    with DuckDBAdapter(str(tmp_path / "demo.duckdb")) as duck:
        seed_demo(duck, users=400, seed=7)
        on_duckdb = demo._memberships(duck, session, names)
    with pg_adapter() as pg:
        seed_demo(pg, users=400, seed=7)
        on_postgres = demo._memberships(pg, session, names)
    assert on_duckdb == on_postgres
    assert all(on_duckdb.values())
