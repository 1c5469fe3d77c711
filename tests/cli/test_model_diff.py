"""SPEC 6 `diff --state DIR` of funnels and cluster models (issue 13): a segment whose own YAML
is unchanged but whose funnel or cluster model changed is diffed with the old model (rebuilt
from the old manifest) against the new one, and the changed model itself is reported — users
who enter, leave or move (furthest step, cluster), and its table's counts. Every expected id is
computed here from the seeded rows by hand (tests/cli/model_project.py); nothing is written."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from segsql.run.artifacts import schema
from segsql.run.session import Options, open_session
from tests.cli.model_project import AS_OF, IDS, N, edit, furthest, model_project, older
from tests.conftest import run_cli
from tests.run.test_seeds import _profile


@pytest.fixture(params=["duckdb", "fakesnow", "postgres"])
def project(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    with _profile(request.param, request) as (profile, schema_name):
        root = model_project(tmp_path / "shop", profile, schema_name)
        seeded = run_cli("--project-dir", str(root), "seed")
        assert seeded.code == 0, seeded.output
        compiled = run_cli("--project-dir", str(root), "compile")
        assert compiled.code == 0, compiled.output
        shutil.copytree(root / "target", root / "base")
        yield root


def _diff(root: Path, *args: str, code: int = 0) -> dict[str, Any]:
    result = run_cli("--project-dir", str(root), *args, "diff", "--state", str(root / "base"), "--as-of", AS_OF, "--format", "json")
    assert result.code == code, result.output
    data: dict[str, Any] = json.loads(result.out)
    jsonschema.validate(data, schema("diff"))
    return data


def _side(ids: list[str]) -> dict[str, Any]:
    return {"count": len(ids), "sample": sorted(ids)[:10]}


def _where(test: Any) -> list[str]:
    return [IDS[i] for i in range(N) if test(i)]


def test_a_funnel_step_change_diffs_the_segment_reading_it_and_the_funnel(project: Path) -> None:
    edit(project, "conversion_window: {days: {{ var('window_days') }}}", "conversion_window: {days: 1}")
    data = _diff(project)
    assert data["status"] == "ok" and data["clusters"] == []
    (carted,) = data["segments"]  # koreans and older read neither: unchanged
    assert carted["segment"] == "carted" and carted["change"] == "modified" and carted["parts"] == ["membership"]
    assert carted["added"] == _side([]) and carted["removed"] == _side(_where(lambda i: furthest(i, 7) >= 2 > furthest(i, 1)))
    assert (carted["old_size"], carted["new_size"]) == (len(_where(lambda i: furthest(i, 7) >= 2)), len(_where(lambda i: furthest(i, 1) >= 2)))
    (checkout,) = data["funnels"]
    assert checkout["funnel"] == "checkout" and checkout["parts"] == ["membership"]
    assert checkout["moved"] == _side(_where(lambda i: furthest(i, 7) != furthest(i, 1)))
    assert checkout["added"]["count"] == checkout["removed"]["count"] == 0, "who viewed does not depend on the window"
    assert checkout["old_size"] == checkout["new_size"] == len(_where(lambda i: furthest(i, 7) >= 1))
    assert checkout["steps"] == [
        {"step": k, "old_name": name, "new_name": name, "old_users": sum(furthest(i, 7) >= k for i in range(N)), "new_users": sum(furthest(i, 1) >= k for i in range(N))}
        for k, name in enumerate(["view", "cart", "pay"], 1)
    ]
    text = run_cli("--project-dir", str(project), "diff", "--state", str(project / "base"), "--as-of", AS_OF)
    assert text.code == 0, text.output
    moved = checkout["moved"]["sample"]
    assert f"checkout ~ {', '.join(moved)}" in text.out and f"carted - {', '.join(carted['removed']['sample'])}" in text.out
    cart_row = next(line for line in text.out.splitlines() if line.startswith("│ 2 ") and "cart" in line)
    assert [c.strip() for c in cart_row.strip("│").split("│")][2:] == [str(checkout["steps"][1]["old_users"]), str(checkout["steps"][1]["new_users"]), f"{checkout['steps'][1]['new_users'] - checkout['steps'][1]['old_users']:+d}"]
    with open_session(Options(project), AS_OF).connect() as adapter:
        tables = adapter.schema_tables()
    assert not any(t.startswith(("funnel_", "cluster_", "seg_", "segsql_", "__segsql")) for t in tables), "nothing is written"


def test_a_cluster_change_diffs_the_segment_reading_it_and_the_model(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEGSQL_TEST_MISSING", "100")
    data = _diff(project)
    (older_diff,) = data["segments"]
    assert older_diff["segment"] == "older" and older_diff["removed"] == _side([])
    assert older_diff["added"] == _side(_where(lambda i: older(i, 100) and not older(i, 0)))
    (ages,) = data["clusters"]
    assert ages["cluster"] == "ages" and ages["moved"] == older_diff["added"] and ages["old_size"] == ages["new_size"] == N
    sizes = {c["cluster"]: (c["old_users"], c["new_users"]) for c in ages["clusters"]}
    assert sizes == {
        1: (len(_where(lambda i: older(i, 0))), len(_where(lambda i: older(i, 100)))),
        2: (len(_where(lambda i: not older(i, 0))), len(_where(lambda i: not older(i, 100)))),
    }
    assert data["funnels"] == []


def test_a_removed_funnel_and_a_guard_the_change_breaks(project: Path) -> None:
    edit(project, "  - name: browse\n    description: read by no segment\n    steps: [{event: view}, {event: pay}]\n", "")
    edit(project, "  - name: carted\n", "  - name: carted\n    guards: {max_change_pct: 10}\n")
    edit(project, "conversion_window: {days: {{ var('window_days') }}}", "conversion_window: {days: 1}")
    data = _diff(project, code=1)
    assert data["status"] == "guard_failed"
    (carted,) = data["segments"]
    assert carted["guards"]["status"] == "broken" and carted["parts"] == ["membership", "metadata"]
    browse = next(f for f in data["funnels"] if f["funnel"] == "browse")
    viewed = _where(lambda i: furthest(i, 7) >= 1)
    assert browse["change"] == "removed" and browse["new_size"] is None and browse["old_size"] == len(viewed)
    assert browse["removed"] == _side(viewed) and [s["new_users"] for s in browse["steps"]] == [None, None]


def test_diff_selects_one_funnel_and_a_mistake_is_exit_2(project: Path) -> None:
    edit(project, "steps: [{event: view}, {event: pay}]", "steps: [{event: view}, {event: cart}]")
    edit(project, "conversion_window: {days: {{ var('window_days') }}}", "conversion_window: {days: 1}")
    data = _diff(project, "--vars", "{}")
    assert sorted(f["funnel"] for f in data["funnels"]) == ["browse", "checkout"]
    only = run_cli("--project-dir", str(project), "diff", "--state", str(project / "base"), "--as-of", AS_OF, "--select", "browse", "--format", "json")
    assert only.code == 0, only.output
    assert [f["funnel"] for f in json.loads(only.out)["funnels"]] == ["browse"] and json.loads(only.out)["segments"] == []
    wrong = run_cli("--project-dir", str(project), "diff", "--state", str(project / "base"), "--select", "brwose")
    assert wrong.code == 2 and "did you mean 'browse'?" in wrong.err
    missing = run_cli("--project-dir", str(project), "diff", "--state", str(project / "nowhere"))
    assert missing.code == 2 and "no readable manifest.json" in missing.err


@pytest.mark.parametrize("project", ["duckdb"], indirect=True)
def test_a_manifest_without_funnels_and_clusters_reports_them_new(project: Path) -> None:
    path = project / "base" / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    del manifest["funnels"], manifest["clusters"]  # as written before they were in it
    path.write_text(json.dumps(manifest), encoding="utf-8")
    data = _diff(project)
    assert data["segments"] == [], "its segments are rebuilt over today's funnel and cluster model"
    assert sorted(f["funnel"] for f in data["funnels"]) == ["browse", "checkout"] and [c["cluster"] for c in data["clusters"]] == ["ages"]
    checkout = next(f for f in data["funnels"] if f["funnel"] == "checkout")
    assert checkout["change"] == "new" and checkout["old_size"] is None and checkout["removed"]["count"] == 0
    assert checkout["added"] == _side(_where(lambda i: furthest(i, 7) >= 1)) and checkout["steps"][0]["old_users"] is None
