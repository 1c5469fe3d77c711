"""YAML → behavioural filter nodes: events, purchases, sequences and RFM (SPEC 3.4–3.7)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from segsql.definitions.feasible import require_in_range, require_possible
from segsql.definitions.filters import (
    BehaviourFilter,
    CatalogCondition,
    Condition,
    Filter,
    Measure,
    RfmFilter,
    RowCondition,
    SequenceFilter,
    SequenceStep,
    ValueRef,
    Window,
)
from segsql.definitions.operators import (
    ALL_OPERATORS,
    OPERATORS,
    OperatorValueError,
    parse_instant,
    type_for_operator,
)
from segsql.definitions.reader import Node
from segsql.util.suggest import suggest

if TYPE_CHECKING:  # parse_filters imports this module
    from segsql.definitions.parse_filters import FilterContext

NUMBER_MEASURES = ("count", "sum", "avg", "min", "max", "count_distinct")
TIME_MEASURES = ("first", "last")
DURATION_UNITS = {"minutes": 60, "hours": 3600, "days": 86400}
RFM_PARTS = ("recency", "frequency", "monetary")
WINDOW_KEYS = ("last_days", "last_hours", "since", "until")


def parse_window(node: Node, key: str, ctx: FilterContext) -> Window:
    """`{last_days: N}`, `{last_hours: N}` or `{since: T1, until: T2}` (dates in the project zone)."""
    w = node.child(key, "window")
    w.check_keys(WINDOW_KEYS)
    kinds = [k for k in ("last_days", "last_hours") if w.has(k)]
    if kinds:
        if len(w.data) > 1:
            other = next(k for k in w.data if k != kinds[0])
            raise w.fail(f"a window takes one of last_days, last_hours or since/until, not {kinds[0]} and {other}", f"drop `{other}`", str(other))
        amount = w.number(kinds[0], required=True, minimum=0)
        return Window(kinds[0], float(amount or 0))
    if not w.has("since") and not w.has("until"):
        raise w.fail("a window needs last_days, last_hours, or since/until", "write within: {last_days: 30}")
    bounds = []
    for bound in ("since", "until"):
        try:
            bounds.append(parse_instant(w.raw(bound), ctx.timezone) if w.has(bound) else None)
        except OperatorValueError as err:
            raise w.fail(f"bad `{bound}`: {err}", "use a date or an ISO datetime", bound) from None
    since, until = bounds
    if since is not None and until is not None and since >= until:
        raise w.fail(
            f"the window [since, until) is empty: since {w.raw('since')} is not before until {w.raw('until')}",
            "make `since` earlier than `until` (until is exclusive)",
            "until",
        )
    return Window("range", 0, since, until)


def parse_duration(node: Node, key: str) -> float:
    """`{hours: N}` (or minutes/days) in seconds."""
    d = node.child(key, key)
    d.check_keys(list(DURATION_UNITS))
    if len(d.data) != 1:
        raise d.fail(f"`{key}` takes one of {', '.join(DURATION_UNITS)}", f"write {key}: {{hours: 24}}")
    unit = next(iter(d.data))
    return float(d.number(unit, required=True, minimum=0) or 0) * DURATION_UNITS[unit]


def _infer_type(node: Node) -> str:
    """`type:`, else the operator's type, else the YAML type of an equality value, else string."""
    explicit = node.string("type")
    if explicit is not None:
        if explicit not in OPERATORS:
            raise node.fail(f"unknown type {explicit!r}", suggest(explicit, OPERATORS), "type")
        return explicit
    for op in (k for k in node.data if k in ALL_OPERATORS):
        implied = type_for_operator(op)
        if implied:
            return implied
        if op in ("equals", "not_equals", "in", "not_in"):
            value = node.raw(op)
            value = value[0] if isinstance(value, list) and value else value
            if isinstance(value, bool):
                return "boolean"
            if isinstance(value, int | float):
                return "number"
    return "string"


def _row_value(node: Node, source: Any, kind: str, what: str) -> ValueRef:
    if node.has("property"):
        if not source.properties:
            raise node.fail(f"the {what} source has no `properties:` column", f"declare properties: <json column> for {what} in models/sources.yml", "property")
        path = node.string("property", required=True) or ""
        return ValueRef(path, source.properties, kind, tuple(path.split(".")))
    name = node.string("column", required=True) or ""
    return ValueRef(name, name, kind)


def parse_row_conditions(node: Node, key: str, source: Any, what: str, ctx: FilterContext) -> tuple[RowCondition | CatalogCondition, ...]:
    """The `where:` list of an event, purchase or sequence step; conditions are ANDed per row."""
    from segsql.definitions.parse_filters import parse_attribute_filters, parse_condition

    out: list[RowCondition | CatalogCondition] = []
    for item, loc in node.items(key, "condition"):
        cn = Node(item, loc, f"{what} condition")
        if not cn.has("property") and not cn.has("column"):
            raise cn.fail(f"a {what} condition needs `property:` or `column:`", "write {property: query, equals: x}")
        if cn.has("catalog"):
            cn.check_keys(["property", "column", "catalog", "where"])
            name = cn.string("catalog", required=True) or ""
            catalog = ctx.sources.catalogs.get(name)
            if catalog is None:
                raise cn.fail(f"unknown catalog {name!r}", suggest(name, ctx.sources.catalogs, what="catalog declared under catalogs: in models/sources.yml"), "catalog")
            filters = parse_attribute_filters(cn, "where", catalog.attributes, ctx, f"catalog {name!r}") if cn.has("where") else ()
            out.append(CatalogCondition(name, _row_value(cn, source, "string", what), filters))
            continue
        kind = _infer_type(cn)
        ref = _row_value(cn, source, kind, what)
        cn.what = f"condition on {ref.name!r}"
        out.append(RowCondition(ref, parse_condition(cn, kind, ctx, f"{what} {'property' if ref.path else 'column'} {ref.name!r}", ("property", "column", "type"))))
    return tuple(out)


def _measures(node: Node, kind: str, source: Any, what: str, ctx: FilterContext) -> list[Measure]:
    """One measure key; several operators in it (`count: {gte: 2, lt: 5}`) are ANDed."""
    from segsql.definitions.parse_filters import parse_conditions

    m = node.child(kind, f"`{kind}`")
    if kind in TIME_MEASURES:
        return [Measure(kind, c) for c in parse_conditions(m, "time", ctx, f"{kind} occurrence time", ())]
    if kind in ("count", "revenue"):
        conditions = parse_conditions(m, "number", ctx, kind, ())
        if kind == "count":
            require_possible(m, conditions, "a count", 0, math.inf)
        return [Measure(kind, c) for c in conditions]
    value_type = (m.string("type", "string") or "string") if kind == "count_distinct" else "number"
    value = _row_value(m, source, value_type, what)
    conditions = parse_conditions(m, "number", ctx, f"{kind} of {value.name!r}", ("property", "column", "type"))
    if kind == "count_distinct":
        require_possible(Node({k: v for k, v in m.data.items() if k in ALL_OPERATORS}, m.loc, m.what), conditions, "a distinct count", 0, math.inf)
    return [Measure(kind, c, value) for c in conditions]


def parse_behaviour(node: Node, kind: str, ctx: FilterContext) -> Filter:
    """An `event:` or `purchase:` leaf."""
    sources = ctx.sources
    source = sources.events if kind == "event" else sources.purchases
    table = "events" if kind == "event" else "purchases"
    if source is None:
        raise node.fail(f"`{kind}` filters need a {table} source", f"declare `{table}:` in models/sources.yml", kind)
    measures = NUMBER_MEASURES + TIME_MEASURES + (("revenue",) if kind == "purchase" else ())
    node.check_keys([kind, "where", "within", *measures])
    names = _names(node, kind)
    where = parse_row_conditions(node, "where", source, table, ctx) if node.has("where") else ()
    window = parse_window(node, "within", ctx) if node.has("within") else None
    found = tuple(x for m in measures if node.has(m) for x in _measures(node, m, source, table, ctx))
    if not found:
        found = (Measure("count", Condition("gte", 1)),)
    return BehaviourFilter(table, names, where, window, found, node.loc)


def _names(node: Node, kind: str) -> tuple[str, ...] | None:
    """`event: name | [names]` or `purchase: any | id | [ids]` (None: any product)."""
    if kind == "purchase" and node.raw(kind) == "any":
        return None
    names = node.string_list(kind)
    if not names:
        raise node.fail(f"`{kind}` needs a name or a non-empty list", f"write {kind}: <name>", kind)
    return names


def parse_rows(node: Node, ctx: FilterContext, what: str) -> tuple[str, tuple[str, ...] | None, tuple[RowCondition | CatalogCondition, ...]]:
    """The rows a sequence step or funnel step reads: exactly one of `event:` or `purchase:`,
    with `where:` — as (source table kind, names, conditions)."""
    kinds = [k for k in ("event", "purchase") if node.has(k)]
    if len(kinds) != 1:
        raise node.fail(f"a {what} needs exactly one of `event:` or `purchase:`", "write {event: add_to_cart} or {purchase: any}", kinds[-1] if kinds else None)
    kind = kinds[0]
    table = "events" if kind == "event" else "purchases"
    source = ctx.sources.events if kind == "event" else ctx.sources.purchases
    if source is None:
        raise node.fail(f"a {kind} {what} needs a {table} source", f"declare `{table}:` in models/sources.yml", kind)
    where = parse_row_conditions(node, "where", source, table, ctx) if node.has("where") else ()
    return table, _names(node, kind), where


def _step(item: Any, loc: Any, ctx: FilterContext, what: str, extra: tuple[str, ...]) -> tuple[SequenceStep, Node]:
    node = Node(item, loc, what)
    node.check_keys(["event", "purchase", "where", *extra])
    table, names, where = parse_rows(node, ctx, what)
    within = parse_duration(node, "within_previous") if node.has("within_previous") else None
    after = parse_duration(node, "after_previous") if node.has("after_previous") else None
    return SequenceStep(names, where, within, after, table), node


def parse_sequence(node: Node, ctx: FilterContext) -> SequenceFilter:
    node.check_keys(["sequence", "max_span", "within", "then_not"])
    steps = []
    for i, (item, loc) in enumerate(node.items("sequence", "step")):
        step, step_node = _step(item, loc, ctx, "sequence step", ("within_previous", "after_previous"))
        if i == 0 and (step.within_previous_s is not None or step.after_previous_s is not None):
            raise step_node.fail("the first step has no previous step", "move within_previous/after_previous to a later step")
        steps.append(step)
    then_not = then_not_s = None
    if node.has("then_not"):
        then_not, tn = _step(node.raw("then_not"), node.line("then_not"), ctx, "then_not", ("within_hours",))
        hours = tn.number("within_hours", minimum=0)  # without it: up to as_of
        then_not_s = float(hours) * 3600 if hours is not None else None
    return SequenceFilter(
        tuple(steps),
        parse_window(node, "within", ctx) if node.has("within") else None,
        parse_duration(node, "max_span") if node.has("max_span") else None,
        then_not,
        then_not_s,
        node.loc,
    )


def parse_rfm(node: Node, ctx: FilterContext) -> RfmFilter:
    from segsql.definitions.parse_filters import parse_conditions

    if ctx.sources.purchases is None:
        raise node.fail("`rfm` needs a purchases source", "declare `purchases:` in models/sources.yml", "rfm")
    node.check_keys(["rfm"])
    r = node.child("rfm", "rfm")
    r.check_keys([*RFM_PARTS, "within"])
    parts: dict[str, tuple[Condition, ...]] = {}
    for part in RFM_PARTS:
        part_node = r.child(part, part) if r.has(part) else None
        parts[part] = parse_conditions(part_node, "number", ctx, f"{part} score", ()) if part_node else ()
        if part_node:
            require_in_range(part_node, parts[part], f"{part} score", 1, 5)
    window = parse_window(r, "within", ctx) if r.has("within") else Window("last_days", 365)
    return RfmFilter(parts["recency"], parts["frequency"], parts["monetary"], window, node.loc)
