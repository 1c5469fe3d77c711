"""What to compute once for many models, as a frozen `Plan` built by ordered rules."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from segsql.definitions.project import Definitions
from segsql.planner.anchors import common_anchors, ordered, segment_anchors
from segsql.planner.collect import collect, sql_flags_needed
from segsql.planner.plan import Form, Plan
from segsql.planner.rules import RULES, existence, optimize


def plan_models(defs: Definitions, names: list[str], as_of: dt.datetime, form: Form = "flags", *, anchored: bool = False) -> Plan:
    """The plan of one query over `names`: collected as written, then every rule of RULES.

    `anchored`: the query need not hold non-members (a run's stage), so the universe may be
    the users of rows every segment needs (the `anchors`) rather than every user."""
    plan = collect(defs, names, as_of, form)
    if anchored and form == "flags":
        tz = defs.config.timezone
        plan = replace(plan, anchors=ordered(common_anchors(segment_anchors(defs.segments, n, as_of, tz) for n in names)))
    return optimize(plan, defs.config.timezone)


__all__ = ["RULES", "Plan", "existence", "optimize", "plan_models", "sql_flags_needed"]
