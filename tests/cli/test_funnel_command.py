"""`segsql funnel NAME [--trends] [--chart F] [--format json]` through the real entry point."""

from __future__ import annotations

import json
import struct
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from segsql.engines.duckdb import DuckDBAdapter
from tests.conftest import run_cli, write_project

AS_OF = "2026-11-22T12:00:00Z"
T0 = datetime(2026, 11, 20, 10, 0)
FUNNELS = """
funnels:
  - name: checkout
    steps:
      - {event: view, name: Viewed}
      - {event: cart}
      - {purchase: any, name: Bought}
    breakdown: country
    trends: {period: day}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = write_project(tmp_path / "p", {
        "models/sources.yml": "users: {table: main.users, id: external_id, attributes: {country: string}}\n"
        "events: {table: main.events, user: external_id, name: event_name, time: occurred_at}\n"
        "purchases: {table: main.purchases, user: external_id, time: purchased_at, product: product_id, price: price}\n",
        "models/f.yml": FUNNELS,
    })
    with DuckDBAdapter(str(root / "test.duckdb"), "main") as adapter:
        adapter.load_rows("users", [("external_id", "VARCHAR"), ("country", "VARCHAR")], [("u1", "KR"), ("u2", "KR"), ("u3", "JP")])
        events = [("u1", "view", T0), ("u1", "cart", T0 + timedelta(minutes=2)), ("u2", "view", T0), ("u2", "cart", T0 + timedelta(minutes=4)), ("u3", "view", T0 + timedelta(days=1))]
        adapter.load_rows("events", [("external_id", "VARCHAR"), ("event_name", "VARCHAR"), ("occurred_at", "TIMESTAMP")], events)
        adapter.load_rows("purchases", [("external_id", "VARCHAR"), ("purchased_at", "TIMESTAMP"), ("product_id", "VARCHAR"), ("price", "DOUBLE")], [("u1", T0 + timedelta(hours=1), "p1", 5.0)])
    return root


def test_funnel_prints_the_step_table_as_json(project: Path) -> None:
    result = run_cli("--project-dir", str(project), "funnel", "checkout", "--as-of", AS_OF, "--format", "json")
    assert result.code == 0, result.output
    data = json.loads(result.out)
    kr = {r["step"]: r for r in data["steps"] if r["breakdown"] == "KR"}
    assert [kr[s]["users"] for s in (1, 2, 3)] == [2, 2, 1]
    assert kr[2]["median_seconds_from_previous"] == 180.0 and kr[3]["conversion_from_first"] == 0.5
    assert [r["users"] for r in data["steps"] if r["breakdown"] == "JP"] == [1, 0, 0]


def test_funnel_text_table_and_trends(project: Path) -> None:
    result = run_cli("--project-dir", str(project), "funnel", "checkout", "--as-of", AS_OF)
    assert result.code == 0, result.output
    assert "Viewed" in result.out and "Bought" in result.out and "50.0%" in result.out and "3.0m" in result.out
    trends = run_cli("--project-dir", str(project), "funnel", "checkout", "--trends", "--as-of", AS_OF, "--format", "json")
    assert trends.code == 0, trends.output
    rows = {(r["period_start"], r["breakdown"]): (r["entered"], r["completed"]) for r in json.loads(trends.out)["trends"]}
    assert rows == {("2026-11-20", "KR"): (2, 1), ("2026-11-21", "JP"): (1, 0)}


@pytest.mark.parametrize("suffix", [".png", ".svg", ".html"])
def test_funnel_chart_in_every_format(project: Path, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"funnel{suffix}"
    result = run_cli("--project-dir", str(project), "funnel", "checkout", "--as-of", AS_OF, "--chart", str(path))
    assert result.code == 0, result.output
    if suffix == ".png":
        data = path.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", data[16:24])
        assert width >= 400 and height >= 150 and len(data) > 5000
    elif suffix == ".svg":
        texts = {t.text for t in ET.fromstring(path.read_text()).iter("{http://www.w3.org/2000/svg}text")}
        assert {"1. Viewed", "3. Bought", "KR", "JP"} <= texts
        assert any(t and "50.0%" in t for t in texts)
    else:
        page = path.read_text()
        assert "id=\"spec\"" in page and "Viewed" in page
        assert "src=\"http" not in page and "href=\"http" not in page and "cdn." not in page


def test_funnel_trends_chart(project: Path, tmp_path: Path) -> None:
    path = tmp_path / "trends.svg"
    result = run_cli("--project-dir", str(project), "funnel", "checkout", "--trends", "--as-of", AS_OF, "--chart", str(path))
    assert result.code == 0, result.output
    assert ET.fromstring(path.read_text()).tag == "{http://www.w3.org/2000/svg}svg"


def test_funnel_usage_errors(project: Path, tmp_path: Path) -> None:
    unknown = run_cli("--project-dir", str(project), "funnel", "checkuot")
    assert unknown.code == 2 and "did you mean 'checkout'?" in unknown.output
    bad_chart = run_cli("--project-dir", str(project), "funnel", "checkout", "--chart", str(tmp_path / "x.gif"))
    assert bad_chart.code == 2 and "name it .png, .svg or .html" in bad_chart.output
    (project / "models" / "f.yml").write_text(FUNNELS.replace("    trends: {period: day}\n", ""))
    no_trends = run_cli("--project-dir", str(project), "funnel", "checkout", "--trends")
    assert no_trends.code == 2 and "has no `trends:`" in no_trends.output and "Traceback" not in no_trends.output


def test_funnel_html_chart_opens_offline_in_chromium(project: Path, tmp_path: Path) -> None:
    """The funnel's HTML chart is drawn from file:// by its inlined bundle, nothing else loaded."""
    from tests.browser import browser_page

    path = tmp_path / "funnel.html"
    assert run_cli("--project-dir", str(project), "funnel", "checkout", "--as-of", AS_OF, "--chart", str(path)).code == 0
    requests: list[str] = []
    with browser_page(requests) as page:
        page.goto(path.as_uri())
        page.wait_for_selector("#chart svg.marks text", timeout=15000)
        labels = set(page.eval_on_selector_all("#chart svg text", "els => els.map(e => e.textContent)"))
    assert {"1. Viewed", "2. cart", "3. Bought", "KR", "JP"} <= labels, labels
    assert any("50.0%" in label for label in labels)
    assert all(u.startswith(("file:", "data:", "blob:", "about:")) for u in requests), requests


def test_each_breakdown_value_gets_its_own_colour(tmp_path: Path) -> None:
    countries = [f"C{i:02d}" for i in range(12)]
    root = write_project(tmp_path / "many", {
        "models/sources.yml": "users: {table: main.users, id: external_id, attributes: {country: string}}\n"
        "events: {table: main.events, user: external_id, name: event_name, time: occurred_at}\n",
        "models/f.yml": "funnels:\n  - name: viewed\n    steps: [{event: view}]\n    breakdown: country\n",
    })
    with DuckDBAdapter(str(root / "test.duckdb"), "main") as adapter:
        users = [(f"u{i}", c) for i, c in enumerate([*countries, "", None])]
        adapter.load_rows("users", [("external_id", "VARCHAR"), ("country", "VARCHAR")], users)
        adapter.load_rows("events", [("external_id", "VARCHAR"), ("event_name", "VARCHAR"), ("occurred_at", "TIMESTAMP")], [(u, "view", T0) for u, _ in users])
    path = tmp_path / "many.svg"
    assert run_cli("--project-dir", str(root), "funnel", "viewed", "--as-of", AS_OF, "--chart", str(path)).code == 0
    svg = ET.fromstring(path.read_text())
    ns = "{http://www.w3.org/2000/svg}"
    marks = next(g for g in svg.iter(f"{ns}g") if "mark-rect" in (g.get("class") or ""))
    fills = [p.get("fill") for p in marks.iter(f"{ns}path")]
    assert len(fills) == 14 and len(set(fills)) == 14, fills
    texts = {t.text for t in svg.iter(f"{ns}text")}
    assert {"(no value)", "(empty)", "C00", "C11"} <= texts
