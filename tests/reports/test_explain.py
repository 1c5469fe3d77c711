"""SPEC 6 `explain`: the size after each top-level filter of an `all:` (the share kept), what
each branch of an `any:` adds, counted independently here; the last step is the segment's size."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from segsql.engines.duckdb import DuckDBAdapter
from tests.conftest import run_cli, write_project

SOURCES = "users:\n  table: main.users\n  id: external_id\n  attributes: {country: string, age: number}\nevents:\n  table: main.events\n  user: external_id\n  name: event_name\n  time: occurred_at\n"
SEGMENTS = """
segments:
  - name: funnel_all
    where:
      all:
        - {attribute: country, equals: KR}
        - {attribute: age, gte: 30}
        - {event: app_open}
  - name: funnel_any
    where:
      any:
        - {attribute: country, equals: JP}
        - {attribute: age, gte: 60}
        - {event: app_open}
  - name: sql_one
    sql: select external_id from main.users
"""
AS_OF = "2026-06-01T00:00:00Z"
USERS = [(f"u{i}", "KR" if i % 2 else "JP", 20 + i * 3) for i in range(20)]
OPENED = {f"u{i}" for i in range(0, 20, 3)}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = write_project(tmp_path / "p", {"models/sources.yml": SOURCES, "models/segments.yml": SEGMENTS})
    with DuckDBAdapter(str(root / "test.duckdb")) as adapter:
        adapter.load_rows("users", [("external_id", "VARCHAR"), ("country", "VARCHAR"), ("age", "DOUBLE")], USERS)
        adapter.load_rows("events", [("external_id", "VARCHAR"), ("event_name", "VARCHAR"), ("occurred_at", "TIMESTAMP")], [(u, "app_open", "2026-05-01 00:00:00") for u in sorted(OPENED)])
    return root


def _explain(root: Path, name: str) -> dict:
    result = run_cli("--project-dir", str(root), "explain", name, "--as-of", AS_OF, "--format", "json")
    assert result.code == 0, result.output
    return json.loads(result.out)


def test_all_waterfall_and_its_last_step_is_the_segment_size(project: Path) -> None:
    steps = _explain(project, "funnel_all")["steps"]
    kr = {u for u, c, _ in USERS if c == "KR"}
    kr30 = {u for u, c, a in USERS if c == "KR" and a >= 30}
    assert [s["size"] for s in steps] == [len(kr), len(kr30), len(kr30 & OPENED)]
    assert steps[1]["share_kept"] == round(len(kr30) / len(kr), 4)
    shown = json.loads(run_cli("--project-dir", str(project), "show", "funnel_all", "--as-of", AS_OF, "--format", "json").out)
    assert steps[-1]["size"] == shown["size"]
    text = run_cli("--project-dir", str(project), "explain", "funnel_all", "--as-of", AS_OF)
    assert text.code == 0 and "attribute age gte 30" in text.out and f"{len(kr30) / len(kr):.1%}" in text.out


def test_any_shows_what_each_branch_adds(project: Path) -> None:
    steps = _explain(project, "funnel_any")["steps"]
    jp = {u for u, c, _ in USERS if c == "JP"}
    old = {u for u, _, a in USERS if a >= 60}
    assert [s["added"] for s in steps] == [len(jp), len(old - jp), len(OPENED - jp - old)]
    shown = json.loads(run_cli("--project-dir", str(project), "show", "funnel_any", "--as-of", AS_OF, "--format", "json").out)
    assert steps[-1]["size"] == shown["size"] == len(jp | old | OPENED)


def test_explain_errors(project: Path) -> None:
    sql = run_cli("--project-dir", str(project), "explain", "sql_one")
    assert sql.code == 2 and "is a SQL segment" in sql.err
    missing = run_cli("--project-dir", str(project), "explain", "nope")
    assert missing.code == 2 and "no segment named 'nope'" in missing.err
