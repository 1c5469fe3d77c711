"""Definition hashes depend on what a definition means, not on where it was written."""

from __future__ import annotations

from pathlib import Path

from segsql.run.session import Options, open_session
from tests.conftest import write_project

SOURCES = "users: {table: main.users, id: external_id, attributes: {country: string}}\nevents: {table: main.events, user: external_id, name: event_name, time: occurred_at}\n"
SEGMENT = "  - name: s\n    where: {all: [{attribute: country, equals: KR}, {event: app_open, within: {last_days: 7}}]}\n"


def _hashes(root: Path, segments: str) -> tuple[str, str]:
    write_project(root, {"models/sources.yml": SOURCES, "models/s.yml": segments})
    seg = open_session(Options(root), "2026-11-22T12:00:00Z", need_target=False).definitions.segments["s"]
    return seg.membership_hash(), seg.metadata_hash()


def test_a_comment_line_above_a_segment_changes_no_hash(tmp_path: Path) -> None:
    before = _hashes(tmp_path / "a", "segments:\n" + SEGMENT)
    after = _hashes(tmp_path / "b", "# a note for reviewers\n\nsegments:\n  # the segment\n" + SEGMENT)
    assert before == after


def test_a_changed_value_or_window_changes_the_membership_hash(tmp_path: Path) -> None:
    base = _hashes(tmp_path / "a", "segments:\n" + SEGMENT)[0]
    assert _hashes(tmp_path / "b", "segments:\n" + SEGMENT.replace("KR", "JP"))[0] != base
    assert _hashes(tmp_path / "c", "segments:\n" + SEGMENT.replace("last_days: 7", "last_days: 8"))[0] != base
