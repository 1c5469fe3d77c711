"""`segsql init DIR`: the files of a new project that points at the user's own tables.

The scaffold compiles and lists as it is (`compile --check`, `ls`), and its comments say
what to change: which tables and columns `sources.yml` names, which sources are optional,
how to point at files or seed CSVs, and a commented Snowflake target.
"""

from __future__ import annotations

from pathlib import Path

from segsql.errors import UsageError

FILES = {
    "segsql_project.yml": """# The project's settings (every key is optional).
name: {name}
profile: segsql                 # the profile of profiles.yml to use
vars: {lookback_days: 30}       # var('lookback_days') in model files (inside double braces); --vars overrides
timezone: UTC                   # IANA name: the calendar days of `last_days` windows and of dates
# bucket_salt: ""               # salt of random_bucket
# table_prefix: {segment: seg_, funnel: funnel_}
# cdi: {table: cdi_segment_updates}   # the Braze Cloud Data Ingestion table run writes
""",
    "profiles.yml": """# Where segsql runs. `segsql debug` checks the connection; `--target prod` picks another output.
segsql:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: {name}.duckdb         # a DuckDB file (created if missing), relative to this folder
      schema: main
    # prod:                       # Snowflake: pip install 'segsql[snowflake]'
    #   type: snowflake
    #   account: "{{ env_var('SNOWFLAKE_ACCOUNT') }}"
    #   user: "{{ env_var('SNOWFLAKE_USER') }}"
    #   password: "{{ env_var('SNOWFLAKE_PASSWORD', '') }}"   # or private_key_path, authenticator
    #   role: TRANSFORMER
    #   warehouse: SEGMENTS_WH
    #   database: ANALYTICS
    #   schema: SEGMENTS            # where segsql writes its tables
""",
    "models/sources.yml": """# Where your users, events and purchases live. Edit `table:` and the column names to match
# your data; delete a source you do not have (at least one of users, events, purchases).
#   table: [database.]schema.table as the target sees it — or, on DuckDB, a file or glob
#          relative to this folder: "data/events/*.parquet", data/users.csv, data/events.json
#   CSV files can also be loaded as tables: put them in seeds/ and run `segsql seed`.
# Types: string number boolean time array object (JSON; filter paths like profile.tier).

users:                              # one row per user
  table: main.users
  id: external_id                   # the id Braze knows the user by
  attributes:                       # name: type, or name: {column: col, type: t}
    country: string
    signup_at: time
    # age: number
    # is_vip: boolean
    # interests: array
    # profile: object
    # last_seen: {column: last_seen_ms, type: time, unit: epoch_millis}   # numeric times
  # location: {lat: last_lat, lon: last_lon}                           # optional: for `near`

events:                             # optional: one row per event
  table: main.events
  user: external_id
  name: event_name
  time: occurred_at                 # or {column: ts, unit: epoch_seconds}
  # properties: properties          # optional: a JSON column (VARIANT on Snowflake)

purchases:                          # optional: one row per purchased product
  table: main.purchases
  user: external_id
  time: purchased_at
  product: product_id
  price: price
  # quantity: quantity              # optional, default 1
  # properties: properties          # optional JSON

# catalogs:                         # optional: product tables for `catalog:` conditions
#   products:
#     table: main.products
#     key: product_id
#     attributes: {category: string, brand: string, list_price: number}
""",
    "models/segments/first_segment.yml": """# Your first segment: edit it, or add more (any .yml file under models/, any depth).
# `segsql show recent_buyers` previews its members; `segsql run` writes seg_recent_buyers.
segments:
  - name: recent_buyers
    description: Bought something in the last `lookback_days` days
    tags: [example]
    where:
      purchase: any
      within: {last_days: {{ var('lookback_days') }}}
    # where:                        # filters combine with all / any / not
    #   all:
    #     - {attribute: country, in: [KR, JP]}
    #     - {event: app_open, within: {last_days: 7}}
    #     - not: {purchase: any, within: {last_days: 30}}

# A unit test (SPEC 6): `segsql test` runs it on an in-memory DuckDB whatever the target,
# from the rows under `given:` (no warehouse needed; add one per rule you care about).
unit_tests:
  - name: a_purchase_last_week_makes_a_recent_buyer
    segment: recent_buyers
    as_of: "2026-06-01T12:00:00Z"
    given:
      users: [{external_id: u1, country: KR}, {external_id: u2, country: US}]
      purchases: [{external_id: u1, purchased_at: "2026-05-28T10:00:00Z", product_id: p1, price: 20.0}]
    expect: {members: [u1], not_members: [u2]}
""",
    ".gitignore": "target/\nlogs/\n*.duckdb\n*.duckdb.wal\n",
}


def scaffold(directory: Path) -> list[Path]:
    """Write the starter files; refuse to overwrite an existing project."""
    if (directory / "segsql_project.yml").exists() or (directory / "models").exists():
        raise UsageError(f"{directory} already holds a segsql project", hint="choose an empty folder")
    name = directory.resolve().name.replace("-", "_") or "segsql_project"
    written = []
    for rel, text in FILES.items():
        path = directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.replace("{name}", name), encoding="utf-8")
        written.append(path)
    return written


def next_steps(directory: Path) -> str:
    """What to do after `init`: point the project at your data, check it, run it."""
    return (
        f"next: edit {directory / 'models' / 'sources.yml'} to name your tables and columns "
        "(or point `table:` at Parquet/CSV/JSON files, or put CSV files in seeds/ and run `segsql seed`), "
        f"then `cd {directory} && segsql debug && segsql show recent_buyers && segsql run`"
    )
