"""`models/sources.yml`: where users, events, purchases and catalogs live, with typed columns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from segsql.definitions.reader import NAME_RE, Node
from segsql.errors import Location, ProjectError
from segsql.project.file_tables import FILE_SUFFIXES, UNSAFE, file_suffix, is_file_table
from segsql.util.suggest import suggest

TYPES = ("string", "number", "boolean", "time", "array", "object")
TIME_UNITS = ("epoch_seconds", "epoch_millis")


@dataclass(frozen=True)
class Column:
    """A typed column of a source table; `unit` is set for numeric time columns."""

    column: str
    type: str
    unit: str | None = None


@dataclass(frozen=True)
class NamedColumn:
    """A column that sources.yml names (`time: occurred_at`), with what it is for and its line:
    checked against the real table when a command connects."""

    role: str
    column: str
    location: Location | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class UsersSource:
    table: str
    id: str
    attributes: dict[str, Column]
    lat: str | None = None
    lon: str | None = None
    location: Location | None = field(default=None, compare=False, repr=False)
    columns: tuple[NamedColumn, ...] = ()


@dataclass(frozen=True)
class EventsSource:
    table: str
    user: str
    name: str
    time: Column
    properties: str | None = None
    location: Location | None = field(default=None, compare=False, repr=False)
    columns: tuple[NamedColumn, ...] = ()


@dataclass(frozen=True)
class PurchasesSource:
    table: str
    user: str
    time: Column
    product: str
    price: str
    quantity: str | None = None
    properties: str | None = None
    location: Location | None = field(default=None, compare=False, repr=False)
    columns: tuple[NamedColumn, ...] = ()


@dataclass(frozen=True)
class CatalogSource:
    name: str
    table: str
    key: str
    attributes: dict[str, Column]
    location: Location | None = field(default=None, compare=False, repr=False)
    columns: tuple[NamedColumn, ...] = ()


@dataclass(frozen=True)
class TraitSource:
    """A per-user table beside users (scores, a CRM export), SPEC 8.3: its attributes are
    filtered as `<name>.<attribute>`; with `max_age_hours`, a run whose as_of is more than
    that after the newest `updated_at` fails the segments that read it (a guard)."""

    name: str
    table: str
    id: str
    attributes: dict[str, Column]
    updated_at: Column | None = None
    max_age_hours: float | None = None
    location: Location | None = field(default=None, compare=False, repr=False)
    columns: tuple[NamedColumn, ...] = ()
    #: where `max_age:` was written, for the guard's message
    max_age_location: Location | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Sources:
    users: UsersSource | None = None
    events: EventsSource | None = None
    purchases: PurchasesSource | None = None
    catalogs: dict[str, CatalogSource] = field(default_factory=dict)
    traits: dict[str, TraitSource] = field(default_factory=dict)


def _column(node: Node, key: str, default_type: str | None) -> Column:
    """`name: type`, or `name: {column: col, type: t, unit: u}`."""
    value = node.raw(key)
    if isinstance(value, str):
        kind, column, unit = value, key, None
        if default_type == "time" and value not in TYPES:  # `time: occurred_at`
            kind, column = "time", value
    elif isinstance(value, dict):
        sub = node.child(key, f"column `{key}`")
        sub.check_keys(["column", "type", "unit"])
        column = sub.string("column", key) or key
        kind = sub.string("type", default_type) or default_type or "string"
        unit = sub.string("unit")
    else:
        raise node.fail(f"column `{key}` must be a type or a mapping", "write `name: string` or `name: {column: col, type: string}`", key)
    if kind not in TYPES:
        raise node.fail(f"unknown type {kind!r} for `{key}`", suggest(kind, TYPES), key)
    if unit is not None and (unit not in TIME_UNITS or kind != "time"):
        raise node.fail(f"`unit: {unit}` is only for time columns stored as numbers", f"use unit: {' or '.join(TIME_UNITS)} on a time column", key)
    return Column(column, kind, unit)


def _table(node: Node) -> str:
    """`[database.]schema.table`: one to three non-empty parts, as the target sees it — or a
    file or glob, relative to the project folder, that DuckDB reads."""
    table = (node.string("table", required=True) or "").strip()
    if is_file_table(table):
        if file_suffix(table) is None:
            raise node.fail(f"table {table!r} looks like a file path but does not end in {', '.join(FILE_SUFFIXES)}", "name the files' format, e.g. data/events/*.parquet", "table")
        if any(c in UNSAFE for c in table):
            raise node.fail(f"file table {table!r} holds a quote, semicolon or line break", "rename the files or folder", "table")
        return table
    parts = table.split(".")
    if not 1 <= len(parts) <= 3 or not all(p.strip() for p in parts):
        raise node.fail(f"table {table!r} is not [database.]schema.table", "write e.g. table: main.users", "table")
    return table


def _attributes(node: Node, key: str) -> dict[str, Column]:
    if not node.has(key):
        return {}
    attrs = node.child(key, "attributes")
    return {str(name): _column(attrs, str(name), None) for name in attrs.data}


def _time(node: Node) -> Column:
    col = _column(node, "time", "time")
    if col.type != "time":
        raise node.fail("`time` must be a time column", "drop `type:` or write `type: time`", "time")
    return col


def _named(node: Node, roles: dict[str, str | None], attributes: dict[str, Column] | None = None, attributes_key: str = "attributes") -> tuple[NamedColumn, ...]:
    """The columns a source names, each at its line: `roles` maps a key to its column (None:
    not set), and every attribute's column is at its own line under `attributes_key`."""
    named = [NamedColumn(role, column, node.line(role)) for role, column in roles.items() if column]
    if attributes:
        attrs = node.child(attributes_key, "attributes")
        named += [NamedColumn(f"attribute {name}", col.column, attrs.line(name)) for name, col in attributes.items()]
    return tuple(named)


def _max_age(node: Node) -> float | None:
    """`max_age: {hours: N}` (N > 0); it needs `updated_at`, the column it is measured on."""
    if not node.has("max_age"):
        return None
    if not node.has("updated_at"):
        raise node.fail("`max_age` needs `updated_at`, the column holding when each row was computed", "add `updated_at: <time column>` or drop max_age", "max_age")
    age = node.child("max_age", "max_age")
    age.check_keys(["hours"])
    hours = age.number("hours", required=True)
    if hours is None or hours <= 0:
        raise age.fail(f"`hours` must be above 0, got {hours!r}", "write max_age: {hours: 24}", "hours")
    return float(hours)


def _traits(root: Node, users: UsersSource | None) -> dict[str, TraitSource]:
    """`traits:` — name → {table, id, attributes, updated_at, max_age} (SPEC 8.3)."""
    if not root.has("traits"):
        return {}
    tn = root.child("traits", "traits")
    traits: dict[str, TraitSource] = {}
    for raw_name in tn.data:
        name = str(raw_name)
        if not NAME_RE.match(name):
            raise tn.fail(f"bad trait table name {name!r}", "use lower-case letters, digits and _ (filters read it as <name>.<attribute>)", name)
        if users is not None and name in users.attributes:
            raise tn.fail(f"trait table {name!r} has the name of a users attribute", f"rename it: `attribute: {name}.x` would be ambiguous", name)
        n = tn.child(name, f"trait table {name!r}")
        n.check_keys(["table", "id", "attributes", "updated_at", "max_age"])
        ident = n.string("id", "external_id") or "external_id"
        attributes = _attributes(n, "attributes")
        if not attributes:
            raise n.fail(f"trait table {name!r} declares no attributes", "add attributes: {score: number}", "attributes" if n.has("attributes") else None)
        updated_at = _column(n, "updated_at", "time") if n.has("updated_at") else None
        if updated_at is not None and updated_at.type != "time":
            raise n.fail("`updated_at` must be a time column", "drop `type:` or write `type: time`", "updated_at")
        max_age = _max_age(n)
        roles = {"id": ident, "updated_at": updated_at.column if updated_at else None}
        traits[name] = TraitSource(name, _table(n), ident, attributes, updated_at, max_age, n.loc, _named(n, roles, attributes), n.line("max_age") if max_age else None)
    return traits


def parse_sources(data: Any, loc: Location) -> Sources:
    """Validate sources.yml into typed sources (absent file: no sources)."""
    if data is None:
        return Sources()
    root = Node(data, loc, "sources.yml")
    root.check_keys(["users", "events", "purchases", "catalogs", "traits"])
    users = events = purchases = None
    if root.has("users"):
        n = root.child("users", "the users source")
        n.check_keys(["table", "id", "attributes", "location"])
        lat = lon = None
        named: tuple[NamedColumn, ...] = ()
        if n.has("location"):
            ln = n.child("location", "location")
            ln.check_keys(["lat", "lon"])
            lat, lon = ln.string("lat", required=True), ln.string("lon", required=True)
            named = _named(ln, {"lat": lat, "lon": lon})
        ident = n.string("id", "external_id") or "external_id"
        attributes = _attributes(n, "attributes")
        users = UsersSource(_table(n), ident, attributes, lat, lon, n.loc, _named(n, {"id": ident}, attributes) + named)
    if root.has("events"):
        n = root.child("events", "the events source")
        n.check_keys(["table", "user", "name", "time", "properties"])
        user, name = n.string("user", "external_id") or "external_id", n.string("name", "event_name") or "event_name"
        time, props = _time(n) if n.has("time") else Column("occurred_at", "time"), n.string("properties")
        events = EventsSource(_table(n), user, name, time, props, n.loc, _named(n, {"user": user, "name": name, "time": time.column, "properties": props}))
    if root.has("purchases"):
        n = root.child("purchases", "the purchases source")
        n.check_keys(["table", "user", "time", "product", "price", "quantity", "properties"])
        user, time = n.string("user", "external_id") or "external_id", _time(n) if n.has("time") else Column("purchased_at", "time")
        product, price = n.string("product", "product_id") or "product_id", n.string("price", "price") or "price"
        quantity, props = n.string("quantity"), n.string("properties")
        roles = {"user": user, "time": time.column, "product": product, "price": price, "quantity": quantity, "properties": props}
        purchases = PurchasesSource(_table(n), user, time, product, price, quantity, props, n.loc, _named(n, roles))
    catalogs: dict[str, CatalogSource] = {}
    if root.has("catalogs"):
        cn = root.child("catalogs", "catalogs")
        for cat_name in cn.data:
            n = cn.child(str(cat_name), f"catalog {cat_name!r}")
            n.check_keys(["table", "key", "attributes"])
            key = n.string("key", required=True) or ""
            attributes = _attributes(n, "attributes")
            catalogs[str(cat_name)] = CatalogSource(str(cat_name), _table(n), key, attributes, n.loc, _named(n, {"key": key}, attributes))
    if users is None and events is None and purchases is None:
        raise ProjectError("sources.yml declares no users, events or purchases source", loc, "declare at least `users:`")
    return Sources(users, events, purchases, catalogs, _traits(root, users))
