"""`segsql cohort NAME` through the real entry point: the triangle as text and JSON (equal to the
pandas reference), heat maps written as PNG, SVG and HTML, and usage mistakes (exit 2)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path

import pytest

from segsql.engines.duckdb import DuckDBAdapter
from tests import cohort_harness as H
from tests.conftest import run_cli
from tests.run.test_cohorts_run import AS_OF, COHORTS, TABLES, TZ


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = H.project(tmp_path / "p", COHORTS, TZ)
    (root / "profiles.yml").write_text(f"segsql:\n  target: dev\n  outputs:\n    dev: {{type: duckdb, path: '{root / 'db.duckdb'}', schema: main}}\n")
    adapter = DuckDBAdapter(str(root / "db.duckdb"), "main")
    H.load(adapter, TABLES)
    adapter.close()
    return root


def test_json_is_the_reference_triangle_and_text_shows_it(project: Path) -> None:
    done = run_cli("--project-dir", str(project), "cohort", "monthly", "--as-of", AS_OF, "--format", "json")
    assert done.code == 0, done.output
    report = json.loads(done.out)
    want = H.on_reference(COHORTS, TABLES, datetime.fromisoformat(AS_OF), TZ)["monthly"]
    assert [(r["cohort_start"], r["breakdown"], r["period"], r["cohort_size"], r["returned"]) for r in report["rows"]] == [
        (str(w["cohort_start"]), w["breakdown"], w["period"], w["cohort_size"], w["returned"]) for w in want
    ]
    assert (report["period"], report["periods"], report["breakdown"]) == ("month", 3, "country")
    text = run_cli("--project-dir", str(project), "cohort", "monthly", "--as-of", AS_OF)
    assert text.code == 0 and "2026-08-01 · KR" in text.out and "100.0%" in text.out, text.output


@pytest.mark.parametrize("suffix", [".png", ".svg", ".html"])
def test_the_heat_map_is_written(project: Path, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"triangle{suffix}"
    done = run_cli("--project-dir", str(project), "cohort", "weekly", "--as-of", AS_OF, "--chart", str(path))
    assert done.code == 0, done.output
    if suffix == ".png":
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    elif suffix == ".svg":
        root = ET.fromstring(path.read_text())
        assert root.tag.endswith("svg")
        assert "retention by week" in path.read_text()
    else:
        assert "<script" in path.read_text() and "http://" not in path.read_text().split("<script", 1)[0]


def test_usage_mistakes_exit_2(project: Path, tmp_path: Path) -> None:
    unknown = run_cli("--project-dir", str(project), "cohort", "montly")
    assert unknown.code == 2 and "did you mean 'monthly'?" in unknown.output
    bad = run_cli("--project-dir", str(project), "cohort", "monthly", "--chart", str(tmp_path / "x.gif"))
    assert bad.code == 2 and "unknown file type" in bad.output
