"""Two copies of one project on one engine: one run incrementally, one with --full-refresh.

Every data change is applied to both; after every run each copy's tables are read back —
memberships with `entered_at` and split groups, CDI rows without their `UPDATED_AT`,
`segsql_changes`, `segsql_history` — and must be equal (SPEC 9)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from segsql.engines.base import Adapter
from segsql.run.materialize import RunResult, run_models
from segsql.run.session import Options, open_session
from tests.conftest import write_project

USERS = [("external_id", "VARCHAR"), ("country", "VARCHAR"), ("age", "DOUBLE"), ("signup_at", "TIMESTAMP")]
EVENTS = [("external_id", "VARCHAR"), ("event_name", "VARCHAR"), ("occurred_at", "TIMESTAMP"), ("properties", "VARCHAR")]
PURCHASES = [("external_id", "VARCHAR"), ("purchased_at", "TIMESTAMP"), ("product_id", "VARCHAR"), ("price", "DOUBLE")]
PRODUCTS = [("product_id", "VARCHAR"), ("category", "VARCHAR")]
COLUMNS = {"users": USERS, "events": EVENTS, "purchases": PURCHASES, "products": PRODUCTS}
SOURCES = """
users:
  table: main.users
  id: external_id
  attributes: {country: string, age: number, signup_at: time}
events:
  table: main.events
  user: external_id
  name: event_name
  time: occurred_at
  properties: properties
purchases:
  table: main.purchases
  user: external_id
  time: purchased_at
  product: product_id
  price: price
catalogs:
  products:
    table: main.products
    key: product_id
    attributes: {category: string}
"""
#: every kind of leaf and measure a run can make incremental, and some it cannot (rfm, sequence)
SEGMENTS = """
segments:
  - name: koreans
    where: {attribute: country, equals: KR}
  - name: not_korean
    where: {attribute: country, not_equals: KR}
  - name: recent_signups
    where: {attribute: signup_at, less_than_days_ago: 3}
  - name: old_signups
    where: {attribute: signup_at, more_than_days_ago: 2}
  - name: openers_3d
    where: {event: open, within: {last_days: 3}}
  - name: two_opens
    where: {event: open, count: {gte: {{ var('opens', 2) }}}}
  - name: opened_lately
    where: {event: open, last: {less_than_days_ago: 2}}
  - name: first_long_ago
    where: {event: [open, view], first: {more_than_days_ago: 4}}
  - name: never_viewed
    where: {event: view, count: {equals: 0}}
  - name: views_36h
    where: {event: view, within: {last_hours: 36}, count: {gte: 2}}
  - name: big_spenders
    where: {purchase: any, within: {last_days: 5}, revenue: {gte: 30}}
  - name: lapsed
    where:
      all:
        - {event: open, within: {last_days: 7}}
        - not: {purchase: any, within: {last_days: 2}}
  - name: korean_openers
    split: {groups: {a: 50, b: 50}}
    where:
      - segment: koreans
      - segment: opens_helper
  - name: opens_helper
    materialized: ephemeral
    where: {event: open, where: [{property: k, gte: 1}]}
  - name: shoe_buyers
    where: {purchase: any, where: [{column: product_id, catalog: products, where: [{attribute: category, equals: shoes}]}]}
  - name: avg_price
    where: {event: open, avg: {property: k, gte: 2}, max: {property: k, lte: 3}}
  - name: fixed_window
    where: {event: open, within: {since: "2026-05-25", until: "2026-06-03"}}
  - name: rfm_top
    where: {rfm: {frequency: {gte: 3}, within: {last_days: 30}}}
  - name: open_then_view
    where: {sequence: [{event: open}, {event: view}], within: {last_days: 10}}
"""


class Copy:
    """One copy of the project: its folder, its adapter, its run mode."""

    def __init__(self, root: Path, adapter: Adapter, full: bool):
        self.root, self.adapter, self.full = root, adapter, full
        write_project(root, {"models/sources.yml": SOURCES, "models/segments.yml": SEGMENTS})

    def run(self, as_of: dt.datetime, variables: dict[str, Any] | None = None, resync: bool = False) -> RunResult:
        import json

        session = open_session(Options(self.root, vars=json.dumps(variables) if variables else None), as_of.isoformat(), need_target=False)
        names = sorted(n for n, s in session.definitions.segments.items() if s.materialized == "table")
        return run_models(session, self.adapter, names, full_refresh=self.full, resync=resync)

    def snapshot(self) -> dict[str, Any]:
        a = self.adapter
        out: dict[str, Any] = {}
        tables = a.schema_tables()
        for table in sorted(t for t in tables if t.startswith("seg_")):
            group = "split_group" if "split_group" in tables[table] else "NULL"
            out[table] = sorted((str(r[0]), str(r[1]), r[2]) for r in a.fetch(f"SELECT external_user_id, entered_at, {group} FROM main.{table}"))
        out["cdi"] = sorted((str(r[0]), str(r[1])) for r in a.fetch("SELECT EXTERNAL_ID, PAYLOAD FROM main.cdi_segment_updates"))
        out["changes"] = sorted(tuple(str(v) for v in r) for r in a.fetch("SELECT as_of, segment, external_user_id, change, split_group FROM main.segsql_changes"))
        out["history"] = sorted(tuple(str(v) for v in r) for r in a.fetch("SELECT segment, as_of, size, entered, exited, definition_hash FROM main.segsql_history"))
        return out


def load(adapter: Adapter, tables: dict[str, list[tuple[Any, ...]]]) -> None:
    for name, rows in tables.items():
        adapter.load_rows(name, COLUMNS[name], rows)


def append(adapter: Adapter, table: str, rows: list[tuple[Any, ...]]) -> None:
    """INSERT rows (`load_rows` replaces a table)."""
    if not rows:
        return
    adapter.load_rows(f"new_{table}", COLUMNS[table], rows)
    adapter.execute(f"INSERT INTO main.{table} SELECT * FROM main.new_{table}")
    adapter.execute(f"DROP TABLE main.new_{table}")
