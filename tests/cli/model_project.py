"""A small project with a funnel read by a segment, a funnel nobody reads and a cluster model
read by a segment, on seeded CSVs whose furthest steps and clusters are known by hand: the
fixture of the manifest, `state:modified` and `diff` tests of funnels and clusters."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.conftest import write_project

AS_OF = "2026-06-01T00:00:00Z"
START = dt.datetime(2026, 5, 1, 10, tzinfo=dt.UTC)
N = 36
IDS = [f"u{i:02d}" for i in range(N)]
#: pattern (i % 6) → hours after the view of the cart and the purchase (None: no such event);
#: pattern 4 only carts, pattern 5 does nothing
CART = {0: 1, 1: 48, 3: 240, 4: 0}
PAY = {0: 2, 2: 1}


def age(i: int) -> int | None:
    """Two far-apart groups (20s and 80s) and, every ninth user, no age at all."""
    if i % 9 == 8:
        return None
    return 20 + i % 3 if (i // 3) % 2 == 0 else 80 + i % 3


def furthest(i: int, window_days: int) -> int:
    """The furthest step of user i in view → cart → pay with a conversion window, by hand:
    each user does each event at most once, so the only path starts at its view."""
    p = i % 6
    if p in (4, 5):
        return 0
    limit = window_days * 24
    cart, pay = CART.get(p), PAY.get(p)
    if cart is None or cart > limit:
        return 1
    return 3 if pay is not None and cart <= pay <= limit else 2


def older(i: int, missing: int) -> bool:
    """Cluster 1 of `ages` (k = 2, numbered by age descending): the 80s, and the users without
    an age when `missing` puts them nearer the 80s than the 20s."""
    value = age(i)
    return (missing if value is None else value) > 50


USERS_CSV = "external_id,country,age\n" + "".join(f"{u},{'KR' if i % 2 == 0 else 'JP'},{'' if age(i) is None else age(i)}\n" for i, u in enumerate(IDS))


def _events() -> str:
    rows = []
    for i, u in enumerate(IDS):
        t = START + dt.timedelta(hours=i)
        p = i % 6
        if p in (0, 1, 2, 3):
            rows.append((u, "view", t))
        if p in CART:
            rows.append((u, "cart", t + dt.timedelta(hours=CART[p])))
        if p in PAY:
            rows.append((u, "pay", t + dt.timedelta(hours=PAY[p])))
    return "external_id,event_name,occurred_at\n" + "".join(f"{u},{e},{t.strftime('%Y-%m-%d %H:%M:%S')}\n" for u, e, t in rows)


EVENTS_CSV = _events()
SEEDS_YML = "users: {columns: {external_id: string, country: string, age: number}}\nevents: {columns: {external_id: string, event_name: string, occurred_at: time}}\n"
PROJECT = "name: shop\nvars: {window_days: 7}\n"
SOURCES = """users:
  table: {schema}.users
  id: external_id
  attributes: {country: string, age: number}
events: {table: {schema}.events, user: external_id, name: event_name, time: occurred_at}
"""
MODELS = """
segments:
  - name: carted
    where: {funnel: checkout, furthest_step: {gte: 2}}
  - name: older
    where: {cluster: {model: ages, in: [1]}}
  - name: koreans
    where: {attribute: country, equals: KR}
funnels:
  - name: checkout
    description: viewed, carted, paid
    steps:
      - {event: view}
      - {event: cart}
      - {event: pay}
    conversion_window: {days: {{ var('window_days') }}}
  - name: browse
    description: read by no segment
    steps: [{event: view}, {event: pay}]
clusters:
  - name: ages
    k: 2
    features: {age: {attribute: age}}
    missing: {{ env_var('SEGSQL_TEST_MISSING', '0') }}
    order_by: age
"""


def model_project(root: Path, profile: str | None = None, schema: str = "main") -> Path:
    """Write the project (a DuckDB file unless `profile` is given); seed it with `segsql seed`."""
    files = {
        "segsql_project.yml": PROJECT, "models/sources.yml": SOURCES.replace("{schema}", schema), "models/models.yml": MODELS,
        "seeds/users.csv": USERS_CSV, "seeds/events.csv": EVENTS_CSV, "seeds/seeds.yml": SEEDS_YML,
    }
    if profile is not None:
        files["profiles.yml"] = profile
    return write_project(root, files)


def edit(root: Path, old: str, new: str) -> None:
    path = root / "models" / "models.yml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
