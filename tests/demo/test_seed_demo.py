"""SPEC 6: `seed --demo` dates its story at `--as-of` (default now), so a `run` right after it
(with no `--as-of` either) finds every demo segment non-empty."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import run_cli, write_project

REPO = Path(__file__).resolve().parents[2]


def _demo_project(root: Path) -> Path:
    shutil.copytree(REPO / "models", root / "models")
    shutil.copy(REPO / "segsql_project.yml", root / "segsql_project.yml")
    return write_project(root, {})


def _sizes(root: Path, *as_of: str) -> dict[str, int]:
    result = run_cli("--project-dir", str(root), "run", *as_of, "--format", "json")
    assert result.code == 0, result.output
    return {r["name"]: r["size"] for r in json.loads(result.out)["results"]}


def test_seed_then_run_now_leaves_no_demo_segment_empty(tmp_path: Path) -> None:
    root = _demo_project(tmp_path / "shop")
    seeded = run_cli("--project-dir", str(root), "seed", "--demo", "--users", "1500")
    assert seeded.code == 0, seeded.output
    sizes = _sizes(root)
    assert len(sizes) >= 12 and all(sizes.values()), {n: s for n, s in sizes.items() if not s}


def test_seed_as_of_dates_the_story_at_that_instant(tmp_path: Path) -> None:
    root = _demo_project(tmp_path / "shop")
    as_of = "2031-03-15T08:00:00Z"
    assert run_cli("--project-dir", str(root), "seed", "--demo", "--users", "1500", "--as-of", as_of).code == 0
    sizes = _sizes(root, "--as-of", as_of)
    assert all(sizes.values()), {n: s for n, s in sizes.items() if not s}
    # A year later the story has ended: nobody was active in the last 7 days (and the churn
    # scores are stale, so only this segment is run: a stale score fails the segments using it).
    assert _sizes(root, "--as-of", "2032-03-15T08:00:00Z", "--select", "recently_active_7d")["recently_active_7d"] == 0


def test_a_run_after_the_churn_scores_aged_fails_only_the_segment_using_them(tmp_path: Path) -> None:
    root = _demo_project(tmp_path / "shop")
    assert run_cli("--project-dir", str(root), "seed", "--demo", "--users", "1500", "--as-of", "2031-03-15T08:00:00Z").code == 0
    late = run_cli("--project-dir", str(root), "run", "--as-of", "2031-03-17T08:00:00Z", "--format", "json")
    assert late.code == 1, late.output
    failed = {r["name"] for r in json.loads(late.out)["results"] if r["status"] != "success"}
    assert failed == {"churn_risk_buyers"}
    assert "main.churn_scores" in next(r["message"] for r in json.loads(late.out)["results"] if r["name"] == "churn_risk_buyers")
