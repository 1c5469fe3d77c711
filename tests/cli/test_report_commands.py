"""The report commands through the real entry point: exit codes 0/1/2, JSON that parses and
agrees with the text, chart files written."""

from __future__ import annotations

import json
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from segsql.engines.duckdb import DuckDBAdapter
from tests.conftest import CliResult, write_project
from tests.reports import test_insights as data

AS_OF = "2026-06-01T12:00:00Z"
BROKEN_SQL = """\
  - name: broken_sql
    sql: select no_such_column as external_id from main.users
  - name: split_all
    where: {any: [{attribute: country, exists: true}, {attribute: country, exists: false}]}
    split: {groups: {holdout: 50, test: 50}, holdout: holdout}
"""

Cli = Callable[..., CliResult]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    files = dict(data.FILES)
    files["models/segments.yml"] = textwrap.dedent(data.FILES["models/segments.yml"]) + BROKEN_SQL
    root = write_project(tmp_path / "p", files)
    adapter = DuckDBAdapter(str(root / "test.duckdb"), "main")
    data.load(adapter)
    adapter.close()
    return root


def test_insights_json_agrees_with_text(cli: Cli, project: Path) -> None:
    args = ("--project-dir", str(project), "insights", "koreans", "recent_buyers", "--as-of", AS_OF)
    text, js = cli(*args), cli(*args, "--format", "json")
    assert text.code == 0 and js.code == 0, text.output + js.output
    result = json.loads(js.out)
    assert [s["segment"] for s in result["segments"]] == ["koreans", "recent_buyers"]
    assert result["baseline_kpis"]["size"] == 5 and result["within_days"] == 30
    koreans = result["segments"][0]
    line = next(row for row in text.out.splitlines() if "share of baseline" in row)
    assert f"{koreans['share_of_baseline']:.1%}" in line  # 40.0%
    aov = next(row for row in text.out.splitlines() if "AOV" in row)
    assert f"{koreans['aov']:,.2f}" in aov


def test_insights_takes_selectors_and_a_segment_baseline(cli: Cli, project: Path) -> None:
    res = cli("--project-dir", str(project), "insights", "koreans", "--baseline", "recent_buyers", "--within", "7", "--as-of", AS_OF, "--format", "json")
    assert res.code == 0, res.output
    result = json.loads(res.out)
    assert result["baseline"] == "recent_buyers" and result["within_days"] == 7
    assert result["segments"][0]["share_of_baseline"] == pytest.approx(1 / 3)  # u1 of u1, u3, u5


@pytest.mark.parametrize(("args", "message"), [
    (("insights", "nobody"), "nobody"),
    (("insights", "koreans", "--baseline", "nobody"), "--baseline 'nobody'"),
    (("insights", "koreans", "--within", "0"), "--within"),
    (("insights",), "NAMES"),
])
def test_insights_usage_errors_exit_2(cli: Cli, project: Path, args: tuple[str, ...], message: str) -> None:
    res = cli("--project-dir", str(project), *args, "--as-of", AS_OF)
    assert res.code == 2, res.output
    assert message in res.err and "Traceback" not in res.output


def test_a_segment_the_warehouse_rejects_exits_1(cli: Cli, project: Path) -> None:
    res = cli("--project-dir", str(project), "insights", "broken_sql", "--as-of", AS_OF)
    assert res.code == 1, res.output
    assert "Traceback" not in res.output


def test_overlap_table_json_and_heat_map(cli: Cli, project: Path) -> None:
    args = ("--project-dir", str(project), "overlap", "koreans", "recent_buyers", "--as-of", AS_OF)
    js = cli(*args, "--format", "json", "--chart", str(project / "overlap.svg"))
    assert js.code == 0, js.output
    result = json.loads(js.out)
    cell = next(p for p in result["pairs"] if p["a"] == "koreans" and p["b"] == "recent_buyers")
    assert cell == {"a": "koreans", "b": "recent_buyers", "both": 1, "jaccard": pytest.approx(0.25)}
    svg = ET.fromstring((project / "overlap.svg").read_text(encoding="utf-8"))
    assert "1 (0.25)" in {t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")}
    text = cli(*args)
    assert text.code == 0
    assert "1 (0.25)" in next(r for r in text.out.splitlines() if r.strip("│ ").startswith("koreans"))


def test_history_chart_after_two_runs(cli: Cli, project: Path) -> None:
    for as_of in ("2026-05-20T12:00:00Z", AS_OF):
        assert cli("--project-dir", str(project), "run", "--select", "recent_buyers", "--as-of", as_of).code == 0
    chart = project / "history.png"
    res = cli("--project-dir", str(project), "history", "recent_buyers", "--chart", str(chart), "--format", "json")
    assert res.code == 0, res.output
    runs = json.loads(res.out)["runs"]
    assert [r["size"] for r in runs] == [1, 3]  # u5 by May 20; u1 and u3 bought later in May
    data = chart.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


@pytest.mark.parametrize("args", [
    ("overlap", "koreans", "--chart", "out.jpg"),
    ("overlap", "koreans", "nobody"),
    ("history", "recent_buyers", "--chart", "missing/dir.png"),
])
def test_chart_and_name_mistakes_exit_2(cli: Cli, project: Path, args: tuple[str, ...]) -> None:
    res = cli("--project-dir", str(project), *args)
    assert res.code == 2, res.output
    assert "Traceback" not in res.output


def test_split_readout_needs_a_run_then_reads_groups(cli: Cli, project: Path) -> None:
    args = ("--project-dir", str(project), "insights", "split_all", "--by-split", "--within", "60", "--as-of", AS_OF)
    before = cli(*args)
    assert before.code == 2 and "segsql run --select split_all" in before.err
    assert cli("--project-dir", str(project), "run", "--select", "split_all", "--as-of", "2026-05-01T00:00:00Z").code == 0
    js = cli(*args, "--format", "json")
    assert js.code == 0, js.output
    result = json.loads(js.out)
    assert [g["group"] for g in result["groups"]] == ["holdout", "test"] and result["control"] == "holdout"
    assert sum(g["size"] for g in result["groups"]) == 4  # u1-u4: u5 is only in purchases, seen after May 1
    text = cli(*args)
    assert text.code == 0 and "holdout (holdout)" in text.out
    two = cli("--project-dir", str(project), "insights", "split_all", "koreans", "--by-split")
    assert two.code == 2 and "one segment" in two.err
