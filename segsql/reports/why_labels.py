"""One-line names of filter nodes for `why`'s tree: what each node tests, as the YAML says it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from segsql.definitions.filters import (
    AllOf,
    AnyOf,
    AttributeFilter,
    BehaviourFilter,
    CatalogCondition,
    ClusterFilter,
    Condition,
    Filter,
    FunnelFilter,
    Near,
    Not,
    RandomBucket,
    RfmFilter,
    RowCondition,
    SegmentRef,
    SequenceFilter,
    SequenceStep,
    TraitFilter,
    Window,
)


def _value(value: Any) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return repr(value)


def condition_label(cond: Condition) -> str:
    """`gte 2`, `not equals 'KR'`, `exists`, `lt 3 or missing`."""
    text = f"{'not ' if cond.negated else ''}{cond.op}"
    if cond.op != "exists" or cond.value is not True:
        text += f" {_value(cond.value)}"
    return text + (" or missing" if cond.or_missing else "")


def window_label(window: Window | None) -> str:
    if window is None:
        return ""
    if window.kind == "range":
        parts = [f"since {_value(window.since)}" if window.since is not None else "", f"until {_value(window.until)}" if window.until is not None else ""]
        return " within " + " ".join(p for p in parts if p)
    return f" within {window.kind} {window.amount:g}"


def _where(conds: tuple[RowCondition | CatalogCondition, ...]) -> str:
    parts = []
    for c in conds:
        if isinstance(c, RowCondition):
            parts.append(f"{c.value.name} {condition_label(c.condition)}")
        else:
            parts.append(f"{c.key.name} in catalog {c.catalog}")
    return f" where {', '.join(parts)}" if parts else ""


def _step(step: SequenceStep) -> str:
    return f"{step.source.removesuffix('s')} {', '.join(step.names) if step.names else 'any'}{_where(step.where)}"


def label(node: Filter) -> tuple[str, str]:
    """The node's kind (as in the JSON) and its one-line description."""
    if isinstance(node, AllOf | AnyOf | Not):
        return {AllOf: ("all", "all of"), AnyOf: ("any", "any of"), Not: ("not", "not")}[type(node)]
    if isinstance(node, TraitFilter):
        return "trait", f"trait {node.value.name} {condition_label(node.condition)}"
    if isinstance(node, AttributeFilter):
        return "attribute", f"attribute {node.value.name} {condition_label(node.condition)}"
    if isinstance(node, BehaviourFilter):
        kind = node.source.removesuffix("s")
        return kind, f"{kind} {', '.join(node.names) if node.names else 'any'}{_where(node.where)}{window_label(node.window)}"
    if isinstance(node, SequenceFilter):
        text = "sequence " + " → ".join(_step(s) for s in node.steps) + window_label(node.window)
        if node.max_span_s is not None:
            text += f" max_span {node.max_span_s / 3600:g} h"
        if node.then_not is not None:
            text += f", then not {_step(node.then_not)}" + (f" within {node.then_not_s / 3600:g} h" if node.then_not_s is not None else "")
        return "sequence", text
    if isinstance(node, RfmFilter):
        parts = [f"{name} {condition_label(c)}" for name, conds in (("recency", node.recency), ("frequency", node.frequency), ("monetary", node.monetary)) for c in conds]
        return "rfm", f"rfm {', '.join(parts)}{window_label(node.window)}"
    if isinstance(node, SegmentRef):
        return "segment_ref", f"segment: {node.segment}"
    if isinstance(node, FunnelFilter):
        return "funnel", f"funnel {node.funnel} furthest_step {condition_label(node.condition)}"
    if isinstance(node, RandomBucket):
        return "random_bucket", f"random_bucket {condition_label(node.condition)}"
    if isinstance(node, Near):
        return "near", f"near ({node.lat:g}, {node.lon:g}) within {node.radius_km:g} km"
    assert isinstance(node, ClusterFilter)
    return "cluster", f"cluster {node.model} in {_value(node.values)}"
