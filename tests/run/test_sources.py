"""SPEC 1 column kinds, on every engine: zoned and epoch time columns, JSON as native or text."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from segsql.compiler import SegmentCompiler
from segsql.engines.base import Adapter
from segsql.run.session import Options, open_session
from tests.conftest import write_project

SEOUL = dt.timezone(dt.timedelta(hours=9))
SOURCES = """
users:
  table: main.users
  id: external_id
  attributes:
    signed_up: {column: signup_tz, type: time}
    seen: {column: seen_ms, type: time, unit: epoch_millis}
    profile_native: {column: profile_json, type: object}
    profile_text: {column: profile_str, type: object}
"""
SEGMENTS = """
segments:
  - name: signed_up_before_june_utc
    where: {attribute: signed_up, before: "2026-06-01T00:00:00Z"}
  - name: signed_up_after_2330_utc
    where: {attribute: signed_up, after: "2026-05-31T23:30:00Z"}
  - name: seen_last_day
    where: {attribute: seen, less_than_days_ago: 1}
  - name: gold_native
    where: {attribute: profile_native.tier, equals: gold}
  - name: gold_text
    where: {attribute: profile_text.tier, equals: gold}
  - name: points_native
    where: {attribute: profile_native.points, type: number, gte: 10}
  - name: points_text
    where: {attribute: profile_text.points, type: number, gte: 10}
"""
COLUMNS = [("external_id", "VARCHAR"), ("signup_tz", "TIMESTAMPTZ"), ("seen_ms", "BIGINT"), ("profile_json", "JSON"), ("profile_str", "VARCHAR")]
AS_OF = dt.datetime(2026, 6, 2, 12, 0, tzinfo=dt.UTC)


def _ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def test_zoned_epoch_and_json_columns(tmp_path: Path, engine: Callable[[], Adapter]) -> None:
    adapter = engine()
    a = '{"tier": "gold", "points": 12}'
    b = '{"tier": "silver", "points": "12"}'
    adapter.load_rows("users", COLUMNS, [
        # 08:00 in Seoul is 23:00 UTC on the previous day
        ("u1", dt.datetime(2026, 6, 1, 8, 0, tzinfo=SEOUL), _ms(AS_OF - dt.timedelta(hours=2)), a, a),
        ("u2", dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC), _ms(AS_OF - dt.timedelta(days=2)), b, b),
        ("u3", None, None, None, None),
    ])
    root = write_project(tmp_path / "p", {"models/sources.yml": SOURCES, "models/s.yml": SEGMENTS})
    session = open_session(Options(root), AS_OF.isoformat(), need_target=False)
    compiler = SegmentCompiler(session.definitions, adapter.dialect, session.as_of)
    members = {n: {str(r[0]) for r in adapter.fetch(compiler.members(n))} for n in session.definitions.segments}
    assert members["signed_up_before_june_utc"] == {"u1"}
    assert members["signed_up_after_2330_utc"] == {"u2"}
    assert members["seen_last_day"] == {"u1"}
    assert members["gold_native"] == members["gold_text"] == {"u1"}
    # "12" is a JSON string, not a number: strict JSON typing (README, Object paths)
    assert members["points_native"] == members["points_text"] == {"u1"}
