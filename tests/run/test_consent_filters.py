"""SPEC 8.4: a consent filter is any filter — behaviour and trait tables too — on a filter or
SQL segment, evaluated in the run's fused query; a stale trait table a channel reads fails
the segments listing that channel (SPEC 8.3)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

from segsql.engines.base import Adapter
from segsql.run.materialize import run_models
from segsql.run.session import Options, open_session
from tests.conftest import write_project

PROJECT = """\
name: c
consent:
  email: {not: {event: email_unsubscribed}}
  sms: {attribute: prefs.sms, equals: true}
"""
SOURCES = """\
users: {table: main.users, id: external_id, attributes: {country: string}}
events: {table: main.events, user: external_id, name: event_name, time: occurred_at}
traits:
  prefs:
    table: main.prefs
    id: external_id
    attributes: {sms: boolean}
    updated_at: synced_at
    max_age: {hours: 24}
"""
SEGMENTS = """\
segments:
  - name: koreans_email
    channels: [email]
    where: {attribute: country, equals: KR}
  - name: koreans_sms
    channels: [sms]
    where: {attribute: country, equals: KR}
  - name: openers_sql
    channels: [email]
    sql: select external_id from main.events where event_name = 'app_open'
"""


def test_behaviour_and_trait_consent_on_filter_and_sql_segments(tmp_path: Path, engine: Callable[[], Adapter]) -> None:
    adapter = engine()
    root = write_project(tmp_path / "p", {"segsql_project.yml": PROJECT, "models/sources.yml": SOURCES, "models/segments.yml": SEGMENTS})
    adapter.load_rows("users", [("external_id", "VARCHAR"), ("country", "VARCHAR")], [("u1", "KR"), ("u2", "KR"), ("u3", "KR")])
    day = dt.datetime(2026, 6, 1, 12)
    events = [("u1", "app_open", day), ("u2", "app_open", day), ("u2", "email_unsubscribed", day)]
    adapter.load_rows("events", [("external_id", "VARCHAR"), ("event_name", "VARCHAR"), ("occurred_at", "TIMESTAMP")], events)
    adapter.load_rows("prefs", [("external_id", "VARCHAR"), ("sms", "BOOLEAN"), ("synced_at", "TIMESTAMP")], [("u1", True, day), ("u3", False, day)])

    session = open_session(Options(root), "2026-06-02T00:00:00Z", need_target=False)
    result = run_models(session, adapter, sorted(session.definitions.segments))
    assert result.ok, [(m.name, m.message) for m in result.models]
    assert result.plan is not None and "consent per member: email, sms" in result.plan.describe()
    state: dict[str, dict[str, object]] = {}
    for user, payload in adapter.fetch("SELECT EXTERNAL_ID, PAYLOAD FROM main.cdi_segment_updates ORDER BY UPDATED_AT"):
        state.setdefault(str(user), {}).update(json.loads(payload))
    assert {u for u, p in state.items() if p.get("koreans_email")} == {"u1", "u3"}
    assert {u for u, p in state.items() if p.get("koreans_sms")} == {"u1"}
    assert {u for u, p in state.items() if p.get("openers_sql")} == {"u1"}
    members = adapter.fetch("SELECT external_user_id, consented FROM main.seg_openers_sql ORDER BY 1")
    assert [(str(u), bool(c)) for u, c in members] == [("u1", True), ("u2", False)]

    # the prefs table is 36 h old at the next run: only the segment whose channel reads it fails
    late = open_session(Options(root), "2026-06-03T00:00:00Z", need_target=False)
    result = run_models(late, adapter, sorted(late.definitions.segments))
    assert {m.name for m in result.models if m.status != "success"} == {"koreans_sms"}
    assert "main.prefs" in next(m.message for m in result.models if m.name == "koreans_sms")
