"""SPEC 6 `init DIR`: a project that points at the user's own tables, compiles and lists as
it is, says what to edit next, and runs on the user's data once sources.yml names it."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from segsql.run.session import Options, open_session
from tests.conftest import run_cli

AS_OF = "2026-06-01T12:00:00Z"


def test_init_scaffolds_a_project_that_compiles_lists_and_says_what_to_edit(tmp_path: Path) -> None:
    root = tmp_path / "my-shop"
    result = run_cli("init", str(root))
    assert result.code == 0, result.output
    assert "seed --demo" not in result.out
    assert f"next: edit {root / 'models' / 'sources.yml'} to name your tables and columns" in result.out
    assert run_cli("--project-dir", str(root), "compile", "--check").code == 0
    listed = run_cli("--project-dir", str(root), "ls", "--format", "json")
    assert listed.code == 0 and [r["name"] for r in json.loads(listed.out)] == ["recent_buyers"]

    sources = (root / "models" / "sources.yml").read_text(encoding="utf-8")
    for optional in ("# location:", "# catalogs:", "# quantity:", "# properties:", "unit: epoch_millis", "events:                             # optional", "purchases:                          # optional", '"data/events/*.parquet"', "segsql seed"):
        assert optional in sources, optional
    profiles = (root / "profiles.yml").read_text(encoding="utf-8")
    assert "type: duckdb" in profiles and "#   type: snowflake" in profiles and "path: my_shop.duckdb" in profiles
    assert "logs/" in (root / ".gitignore").read_text(encoding="utf-8")

    # the scaffold's unit test is SPEC 6's shape, and `segsql test` passes it as scaffolded
    tests = open_session(Options(root), need_target=False).definitions.unit_tests
    assert [(t.name, t.model) for t in tests.values()] == [("a_purchase_last_week_makes_a_recent_buyer", "recent_buyers")]
    tested = run_cli("--project-dir", str(root), "test")
    assert tested.code == 0 and "a_purchase_last_week_makes_a_recent_buyer" in tested.output, tested.output


def test_the_scaffold_runs_on_the_users_own_csv_files(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    assert run_cli("init", str(root)).code == 0
    (root / "seeds").mkdir()
    (root / "seeds" / "users.csv").write_text("external_id,country,signup_at\nu1,KR,2026-01-05\nu2,US,2025-11-30\n", encoding="utf-8")
    (root / "seeds" / "events.csv").write_text("external_id,event_name,occurred_at\nu1,app_open,2026-05-30T10:00:00Z\n", encoding="utf-8")
    (root / "seeds" / "purchases.csv").write_text("external_id,purchased_at,product_id,price\nu1,2026-05-28T10:00:00Z,p1,20.00\nu2,2026-03-01T10:00:00Z,p2,5.50\nu3,2026-05-31T09:00:00Z,p1,20.00\n", encoding="utf-8")
    assert run_cli("--project-dir", str(root), "seed").code == 0
    run = run_cli("--project-dir", str(root), "run", "--as-of", AS_OF)
    assert run.code == 0, run.output
    db = duckdb.connect(str(root / "shop.duckdb"))
    assert {r[0] for r in db.execute("SELECT external_user_id FROM main.seg_recent_buyers").fetchall()} == {"u1", "u3"}
    db.close()
