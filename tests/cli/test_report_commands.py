"""The report commands through the real entry point: exit codes 0/1/2, JSON that parses and
agrees with the text, chart files written."""

from __future__ import annotations

import json
import textwrap
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
