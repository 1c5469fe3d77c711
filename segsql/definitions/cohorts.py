"""Cohort retention definitions (SPEC 8.2): entry, return, period, periods, window, audience, breakdown.

A cohort is a model node of the DAG (it reads its audience segment). The entry is the first
occurrence of an event or purchase filter (rows only: `event`/`purchase` with `where`), or a
time attribute of the users source; the return is an event or purchase filter of the same
form. Every mistake is one error at the line where the user can fix it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from segsql.definitions.canonical import body_hash
from segsql.definitions.filters import CatalogCondition, RowCondition, ValueRef, Window
from segsql.definitions.parse_behaviour import parse_rows, parse_window
from segsql.definitions.parse_filters import FilterContext
from segsql.definitions.reader import Node
from segsql.errors import Location, ProjectError
from segsql.project.yaml_lines import plain
from segsql.util.suggest import suggest

PERIODS = ("day", "week", "month")
BREAKDOWN_TYPES = ("string", "boolean")
#: the table a cohort writes is `cohort_<name>` (SPEC 8.2)
TABLE_PREFIX = "cohort_"
#: the columns of that table besides the breakdown, which may not take one of these names
COLUMNS = ("cohort_start", "period", "cohort_size", "returned", "retention")
#: the most periods a cohort may count (one output row per cohort and period)
MAX_PERIODS = 1000
COHORT_KEYS = ("name", "description", "tags", "entry", "return", "period", "periods", "entered_within", "audience", "breakdown", "meta")
ROW_KEYS = ("event", "purchase", "where")


@dataclass(frozen=True)
class CohortRows:
    """Which rows of events or purchases an entry or a return takes (`names` None: any purchase)."""

    source: str
    names: tuple[str, ...] | None
    where: tuple[RowCondition | CatalogCondition, ...]


@dataclass(frozen=True)
class Cohort:
    kind: ClassVar[str] = "cohort"

    name: str
    location: Location = field(compare=False, repr=False)
    #: the entry rows, or None when the entry is the time attribute `entry_attribute`
    entry: CohortRows | None
    returns: CohortRows
    period: str
    periods: int
    entry_attribute: ValueRef | None = None
    entered_within: Window | None = None
    audience: str | None = None
    audience_location: Location | None = field(default=None, compare=False, repr=False)
    breakdown: ValueRef | None = None
    description: str = ""
    tags: tuple[str, ...] = ()
    #: what its result reads outside its YAML (sources, time zone), canonical: part of membership_hash
    environment: Any = field(default=None, compare=False, repr=False)
    #: the entry as rendered from YAML (plain data): what `diff` rebuilds the old cohort from
    yaml: Any = field(default=None, compare=False, repr=False)

    @property
    def path(self) -> str:
        return self.location.file

    @property
    def table(self) -> str:
        return TABLE_PREFIX + self.name

    def dependencies(self) -> tuple[str, ...]:
        return (self.audience,) if self.audience else ()

    def dependency_locations(self) -> list[tuple[str, Location]]:
        return [(self.audience, self.audience_location or self.location)] if self.audience else []

    def membership_hash(self) -> str:
        """Changes when the table may change: not with a description, tags or a moved line."""
        return body_hash(self, self.environment)

    def metadata_hash(self) -> str:
        return hashlib.sha256(json.dumps([self.description, list(self.tags)]).encode()).hexdigest()[:16]


#: keys of an event or purchase filter that a cohort's entry or return does not take, and why
_NOT_HERE = {
    "within": "a cohort's `entered_within:` limits the entry, and its `period:` and `periods:` bound the returns",
    **{m: "an entry or a return is an occurrence, so it takes no measure" for m in ("count", "sum", "avg", "min", "max", "count_distinct", "revenue", "first", "last")},
    "attribute": "an attribute entry is written {attribute: signup_at} alone; a return is an event or purchase filter",
}


def _rows(node: Node, key: str, ctx: FilterContext, what: str) -> CohortRows:
    """`{event: name | [names]}` or `{purchase: any | id | [ids]}` with `where:`, nothing else."""
    rows = node.child(key, what)
    for extra in rows.data:
        if extra in _NOT_HERE:
            raise rows.fail(f"a {what} takes no `{extra}`", _NOT_HERE[str(extra)], str(extra))
    rows.check_keys(ROW_KEYS)
    return CohortRows(*parse_rows(rows, ctx, what))


def _entry_attribute(node: Node, ctx: FilterContext) -> ValueRef:
    """`entry: {attribute: signup_at}`: a time attribute of the users source."""
    entry = node.child("entry", "cohort entry")
    entry.check_keys(["attribute"])
    name = entry.string("attribute", required=True) or ""
    users = ctx.sources.users
    if users is None:
        raise entry.fail("an attribute entry needs a users source", "declare `users:` in models/sources.yml", "attribute")
    column = users.attributes.get(name)
    if column is None:
        raise entry.fail(f"unknown users attribute {name!r}", suggest(name, users.attributes, what="users attribute"), "attribute")
    if column.type != "time":
        times = [n for n, c in users.attributes.items() if c.type == "time"]
        raise entry.fail(
            f"attribute {name!r} is of type {column.type}; an entry attribute is a time",
            f"use a time attribute ({', '.join(times)})" if times else "declare a time attribute such as signup_at: time in models/sources.yml",
            "attribute",
        )
    return ValueRef(name, column.column, "time", (), column.unit)


def _breakdown(node: Node, ctx: FilterContext) -> ValueRef | None:
    if not node.has("breakdown"):
        return None
    name = node.string("breakdown", required=True) or ""
    users = ctx.sources.users
    if users is None:
        raise node.fail("`breakdown` needs a users source", "declare `users:` in models/sources.yml", "breakdown")
    column = users.attributes.get(name)
    if column is None:
        raise node.fail(f"unknown breakdown attribute {name!r}", suggest(name, users.attributes, what="users attribute"), "breakdown")
    if column.type not in BREAKDOWN_TYPES:
        raise node.fail(
            f"breakdown attribute {name!r} is of type {column.type}; a breakdown groups by a {' or '.join(BREAKDOWN_TYPES)} attribute",
            "break down by a string attribute such as country, or filter on this one in the audience segment",
            "breakdown",
        )
    if name.lower() in COLUMNS:
        raise node.fail(f"breakdown attribute {name!r} has the name of a column of the cohort table", f"the table's columns are {', '.join(COLUMNS)}: break down by another attribute", "breakdown")
    return ValueRef(name, column.column, column.type, (), column.unit)


def parse_cohort(data: Any, loc: Location, ctx: FilterContext) -> Cohort:
    """One entry of a `cohorts:` list (the audience is checked against the segments later)."""
    node = Node(data, loc, "cohort")
    node.check_keys(COHORT_KEYS)
    name = node.model_name("cohort")
    entry_value = node.required("entry")
    entry_attribute = _entry_attribute(node, ctx) if isinstance(entry_value, dict) and "attribute" in entry_value else None
    entry = None if entry_attribute is not None else _rows(node, "entry", ctx, "cohort entry")
    node.required("return")
    returns = _rows(node, "return", ctx, "cohort return")
    period = node.string("period", required=True) or ""
    if period not in PERIODS:
        raise node.fail(f"unknown period {period!r}", suggest(period, PERIODS), "period")
    count = node.number("periods", required=True, minimum=0) or 0
    periods = int(count)
    if periods != count or periods > MAX_PERIODS:
        raise node.fail(f"`periods` must be a whole number from 0 to {MAX_PERIODS}, got {node.raw('periods')!r}", "write periods: 12 (periods 0..12 after the entry period)", "periods")
    audience = node.string("audience")
    return Cohort(
        name=name,
        location=node.loc,
        entry=entry,
        returns=returns,
        period=period,
        periods=periods,
        entry_attribute=entry_attribute,
        entered_within=parse_window(node, "entered_within", ctx) if node.has("entered_within") else None,
        audience=audience,
        audience_location=node.line("audience") if audience else None,
        breakdown=_breakdown(node, ctx),
        description=node.string("description", "") or "",
        tags=node.string_list("tags"),
        yaml=plain(data),
    )


def check_cohorts(cohorts: Mapping[str, Cohort], models: Mapping[str, Any], segments: Mapping[str, Any], taken: Mapping[str, str]) -> None:
    """Audiences name segments; a cohort's name is free among all models and its table among all tables.

    `taken` maps lower-case table names a run already writes or reads to what owns them."""
    for cohort in cohorts.values():
        if cohort.name in models:
            other = models[cohort.name]
            raise ProjectError(f"cohort {cohort.name!r} has the name of a {other.kind}", cohort.location, f"rename one of them (the {other.kind} is at {other.location})")
        if cohort.audience is not None and cohort.audience not in segments:
            raise ProjectError(
                f"cohort {cohort.name!r} has unknown audience segment {cohort.audience!r}",
                cohort.audience_location or cohort.location,
                suggest(cohort.audience, segments, what="segment"),
            )
        owner = taken.get(cohort.table.lower())
        if owner is not None:
            raise ProjectError(f"cohort {cohort.name!r} would write table {cohort.table!r}, {owner}", cohort.location, "rename the cohort")
        if len(cohort.table.encode()) > 63:
            raise ProjectError(
                f"cohort {cohort.name!r} would write table {cohort.table!r}, {len(cohort.table.encode())} characters; PostgreSQL and Redshift cut names at 63",
                cohort.location,
                "shorten the cohort name (the table adds cohort_)",
            )
