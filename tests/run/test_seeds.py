"""SPEC 6: `segsql seed` loads seeds/*.csv into tables of the same names, typed by
seeds/seeds.yml or inferred, on DuckDB, Snowflake (fakesnow) and PostgreSQL; a mistake is
exit 2 at its file and line, and nothing is loaded."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from sqlglot import exp

from segsql.run.session import Options, open_session
from tests.conftest import run_cli, write_project

AS_OF = "2026-06-01T00:00:00Z"
USERS_CSV = """external_id,country,age,is_vip,signup_at,zip,profile,interests
u1,KR,31,true,2026-01-05,00501,"{""tier"": ""gold""}","[""sneakers"", ""tech""]"
u2,JP,45,false,2025-03-01T10:00:00+09:00,10115,"{""tier"": ""silver""}",[]
u3,KR,,true,2026-05-01 08:00:00,,,
"""
EVENTS_CSV = """external_id,event_name,occurred_at,properties
u1,app_open,2026-05-30T10:00:00Z,"{""platform"": ""ios""}"
u2,app_open,2026-05-31T23:30:00Z,"{""platform"": ""web""}"
u3,add_to_cart,2026-05-20T10:00:00Z,"{""quantity"": 2}"
u4,app_open,2026-05-31T10:00:00Z,
"""
SEEDS_YML = """
users:
  columns:
    profile: object
    interests: array
events:
  columns:
    properties: object
"""
SOURCES = """
users:
  table: {schema}.users
  id: external_id
  attributes: {country: string, age: number, is_vip: boolean, signup_at: time, zip: string, profile: object, interests: array}
events:
  table: {schema}.events
  user: external_id
  name: event_name
  time: occurred_at
  properties: properties
"""
SEGMENTS = {
    "over_30": ("{attribute: age, gt: 30}", {"u1", "u2"}),
    "vips": ("{attribute: is_vip, equals: true}", {"u1", "u3"}),
    "signed_up_2026": ("{attribute: signup_at, after: 2026-01-01}", {"u1", "u3"}),
    "early_signups": ("{attribute: signup_at, before: 2025-03-01T02:00:00Z}", {"u2"}),  # 10:00+09:00 is 01:00 UTC
    "zip_kept_as_text": ("{attribute: zip, starts_with: '00'}", {"u1"}),
    "gold": ("{attribute: profile.tier, equals: gold}", {"u1"}),
    "ios_openers": ("{event: app_open, where: [{property: platform, equals: ios}]}", {"u1"}),
    "carted_two": ("{event: add_to_cart, where: [{property: quantity, gte: 2}]}", {"u3"}),
    "sneaker_fans": ("{attribute: interests, includes: sneakers}", {"u1"}),
}


@contextlib.contextmanager
def _profile(kind: str, request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """(profiles.yml text, schema) for a fresh database of one engine."""
    if kind == "duckdb":
        path = request.getfixturevalue("tmp_path") / "seeds.duckdb"
        yield f"segsql:\n  target: t\n  outputs:\n    t: {{type: duckdb, path: '{path}', schema: main}}\n", "main"
    elif kind == "postgres":
        server = request.getfixturevalue("postgres_server")
        dbname = server.create_database()  # type: ignore[attr-defined]
        try:
            settings = server.settings(dbname)  # type: ignore[attr-defined]
            yield "segsql:\n  target: t\n  outputs:\n    t: " + json.dumps(settings) + "\n", "main"
        finally:
            server.drop_database(dbname)  # type: ignore[attr-defined]
    else:
        fakesnow = pytest.importorskip("fakesnow")
        database = f"DB_{uuid.uuid4().hex[:8].upper()}"
        with fakesnow.patch(create_database_on_connect=True, create_schema_on_connect=True):
            yield f"segsql:\n  target: t\n  outputs:\n    t: {{type: snowflake, account: a, user: u, password: pw-seed-test, database: {database}, schema: MAIN}}\n", "MAIN"


def _memberships(root: Path, names: list[str]) -> dict[str, set[str]]:
    with open_session(Options(root), AS_OF).connect() as adapter:
        return {n: {str(r[0]) for r in adapter.fetch(exp.select("external_user_id").from_(adapter.table(f"seg_{n}")))} for n in names}


@pytest.mark.parametrize("kind", ["duckdb", "fakesnow", "postgres"])
def test_seed_loads_typed_csvs_that_segments_then_read(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    # fakesnow cannot run ARRAY_CONTAINS (README: What fakesnow cannot run)
    segments = {n: v for n, v in SEGMENTS.items() if not (kind == "fakesnow" and n == "sneaker_fans")}
    with _profile(kind, request) as (profile, schema):
        models = "segments:\n" + "".join(f"  - name: {n}\n    where: {f}\n" for n, (f, _) in segments.items())
        root = write_project(tmp_path / "shop", {
            "profiles.yml": profile, "models/sources.yml": SOURCES.replace("{schema}", schema), "models/segments.yml": models,
            "seeds/users.csv": USERS_CSV, "seeds/events.csv": EVENTS_CSV, "seeds/seeds.yml": SEEDS_YML,
        })
        seeded = run_cli("--project-dir", str(root), "seed", "--format", "json")
        assert seeded.code == 0, seeded.output
        report = json.loads(seeded.out)
        assert report["tables"] == {"events": 4, "users": 3}
        assert report["columns"]["users"] == {"external_id": "string", "country": "string", "age": "integer", "is_vip": "boolean", "signup_at": "time", "zip": "string", "profile": "object", "interests": "array"}
        assert report["columns"]["events"]["occurred_at"] == "time"
        run = run_cli("--project-dir", str(root), "run", "--as-of", AS_OF)
        assert run.code == 0, run.output
        assert _memberships(root, list(segments)) == {n: expected for n, (_, expected) in segments.items()}
        # seeding again replaces the tables (dbt's seeds are create-or-replace)
        (root / "seeds" / "events.csv").write_text("\n".join(EVENTS_CSV.splitlines()[::2]) + "\n", encoding="utf-8")  # without u1's open
        assert run_cli("--project-dir", str(root), "seed").code == 0
        shown = run_cli("--project-dir", str(root), "show", "ios_openers", "--as-of", AS_OF, "--format", "json")
        assert json.loads(shown.out)["members"] == []


BROKEN = [
    ({}, "seeds/: there is no seeds/ folder"),
    ({"seeds/notes.txt": "x"}, "seeds/: seeds/ holds no .csv files"),
    ({"seeds/users.csv": "external_id,age\nu1,3\nu2,4,5\n"}, "seeds/users.csv:3: this row has 3 values, the header has 2"),
    ({"seeds/users.csv": 'external_id,age\nu1,"3\n'}, "seeds/users.csv:2: invalid CSV"),
    ({"seeds/users.csv": "external id,age\nu1,3\n"}, "seeds/users.csv:1: column name 'external id' is not a plain name"),
    ({"seeds/users.csv": "external_id,age\nu1,3\nu2,old\n", "seeds/seeds.yml": "users:\n  columns:\n    age: number\n"}, "seeds/users.csv:3: column age: 'old' is not a number"),
    ({"seeds/users.csv": "external_id,age\nu1,3\n", "seeds/seeds.yml": "users:\n  columns:\n    age: int\n"}, "seeds/seeds.yml:3: unknown type 'int' for column 'age' of seed 'users' — did you mean 'integer'?"),
    ({"seeds/users.csv": "external_id,age\nu1,3\n", "seeds/seeds.yml": "users:\n  columns:\n    agee: number\n"}, "seeds/seeds.yml:3: seeds.yml types column 'agee', but users.csv has no such column"),
    ({"seeds/users.csv": "external_id,age\nu1,3\n", "seeds/seeds.yml": "user:\n  columns: {age: number}\n"}, "seeds/seeds.yml:1: seeds.yml types seed 'user', but there is no seeds/user.csv — did you mean 'users'?"),
    ({"seeds/users.csv": "external_id,signup_at\nu1,2026-01-01\nu2,yesterday\n", "seeds/seeds.yml": "users:\n  columns: {signup_at: time}\n"}, "seeds/users.csv:3: column signup_at: 'yesterday' is not a time"),
    ({"seeds/users.csv": b"external_id,city\nu1,Z\xfcrich\n"}, "seeds/users.csv:2: the file is not UTF-8"),
    ({"seeds/my-users.csv": "external_id\nu1\n"}, "seeds/my-users.csv: seed file 'my-users.csv' would load table 'my-users'"),
]


@pytest.mark.parametrize(("files", "message"), BROKEN, ids=[m.split(":")[0] + str(i) for i, (_, m) in enumerate(BROKEN)])
def test_seed_mistakes_are_exit_2_at_their_line_and_load_nothing(files: dict[str, str | bytes], message: str, tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {"models/sources.yml": "users: {table: main.users, id: external_id}\n"})
    for rel, content in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            (root / rel).write_bytes(content)
        else:
            (root / rel).write_text(content, encoding="utf-8")
    (root / "seeds").mkdir(exist_ok=True) if files else None
    result = run_cli("--project-dir", str(root), "seed")
    assert result.code == 2, result.output
    assert message in result.err and "Traceback" not in result.output, result.err
    if (root / "test.duckdb").exists():
        db = duckdb.connect(str(root / "test.duckdb"))
        assert db.execute("SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'users'").fetchone() == (0,)
        db.close()


def test_demo_options_without_demo_are_a_usage_error(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {"seeds/users.csv": "external_id\nu1\n"})
    result = run_cli("--project-dir", str(root), "seed", "--users", "10")
    assert result.code == 2 and "only apply to `seed --demo`" in result.err
