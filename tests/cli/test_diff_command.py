"""SPEC 6 `diff --state DIR`: the members a change adds and removes at one as_of, without writing.

The state is a `compile` of the base project (as CI does on main); the project is then
changed — an edited filter, a removed and a new segment, a var, a guard the change breaks —
and `diff` is compared with the added and removed ids computed here from the CSV rows, on
DuckDB, Snowflake (fakesnow) and PostgreSQL."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from segsql.run.artifacts import schema
from segsql.run.session import Options, open_session
from tests.conftest import run_cli, write_project
from tests.run.test_seeds import _profile

AS_OF = "2026-06-01T00:00:00Z"
COUNTRIES = ["KR", "JP", "US", "GB"]
USERS = [(f"u{i:02d}", COUNTRIES[i % 4], 16 + (i * 7) % 50) for i in range(60)]
USERS_CSV = "external_id,country,age\n" + "".join(f"{u},{c},{a}\n" for u, c, a in USERS)
PROJECT = "name: shop\nvars: {min_age: 30}\n"
SOURCES = "users:\n  table: {schema}.users\n  id: external_id\n  attributes: {country: string, age: number}\n"
BASE = """
segments:
  - name: koreans
    where: {attribute: country, equals: KR}
  - name: adults
    where:
      attribute: age
      gte: {{ var('min_age') }}
  - name: teens
    where: {attribute: age, lt: 20}
  - name: japanese
    where: {attribute: country, equals: JP}
  - name: asia
    guards: {max_change_pct: 10, min_size: 1}
    where: {attribute: country, in: [KR, JP]}
"""


def _ids(test: Any) -> list[str]:
    return sorted(u for u, c, a in USERS if test(c, a))


@pytest.fixture(params=["duckdb", "fakesnow", "postgres"])
def project(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    with _profile(request.param, request) as (profile, schema):
        root = write_project(tmp_path / "shop", {
            "profiles.yml": profile, "segsql_project.yml": PROJECT, "models/sources.yml": SOURCES.replace("{schema}", schema),
            "models/segments.yml": BASE, "seeds/users.csv": USERS_CSV,
        })
        seeded = run_cli("--project-dir", str(root), "seed")
        assert seeded.code == 0, seeded.output
        compiled = run_cli("--project-dir", str(root), "compile", "--dialect", "duckdb")
        assert compiled.code == 0, compiled.output
        shutil.copytree(root / "target", root / "base")
        yield root


def _diff(root: Path, *args: str, code: int = 0) -> dict[str, Any]:
    result = run_cli("--project-dir", str(root), "diff", *args, "--state", str(root / "base"), "--as-of", AS_OF, "--format", "json")
    assert result.code == code, result.output
    data: dict[str, Any] = json.loads(result.out)
    jsonschema.validate(data, schema("diff"))
    return data


def _edit(root: Path, old: str, new: str) -> None:
    path = root / "models" / "segments.yml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def _side(ids: list[str]) -> dict[str, Any]:
    return {"count": len(ids), "sample": ids[:10]}


def test_a_known_change_a_new_and_a_removed_segment(project: Path) -> None:
    _edit(project, "where: {attribute: country, equals: KR}", "where: {attribute: country, in: [KR, US]}")
    _edit(project, "  - name: teens\n    where: {attribute: age, lt: 20}\n", "  - name: twenties\n    where: {attribute: age, between: [20, 29]}\n")
    data = _diff(project)
    assert data["status"] == "ok" and data["as_of"] == AS_OF
    by_name = {s["segment"]: s for s in data["segments"]}
    assert set(by_name) == {"koreans", "twenties", "teens"}  # adults, japanese, asia are unchanged
    koreans = by_name["koreans"]
    assert koreans["change"] == "modified" and koreans["parts"] == ["membership"]
    assert koreans["added"] == _side(_ids(lambda c, a: c == "US")) and koreans["removed"] == _side([])
    assert (koreans["old_size"], koreans["new_size"]) == (len(_ids(lambda c, a: c == "KR")), len(_ids(lambda c, a: c in ("KR", "US"))))
    twenties = by_name["twenties"]
    assert twenties["change"] == "new" and twenties["old_size"] is None
    assert twenties["added"] == _side(_ids(lambda c, a: 20 <= a <= 29)) and twenties["removed"]["count"] == 0
    teens = by_name["teens"]
    assert teens["change"] == "removed" and teens["new_size"] is None and teens["guards"]["status"] == "none"
    assert teens["removed"] == _side(_ids(lambda c, a: a < 20)) and teens["added"]["count"] == 0
    # the text says the same; nothing was written to the warehouse
    text = run_cli("--project-dir", str(project), "diff", "--state", str(project / "base"), "--as-of", AS_OF)
    assert text.code == 0, text.output
    us = _ids(lambda c, a: c == "US")
    assert f"koreans + {', '.join(us[:10])} and {len(us) - 10} more" in text.out
    for s in data["segments"]:  # each row of the table holds the JSON's figures
        row = next(line for line in text.out.splitlines() if line.startswith(f"│ {s['segment']} "))
        cells = [c.strip() for c in row.strip("│").split("│")]
        assert cells[2:6] == ["" if s["old_size"] is None else str(s["old_size"]), "" if s["new_size"] is None else str(s["new_size"]), f"+{s['added']['count']}", f"-{s['removed']['count']}"]
        assert cells[1].startswith(s["change"]) and cells[6] == s["guards"]["status"]
    with open_session(Options(project), AS_OF).connect() as adapter:
        assert not adapter.table_exists("seg_koreans") and not adapter.table_exists("segsql_runs")


def test_a_var_change_marks_and_diffs_the_segment_that_uses_it(project: Path) -> None:
    data = _diff(project, "--vars", '{"min_age": 40}')
    (adults,) = data["segments"]
    assert adults["segment"] == "adults" and adults["parts"] == ["membership"]
    assert adults["removed"] == _side(_ids(lambda c, a: 30 <= a < 40)) and adults["added"]["count"] == 0
    assert adults["new_size"] == len(_ids(lambda c, a: a >= 40))


def test_a_change_that_breaks_a_guard_is_exit_1(project: Path) -> None:
    _edit(project, "where: {attribute: country, in: [KR, JP]}", "where: {attribute: country, in: [KR]}")
    data = _diff(project, code=1)
    (asia,) = data["segments"]
    assert data["status"] == "guard_failed" and asia["guards"]["status"] == "broken"
    assert "max_change_pct" in asia["guards"]["message"] and asia["removed"] == _side(_ids(lambda c, a: c == "JP"))
    text = run_cli("--project-dir", str(project), "diff", "--state", str(project / "base"), "--as-of", AS_OF)
    assert text.code == 1 and "would break its guards: asia" in text.err


@pytest.mark.parametrize("project", ["duckdb"], indirect=True)
def test_select_narrows_and_mistakes_are_exit_2(project: Path) -> None:
    _edit(project, "where: {attribute: country, equals: KR}", "where: {attribute: country, in: [KR, US]}")
    _edit(project, "where: {attribute: country, equals: JP}", "where: {attribute: country, in: [JP, GB]}")
    data = _diff(project, "--select", "japanese")
    assert [s["segment"] for s in data["segments"]] == ["japanese"]
    assert [s["segment"] for s in _diff(project, "--exclude", "japanese")["segments"]] == ["koreans"]
    base = ["--project-dir", str(project), "diff", "--as-of", AS_OF]
    missing = run_cli(*base, "--state", str(project / "nowhere"))
    assert missing.code == 2 and "no readable manifest.json" in missing.err and "--state at a target/ folder" in missing.err
    no_state = run_cli(*base, "--format", "json")
    assert no_state.code == 2 and "--state" in json.loads(no_state.out)["error"]["message"]
    (project / "base" / "manifest.json").write_text('{"metadata": {"schema_version": "other"}}', encoding="utf-8")
    foreign = run_cli(*base, "--state", str(project / "base"))
    assert foreign.code == 2 and "is not a segsql manifest" in foreign.err and "Traceback" not in foreign.output


@pytest.mark.parametrize("project", ["duckdb"], indirect=True)
def test_no_change_says_so(project: Path) -> None:
    assert _diff(project)["segments"] == []
    text = run_cli("--project-dir", str(project), "diff", "--state", str(project / "base"), "--as-of", AS_OF)
    assert text.code == 0 and "no segment, funnel or cluster model changed" in text.out


@pytest.mark.parametrize("project", ["duckdb"], indirect=True)
def test_a_sql_segment_file_is_rebuilt_from_the_manifest(project: Path) -> None:
    sql = project / "models" / "seniors.sql"
    sql.write_text("select external_id from main.users where age > 60\n", encoding="utf-8")
    assert run_cli("--project-dir", str(project), "compile", "--dialect", "duckdb").code == 0
    shutil.rmtree(project / "base")
    shutil.copytree(project / "target", project / "base")
    sql.write_text("select external_id from main.users where age > 55\n", encoding="utf-8")
    (seniors,) = _diff(project)["segments"]
    assert seniors["segment"] == "seniors" and seniors["change"] == "modified"
    assert seniors["added"] == _side(_ids(lambda c, a: 55 < a <= 60)) and seniors["removed"]["count"] == 0
