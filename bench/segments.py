"""The 50 benchmark segments, each written three ways from one small description.

A segment is a list of leaves ANDed together (attribute, event, purchase, `not`). From it
this module writes:

* the segsql YAML (SPEC 3.3–3.5),
* its term in the **floor**: one hand-written GROUP BY per source computing every
  aggregate once ("did / did not in the last N days" as the latest row's time, the trick
  segsql uses), then `CREATE TABLE ... AS SELECT id FROM agg WHERE <condition>`,
* the **one-query-per-segment** SQL a dbt user would write: its own GROUP BY / HAVING,
  `IN` and `NOT EXISTS` subqueries, over the raw tables.

The hand-written SQL uses the columns directly (`occurred_at >= TIMESTAMP '...'`,
`properties->>'price'`), as a person would on this data; the benchmark checks that every
variant yields exactly segsql's members.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field, replace

from datagen import AS_OF

AS_OF_LIT = "TIMESTAMP '2026-11-22 12:00:00'"
PURCHASE_TABLE = "main.purchases"
USERS_TABLE = "main.users"


def ts(moment: dt.datetime) -> str:
    return f"TIMESTAMP '{moment.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=' ')}'"


def window_start(days: int) -> dt.datetime:
    """`within: {last_days: N}`: 00:00 (project time zone, UTC here) of the day N days before as_of."""
    day = AS_OF.date() - dt.timedelta(days=days)
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def sql_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


# -- leaves -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Attr:
    """`{attribute: name, op: value}` with a positive operator."""

    name: str
    op: str
    value: object

    def yaml(self) -> dict:
        return {"attribute": self.name, self.op: list(self.value) if isinstance(self.value, tuple) else self.value}

    def sql(self, row: str) -> str:
        col = f"{row}.{self.name}"
        if self.op == "in":
            assert isinstance(self.value, tuple)
            return f"{col} IN ({', '.join(sql_value(v) for v in self.value)})"
        if self.op == "equals":
            return f"{col} = {sql_value(self.value)}"
        if self.op in ("gte", "lt"):
            return f"{col} {'>=' if self.op == 'gte' else '<'} {sql_value(self.value)}"
        if self.op == "between":
            assert isinstance(self.value, tuple)
            return f"{col} BETWEEN {sql_value(self.value[0])} AND {sql_value(self.value[1])}"
        if self.op == "less_than_days_ago":
            assert isinstance(self.value, int)
            return f"{col} > {ts(AS_OF - dt.timedelta(days=self.value))} AND {col} <= {AS_OF_LIT}"
        raise ValueError(self.op)


@dataclass(frozen=True)
class Measure:
    kind: str  # count sum avg first last revenue
    op: str  # gte lt equals less_than_days_ago more_than_days_ago
    value: float
    prop: str | None = None


@dataclass(frozen=True)
class Behaviour:
    """An event filter (`names`) or a purchase filter (`products`, None = any)."""

    source: str  # events | purchases
    names: tuple[str, ...] | None
    measure: Measure = Measure("count", "gte", 1)
    days: int | None = None
    where: tuple[tuple[str, str], ...] = ()  # (property, string value) equalities

    # -- segsql ---------------------------------------------------------------------------
    def yaml(self) -> dict:
        out: dict = {}
        if self.source == "events":
            assert self.names
            out["event"] = self.names[0] if len(self.names) == 1 else list(self.names)
        else:
            out["purchase"] = "any" if self.names is None else list(self.names)
        if self.where:
            out["where"] = [{"property": p, "equals": v} for p, v in self.where]
        if self.days is not None:
            out["within"] = {"last_days": self.days}
        m = self.measure
        if not (m.kind == "count" and m.op == "gte" and m.value == 1):
            body = {m.op: m.value}
            if m.prop:
                body = {"property": m.prop, **body}
            out[m.kind] = body
        return out

    # -- hand-written pieces ----------------------------------------------------------------
    def time_col(self, row: str) -> str:
        return f"{row}.{'occurred_at' if self.source == 'events' else 'purchased_at'}"

    def row_predicate(self, row: str, with_as_of: bool = True) -> str:
        """A row that counts: right name/product, inside the window, `where` true, seen at as_of."""
        parts = []
        if self.names is not None:
            col = f"{row}.event_name" if self.source == "events" else f"{row}.product_id"
            names = ", ".join(sql_value(n) for n in self.names)
            parts.append(f"{col} = {names}" if len(self.names) == 1 else f"{col} IN ({names})")
        if self.days is not None:
            parts.append(f"{self.time_col(row)} >= {ts(window_start(self.days))}")
        parts += [f"{row}.properties->>'{p}' = {sql_value(v)}" for p, v in self.where]
        if with_as_of:
            parts.append(f"{self.time_col(row)} <= {AS_OF_LIT}")
        return " AND ".join(parts) if parts else "true"

    def value(self, row: str) -> str:
        m = self.measure
        if m.kind == "count":
            return "1"
        if m.kind in ("first", "last"):
            return self.time_col(row)
        if m.kind == "revenue":  # exact sums, as segsql adds them (SPEC 3.4)
            return f"({row}.price * coalesce({row}.quantity, 1))::DECIMAL(38, 6)"
        assert m.prop is not None
        return f"({row}.properties->>'{m.prop}')::DECIMAL(38, 6)"

    def aggregate(self, value: str) -> str:
        return {"count": "count", "sum": "sum", "avg": "avg", "first": "min", "last": "max", "revenue": "sum"}[self.measure.kind] + f"({value})"

    def test(self, agg: str) -> str:
        """The measure's comparison on the aggregate (NULL when the user has no matching row)."""
        m = self.measure
        if m.kind in ("count", "sum", "revenue"):
            agg = f"coalesce({agg}, 0)"
        if m.op in ("gte", "lt", "equals"):
            return f"{agg} {({'gte': '>=', 'lt': '<', 'equals': '='})[m.op]} {sql_value(m.value)}"
        if m.op == "less_than_days_ago":
            return f"{agg} > {ts(AS_OF - dt.timedelta(days=m.value))} AND {agg} <= {AS_OF_LIT}"
        if m.op == "more_than_days_ago":
            return f"{agg} < {ts(AS_OF - dt.timedelta(days=m.value))}"
        raise ValueError(m.op)

    def includes_no_rows(self) -> bool:
        """Is a user without any matching row a member (count < N, count = 0)?"""
        m = self.measure
        return m.kind == "count" and ((m.op == "lt" and m.value > 0) or (m.op == "equals" and m.value == 0))

    def exists_only(self) -> bool:
        return self.measure.kind == "count" and ((self.measure.op == "gte" and self.measure.value == 1) or (self.measure.op == "equals" and self.measure.value == 0))

    def table(self, events_table: str) -> str:
        return events_table if self.source == "events" else PURCHASE_TABLE


@dataclass(frozen=True)
class Not:
    child: Behaviour

    def yaml(self) -> dict:
        return {"not": self.child.yaml()}


Leaf = Attr | Behaviour | Not


@dataclass
class Segment:
    name: str
    leaves: tuple[Leaf, ...]
    kind: str

    def where_yaml(self) -> dict:
        if len(self.leaves) == 1:
            return self.leaves[0].yaml()
        return {"all": [leaf.yaml() for leaf in self.leaves]}


# -- the 50 segments ------------------------------------------------------------------------------
def ev(names: str | tuple[str, ...], days: int | None = None, measure: Measure | None = None, where: tuple = ()) -> Behaviour:
    return Behaviour("events", (names,) if isinstance(names, str) else names, measure or Measure("count", "gte", 1), days, where)


def pu(products: tuple[str, ...] | None = None, days: int | None = None, measure: Measure | None = None) -> Behaviour:
    return Behaviour("purchases", products, measure or Measure("count", "gte", 1), days)


def count(op: str, n: float) -> Measure:
    return Measure("count", op, n)


def agg(kind: str, prop: str | None, op: str, n: float) -> Measure:
    return Measure(kind, op, n, prop)


KR_JP = Attr("country", "in", ("KR", "JP"))
VIP = Attr("is_vip", "equals", True)

SEGMENTS: list[Segment] = [
    # counts in windows
    Segment("active_7d", (ev("app_open", 7, count("gte", 3)),), "count"),
    Segment("active_30d_heavy", (ev("app_open", 30, count("gte", 15)),), "count"),
    Segment("viewers_14d", (ev("product_viewed", 14, count("gte", 5)),), "count"),
    Segment("searchers_30d_kr_jp", (ev("search", 30, count("gte", 2)), KR_JP), "count+attr"),
    Segment("cart_adders_7d", (ev("add_to_cart", 7),), "count"),
    Segment("engaged_push_90d", (ev("push_opened", 90, count("gte", 3)),), "count"),
    Segment("ios_openers_30d", (ev("app_open", 30, count("gte", 5), (("platform", "ios"),)),), "count+where"),
    Segment("sharers_vip", (ev("share", 180, count("gte", 2)), VIP), "count+attr"),
    Segment("reviewers_365_30plus", (ev("review_written", 365), Attr("age", "gte", 30)), "count+attr"),
    Segment("wishlisters_60d_us", (ev("wishlist_add", 60, count("gte", 2)), Attr("country", "equals", "US")), "count+attr"),
    Segment("checkout_starters_30d", (ev("checkout_started", 30, count("gte", 2)),), "count"),
    Segment("screen_heavy_3d", (ev("screen_view", 3, count("gte", 4)),), "count"),
    Segment("young_active_14d", (ev("app_open", 14, count("gte", 4)), Attr("age", "between", (18, 24))), "count+attr"),
    Segment("shoppers_any_7d", (ev(("product_viewed", "add_to_cart", "wishlist_add"), 7, count("gte", 3)),), "count"),
    # did not
    Segment("no_open_30d", (Not(ev("app_open", 30)),), "did-not"),
    Segment("no_purchase_90d", (Not(pu(None, 90)),), "did-not"),
    Segment("viewed_not_bought_30d", (ev("product_viewed", 30, count("gte", 3)), Not(pu(None, 30))), "did-not"),
    Segment("cart_no_checkout_14d", (ev("add_to_cart", 14), ev("checkout_started", 14, count("equals", 0))), "did-not"),
    Segment("buyers_never_reviewed", (pu(None, None, count("gte", 3)), ev("review_written", None, count("equals", 0))), "did-not"),
    Segment("kr_no_search_60d", (Attr("country", "equals", "KR"), Not(ev("search", 60))), "did-not+attr"),
    Segment("vip_no_open_14d", (VIP, ev("app_open", 14, count("equals", 0))), "did-not+attr"),
    Segment("new_users_few_opens", (Attr("signup_at", "less_than_days_ago", 30), ev("app_open", 30, count("lt", 3))), "did-not+attr"),
    # lapsed
    Segment("lapsed_app_30", (ev("app_open", None, agg("last", None, "more_than_days_ago", 30)),), "lapsed"),
    Segment("lapsed_app_90_vip", (ev("app_open", None, agg("last", None, "more_than_days_ago", 90)), VIP), "lapsed+attr"),
    Segment("lapsed_buyer_120", (pu(None, None, agg("last", None, "more_than_days_ago", 120)),), "lapsed"),
    Segment("lapsed_viewer_60_jp", (ev("product_viewed", None, agg("last", None, "more_than_days_ago", 60)), Attr("country", "equals", "JP")), "lapsed+attr"),
    Segment("lapsed_cart_45", (ev("add_to_cart", None, agg("last", None, "more_than_days_ago", 45)),), "lapsed"),
    Segment("lapsed_push_180", (ev("push_opened", None, agg("last", None, "more_than_days_ago", 180)),), "lapsed"),
    # first did
    Segment("new_openers_14", (ev("app_open", None, agg("first", None, "less_than_days_ago", 14)),), "first"),
    Segment("new_buyers_30", (pu(None, None, agg("first", None, "less_than_days_ago", 30)),), "first"),
    Segment("new_searchers_7_kr", (ev("search", None, agg("first", None, "less_than_days_ago", 7)), Attr("country", "equals", "KR")), "first+attr"),
    Segment("new_reviewers_60", (ev("review_written", None, agg("first", None, "less_than_days_ago", 60)),), "first"),
    Segment("new_cart_users_21", (ev("add_to_cart", None, agg("first", None, "less_than_days_ago", 21)),), "first"),
    # sums and averages of a JSON property
    Segment("big_viewers_30d", (ev("product_viewed", 30, agg("sum", "price", "gte", 500)),), "sum"),
    Segment("pricey_browsers_90d", (ev("product_viewed", 90, agg("avg", "price", "gte", 150)),), "avg"),
    Segment("cart_value_14d", (ev("add_to_cart", 14, agg("sum", "price", "gte", 300)),), "sum"),
    Segment("bulk_carts_60d", (ev("add_to_cart", 60, agg("avg", "quantity", "gte", 2.5)),), "avg"),
    Segment("long_sessions_30d", (ev("screen_view", 30, agg("sum", "duration_s", "gte", 600)),), "sum"),
    Segment("vip_checkout_value_180d", (ev("checkout_started", 180, agg("sum", "cart_value", "gte", 1000)), VIP), "sum+attr"),
    Segment("happy_reviewers", (ev("review_written", None, agg("avg", "rating", "gte", 4.5)),), "avg"),
    Segment("deep_searchers_30d_us_gb", (ev("search", 30, agg("sum", "results", "gte", 100)), Attr("country", "in", ("US", "GB"))), "sum+attr"),
    # purchases
    Segment("revenue_300_all_time", (pu(None, None, agg("revenue", None, "gte", 300)),), "revenue"),
    Segment("revenue_100_30d", (pu(None, 30, agg("revenue", None, "gte", 100)),), "revenue"),
    Segment("repeat_buyers_90d", (pu(None, 90, count("gte", 3)),), "purchase count"),
    Segment("vip_whales_365d", (pu(None, 365, agg("revenue", None, "gte", 1000)), VIP), "revenue+attr"),
    Segment("top_products_180d", (pu(("p1", "p2", "p3"), 180),), "purchase count"),
    Segment("kr_jp_spenders_90d", (pu(None, 90, agg("revenue", None, "gte", 200)), KR_JP), "revenue+attr"),
    Segment("one_time_buyers", (pu(None, None, count("equals", 1)),), "purchase count"),
    Segment("active_buyers_25plus", (ev("app_open", 7), pu(None, 30, agg("revenue", None, "gte", 100)), Attr("age", "gte", 25)), "mixed"),
    Segment("browsers_not_buying_west", (ev("product_viewed", 30, count("gte", 5)), Not(pu(None, 14)), Attr("country", "in", ("US", "DE", "FR"))), "mixed"),
]
assert len(SEGMENTS) == 50 and len({s.name for s in SEGMENTS}) == 50


# -- segsql project -------------------------------------------------------------------------------
_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n"}


def flow(value: object) -> str:
    """A value as a one-line YAML flow node (readable like the SPEC's examples)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    if isinstance(value, str) and _PLAIN.match(value) and value.lower() not in _RESERVED:
        return value
    return json.dumps(value)


def write_project(root, events_table: str, prefix: str, segments: list[Segment] | None = None, strategy: str | None = None) -> None:
    """A segsql project folder over the benchmark tables (no profiles: the API is given an adapter);
    `strategy` forces the planner's grouping (None: auto, the cost rule)."""
    models = root / "models"
    models.mkdir(parents=True, exist_ok=True)
    planner = f"planner: {{strategy: {strategy}}}\n" if strategy else ""
    (root / "segsql_project.yml").write_text(f"name: bench\ntable_prefix: {{segment: {prefix}}}\n{planner}")
    (models / "sources.yml").write_text(
        "users: {table: main.users, id: external_id, attributes: {country: string, age: number, is_vip: boolean, signup_at: time}}\n"
        f"events: {{table: {events_table}, user: external_id, name: event_name, time: occurred_at, properties: properties}}\n"
        "purchases: {table: main.purchases, user: external_id, time: purchased_at, product: product_id, price: price, quantity: quantity}\n"
    )
    lines = ["segments:"]
    for seg in SEGMENTS if segments is None else segments:
        lines.append(f"  - name: {seg.name}")
        lines.append(f"    tags: [{seg.kind.replace('+', '_').replace(' ', '_').replace('-', '_')}]")
        lines.append(f"    where: {flow(seg.where_yaml())}")
    (models / "segments.yml").write_text("\n".join(lines) + "\n")


# -- the floor: one GROUP BY per source, then one CTAS per segment --------------------------------
@dataclass
class FloorPlan:
    columns: dict[str, dict[str, str]] = field(default_factory=lambda: {"events": {}, "purchases": {}})

    def column(self, leaf: Behaviour) -> str:
        """The aggregate column of `leaf` (identical aggregates share one column)."""
        row = "e" if leaf.source == "events" else "p"
        filtered = leaf.aggregate(f"CASE WHEN {leaf.row_predicate(row, with_as_of=False)} THEN {leaf.value(row)} END")
        cols = self.columns[leaf.source]
        if filtered not in cols:
            cols[filtered] = f"{row}{len(cols)}"
        return cols[filtered]

    def condition(self, leaf: Leaf) -> str:
        if isinstance(leaf, Attr):
            return f"coalesce({leaf.sql('a')}, false)"
        if isinstance(leaf, Not):
            return f"NOT ({self.condition(leaf.child)})"
        if leaf.exists_only():  # "did it in the last N days" = its latest row is on or after day N
            latest = "a." + self.column(replace(leaf, days=None, measure=Measure("last", "gte", 0)))
            did = f"coalesce({latest} >= {ts(window_start(leaf.days))}, false)" if leaf.days is not None else f"{latest} IS NOT NULL"
            return did if leaf.measure.op == "gte" else f"NOT ({did})"
        return f"coalesce({leaf.test('a.' + self.column(leaf))}, false)"


def floor_sql(events_table: str, prefix: str, segments: list[Segment] | None = None) -> tuple[str, list[tuple[str, str]]]:
    """(the aggregate table's CTAS, [(segment, its membership CTAS)])."""
    plan = FloorPlan()
    conditions = {seg.name: " AND ".join(plan.condition(leaf) for leaf in seg.leaves) for seg in (SEGMENTS if segments is None else segments)}
    ev_cols = "".join(f",\n           {sql} AS {alias}" for sql, alias in plan.columns["events"].items())
    pu_cols = "".join(f",\n           {sql} AS {alias}" for sql, alias in plan.columns["purchases"].items())
    agg = f"""CREATE OR REPLACE TEMP TABLE {prefix}agg AS
WITH ev AS (
    SELECT e.external_id AS id{ev_cols}
    FROM {events_table} e
    WHERE e.occurred_at <= {AS_OF_LIT}
    GROUP BY e.external_id
), pu AS (
    SELECT p.external_id AS id{pu_cols}
    FROM {PURCHASE_TABLE} p
    WHERE p.purchased_at <= {AS_OF_LIT}
    GROUP BY p.external_id
)
SELECT coalesce(u.external_id, ev.id, pu.id) AS id, u.country, u.age, u.is_vip, u.signup_at,
       {", ".join(f"{cte}.* EXCLUDE (id)" for cte, cols in (("ev", ev_cols), ("pu", pu_cols)) if cols)}
FROM {USERS_TABLE} u
FULL JOIN ev ON ev.id = u.external_id
FULL JOIN pu ON pu.id = coalesce(u.external_id, ev.id)"""
    tables = [(name, f"CREATE OR REPLACE TABLE main.{prefix}{name} AS SELECT a.id AS external_user_id FROM {prefix}agg a WHERE {cond}") for name, cond in conditions.items()]
    return agg, tables


# -- one query per segment ------------------------------------------------------------------------
def _set_query(leaf: Behaviour, events_table: str, negate_having: bool = False) -> str:
    """SELECT the ids whose aggregate passes (or, with negate_having, the ids to exclude)."""
    row = "e" if leaf.source == "events" else "p"
    base = f"SELECT {row}.external_id FROM {leaf.table(events_table)} {row} WHERE {leaf.row_predicate(row)}"
    if leaf.exists_only():
        return base
    m = leaf.measure
    if m.kind == "count":
        op = {"gte": ">=", "lt": "<", "equals": "="}[m.op]
        if negate_having:  # count < N  <=>  NOT (count >= N): the users to drop have count >= N
            assert m.op == "lt"
            op = ">="
        test = f"count(*) {op} {sql_value(m.value)}"
    else:
        test = leaf.test(leaf.aggregate(leaf.value(row)))
    return f"{base} GROUP BY {row}.external_id HAVING {test}"


def _not_exists(leaf: Behaviour, events_table: str, id_expr: str) -> str:
    row = "e" if leaf.source == "events" else "p"
    return f"NOT EXISTS (SELECT 1 FROM {leaf.table(events_table)} {row} WHERE {row}.external_id = {id_expr} AND {leaf.row_predicate(row)})"


def per_segment_sql(seg: Segment, events_table: str, prefix: str, universe: str) -> str:
    """The query a dbt user writes for one segment, materialized as its own table."""
    positives: list[Behaviour] = []
    negatives: list[tuple[Behaviour, bool]] = []  # (leaf, leaf itself includes users with no rows)
    attrs: list[Attr] = []
    for leaf in seg.leaves:
        if isinstance(leaf, Attr):
            attrs.append(leaf)
        elif isinstance(leaf, Not):
            negatives.append((leaf.child, False))
        elif leaf.includes_no_rows():
            negatives.append((leaf, True))
        else:
            positives.append(leaf)
    where: list[str] = []
    ident, join, rest = "b.id", "", positives[1:]
    if positives:
        first = positives[0]
        source = f"({_set_query(first, events_table)}) b(id)"
        if first.exists_only():
            source = f"(SELECT DISTINCT id FROM ({_set_query(first, events_table)}) s(id)) b"
        if attrs:
            join = f" JOIN {USERS_TABLE} u ON u.external_id = b.id"
    elif attrs:  # an attribute must hold, so the user is in the users table: start from it
        source, ident = f"{USERS_TABLE} u", "u.external_id"
    else:
        source = f"{universe} b"
    where += [f"{ident} IN ({_set_query(leaf, events_table)})" for leaf in rest]
    for leaf, no_rows in negatives:
        if leaf.exists_only():
            where.append(_not_exists(leaf, events_table, ident))
        else:
            where.append(f"{ident} NOT IN ({_set_query(leaf, events_table, negate_having=no_rows)})")
    where += [a.sql("u") for a in attrs]
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    return f"CREATE OR REPLACE TABLE main.{prefix}{seg.name} AS SELECT {ident} AS external_user_id FROM {source}{join}{clause}"


def universe_sql(events_table: str, table: str) -> str:
    """users ∪ ids seen in events and purchases at or before as_of (a dbt `all_users` model)."""
    return (
        f"CREATE OR REPLACE TABLE {table} AS SELECT external_id AS id FROM {USERS_TABLE} "
        f"UNION SELECT external_id FROM {events_table} WHERE occurred_at <= {AS_OF_LIT} "
        f"UNION SELECT external_id FROM {PURCHASE_TABLE} WHERE purchased_at <= {AS_OF_LIT}"
    )
