"""A funnel's tables from its staged users (the result of `FunnelCompiler.users`), SPEC 4.

The staged table holds one row per (funnel, entered user), so the step table and the trends
are small aggregations over it, not another pass over the sources:

- the step table: one row per step and breakdown value: `step`, `step_name`, `users` (furthest
  step >= step), `conversion_from_previous` (1.0 for step 1), `conversion_from_first`,
  `median_seconds_from_previous` (over the users reaching the step, of the time since the
  previous step on their path); without a breakdown every step has a row, with 0 users too;
- the users table: `external_user_id`, `furthest_step`, `step_1_at` .. `step_<k>_at`;
- the trends: one row per period of t1 (in the project time zone; weeks start on Monday)
  and breakdown value: `period_start` (a date), `entered`, `completed`, `conversion`.
"""

from __future__ import annotations

from sqlglot import exp

from segsql.compiler.dialects import DialectRules, lit
from segsql.definitions.funnels import Funnel


def _ratio(numerator: exp.Expr, denominator: exp.Expr) -> exp.Expr:
    """numerator / denominator as a double; NULL over 0."""
    return exp.Div(this=exp.cast(numerator, exp.DataType.Type.DOUBLE), expression=exp.Nullif(this=exp.cast(denominator, exp.DataType.Type.DOUBLE), expression=lit(0)))


def _rows(funnel: Funnel, staged: exp.Table) -> exp.Select:
    return exp.select(exp.Star()).from_(staged.copy()).where(exp.EQ(this=exp.column("funnel"), expression=lit(funnel.name)))


def users_table(funnel: Funnel, staged: exp.Table) -> exp.Select:
    times = [exp.column(f"step_{j}_at") for j in range(1, len(funnel.steps) + 1)]
    return exp.select(exp.column("external_user_id"), exp.column("furthest_step"), *times).from_(_rows(funnel, staged).subquery("s"))


def step_table(funnel: Funnel, staged: exp.Table, rules: DialectRules) -> exp.Select:
    """Counts and medians per breakdown value in one grouped pass, then one row per step."""
    k = len(funnel.steps)
    reached = [exp.GTE(this=exp.column("furthest_step"), expression=lit(j)) for j in range(1, k + 1)]
    aggregates: list[exp.Expr] = [exp.alias_(exp.column("breakdown"), "breakdown")]
    for j in range(1, k + 1):
        aggregates.append(exp.alias_(exp.Count(this=exp.Case(ifs=[exp.If(this=reached[j - 1].copy(), true=lit(1))])), f"u{j}"))
        if j > 1:
            gap = rules.seconds_between(exp.column(f"step_{j - 1}_at"), exp.column(f"step_{j}_at"))
            aggregates.append(exp.alias_(exp.Median(this=exp.Case(ifs=[exp.If(this=reached[j - 1].copy(), true=gap)])), f"m{j}"))
    grouped = exp.select(*aggregates).from_(_rows(funnel, staged).subquery("s"))
    if funnel.breakdown is not None:
        grouped = grouped.group_by(exp.column("breakdown"))
    else:  # one row even when nobody entered: an aggregate without GROUP BY
        grouped = exp.select(exp.alias_(exp.cast(exp.null(), exp.DataType.Type.VARCHAR), "breakdown"), *aggregates[1:]).from_(_rows(funnel, staged).subquery("s"))
    parts = []
    for j, step in enumerate(funnel.steps, start=1):
        users = exp.column(f"u{j}")
        median = exp.column(f"m{j}") if j > 1 else exp.cast(exp.null(), exp.DataType.Type.DOUBLE)
        parts.append(exp.select(
            exp.alias_(lit(j), "step"),
            exp.alias_(lit(step.name), "step_name"),
            exp.column("breakdown"),
            exp.alias_(users, "users"),
            exp.alias_(_ratio(users.copy(), exp.column(f"u{j - 1}") if j > 1 else users.copy()), "conversion_from_previous"),
            exp.alias_(_ratio(users.copy(), exp.column("u1")), "conversion_from_first"),
            exp.alias_(exp.cast(median, exp.DataType.Type.DOUBLE), "median_seconds_from_previous"),
        ).from_("g"))
    union: exp.Query = parts[0]
    for part in parts[1:]:
        union = exp.union(union, part, distinct=False)
    columns = ["step", "step_name", "users", "conversion_from_previous", "conversion_from_first", "median_seconds_from_previous"]
    if funnel.breakdown is not None:
        columns.insert(2, "breakdown")
    select = exp.select(*(exp.column(c) for c in columns)).from_(union.subquery("t")).with_("g", as_=grouped)
    return select.order_by(*(exp.column(c) for c in (["breakdown"] if funnel.breakdown is not None else []) + ["step"]))


def period_start(funnel: Funnel, time: exp.Expr, timezone: str) -> exp.Expr:
    """The first day of the period of `time` (a naive UTC timestamp) in `timezone`."""
    local = time if timezone == "UTC" else exp.ConvertTimezone(source_tz=lit("UTC"), target_tz=lit(timezone), timestamp=time)
    assert funnel.trends is not None
    return exp.cast(exp.TimestampTrunc(this=local, unit=exp.var(funnel.trends.upper())), exp.DataType.Type.DATE)


def trends_table(funnel: Funnel, staged: exp.Table, timezone: str) -> exp.Select:
    k = len(funnel.steps)
    period = period_start(funnel, exp.column("step_1_at"), timezone)
    completed = exp.Count(this=exp.Case(ifs=[exp.If(this=exp.EQ(this=exp.column("furthest_step"), expression=lit(k)), true=lit(1))]))
    columns: list[exp.Expr] = [exp.alias_(period, "period_start")]
    keys: list[exp.Expr] = [period.copy()]
    if funnel.breakdown is not None:
        columns.append(exp.column("breakdown"))
        keys.append(exp.column("breakdown"))
    columns += [
        exp.alias_(exp.Count(this=exp.Star()), "entered"),
        exp.alias_(completed, "completed"),
        exp.alias_(_ratio(completed.copy(), exp.Count(this=exp.Star())), "conversion"),
    ]
    grouped = exp.select(*columns).from_(_rows(funnel, staged).subquery("s")).group_by(*keys)
    return exp.select(exp.Star()).from_(grouped.subquery("t")).order_by(*(exp.column(c) for c in ["period_start", *(["breakdown"] if funnel.breakdown else [])]))
