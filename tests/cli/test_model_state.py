"""Funnels and cluster models in target/manifest.json, judged by `state:modified`, and run by
`build` / `run` / `test` when selected or when no segment reads them (issues 12 and 13).

The manifest carries each funnel's and cluster's tables, hashes and rendered YAML; a hash
moves with a step, a var or an env var the definition uses, and not with a description
(`state:modified.body`) or a line moved down its file; `state:modified+` adds the segments
reading the model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from segsql.run.artifacts import schema
from segsql.run.session import Options, open_session
from tests.cli.model_project import AS_OF, edit, model_project
from tests.conftest import run_cli


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = model_project(tmp_path / "shop")
    seeded = run_cli("--project-dir", str(root), "seed")
    assert seeded.code == 0, seeded.output
    compiled = run_cli("--project-dir", str(root), "compile")
    assert compiled.code == 0, compiled.output
    shutil.copytree(root / "target", root / "base")
    return root


def _selected(root: Path, selector: str, *extra: str) -> list[str]:
    """The models a dry run selects with `selector` against the base state (every kind)."""
    result = run_cli("--project-dir", str(root), *extra, "run", "--dry-run", "--as-of", AS_OF, "--select", selector, "--state", str(root / "base"), "--format", "json")
    assert result.code == 0, result.output
    return sorted(r["name"] for r in json.loads(result.out)["results"])


def test_the_manifest_carries_funnels_and_clusters_and_validates(project: Path) -> None:
    manifest = json.loads((project / "base" / "manifest.json").read_text(encoding="utf-8"))
    jsonschema.validate(manifest, schema("manifest"))
    checkout, browse, ages = manifest["funnels"]["checkout"], manifest["funnels"]["browse"], manifest["clusters"]["ages"]
    assert checkout["tables"] == ["funnel_checkout", "funnel_checkout_users"] and checkout["table"] == "funnel_checkout"
    assert checkout["definition"]["conversion_window"] == {"days": 7}, "the YAML as rendered: the var's value is in it"
    lines = (project / "models" / "models.yml").read_text(encoding="utf-8").splitlines()
    assert checkout["path"] == "models/models.yml" and lines[checkout["line"] - 1] == "  - name: checkout"
    assert checkout["description"] == "viewed, carted, paid"
    assert browse["depends_on"] == [] and browse["description"] == "read by no segment"
    assert ages["tables"] == ["cluster_ages", "cluster_ages_centroids"] and ages["definition"]["missing"] == 0
    assert checkout["membership_hash"] != browse["membership_hash"]
    assert manifest["settings"]["funnel_prefix"] == "funnel_"
    broken = json.loads(json.dumps(manifest))
    del broken["funnels"]["checkout"]["definition"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema("manifest"))


def test_an_unchanged_project_selects_no_funnel_or_cluster(project: Path) -> None:
    assert _selected(project, "state:modified") == []
    edit(project, "\nfunnels:\n", "\n# a comment and blank lines move every funnel down\n\n\nfunnels:\n")
    assert _selected(project, "state:modified") == []


def test_an_edited_funnel_step_selects_the_funnel_and_the_segments_reading_it(project: Path) -> None:
    edit(project, "      - {event: pay}\n", "      - {event: pay, name: Paid}\n")
    assert _selected(project, "state:modified") == ["carted", "checkout"]
    assert _selected(project, "state:modified+") == ["carted", "checkout"]
    edit(project, "steps: [{event: view}, {event: pay}]", "steps: [{event: view}, {event: cart}]")
    assert _selected(project, "state:modified") == ["browse", "carted", "checkout"], "browse is read by nothing: only itself"


def test_a_description_is_metadata_only(project: Path) -> None:
    edit(project, "description: viewed, carted, paid", "description: the checkout funnel")
    assert _selected(project, "state:modified") == ["checkout"]
    assert _selected(project, "state:modified.body") == [], "who is at which step did not change"


def test_an_edited_cluster_selects_it_and_the_segment_reading_it(project: Path) -> None:
    edit(project, "    k: 2\n", "    k: 3\n")
    assert _selected(project, "state:modified") == ["ages", "older"]
    assert _selected(project, "state:modified.body") == ["ages", "older"]


def test_vars_and_env_vars_a_model_uses_are_in_its_hash(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _selected(project, "state:modified", "--vars", '{"window_days": 7}') == []
    assert _selected(project, "state:modified", "--vars", '{"window_days": 14}') == ["carted", "checkout"]
    monkeypatch.setenv("SEGSQL_TEST_MISSING", "100")
    assert _selected(project, "state:modified") == ["ages", "older"]


def _tables(root: Path) -> set[str]:
    with open_session(Options(root), AS_OF).connect() as adapter:
        return {t for t in adapter.schema_tables() if t.startswith(("funnel_", "cluster_", "seg_"))}


def test_build_and_run_materialize_a_funnel_no_segment_reads(project: Path) -> None:
    built = run_cli("--project-dir", str(project), "build", "--as-of", AS_OF, "--format", "json")
    assert built.code == 0, built.output
    assert {r["name"]: r["kind"] for r in json.loads(built.out)["results"]} == {
        "carted": "segment", "older": "segment", "koreans": "segment", "checkout": "funnel", "browse": "funnel", "ages": "cluster",
    }
    assert {"funnel_browse", "funnel_browse_users", "funnel_checkout", "cluster_ages", "cluster_ages_centroids"} <= _tables(project)


@pytest.mark.parametrize("command", ["run", "build"])
def test_selecting_a_funnel_or_cluster_by_name_runs_only_it(project: Path, command: str) -> None:
    result = run_cli("--project-dir", str(project), command, "--as-of", AS_OF, "--select", "browse ages", "--format", "json")
    assert result.code == 0, result.output
    assert sorted(r["name"] for r in json.loads(result.out)["results"]) == ["ages", "browse"]
    assert _tables(project) == {"funnel_browse", "funnel_browse_users", "cluster_ages", "cluster_ages_centroids"}


def test_test_selects_a_funnel_by_name_and_rejects_an_unknown_model(project: Path) -> None:
    ok = run_cli("--project-dir", str(project), "test", "--select", "browse", "--format", "json")
    assert ok.code == 0, ok.output
    assert json.loads(ok.out)["tests"] == []
    wrong = run_cli("--project-dir", str(project), "test", "--select", "brwose")
    assert wrong.code == 2 and "no model named 'brwose' — did you mean 'browse'?" in wrong.err
