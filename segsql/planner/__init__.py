"""What to compute once for many models, as a frozen `Plan` built by ordered rules."""

from __future__ import annotations

import datetime as dt

from segsql.definitions.project import Definitions
from segsql.planner.collect import collect, sql_flags_needed
from segsql.planner.plan import Form, Plan
from segsql.planner.rules import RULES, existence, optimize


def plan_models(defs: Definitions, names: list[str], as_of: dt.datetime, form: Form = "flags") -> Plan:
    """The plan of one query over `names`: collected as written, then every rule of RULES."""
    return optimize(collect(defs, names, as_of, form), defs.config.timezone)


__all__ = ["RULES", "Plan", "existence", "optimize", "plan_models", "sql_flags_needed"]
