"""`unit_tests:` (SPEC 6): given rows, a frozen `as_of`, and what the members must be.

Rows are checked against sources.yml here, so a typo in a column or a value of the wrong
type is one error at its line before any table is built: every key of a users, catalog or
trait row is a declared column (or attribute name); events and purchases rows may also
carry other columns, which `column:` conditions read.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from typing import Any

from segsql.definitions.operators import OperatorValueError, parse_instant
from segsql.definitions.reader import Node, type_name
from segsql.definitions.sources import Column, Sources
from segsql.errors import Location, ProjectError
from segsql.project.yaml_lines import plain

TEST_KEYS = ("name", "description", "tags", "segment", "funnel", "as_of", "given", "expect")
GIVEN_KEYS = ("users", "events", "purchases", "catalogs", "traits")
EXPECT_KEYS = ("members", "not_members", "size", "furthest_step")


@dataclass(frozen=True)
class TableRows:
    """Rows for one source table: its declared columns (typed) and every row as a tuple."""

    source: str
    table: str
    columns: tuple[tuple[str, str], ...]
    rows: tuple[tuple[Any, ...], ...]
    location: Location = field(compare=False, repr=False)


@dataclass(frozen=True)
class Expect:
    members: tuple[str, ...] | None = None
    not_members: tuple[str, ...] | None = None
    size: int | None = None
    furthest_step: tuple[tuple[str, int], ...] | None = None


@dataclass(frozen=True)
class UnitTest:
    name: str
    location: Location = field(compare=False, repr=False)
    #: the segment (or funnel) under test
    model: str
    kind: str
    as_of: dt.datetime
    given: tuple[TableRows, ...]
    expect: Expect
    description: str = ""
    tags: tuple[str, ...] = ()

    @property
    def as_of_text(self) -> str:
        return self.as_of.isoformat().replace("+00:00", "Z")


def _value(value: Any, column: Column, where: str) -> Any:
    """A YAML value as the table column of `column`'s type holds it (UTC-naive timestamps)."""
    if value is None:
        return None
    kind = column.type
    if kind == "time" and column.unit is None:
        try:
            return parse_instant(value, "UTC").replace(tzinfo=None)
        except OperatorValueError as err:
            raise ValueError(f"{where}: {err}") from None
    if kind in ("number", "time"):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ValueError(f"{where} must be a number, got {value!r}")
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise ValueError(f"{where} must be true or false, got {value!r}")
        return value
    if kind == "array":
        if not isinstance(value, list) or any(isinstance(v, dict | list) for v in value):
            raise ValueError(f"{where} must be a list of values, got {type_name(value)}")
        return [None if v is None else str(v) for v in value]
    if kind == "object":
        return json.dumps(plain(value), default=str)
    if isinstance(value, dict | list):
        raise ValueError(f"{where} must be text, got {type_name(value)}")
    return str(value).lower() if isinstance(value, bool) else str(value)


def _guess(values: list[Any]) -> str:
    """The type of an undeclared column, from the YAML values given for it."""
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return "boolean"
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return "number"
    if present and all(isinstance(v, dt.datetime) for v in present):
        return "time"
    if present and all(isinstance(v, list) for v in present):
        return "array"
    if present and all(isinstance(v, dict) for v in present):
        return "object"
    return "string"


def _columns(sources: Sources, key: str, name: str | None, node: Node) -> tuple[str, dict[str, Column], dict[str, str], bool]:
    """(table, column → typed column, accepted key → column, extra columns allowed) of one source."""
    if key == "users" and sources.users is not None:
        u = sources.users
        cols = {u.id: Column(u.id, "string"), **{c.column: c for c in u.attributes.values()}}
        for loc_col in (u.lat, u.lon):
            if loc_col:
                cols[loc_col] = Column(loc_col, "number")
        return u.table, cols, {n: c.column for n, c in u.attributes.items()}, False
    if key == "events" and sources.events is not None:
        e = sources.events
        cols = {e.user: Column(e.user, "string"), e.name: Column(e.name, "string"), e.time.column: e.time}
        if e.properties:
            cols[e.properties] = Column(e.properties, "object")
        return e.table, cols, {}, True
    if key == "purchases" and sources.purchases is not None:
        p = sources.purchases
        cols = {p.user: Column(p.user, "string"), p.time.column: p.time, p.product: Column(p.product, "string"), p.price: Column(p.price, "number")}
        if p.quantity:
            cols[p.quantity] = Column(p.quantity, "number")
        if p.properties:
            cols[p.properties] = Column(p.properties, "object")
        return p.table, cols, {}, True
    if key == "catalogs" and name in sources.catalogs:
        c = sources.catalogs[name]
        return c.table, {c.key: Column(c.key, "string"), **{a.column: a for a in c.attributes.values()}}, {n: a.column for n, a in c.attributes.items()}, False
    if key == "traits" and name in sources.traits:
        t = sources.traits[name]
        cols = {t.id: Column(t.id, "string"), **{a.column: a for a in t.attributes.values()}}
        if t.updated_at is not None:
            cols[t.updated_at.column] = t.updated_at
        return t.table, cols, {n: a.column for n, a in t.attributes.items()}, False
    what = f"{key} {name!r}" if name else f"a {key} source"
    raise node.fail(f"rows are given for {what}, which models/sources.yml does not declare", "declare it in models/sources.yml or drop these rows", name or key)


def _table_rows(node: Node, key: str, name: str | None, sources: Sources) -> TableRows:
    table, declared, aliases, open_ended = _columns(sources, key, name, node)
    items = node.items(name or key, "row") if node.raw(name or key) else []
    rows: list[tuple[Location, dict[str, Any]]] = []
    extra: dict[str, list[Any]] = {}
    for item, loc in items:
        row = Node(item, loc, f"a given {key} row")
        out: dict[str, Any] = {}
        for raw_key, value in row.data.items():
            col = aliases.get(str(raw_key), str(raw_key))
            if col not in declared and not open_ended:
                known = ", ".join(declared)
                raise row.fail(f"unknown column {raw_key!r} in a given {name or key} row", f"use the columns sources.yml declares: {known}", str(raw_key))
            if col not in declared:
                extra.setdefault(col, []).append(value)
            out[col] = value
        rows.append((row.loc, out))
    columns = dict(declared)
    columns.update({c: Column(c, _guess(vs)) for c, vs in extra.items()})
    typed: list[tuple[Any, ...]] = []
    for loc, row_data in rows:
        values = []
        for col, spec in columns.items():
            try:
                values.append(_value(row_data.get(col), spec, f"column {col!r} ({spec.type})"))
            except ValueError as err:
                raise ProjectError(f"bad value in a given {name or key} row: {err}", loc, "give a value of the declared type (or leave the column out for a missing value)") from None
        typed.append(tuple(values))
    kinds = tuple((col, _kind(spec)) for col, spec in columns.items())
    return TableRows(f"{key}:{name}" if name else key, table, kinds, tuple(typed), node.line(name or key))


def _kind(column: Column) -> str:
    """The logical table type of a column (as `Adapter.load_rows` names them)."""
    if column.type == "time":
        return "TIMESTAMP" if column.unit is None else "BIGINT"
    return {"string": "VARCHAR", "number": "DOUBLE", "boolean": "BOOLEAN", "array": "VARCHAR[]", "object": "JSON"}[column.type]


def _declared(sources: Sources) -> list[tuple[str, str | None]]:
    """Every table of sources.yml, as (given key, name): each gets a table in a test, empty unless given."""
    out: list[tuple[str, str | None]] = [(k, None) for k in ("users", "events", "purchases") if getattr(sources, k) is not None]
    out += [("catalogs", name) for name in sources.catalogs]
    out += [("traits", name) for name in sources.traits]
    return out


def _given(node: Node, sources: Sources) -> tuple[TableRows, ...]:
    """The rows of every declared source table (a source not given is an empty table)."""
    given = node.child("given", "given") if node.has("given") else Node({}, node.line("given"), "given")
    given.check_keys(GIVEN_KEYS)
    for key in ("users", "events", "purchases"):
        if given.raw(key) is not None and not isinstance(given.raw(key), list):
            raise given.fail(f"`given.{key}` must be a list of rows", f"write {key}: [{{...}}, ...]", key)
    groups = {key: given.child(key, f"given {key}") if given.raw(key) is not None else Node({}, given.loc, f"given {key}") for key in ("catalogs", "traits")}
    for key, group in groups.items():
        for name in group.data:
            if group.raw(str(name)) is not None and not isinstance(group.raw(str(name)), list):
                raise group.fail(f"`given.{key}.{name}` must be a list of rows", f"write {name}: [{{...}}, ...]", str(name))
            _columns(sources, key, str(name), group)  # rows for an undeclared catalog or trait table
    for key in ("users", "events", "purchases"):
        if given.has(key):
            _columns(sources, key, None, given)
    return tuple(_table_rows(groups[key] if name else given, key, name, sources) for key, name in _declared(sources))


def _ids(node: Node, key: str) -> tuple[str, ...] | None:
    if not node.has(key):
        return None
    value = node.raw(key)
    if value is None:
        return ()
    if not isinstance(value, list) or any(isinstance(v, dict | list | bool) or v is None for v in value):
        raise node.fail(f"`{key}` must be a list of external ids", f"write {key}: [u1, u2]", key)
    return tuple(str(v) for v in value)


def _expect(node: Node, kind: str) -> Expect:
    expect = node.child("expect", "expect") if node.has("expect") else None
    if expect is None or not expect.data:
        wanted = "furthest_step" if kind == "funnel" else "members, not_members or size"
        raise node.fail("a unit test needs `expect`", f"add expect: with {wanted}")
    expect.check_keys(EXPECT_KEYS)
    size = expect.number("size", minimum=0)
    if size is not None and size != int(size):
        raise expect.fail(f"`size` must be a whole number, got {size}", "write size: 3", "size")
    steps = None
    if expect.has("furthest_step"):
        if kind != "funnel":
            raise expect.fail("`furthest_step` is for a funnel test", "test a funnel with `funnel:` instead of `segment:`, or drop furthest_step", "furthest_step")
        fs = expect.child("furthest_step", "furthest_step")
        steps = tuple((str(user), int(fs.number(str(user), required=True, minimum=0) or 0)) for user in fs.data)
    return Expect(_ids(expect, "members"), _ids(expect, "not_members"), int(size) if size is not None else None, steps)


def parse_unit_test(data: Any, loc: Location, sources: Sources) -> UnitTest:
    """One entry of a `unit_tests:` list."""
    node = Node(data, loc, "unit test")
    node.check_keys(TEST_KEYS)
    name = node.model_name("unit test")
    kinds = [k for k in ("segment", "funnel") if node.has(k)]
    if len(kinds) != 1:
        raise node.fail("a unit test names one `segment:` or one `funnel:`" + (" (it has both)" if kinds else ""), "write segment: <name> (or funnel: <name>)")
    kind = kinds[0]
    model = node.string(kind, required=True) or ""
    as_of_text = node.raw("as_of")
    if as_of_text is None:
        raise node.fail("a unit test needs a frozen `as_of`", 'add as_of: "2026-11-22T12:00:00Z" (a test must not depend on the day it runs)')
    try:
        as_of = parse_instant(as_of_text, "UTC")
    except OperatorValueError as err:
        raise node.fail(f"bad `as_of`: {err}", 'write as_of: "2026-11-22T12:00:00Z"', "as_of") from None
    return UnitTest(
        name=name,
        location=node.loc,
        model=model,
        kind=kind,
        as_of=as_of,
        given=_given(node, sources),
        expect=_expect(node, kind),
        description=node.string("description", "") or "",
        tags=node.string_list("tags"),
    )

