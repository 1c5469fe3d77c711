"""SPEC 6 artifacts: every command that reads the project writes target/manifest.json; both
artifacts carry metadata.schema_version and validate against the JSON Schemas that ship
in the package; a dry run marks its results."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import jsonschema
import pytest

from segsql.engines.duckdb import DuckDBAdapter
from segsql.run.artifacts import schema
from tests.conftest import run_cli, validate_artifact, write_project

SOURCES = "users:\n  table: main.users\n  id: external_id\n  attributes: {country: string}\n"
SEGMENTS = """
segments:
  - name: koreans
    tags: [kr]
    where: {attribute: country, equals: KR}
  - name: kr_sql
    sql: select external_id from {{ source('users') }} where country = 'KR'
"""
AS_OF = "2026-06-01T00:00:00Z"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = write_project(tmp_path / "p", {"models/sources.yml": SOURCES, "models/segments.yml": SEGMENTS})
    with DuckDBAdapter(str(root / "test.duckdb")) as adapter:
        adapter.load_rows("users", [("external_id", "VARCHAR"), ("country", "VARCHAR")], [("u1", "KR"), ("u2", "JP"), ("u3", "KR")])
    return root


def _manifest(root: Path) -> dict:
    return json.loads((root / "target" / "manifest.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "command",
    [["ls"], ["compile", "--dialect", "duckdb"], ["run", "--as-of", AS_OF], ["run", "--dry-run", "--as-of", AS_OF], ["show", "koreans", "--as-of", AS_OF], ["history", "koreans"], ["seed", "--demo", "--users", "20"]],
)
def test_every_command_that_reads_the_project_writes_the_manifest(project: Path, command: list[str]) -> None:
    result = run_cli("--project-dir", str(project), *command)
    assert result.code == 0, result.output
    manifest = _manifest(project)
    assert manifest["metadata"]["schema_version"] == "segsql.manifest.v1"
    assert manifest["metadata"]["command"] == command[0]
    assert set(manifest["segments"]) == {"koreans", "kr_sql"}
    validate_artifact(project / "target" / "manifest.json", "manifest")


def test_state_target_after_a_run_selects_nothing_unchanged(project: Path) -> None:
    assert run_cli("--project-dir", str(project), "run", "--as-of", AS_OF).code == 0
    listing = run_cli("--project-dir", str(project), "ls", "--select", "state:modified", "--state", str(project / "target"), "--format", "json")
    assert listing.code == 0, listing.output
    assert json.loads(listing.out) == []
    (project / "models" / "segments.yml").write_text(SEGMENTS.replace("equals: KR", "equals: JP"), encoding="utf-8")
    rerun = run_cli("--project-dir", str(project), "run", "--as-of", AS_OF, "--select", "state:modified", "--state", str(project / "target"), "--format", "json")
    assert rerun.code == 0, rerun.output
    assert [r["name"] for r in json.loads(rerun.out)["results"]] == ["koreans"]


def test_run_results_carry_schema_version_and_a_dry_run_is_marked(project: Path) -> None:
    assert run_cli("--project-dir", str(project), "run", "--dry-run", "--as-of", AS_OF).code == 0
    dry = json.loads((project / "target" / "run_results.json").read_text(encoding="utf-8"))
    assert dry["metadata"]["schema_version"] == "segsql.run_results.v1"
    assert dry["metadata"]["dry_run"] is True and dry["dry_run"] is True
    assert dry["results"] and all(r["dry_run"] is True and r["kind"] == "segment" for r in dry["results"])
    assert run_cli("--project-dir", str(project), "run", "--as-of", AS_OF).code == 0
    real = json.loads((project / "target" / "run_results.json").read_text(encoding="utf-8"))
    assert real["metadata"]["dry_run"] is False and all(r["dry_run"] is False for r in real["results"])
    assert {r["name"]: r["size"] for r in real["results"]} == {"koreans": 2, "kr_sql": 2}


def test_the_manifest_carries_what_rebuilds_each_definition(project: Path) -> None:
    assert run_cli("--project-dir", str(project), "ls").code == 0
    manifest = _manifest(project)
    assert manifest["segments"]["koreans"]["definition"] == {"name": "koreans", "tags": ["kr"], "where": {"attribute": "country", "equals": "KR"}}
    assert manifest["segments"]["kr_sql"]["sql"] == {"text": "select external_id from main.users where country = 'KR'", "dialect": None}
    assert manifest["sources"]["users"]["table"] == "main.users"
    assert manifest["settings"]["timezone"] == "UTC"


def test_the_schemas_ship_as_package_data_and_reject_a_broken_artifact(project: Path) -> None:
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text(encoding="utf-8"))
    assert "schemas/*.json" in pyproject["tool"]["setuptools"]["package-data"]["segsql"]
    for kind in ("manifest", "run_results"):
        jsonschema.Draft202012Validator.check_schema(schema(kind))
    assert run_cli("--project-dir", str(project), "run", "--as-of", AS_OF).code == 0
    manifest = _manifest(project)
    manifest["segments"]["koreans"]["membership_hash"] = "not a hash"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(manifest, schema("manifest"))
    results = json.loads((project / "target" / "run_results.json").read_text(encoding="utf-8"))
    del results["metadata"]["schema_version"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(results, schema("run_results"))
