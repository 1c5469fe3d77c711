"""A segment's hash includes the hash of the funnel its `funnel:` leaf reads and of the cluster
model its `cluster:` leaf reads: editing that model marks the segment `state:modified`, editing
only its description does not, and segments that read neither stay unmodified."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import run_cli, write_project

SOURCES = """
users: {table: main.users, id: external_id, attributes: {country: string, age: number}}
events: {table: main.events, user: external_id, name: event_name, time: occurred_at, properties: properties}
"""
MODELS = """
funnels:
  - name: checkout
    description: viewed, then carted
    steps: [{event: view}, {event: cart}]
    conversion_window: {days: 7}
clusters:
  - name: ages
    k: 2
    features: {age: {attribute: age}}
    order_by: age
segments:
  - name: carted
    where: {funnel: checkout, furthest_step: {equals: 2}}
  - name: young_cluster
    where: {cluster: {model: ages, in: [1]}}
  - name: reads_carted
    where: {segment: carted}
  - name: koreans
    where: {attribute: country, equals: KR}
"""


def _modified(root: Path, state: Path) -> list[str]:
    result = run_cli("--project-dir", str(root), "ls", "--format", "json", "--select", "state:modified", "--state", str(state))
    assert result.code == 0, result.output
    return sorted(r["name"] for r in json.loads(result.out))


def _edit(root: Path, old: str, new: str) -> None:
    path = root / "models" / "models.yml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_editing_a_funnel_or_cluster_model_marks_the_segments_reading_it_modified(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {"models/sources.yml": SOURCES, "models/models.yml": MODELS})
    assert run_cli("--project-dir", str(root), "ls").code == 0
    state = tmp_path / "state"
    shutil.copytree(root / "target", state)
    assert _modified(root, state) == []
    _edit(root, "description: viewed, then carted", "description: a new description")
    assert _modified(root, state) == [], "a funnel's description does not change who is in it"
    _edit(root, "conversion_window: {days: 7}", "conversion_window: {days: 1}")
    assert _modified(root, state) == ["carted"], "reads_carted reads carted, not the funnel: state:modified+ adds it, as in dbt"
    _edit(root, "conversion_window: {days: 1}", "conversion_window: {days: 7}")
    assert _modified(root, state) == []
    _edit(root, "    k: 2\n", "    k: 3\n")
    assert _modified(root, state) == ["young_cluster"]
    _edit(root, "    k: 3\n", "    k: 2\n")
    _edit(root, "steps: [{event: view}, {event: cart}]", "steps: [{event: view}, {event: cart}, {event: pay}]")
    result = run_cli("--project-dir", str(root), "ls", "--format", "json", "--select", "state:modified+", "--state", str(state))
    assert result.code == 0, result.output
    assert sorted(r["name"] for r in json.loads(result.out)) == ["carted", "reads_carted"]
