"""YAML → typed filter nodes, with one clear error per mistake (SPEC section 3)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from segsql.definitions.feasible import require_possible
from segsql.definitions.filters import (
    AllOf,
    AnyOf,
    AttributeFilter,
    ClusterFilter,
    Condition,
    Filter,
    FunnelFilter,
    Near,
    Not,
    RandomBucket,
    SegmentRef,
    TraitFilter,
    ValueRef,
)
from segsql.definitions.operators import (
    ALL_OPERATORS,
    NEGATIVE_TWINS,
    NUMBER_COMPARISONS,
    OPERATORS,
    OperatorValueError,
    parse_value,
)
from segsql.definitions.parse_behaviour import parse_behaviour, parse_rfm, parse_sequence
from segsql.definitions.reader import Node
from segsql.definitions.sources import Column, Sources
from segsql.errors import Location, ProjectError
from segsql.util.suggest import closest, suggest

FILTER_KINDS = ("all", "any", "not", "attribute", "segment", "cluster", "funnel", "random_bucket", "near", "event", "purchase", "sequence", "rfm")


@dataclass(frozen=True)
class FilterContext:
    """What filter parsing needs to know beyond the YAML: sources and the time zone."""

    sources: Sources
    timezone: str


def parse_condition(node: Node, kind: str, ctx: FilterContext, subject: str, extra_keys: tuple[str, ...]) -> Condition:
    """The single operator of a leaf (plus `or_missing`), checked against the value type."""
    ops = [k for k in node.data if k in ALL_OPERATORS]
    allowed = OPERATORS[kind]
    unknown = [k for k in node.data if k not in ALL_OPERATORS and k not in (*extra_keys, "or_missing")]
    if unknown:
        raise node.fail(f"unknown key {unknown[0]!r} in {node.what}", suggest(unknown[0], [*allowed, *extra_keys, "or_missing"]), unknown[0])
    if len(ops) != 1:
        found = f"{len(ops)} operators ({', '.join(ops)})" if ops else "no operator"
        raise node.fail(f"{subject} has {found}", f"give exactly one of: {', '.join(allowed)}")
    op = ops[0]
    if op not in allowed:
        raise node.fail(
            f"operator {op!r} does not fit {subject} of type {kind}",
            f"allowed operators for {kind}: {', '.join(allowed)}",
            op,
        )
    try:
        value = parse_value(op, kind, node.raw(op), ctx.timezone)
    except OperatorValueError as err:
        raise node.fail(f"bad value for {op!r} on {subject}: {err}", "fix the value", op) from None
    or_missing = bool(node.boolean("or_missing", False))
    negated = op in NEGATIVE_TWINS
    if or_missing and (negated or op == "exists"):
        raise node.fail(f"`or_missing` goes with a positive operator, not {op!r}", "drop or_missing: negative operators already include missing values", "or_missing")
    if op == "exists":
        return Condition("exists", True, negated=not value)
    return Condition(NEGATIVE_TWINS.get(op, op), value, negated, or_missing)


def parse_conditions(node: Node, kind: str, ctx: FilterContext, subject: str, extra_keys: tuple[str, ...]) -> tuple[Condition, ...]:
    """Like parse_condition, but several operators (`{gte: 2, lt: 5}`) are allowed and ANDed."""
    ops = [k for k in node.data if k in ALL_OPERATORS]
    if len(ops) <= 1:
        return (parse_condition(node, kind, ctx, subject, extra_keys),)
    return tuple(
        parse_condition(Node({k: v for k, v in node.data.items() if k not in ALL_OPERATORS or k == op}, node.loc, node.what), kind, ctx, subject, extra_keys)
        for op in ops
    )


def _attribute_ref(node: Node, attributes: dict[str, Column], owner: str, also: tuple[str, ...] = ()) -> ValueRef:
    """Resolve `attribute: name` (or a dotted path into an object attribute) of `owner`;
    `also` are more names a typo may have meant (the trait tables' `<trait>.<name>`)."""
    name = node.string("attribute", required=True) or ""
    if name in attributes:
        if node.has("type"):
            raise node.fail(f"`type:` is only for paths into object attributes, {name!r} is declared as {attributes[name].type}", "drop `type:`", "type")
        col = attributes[name]
        if col.type == "object":
            raise node.fail(f"attribute {name!r} is an object", f"filter a path inside it, e.g. attribute: {name}.<key>", "attribute")
        return ValueRef(name, col.column, col.type, (), col.unit)
    head, _, rest = name.partition(".")
    if rest and head in attributes and attributes[head].type == "object":
        kind = node.string("type", "string") or "string"
        if kind not in OPERATORS:
            raise node.fail(f"unknown type {kind!r} for path {name!r}", suggest(kind, OPERATORS), "type")
        return ValueRef(name, attributes[head].column, kind, tuple(rest.split(".")))
    where = "users.attributes" if owner == "users" else f"the attributes of {owner}"
    known = [*attributes, *also]
    close = closest(name, known)
    hint = f"did you mean {close!r}? (or declare {name!r} under {where} in models/sources.yml)" if close else f"declare it under {where} in models/sources.yml ({suggest(name, sorted(known), what='attribute')})"
    raise node.fail(f"unknown attribute {name!r}", hint, "attribute")


def _attribute_filter(node: Node, attributes: dict[str, Column], owner: str, ctx: FilterContext, also: tuple[str, ...] = ()) -> AttributeFilter:
    ref = _attribute_ref(node, attributes, owner, also)
    node.what = f"attribute filter on {ref.name!r}"
    return AttributeFilter(ref, parse_condition(node, ref.type, ctx, f"attribute {ref.name!r}", ("attribute", "type")), node.loc)


def _trait_names(ctx: FilterContext) -> tuple[str, ...]:
    return tuple(f"{t}.{a}" for t, trait in ctx.sources.traits.items() for a in trait.attributes)


def _user_attribute_filter(node: Node, ctx: FilterContext) -> AttributeFilter:
    """`attribute:` of a segment filter: a users attribute, or `<trait>.<name>` of a trait table."""
    name = node.string("attribute", required=True) or ""
    head, _, rest = name.partition(".")
    users = ctx.sources.users
    if rest and head in ctx.sources.traits and (users is None or head not in users.attributes):
        trait = ctx.sources.traits[head]
        if rest.partition(".")[0] not in trait.attributes:
            known = [f"{head}.{a}" for a in trait.attributes]
            raise node.fail(f"unknown attribute {name!r}: trait table {head!r} has no attribute {rest.partition('.')[0]!r}", f"{suggest(name, known)} (or declare it under traits.{head}.attributes in models/sources.yml)", "attribute")
        inner = Node({**node.data, "attribute": rest}, node.line("attribute"), node.what)
        ref = replace(_attribute_ref(inner, trait.attributes, f"trait table {head!r} (traits.{head})"), name=name)
        node.what = f"attribute filter on {name!r}"
        return TraitFilter(ref, parse_condition(node, ref.type, ctx, f"attribute {name!r}", ("attribute", "type")), node.loc, trait=head)
    if users is None:
        if ctx.sources.traits:
            raise node.fail(f"unknown attribute {name!r}: there is no users source", suggest(name, _trait_names(ctx), what="trait attribute"), "attribute")
        raise node.fail("attribute filters need a users source", "declare `users:` in models/sources.yml", "attribute")
    return _attribute_filter(node, users.attributes, "users", ctx, _trait_names(ctx))


def parse_attribute_filters(node: Node, key: str, attributes: dict[str, Column], ctx: FilterContext, owner: str) -> tuple[AttributeFilter, ...]:
    """A list of attribute filters over a catalog's attributes (ANDed)."""
    return tuple(_attribute_filter(Node(item, loc, "catalog filter"), attributes, owner, ctx) for item, loc in node.items(key, "attribute filter"))


def _children(node: Node, key: str, ctx: FilterContext) -> tuple[Filter, ...]:
    return tuple(parse_filter(item, loc, ctx) for item, loc in node.items(key, "filter"))


def _cluster_leaf(node: Node) -> ClusterFilter:
    """`cluster: {model: m, in: [label, 2]}`; the model and its labels are checked once all models are read."""
    node.check_keys(["cluster"])
    inner = node.child("cluster", "cluster filter")
    inner.check_keys(["model", "in"])
    model = inner.string("model", required=True) or ""
    raw = inner.required("in")
    raw = raw if isinstance(raw, list) else [raw]
    if not raw or not all(isinstance(v, str | int) and not isinstance(v, bool) for v in raw):
        raise inner.fail("`in` takes cluster labels or numbers", "write in: [whales, 2]", "in")
    values = tuple(int(v) if isinstance(v, int) or v.isdigit() else v for v in raw)
    return ClusterFilter(model, values, inner.loc)


def _funnel_leaf(node: Node, ctx: FilterContext) -> FunnelFilter:
    """`funnel: checkout` with `furthest_step: {gte: 2}`; the funnel and its step count are
    checked once all models are read."""
    node.check_keys(["funnel", "furthest_step"])
    funnel = node.string("funnel", required=True) or ""
    if not node.has("furthest_step"):
        raise node.fail("a funnel filter needs `furthest_step`", f"write funnel: {funnel}, furthest_step: {{gte: 2}} (0 = never entered)")
    inner = node.child("furthest_step", "furthest_step")
    cond = parse_condition(inner, "number", ctx, "furthest_step", ())
    if cond.op not in NUMBER_COMPARISONS:
        raise inner.fail("furthest_step takes a number comparison", "write furthest_step: {gte: 2}")
    return FunnelFilter(funnel, cond, node.loc)


def parse_filter(data: Any, loc: Location, ctx: FilterContext) -> Filter:
    """Parse one filter node (a mapping; a bare list means `all:`)."""
    if isinstance(data, list):
        if not data:
            raise ProjectError("a filter list must not be empty", loc, "add at least one filter")
        data = {"all": data}
        node = Node(data, loc, "filter")
        return AllOf(_children(node, "all", ctx), loc)
    node = Node(data, loc, "filter")
    kinds = [k for k in node.data if k in FILTER_KINDS]
    if not kinds:
        first = str(next(iter(node.data), ""))
        raise node.fail(f"a filter needs one of: {', '.join(FILTER_KINDS)}", suggest(first, FILTER_KINDS) if first else "see the filter language in the README", first or None)
    kind = kinds[0]
    if kind in ("all", "any", "not"):
        node.check_keys([kind])
        if kind == "not":
            return Not(parse_filter(node.raw("not"), node.line("not"), ctx), node.loc)
        cls = AllOf if kind == "all" else AnyOf
        return cls(_children(node, kind, ctx), node.loc)
    if kind in ("event", "purchase"):
        return parse_behaviour(node, kind, ctx)
    if kind == "sequence":
        return parse_sequence(node, ctx)
    if kind == "rfm":
        return parse_rfm(node, ctx)
    if kind == "attribute":
        return _user_attribute_filter(node, ctx)
    if kind == "segment":
        node.check_keys(["segment"])
        return SegmentRef(node.string("segment", required=True) or "", node.loc)
    if kind == "cluster":
        return _cluster_leaf(node)
    if kind == "funnel":
        return _funnel_leaf(node, ctx)
    if kind == "random_bucket":
        node.check_keys(["random_bucket"])
        inner = node.child("random_bucket", "random_bucket")
        cond = parse_condition(inner, "number", ctx, "random_bucket", ())
        if cond.op not in NUMBER_COMPARISONS:
            raise inner.fail("random_bucket takes a number comparison", "write random_bucket: {lt: 1000}")
        require_possible(inner, (cond,), "a bucket", 0, 9999)
        return RandomBucket(cond, node.loc)
    node.check_keys(["near"])
    inner = node.child("near", "near")
    inner.check_keys(["lat", "lon", "radius_km"])
    if ctx.sources.users is None or ctx.sources.users.lat is None:
        raise node.fail("`near` needs location columns", "add location: {lat: <col>, lon: <col>} to users in models/sources.yml", "near")
    lat = inner.number("lat", required=True)
    lon = inner.number("lon", required=True)
    radius = inner.number("radius_km", required=True, minimum=0)
    assert lat is not None and lon is not None and radius is not None
    if not -90 <= lat <= 90 or not -180 <= lon <= 180:
        raise inner.fail(f"lat/lon ({lat}, {lon}) out of range", "use lat in [-90, 90] and lon in [-180, 180]")
    return Near(float(lat), float(lon), float(radius), node.loc)
