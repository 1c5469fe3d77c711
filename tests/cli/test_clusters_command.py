"""`segsql clusters NAME` and the run's cluster report through the real entry point: centroids
checked by hand (original and scaled units), text and JSON saying the same, the centroid
heat map as PNG, SVG and offline HTML, and the mistakes (an unknown name, a model never run)."""

from __future__ import annotations

import json
import math
import re
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from segsql.engines.duckdb import DuckDBAdapter
from tests.browser import browser_page
from tests.conftest import CliResult, run_cli, write_project

AS_OF = "2026-11-22T12:00:00Z"
#: two groups a person sees at a glance: x near 1 or near 11, y 0 or 5
USERS = [("u1", 0.0, 0.0), ("u2", 1.0, 0.0), ("u3", 2.0, 0.0), ("u4", 10.0, 5.0), ("u5", 11.0, 5.0), ("u6", 12.0, 5.0)]
FILES = {
    "segsql_project.yml": "name: c\n",
    "models/sources.yml": """
        users: {table: main.users, id: external_id, attributes: {x: number, y: number}}
        purchases: {table: main.purchases, user: external_id, time: purchased_at, product: product_id, price: price}
    """,
    "models/clusters.yml": """
        clusters:
          - name: groups
            k: 2
            features:
              x: {attribute: x}
              y: {attribute: y}
            order_by: x
            labels: [high, low]
          - name: idle
            k: 2
            features: {x: {attribute: x}}
            order_by: x
    """,
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = write_project(tmp_path / "p", FILES)
    with DuckDBAdapter(str(root / "test.duckdb"), "main") as adapter:
        adapter.load_rows("users", [("external_id", "VARCHAR"), ("x", "DOUBLE"), ("y", "DOUBLE")], USERS)
        adapter.load_rows("purchases", [("external_id", "VARCHAR"), ("purchased_at", "TIMESTAMP"), ("product_id", "VARCHAR"), ("price", "DOUBLE")], [])
    return root


def _cli(root: Path, *args: str) -> CliResult:
    return run_cli("--project-dir", str(root), *args)


@pytest.fixture
def ran(project: Path) -> Path:
    done = _cli(project, "run", "--as-of", AS_OF, "--select", "groups")
    assert done.code == 0, done.output
    return project


def test_the_run_reports_iterations_and_convergence(project: Path) -> None:
    done = _cli(project, "run", "--as-of", AS_OF, "--select", "groups")
    assert done.code == 0, done.output
    result = next(r for r in json.loads((project / "target" / "run_results.json").read_text())["results"] if r["name"] == "groups")
    # the first assignment already splits the groups, the second repeats it: 2 iterations
    assert (result["kind"], result["size"], result["clusters"], result["iterations"], result["converged"]) == ("cluster", 6, 2, 2, True)
    assert "groups: 2 clusters of 6 users, 2 iterations, converged" in done.output
    as_json = _cli(project, "run", "--as-of", AS_OF, "--select", "groups", "--format", "json")
    assert as_json.code == 0
    assert next(r for r in json.loads(as_json.out)["results"] if r["name"] == "groups")["iterations"] == 2


def test_max_iterations_reached_is_reported_as_not_converged(project: Path) -> None:
    text = (project / "models" / "clusters.yml").read_text().replace("labels: [high, low]", "labels: [high, low]\n    max_iterations: 1")
    (project / "models" / "clusters.yml").write_text(text)
    done = _cli(project, "run", "--as-of", AS_OF, "--select", "groups")
    assert done.code == 0, done.output
    assert "groups: 2 clusters of 6 users, 1 iteration, stopped at max_iterations" in done.output
    result = next(r for r in json.loads((project / "target" / "run_results.json").read_text())["results"] if r["name"] == "groups")
    assert (result["iterations"], result["converged"]) == (1, False)


def test_json_holds_the_centroids_computed_by_hand(ran: Path) -> None:
    done = _cli(ran, "clusters", "groups", "--format", "json")
    assert done.code == 0, done.output
    report = json.loads(done.out)
    assert (report["cluster_model"], report["as_of"], report["iterations"], report["converged"], report["scale"]) == ("groups", AS_OF, 2, True, "standard")
    assert report["features"] == ["x", "y"] and report["users"] == 6 and not report["definition_changed_since"]
    high, low = report["clusters"]
    assert (high["cluster"], high["label"], high["size"], high["share"]) == (1, "high", 3, 0.5)
    assert (low["cluster"], low["label"], low["size"]) == (2, "low", 3)
    assert high["means"] == {"x": 11.0, "y": 5.0} and low["means"] == {"x": 1.0, "y": 0.0}
    sd_x = math.sqrt(sum((x - 6.0) ** 2 for _, x, _ in USERS) / 6)  # population sd, as `scale: standard` asks
    assert high["scaled"]["x"] == pytest.approx(5.0 / sd_x, abs=1e-12) and low["scaled"]["x"] == pytest.approx(-5.0 / sd_x, abs=1e-12)
    assert high["scaled"]["y"] == pytest.approx(1.0, abs=1e-12) and low["scaled"]["y"] == pytest.approx(-1.0, abs=1e-12)


def _row(text: str, label: str, heading: str) -> list[str]:
    """The cells of `label`'s row in the table printed under `heading`."""
    section = text.split(heading, 1)[1]
    line = next(line for line in section.splitlines() if f" {label} " in line)
    return [cell.strip() for cell in re.split(r"[│|]", line) if cell.strip()]


def test_text_says_what_json_says(ran: Path) -> None:
    report = json.loads(_cli(ran, "clusters", "groups", "--format", "json").out)
    text = _cli(ran, "clusters", "groups")
    assert text.code == 0, text.output
    assert f"groups: 2 clusters of 6 users at {AS_OF} (run {report['run_id']}, 2 iterations, converged)" in text.out
    for c in report["clusters"]:
        head = [str(c["cluster"]), c["label"], f"{c['size']:,}", f"{c['share']:.1%}"]
        assert _row(text.out, c["label"], "original units") == head + [f"{c['means'][f]:,.2f}" for f in report["features"]]
        assert _row(text.out, c["label"], "scaled units (standard)") == head + [f"{c['scaled'][f]:,.2f}" for f in report["features"]]


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_the_centroid_chart_is_written(ran: Path, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"centroids{suffix}"
    done = _cli(ran, "clusters", "groups", "--chart", str(path), "--format", "json")
    assert done.code == 0, done.output
    assert json.loads(done.out)["chart"] == str(path)
    if suffix == ".png":
        width, height = _png_size(path.read_bytes())
        assert width >= 400 and height >= 200
    else:
        svg = path.read_text()
        assert ET.fromstring(svg).tag.endswith("svg")
        assert "groups: centroids" in svg and "1 high (3)" in svg and "11.00" in svg


def test_the_html_chart_opens_offline(ran: Path, tmp_path: Path) -> None:
    path = tmp_path / "centroids.html"
    assert _cli(ran, "clusters", "groups", "--chart", str(path)).code == 0
    requests: list[str] = []
    with browser_page(requests) as page:
        page.goto(path.as_uri())
        page.wait_for_selector("#chart svg.marks text", timeout=15000)
        labels = page.eval_on_selector_all("#chart svg text", "els => els.map(e => e.textContent)")
    assert {"1 high (3)", "2 low (3)", "x", "y", "11.00", "0.00"} <= set(labels)
    assert all(u.startswith(("file:", "data:", "blob:", "about:")) for u in requests), requests


def test_mistakes(ran: Path, tmp_path: Path) -> None:
    unknown = _cli(ran, "clusters", "grups")
    assert unknown.code == 2 and "no cluster model named 'grups' — did you mean 'groups'?" in unknown.output
    never = _cli(ran, "clusters", "idle", "--format", "json")
    assert never.code == 1 and "has not been run on target dev yet: run `segsql run --select idle` first" in never.output
    assert json.loads(never.out)["error"]["file"] == "models/clusters.yml"
    bad = _cli(ran, "clusters", "groups", "--chart", str(tmp_path / "c.gif"))
    assert bad.code == 2 and "unknown file type" in bad.output


def test_a_changed_definition_is_noted(ran: Path) -> None:
    path = ran / "models" / "clusters.yml"
    path.write_text(path.read_text().replace("k: 2\n    features:\n      x", "k: 2\n    scale: minmax\n    features:\n      x", 1))
    done = _cli(ran, "clusters", "groups")
    assert done.code == 0 and "groups's definition changed since that run" in done.output
    assert json.loads(_cli(ran, "clusters", "groups", "--format", "json").out)["definition_changed_since"]
