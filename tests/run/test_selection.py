"""SPEC 6 selection: dbt's grammar (@, depth limits, comma intersection) and state:modified
judged on hashes of the rendered definition (vars and env vars in, line numbers and as_of out)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import run_cli, write_project

SOURCES = "users:\n  table: main.users\n  id: external_id\n  attributes: {country: string, age: number}\n"
# a <- b <- c (c reads b, b reads a); d <- e; x alone
SEGMENTS = """
segments:
  - name: a
    tags: [email, loyalty]
    where: {attribute: age, gte: 18}
  - name: b
    tags: [email]
    where: {all: [{segment: a}, {attribute: country, equals: KR}]}
  - name: c
    tags: [loyalty]
    where: {segment: b}
  - name: d
    tags: [email, loyalty]
    where: {attribute: country, equals: "{{ var('home', 'JP') }}"}
  - name: e
    where: {segment: d}
  - name: x
    where: {attribute: age, lt: {{ var('young', 30) }}}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "p", {"models/sources.yml": SOURCES, "models/segments.yml": SEGMENTS})


def _names(root: Path, *args: str) -> list[str]:
    result = run_cli("--project-dir", str(root), "ls", "--format", "json", *args)
    assert result.code == 0, result.output
    return [r["name"] for r in json.loads(result.out)]


@pytest.mark.parametrize(
    ("selectors", "expected"),
    [
        (["c"], ["c"]),
        (["+c"], ["a", "b", "c"]),
        (["1+c"], ["b", "c"]),
        (["a+"], ["a", "b", "c"]),
        (["a+1"], ["a", "b"]),
        (["@b"], ["a", "b", "c"]),
        (["@d"], ["d", "e"]),
        (["tag:email,tag:loyalty"], ["a", "d"]),
        (["tag:email,tag:loyalty", "x"], ["a", "d", "x"]),
        (["tag:email tag:loyalty"], ["a", "b", "c", "d"]),
        (["tag:loyalty,a+"], ["a", "c"]),
        (["?"], ["a", "b", "c", "d", "e", "x"]),
        (["[ab]"], ["a", "b"]),
    ],
)
def test_selector_grammar(project: Path, selectors: list[str], expected: list[str]) -> None:
    args = [arg for s in selectors for arg in ("--select", s)]
    assert _names(project, *args) == expected


def test_exclude_uses_the_same_grammar(project: Path) -> None:
    assert _names(project, "--exclude", "@b") == ["d", "e", "x"]
    assert _names(project, "--select", "tag:email", "--exclude", "tag:email,tag:loyalty") == ["b"]


@pytest.mark.parametrize(
    ("selector", "message"),
    [("@+a", "malformed selector"), ("a,", "malformed selector"), ("nope", "no segment named 'nope'"), ("q:1", "unknown selector method 'q'"), ("state:gone", "unknown state selector")],
)
def test_bad_selectors_are_usage_errors(project: Path, selector: str, message: str) -> None:
    result = run_cli("--project-dir", str(project), "ls", "--select", selector)
    assert result.code == 2 and message in result.err and "Traceback" not in result.output


def _snapshot(root: Path, tmp_path: Path, *args: str) -> Path:
    assert run_cli("--project-dir", str(root), *args, "ls").code == 0
    state = tmp_path / "state"
    shutil.rmtree(state, ignore_errors=True)
    shutil.copytree(root / "target", state)
    return state


def test_state_modified_sees_vars_and_env_vars_a_definition_renders(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = _snapshot(project, tmp_path)
    assert _names(project, "--select", "state:modified", "--state", str(state)) == []
    assert _names(project, "--select", "state:modified", "--state", str(state)) == [], "the manifest just written does not replace the state read"
    # --vars that change one definition mark only that one (dbt-core#4304: dbt misses vars)
    result = run_cli("--project-dir", str(project), "--vars", '{"young": 25}', "ls", "--format", "json", "--select", "state:modified", "--state", str(state))
    assert [r["name"] for r in json.loads(result.out)] == ["x"]
    result = run_cli("--project-dir", str(project), "--vars", '{"home": "KR"}', "ls", "--format", "json", "--select", "state:modified+", "--state", str(state))
    assert [r["name"] for r in json.loads(result.out)] == ["d", "e"]
    # an env var read through a macro-free Jinja expression counts the same way
    (project / "models" / "env.yml").write_text("segments:\n  - name: f\n    where: {attribute: country, equals: \"{{ env_var('SEGSQL_TEST_HOME', 'KR') }}\"}\n", encoding="utf-8")
    state = _snapshot(project, tmp_path)
    monkeypatch.setenv("SEGSQL_TEST_HOME", "JP")
    assert _names(project, "--select", "state:modified", "--state", str(state)) == ["f"]


def test_state_modified_ignores_line_numbers_as_of_and_comments(project: Path, tmp_path: Path) -> None:
    state = _snapshot(project, tmp_path, "--vars", "{}")
    path = project / "models" / "segments.yml"
    path.write_text("# a comment that moves every line down\n\n" + path.read_text(), encoding="utf-8")
    assert run_cli("--project-dir", str(project), "compile", "--dialect", "duckdb", "--as-of", "2030-01-01T00:00:00Z").code == 0
    result = run_cli("--project-dir", str(project), "compile", "--dialect", "duckdb", "--as-of", "2031-05-05T00:00:00Z", "--select", "state:modified", "--state", str(state), "--format", "json")
    assert result.code == 0 and json.loads(result.out)["files"] == []


def test_state_modified_body_ignores_descriptions_and_state_new(project: Path, tmp_path: Path) -> None:
    state = _snapshot(project, tmp_path)
    path = project / "models" / "segments.yml"
    path.write_text(path.read_text().replace("  - name: c\n", "  - name: c\n    description: now described\n") + "  - name: g\n    where: {attribute: age, gt: 60}\n", encoding="utf-8")
    assert _names(project, "--select", "state:modified", "--state", str(state)) == ["c", "g"]
    assert _names(project, "--select", "state:modified.body", "--state", str(state)) == ["g"]
    assert _names(project, "--select", "state:new", "--state", str(state)) == ["g"]


def test_a_sources_change_marks_the_segments_that_read_it(project: Path, tmp_path: Path) -> None:
    state = _snapshot(project, tmp_path)
    sources = project / "models" / "sources.yml"
    sources.write_text(sources.read_text().replace("country: string", "country: {column: country_code, type: string}"), encoding="utf-8")
    assert _names(project, "--select", "state:modified", "--state", str(state)) == ["b", "d"]


def test_state_needs_a_segsql_manifest(project: Path, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = run_cli("--project-dir", str(project), "ls", "--select", "state:modified", "--state", str(tmp_path / "empty"))
    assert result.code == 2 and "no readable manifest.json" in result.err
    (tmp_path / "empty" / "manifest.json").write_text('{"metadata": {"dbt_schema_version": "x"}, "nodes": {}}', encoding="utf-8")
    result = run_cli("--project-dir", str(project), "ls", "--select", "state:modified", "--state", str(tmp_path / "empty"))
    assert result.code == 2 and "is not a segsql manifest" in result.err
    result = run_cli("--project-dir", str(project), "ls", "--select", "state:modified")
    assert result.code == 2 and "needs --state" in result.err


def test_state_modified_sees_a_channel_and_its_consent_filter(tmp_path: Path) -> None:
    """CDI reads the consent filters of segsql_project.yml: editing one modifies exactly the segments listing it."""
    project_yml = "name: p\nconsent:\n  email: {attribute: country, equals: KR}\n  push: {attribute: age, gte: 13}\n"
    segments = (
        "segments:\n  - name: mailed\n    channels: [email]\n    where: {attribute: age, gte: 18}\n"
        "  - name: pushed\n    channels: [push]\n    where: {attribute: age, gte: 18}\n"
        "  - name: plain\n    where: {attribute: age, gte: 18}\n"
    )
    root = write_project(tmp_path / "p", {"models/sources.yml": SOURCES, "models/segments.yml": segments, "segsql_project.yml": project_yml})
    state = _snapshot(root, tmp_path)
    assert _names(root, "--select", "state:modified", "--state", str(state)) == []
    (root / "segsql_project.yml").write_text(project_yml.replace("equals: KR", "equals: JP"), encoding="utf-8")
    assert _names(root, "--select", "state:modified", "--state", str(state)) == ["mailed"]
    assert _names(root, "--select", "state:modified.body", "--state", str(state)) == [], "membership itself does not change"
    (root / "models" / "segments.yml").write_text(segments.replace("channels: [push]", "channels: [email, push]"), encoding="utf-8")
    assert _names(root, "--select", "state:modified", "--state", str(state)) == ["mailed", "pushed"]
