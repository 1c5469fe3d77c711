"""`segsql init DIR`: the files of a new, runnable project."""

from __future__ import annotations

from pathlib import Path

from segsql.errors import UsageError

FILES = {
    "segsql_project.yml": """name: {name}
profile: segsql
vars: {lookback_days: 30}
timezone: UTC
table_prefix: {segment: seg_, funnel: funnel_}
cdi: {table: cdi_segment_updates}
""",
    "profiles.yml": """segsql:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: {name}.duckdb
      schema: main
""",
    "models/sources.yml": """users:
  table: main.users
  id: external_id
  attributes:
    country: string
    age: number
    is_vip: boolean
    signup_at: time
    interests: array
    profile: object
  location: {lat: last_lat, lon: last_lon}
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
  quantity: quantity
catalogs:
  products:
    table: main.products
    key: product_id
    attributes: {category: string, brand: string, list_price: number}
""",
    "models/segments/example.yml": """segments:
  - name: korean_vips
    description: VIP customers in Korea
    tags: [example]
    where:
      all:
        - attribute: country
          equals: KR
        - attribute: is_vip
          equals: true
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
