"""What a user reads (issue 11): JSON errors, checked --target, counted nouns, ISO times,
help hints, and no warning of sqlglot's own."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import run_cli, write_project

AS_OF = "2026-11-22T12:00:00Z"
SOURCES = """
users:
  table: main.users
  id: external_id
  attributes:
    country: string
purchases:
  table: main.purchases
  user: external_id
  time: purchased_at
"""
SEGMENTS = """
segments:
  - name: kr
    where: {attribute: country, equals: KR}
  - name: champions
    where:
      rfm: {recency: {gte: 4}, monetary: {gte: 4}}
"""


def _project(tmp_path: Path, segments: str = SEGMENTS) -> Path:
    root = write_project(tmp_path / "p", {"models/sources.yml": SOURCES, "models/a.yml": segments})
    db = duckdb.connect(str(root / "test.duckdb"))
    db.execute("CREATE TABLE users AS SELECT * FROM (VALUES ('u1', 'KR'), ('u2', 'JP')) t(external_id, country)")
    db.execute("CREATE TABLE purchases (external_id VARCHAR, purchased_at TIMESTAMP, product_id VARCHAR, price DOUBLE)")
    db.execute("INSERT INTO purchases VALUES ('u1', '2026-11-20 10:00:00', 'p1', 10.0)")
    db.close()
    return root


@pytest.mark.parametrize("command", [["ls"], ["compile"], ["compile", "--check"], ["run"], ["show", "kr"], ["history", "kr"], ["debug"]])
def test_a_mistyped_target_fails_every_command(tmp_path: Path, command: list[str]) -> None:
    root = _project(tmp_path)
    result = run_cli("--project-dir", str(root), "--target", "dve", *command)
    assert result.code == 2, result.output
    assert "target 'dve' not found" in result.output and "did you mean 'dev'?" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "file", "line", "code"),
    [
        (["compile", "--format", "json"], "models/a.yml", 6, 2),
        (["ls", "--format", "json"], "models/a.yml", 6, 2),
        (["run", "--format=json"], "models/a.yml", 6, 2),
        (["show", "nope", "--format", "json"], None, None, 2),
        (["run", "--format", "json", "--bogus"], None, None, 2),
    ],
)
def test_format_json_prints_an_error_object_on_stdout(tmp_path: Path, args: list[str], file: str | None, line: int | None, code: int) -> None:
    broken = SEGMENTS.replace("rfm: {recency: {gte: 4}, monetary: {gte: 4}}", "attribute: contry\n      equals: KR") if file else SEGMENTS
    root = _project(tmp_path, broken)
    result = run_cli("--project-dir", str(root), *args)
    assert result.code == code, result.output
    error = json.loads(result.out)["error"]
    assert set(error) == {"message", "file", "line", "exit_code"}
    assert (error["file"], error["line"], error["exit_code"]) == (file, line, code)
    assert error["message"] and error["message"].split(" — ")[0] in result.err


def test_a_json_result_is_not_followed_by_a_second_document(tmp_path: Path) -> None:
    """`debug --format json` with a broken profile prints its report; the error stays on stderr."""
    root = _project(tmp_path)
    (root / "profiles.yml").write_text("segsql:\n  target: dev\n  outputs:\n    dev: {type: oracle}\n", encoding="utf-8")
    result = run_cli("--project-dir", str(root), "debug", "--format", "json")
    assert result.code == 2
    assert json.loads(result.out)["ok"] is False


def test_usage_hint_names_the_command_once(tmp_path: Path) -> None:
    result = run_cli("--project-dir", str(tmp_path), "rnu")
    assert result.code == 2
    assert "Did you mean 'run'?" in result.err
    assert "segsql segsql" not in result.err and "see `segsql --help`" in result.err
    sub = run_cli("--project-dir", str(tmp_path), "run", "--bogus")
    assert "see `segsql run --help`" in sub.err


def test_counted_nouns_agree_with_their_number(tmp_path: Path) -> None:
    root = _project(tmp_path, SEGMENTS.split("  - name: champions")[0])
    compiled = run_cli("--project-dir", str(root), "compile", "--dialect", "duckdb")
    assert compiled.code == 0, compiled.output
    assert "compiled 1 segment for duckdb: 1 file under" in compiled.out
    shown = run_cli("--project-dir", str(root), "show", "kr", "--as-of", AS_OF)
    assert "kr: 1 member at" in shown.out, shown.out
    run = run_cli("--project-dir", str(root), "run", "--as-of", AS_OF)
    assert run.code == 0, run.output
    assert "1 CDI row" in run.out and "1 CDI rows" not in run.out
    assert "staging 1 segment in one query" in run.err and "committing 1 of 1 model and 1 CDI row" in run.err
    assert not re.search(r"\b1 (segments|members|files|CDI rows)\b", compiled.output + shown.output + run.output)


def test_history_shows_iso_timestamps(tmp_path: Path) -> None:
    root = _project(tmp_path)
    assert run_cli("--project-dir", str(root), "run", "--as-of", AS_OF).code == 0
    text = run_cli("--project-dir", str(root), "history", "kr")
    assert text.code == 0, text.output
    assert "2026-11-22T12:00:00Z" in text.out
    runs = json.loads(run_cli("--project-dir", str(root), "history", "kr", "--format", "json").out)["runs"]
    assert runs[0]["as_of"] == "2026-11-22T12:00:00Z"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", runs[0]["finished_at"]), runs[0]


def test_compiling_for_bigquery_prints_no_sqlglot_warning(tmp_path: Path) -> None:
    """In a real process (pytest's own log capture would hide what reaches a terminal)."""
    root = _project(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    out = subprocess.run([sys.executable, "-m", "segsql", "--project-dir", str(root), "compile", "--dialect", "bigquery"], capture_output=True, text=True, check=False, env=env)
    assert out.returncode == 0, out.stderr
    assert "translation not supported" not in out.stdout + out.stderr
    assert out.stderr == ""


def test_bigquery_rfm_sql_needs_no_translation_sqlglot_cannot_do(tmp_path: Path) -> None:
    """The SQL itself asks for BigQuery's own NULL placement, so sqlglot has nothing to drop."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("sqlglot")
    logger.addHandler(handler)
    try:
        result = run_cli("--project-dir", str(_project(tmp_path)), "compile", "--dialect", "bigquery")
    finally:
        logger.removeHandler(handler)
    assert result.code == 0, result.output
    assert [r.getMessage() for r in records if r.levelno >= logging.WARNING] == []
    sql = (tmp_path / "p" / "target" / "compiled" / "bigquery" / "champions.sql").read_text()
    assert "COUNT(last_at) OVER (ORDER BY last_at RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)" in sql
