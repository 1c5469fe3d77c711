"""`segsql docs generate` / `docs serve`: the site's pages, and a real browser that searches,
clicks through and sees the SQL and the graph with no request leaving 127.0.0.1."""

from __future__ import annotations

import html
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from segsql.engines.duckdb import DuckDBAdapter
from tests.browser import browser_page
from tests.conftest import CliResult, write_project
from tests.reports import test_insights as data

REPO = Path(__file__).resolve().parents[2]
DIALECTS = {"duckdb", "snowflake", "bigquery", "databricks", "redshift", "postgres"}
EXTRA = """\
  - name: korean_buyers
    description: Koreans who bought lately
    tags: [apac, revenue]
    where:
      all:
        - segment: koreans
        - segment: recent_buyers
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with a run behind it and its site generated (once for the module)."""
    import textwrap

    from tests.conftest import run_cli

    files = dict(data.FILES)
    files["models/segments.yml"] = textwrap.dedent(data.FILES["models/segments.yml"]) + EXTRA
    root = write_project(tmp_path_factory.mktemp("docs") / "p", files)
    adapter = DuckDBAdapter(str(root / "test.duckdb"), "main")
    data.load(adapter)
    adapter.close()
    assert run_cli("--project-dir", str(root), "run", "--as-of", "2026-05-20T12:00:00Z").code == 0
    assert run_cli("--project-dir", str(root), "run", "--as-of", "2026-06-01T12:00:00Z").code == 0
    res = run_cli("--project-dir", str(root), "docs", "generate", "--as-of", "2026-06-01T12:00:00Z", "--format", "json")
    assert res.code == 0, res.output
    return root


def test_pages_hold_definition_sql_graph_history_and_insights(site: Path) -> None:
    folder = site / "target" / "docs"
    assert {p.name for p in (folder / "segment").iterdir()} == {"koreans.html", "recent_buyers.html", "app_openers.html", "korean_buyers.html"}
    page = (folder / "segment" / "korean_buyers.html").read_text(encoding="utf-8")
    assert set(re.findall(r'data-dialect="(\w+)"', page)) == DIALECTS
    assert "Koreans who bought lately" in page and 'class="tag">apac<' in page
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    assert "SELECT external_user_id FROM main.seg_korean_buyers" in text  # the CDI Segment Extension query
    assert "- segment: recent_buyers" in text  # the definition as written
    assert page.count('class="node') == 3 and "<line" in page  # koreans, recent_buyers -> korean_buyers
    assert 'id="history"' in page and 'id="insights"' in page
    assert '<span class="nt">segment</span>' in page  # the YAML as written, highlighted by Pygments
    lineage = (folder / "lineage.html").read_text(encoding="utf-8")
    assert lineage.count('class="node') == 4
    for path in folder.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", text), path
        assert "@import" not in text and "url(http" not in text


def test_docs_commands_exit_codes(site: Path, cli: Callable[..., CliResult], tmp_path: Path) -> None:
    empty = write_project(tmp_path / "empty", {"models/sources.yml": data.FILES["models/sources.yml"]})
    res = cli("--project-dir", str(empty), "docs", "serve", "--port", "0")
    assert res.code == 2 and "segsql docs generate" in res.err
    res = cli("--project-dir", str(empty), "docs", "generate", "--no-warehouse", "--format", "json")
    assert res.code == 0 and json.loads(res.out)["pages"] == [str(empty / "target" / "docs" / p) for p in ("index.html", "lineage.html")]
    assert cli("--project-dir", str(site), "docs", "frobnicate").code == 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(site: Path) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "segsql", "--project-dir", str(site), "docs", "serve", "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert proc.poll() is None, "docs serve exited"
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_browser_searches_clicks_through_and_stays_local(served: str, tmp_path: Path) -> None:
    requests: list[str] = []
    with browser_page(requests) as page:
        page.goto(served + "index.html")
        page.fill("#search", "bought lately")  # matches a description, not a name
        visible = page.eval_on_selector_all("#models tr[data-search]:not([hidden]) a", "els => els.map(e => e.textContent)")
        assert visible == ["korean_buyers"]
        page.fill("#search", "revenue")  # a tag
        assert page.locator("#models tr[data-search]:not([hidden])").count() == 1
        page.click("text=korean_buyers")
        page.wait_for_url("**/segment/korean_buyers.html")
        assert "SELECT" in page.inner_text("details.sql[open] .highlight")
        assert page.locator("details.sql").count() == 6
        labels = page.eval_on_selector_all("#graph svg .node text", "els => els.map(e => e.textContent)")
        assert sorted(labels) == ["korean_buyers", "koreans", "recent_buyers"]
        assert page.locator("#history svg").count() == 1
        page.screenshot(path=str(tmp_path / "docs.png"), full_page=True)
        page.click("#graph a >> text=koreans")
        page.wait_for_url("**/segment/koreans.html")
    assert (tmp_path / "docs.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert requests and all(u.startswith(served) for u in requests), [u for u in requests if not u.startswith(served)]
