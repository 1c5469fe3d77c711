"""Funnel definitions (SPEC section 4): steps, order, windows, exclusions, hold_constant, trends.

A funnel is parsed into frozen dataclasses with the file and line of every part, and
everything SPEC 4 forbids (`any` order with `within_previous` or exclusions, an exclusion
naming a step that does not exist, hold lists of different lengths, an unknown audience
or breakdown) is one error at the line where the user can fix it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from segsql.definitions.canonical import body_hash
from segsql.definitions.feasible import possible
from segsql.definitions.filters import (
    CatalogCondition,
    FunnelFilter,
    RowCondition,
    ValueRef,
    Window,
    walk,
)
from segsql.definitions.parse_behaviour import parse_duration, parse_rows, parse_window
from segsql.definitions.parse_filters import FilterContext
from segsql.definitions.reader import Node
from segsql.errors import Location, ProjectError
from segsql.project.yaml_lines import plain
from segsql.util.suggest import suggest

ORDERS = ("sequential", "strict", "any")
PERIODS = ("day", "week", "month")
HOLD_TYPES = ("string", "number")
BREAKDOWN_TYPES = ("string", "boolean")
DEFAULT_WINDOW_S = 30 * 86400.0
FUNNEL_KEYS = (
    "name", "description", "tags", "steps", "order", "conversion_window", "entered_within",
    "exclusions", "audience", "breakdown", "hold_constant", "trends", "meta",
)
STEP_KEYS = ("event", "purchase", "where", "name", "within_previous", "hold")


@dataclass(frozen=True)
class RowFilter:
    """Which rows of events or purchases a step or an exclusion takes (`names` None: any purchase)."""

    source: str
    names: tuple[str, ...] | None
    where: tuple[RowCondition | CatalogCondition, ...]

    def may_overlap(self, other: RowFilter) -> bool:
        """Could one row match both? Rows of two sources never do; otherwise their names must meet."""
        if self.source != other.source:
            return False
        if self.names is None or other.names is None:
            return True
        return bool(set(self.names) & set(other.names))


@dataclass(frozen=True)
class FunnelStep:
    rows: RowFilter
    name: str
    location: Location = field(compare=False, repr=False)
    within_previous_s: float | None = None
    #: the values held constant, read from this step's own row (the funnel's list, or its own `hold:`)
    hold: tuple[ValueRef, ...] = ()


@dataclass(frozen=True)
class Exclusion:
    """A path is void if a matching row falls strictly between steps `after` and `before` (1-based)."""

    rows: RowFilter
    after: int
    before: int
    location: Location = field(compare=False, repr=False)


@dataclass(frozen=True)
class Funnel:
    kind: ClassVar[str] = "funnel"

    name: str
    location: Location = field(compare=False, repr=False)
    steps: tuple[FunnelStep, ...]
    order: str = "sequential"
    window_s: float = DEFAULT_WINDOW_S
    entered_within: Window | None = None
    exclusions: tuple[Exclusion, ...] = ()
    audience: str | None = None
    audience_location: Location | None = field(default=None, compare=False, repr=False)
    breakdown: ValueRef | None = None
    trends: str | None = None
    description: str = ""
    tags: tuple[str, ...] = ()
    #: what its result reads outside its YAML (sources, time zone), canonical: part of membership_hash
    environment: Any = field(default=None, compare=False, repr=False)
    #: the entry as rendered from YAML (plain data): what `diff` rebuilds the old definition from
    yaml: Any = field(default=None, compare=False, repr=False)

    @property
    def path(self) -> str:
        return self.location.file

    @property
    def holds(self) -> int:
        """How many values every step holds constant."""
        return len(self.steps[0].hold)

    def dependencies(self) -> tuple[str, ...]:
        return (self.audience,) if self.audience else ()

    def dependency_locations(self) -> list[tuple[str, Location]]:
        return [(self.audience, self.audience_location or self.location)] if self.audience else []

    def membership_hash(self) -> str:
        """Changes when a result may change (its steps, or the sources and time zone it reads): not with a description, tags or a moved line."""
        return body_hash(self, self.environment)

    def metadata_hash(self) -> str:
        return hashlib.sha256(json.dumps([self.description, list(self.tags)]).encode()).hexdigest()[:16]


def _rows(node: Node, ctx: FilterContext, what: str) -> RowFilter:
    """`event: name | [names]` or `purchase: any | id | [ids]`, with `where:` (no measures)."""
    return RowFilter(*parse_rows(node, ctx, what))


def _hold_list(node: Node, key: str) -> tuple[tuple[Any, Location, Node], ...]:
    """The raw entries of a hold list, each as a checked Node (resolved per step later)."""
    out = []
    for item, loc in node.items(key, "value to hold constant"):
        entry = Node(item, loc, "hold_constant entry")
        entry.check_keys(["property", "column", "type"])
        if entry.has("property") == entry.has("column"):
            raise entry.fail("a hold_constant entry names one `property:` or one `column:`", "write {property: product_id} or {column: product_id}")
        kind = entry.string("type", "string") or "string"
        if kind not in HOLD_TYPES:
            raise entry.fail(f"a held value is compared as {' or '.join(HOLD_TYPES)}, not {kind!r}", f"use type: {HOLD_TYPES[0]} (the default) or {HOLD_TYPES[1]}", "type")
        out.append((item, loc, entry))
    return tuple(out)


def _hold_refs(entries: tuple[tuple[Any, Location, Node], ...], rows: RowFilter, ctx: FilterContext, where: Location) -> tuple[ValueRef, ...]:
    """Resolve hold entries against one step's source: a JSON path of its properties or a real column."""
    source = ctx.sources.events if rows.source == "events" else ctx.sources.purchases
    assert source is not None
    refs = []
    for _, _, entry in entries:
        kind = entry.string("type", "string") or "string"
        if entry.has("property"):
            if not source.properties:
                raise ProjectError(
                    f"a {rows.source} step holds a property, but the {rows.source} source has no `properties:` column",
                    where,
                    f"declare properties: <json column> for {rows.source} in models/sources.yml, or give this step its own `hold: [{{column: ...}}]`",
                )
            path = entry.string("property", required=True) or ""
            refs.append(ValueRef(path, source.properties, kind, tuple(path.split("."))))
        else:
            name = entry.string("column", required=True) or ""
            refs.append(ValueRef(name, name, kind))
    return tuple(refs)


def _step_name(rows: RowFilter) -> str:
    if rows.names is None:
        return "purchase"
    label = " or ".join(rows.names)
    return label if rows.source == "events" else f"purchase {label}"


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
    return ValueRef(name, column.column, column.type, (), column.unit)


def parse_funnel(data: Any, loc: Location, ctx: FilterContext) -> Funnel:
    """One entry of a `funnels:` list (the audience is checked against the segments later)."""
    node = Node(data, loc, "funnel")
    node.check_keys(FUNNEL_KEYS)
    name = node.model_name("funnel")
    order = node.string("order", "sequential") or "sequential"
    if order not in ORDERS:
        raise node.fail(f"unknown order {order!r}", suggest(order, ORDERS), "order")
    hold_default = _hold_list(node, "hold_constant") if node.has("hold_constant") else ()

    steps: list[FunnelStep] = []
    hold_sizes: list[tuple[int, Location]] = []
    for i, (item, step_loc) in enumerate(node.items("steps", "step")):
        sn = Node(item, step_loc, f"step {i + 1} of funnel {name!r}")
        sn.check_keys(STEP_KEYS)
        rows = _rows(sn, ctx, "funnel step")
        within = None
        if sn.has("within_previous"):
            if i == 0:
                raise sn.fail("the first step has no previous step", "move within_previous to a later step", "within_previous")
            if order == "any":
                raise sn.fail("`within_previous` needs an order: in `any` order there is no previous step", "drop within_previous or use order: sequential", "within_previous")
            within = parse_duration(sn, "within_previous")
        own = _hold_list(sn, "hold") if sn.has("hold") else None
        entries = own if own is not None else hold_default
        hold_loc = sn.line("hold") if own is not None else node.line("hold_constant")
        hold = _hold_refs(entries, rows, ctx, hold_loc if entries else sn.loc)
        hold_sizes.append((len(hold), sn.line("hold") if own is not None else sn.loc))
        steps.append(FunnelStep(rows, sn.string("name", _step_name(rows)) or _step_name(rows), sn.loc, within, hold))
    sizes = {size for size, _ in hold_sizes}
    if len(sizes) > 1:
        size, where = next((s, w) for s, w in hold_sizes if s != hold_sizes[0][0])
        raise ProjectError(
            f"step holds {size} value(s) but step 1 holds {hold_sizes[0][0]}: held values are compared position by position",
            where,
            "give every step's `hold:` as many entries as hold_constant (the same values, read from each step's own row)",
        )

    exclusions: list[Exclusion] = []
    if node.has("exclusions"):
        if order == "any":
            raise node.fail("exclusions need an order: in `any` order no step comes between two others", "drop exclusions or use order: sequential", "exclusions")
        for item, ex_loc in node.items("exclusions", "exclusion"):
            xn = Node(item, ex_loc, "exclusion")
            xn.check_keys(["event", "purchase", "where", "between"])
            rows = _rows(xn, ctx, "exclusion")
            between = xn.required("between")
            if not (isinstance(between, list) and len(between) == 2 and all(isinstance(b, int) and not isinstance(b, bool) for b in between)):
                raise xn.fail("`between` takes two step numbers", "write between: [2, 3] (strictly between steps 2 and 3)", "between")
            after, before = between
            if not 1 <= after < before <= len(steps):
                raise xn.fail(
                    f"between: [{after}, {before}] does not name two steps of this funnel in order (it has {len(steps)})",
                    f"use step numbers 1..{len(steps)} with the first smaller, e.g. between: [1, {len(steps)}]",
                    "between",
                )
            exclusions.append(Exclusion(rows, after, before, xn.loc))

    window_s = DEFAULT_WINDOW_S
    if node.has("conversion_window"):
        window_s = parse_duration(node, "conversion_window")
    trends = None
    if node.has("trends"):
        tn = node.child("trends", "trends")
        tn.check_keys(["period"])
        trends = tn.string("period", required=True) or ""
        if trends not in PERIODS:
            raise tn.fail(f"unknown trends period {trends!r}", suggest(trends, PERIODS), "period")
    audience = node.string("audience")
    return Funnel(
        name=name,
        location=node.loc,
        steps=tuple(steps),
        order=order,
        window_s=window_s,
        entered_within=parse_window(node, "entered_within", ctx) if node.has("entered_within") else None,
        exclusions=tuple(exclusions),
        audience=audience,
        audience_location=node.line("audience") if audience else None,
        breakdown=_breakdown(node, ctx),
        trends=trends,
        description=node.string("description", "") or "",
        tags=node.string_list("tags"),
        yaml=plain(data),
    )


def check_funnels(funnels: dict[str, Funnel], segments: dict[str, Any]) -> None:
    """Audiences name segments of the project; `funnel:` leaves name funnels and a step count
    some user can have (0 .. the funnel's steps)."""
    for funnel in funnels.values():
        if funnel.audience is not None and funnel.audience not in segments:
            raise ProjectError(
                f"funnel {funnel.name!r} has unknown audience segment {funnel.audience!r}",
                funnel.audience_location or funnel.location,
                suggest(funnel.audience, segments, what="segment"),
            )

    for seg in segments.values():
        for leaf in walk(seg.where) if getattr(seg, "where", None) is not None else ():
            if isinstance(leaf, FunnelFilter):
                check_leaf(leaf, funnels)


def check_leaf(leaf: FunnelFilter, funnels: Mapping[str, Funnel]) -> None:
    funnel = funnels.get(leaf.funnel)
    if funnel is None:
        raise ProjectError(f"unknown funnel {leaf.funnel!r}", leaf.location, suggest(leaf.funnel, funnels, what="funnel"))
    k = len(funnel.steps)
    if not possible((leaf.condition,), 0, k):
        raise ProjectError(
            f"furthest_step can never satisfy this comparison: funnel {funnel.name!r} has steps 1..{k} (0 = never entered)",
            leaf.location,
            f"compare with a number from 0 to {k}",
        )
