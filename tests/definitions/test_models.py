"""The definitions' DAG covers every model kind: segments and funnels, by unique names."""

from __future__ import annotations

from pathlib import Path

from segsql.definitions.dag import dependents, topological_order
from segsql.run.session import Options, open_session
from tests.conftest import run_cli, write_project

SOURCES = "users: {table: main.users, id: external_id, attributes: {country: string}}\nevents: {table: main.events, user: external_id, name: event_name, time: occurred_at}\n"
MODELS = """
segments:
  - name: koreans
    where: {attribute: country, equals: KR}
funnels:
  - name: {funnel}
    audience: koreans
    steps: [{event: view}, {event: buy}]
"""


def test_a_funnel_is_a_node_that_depends_on_its_audience(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {"models/sources.yml": SOURCES, "models/m.yml": MODELS.replace("{funnel}", "korean_checkout")})
    defs = open_session(Options(root), "2026-11-22T12:00:00Z", need_target=False).definitions
    assert {name: model.kind for name, model in defs.models.items()} == {"koreans": "segment", "korean_checkout": "funnel"}
    assert dependents(defs.models, "koreans") == {"korean_checkout"}
    assert topological_order(defs.models, ["korean_checkout"]) == ["koreans", "korean_checkout"]


def test_a_funnel_cannot_take_a_segments_name(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {"models/sources.yml": SOURCES, "models/m.yml": MODELS.replace("{funnel}", "koreans")})
    result = run_cli("--project-dir", str(root), "ls")
    assert result.code == 2 and "models/m.yml:" in result.output and "has the name of a segment" in result.output
