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
    # A year later the story has ended: nobody was active in the last 7 days.
    assert _sizes(root, "--as-of", "2032-03-15T08:00:00Z")["recently_active_7d"] == 0
