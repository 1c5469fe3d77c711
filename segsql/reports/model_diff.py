"""`diff --state` of a funnel or cluster model itself: who its change moves, and its table's counts.

A model's rows are one per user it holds: a funnel's entered users with their furthest step, a
cluster model's users with their cluster number. Old and new rows are FULL JOINed on the
user in one query that returns the first ids and the counts of three groups — users who enter
the model (added), who leave it (removed), and who stay but move (furthest step or cluster
number changes) — and, per value, the users holding it on each side: a funnel's step counts
(users whose furthest step >= k, as its table says) and each cluster's size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from segsql.compiler.dialects import lit

ID, VALUE = "external_user_id", "v"
SAMPLE = 10
CHANGES = ("added", "removed", "moved")


@dataclass(frozen=True)
class Side:
    count: int
    sample: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {"count": self.count, "sample": self.sample}


@dataclass(frozen=True)
class Group:
    """One row of the model's table compared: a funnel step or a cluster."""

    key: int
    old_name: str | None
    new_name: str | None
    old_users: int | None
    new_users: int | None


@dataclass(frozen=True)
class ModelDiff:
    name: str
    #: funnel | cluster
    kind: str
    #: new | modified | removed
    change: str
    parts: list[str]
    #: users the model holds: a funnel's entered users (furthest step >= 1), a cluster model's clustered users
    old_size: int | None
    new_size: int | None
    added: Side
    removed: Side
    #: users on both sides whose furthest step (funnel) or cluster number (cluster) differs
    moved: Side
    groups: list[Group] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        key, label, rows = ("step", "name", "steps") if self.kind == "funnel" else ("cluster", "label", "clusters")
        return {
            self.kind: self.name, "change": self.change, "parts": self.parts, "old_size": self.old_size, "new_size": self.new_size,
            "added": self.added.as_dict(), "removed": self.removed.as_dict(), "moved": self.moved.as_dict(),
            rows: [
                {key: g.key, f"old_{label}": g.old_name, f"new_{label}": g.new_name, "old_users": g.old_users, "new_users": g.new_users}
                for g in self.groups
            ],
        }


def no_rows() -> exp.Select:
    """A model's rows on the side where it does not exist."""
    columns = [exp.alias_(exp.cast(exp.null(), exp.DataType.Type.VARCHAR), ID), exp.alias_(exp.cast(exp.null(), exp.DataType.Type.INT), VALUE)]
    return exp.select(*columns).where(exp.false())


def rows_of(source: exp.Expr, value: str) -> exp.Select:
    """(external_user_id, v) from a funnel's users (`furthest_step`) or a cluster assignment
    (`cluster`); `source` is a FROM item aliased `m`."""
    return exp.select(exp.column(ID, table="m"), exp.alias_(exp.column(value, table="m"), VALUE)).from_(source)


def comparison(old: exp.Select, new: exp.Select) -> exp.Select:
    """One query of `kind`, `id`, `v`, `total` rows: the first SAMPLE ids of each change with
    its count (v NULL), and per side ('old', 'new') and value the users holding it (id NULL)."""
    o, n = exp.column(VALUE, table="o"), exp.column(VALUE, table="n")
    joined = exp.select(
        exp.alias_(exp.func("COALESCE", exp.column(ID, table="o"), exp.column(ID, table="n")), ID), exp.alias_(o, "o"), exp.alias_(n, "n"),
    ).from_(exp.alias_(old.subquery(), "o", table=True)).join(
        exp.alias_(new.subquery(), "n", table=True), on=exp.EQ(this=exp.column(ID, table="o"), expression=exp.column(ID, table="n")), join_type="FULL OUTER",
    )
    jo, jn = exp.column("o"), exp.column("n")
    change = exp.Case(ifs=[
        exp.If(this=exp.and_(jo.is_(exp.null()), exp.not_(jn.is_(exp.null()))), true=lit("added")),
        exp.If(this=exp.and_(exp.not_(jo.is_(exp.null())), jn.is_(exp.null())), true=lit("removed")),
        exp.If(this=exp.NEQ(this=jo.copy(), expression=jn.copy()), true=lit("moved")),
    ])
    changed = exp.select(exp.alias_(change, "kind"), exp.column(ID)).from_("j")
    ranked = exp.select(
        exp.column("kind"), exp.column(ID),
        exp.alias_(exp.Window(this=exp.Count(this=exp.Star()), partition_by=[exp.column("kind")]), "total"),
        exp.alias_(exp.Window(this=exp.RowNumber(), partition_by=[exp.column("kind")], order=exp.Order(expressions=[exp.Ordered(this=exp.column(ID))])), "rn"),
    ).from_(changed.subquery("c")).where(exp.not_(exp.column("kind").is_(exp.null())))
    null_int = exp.cast(exp.null(), exp.DataType.Type.INT)
    parts: list[exp.Query] = [
        exp.select(exp.column("kind"), exp.column(ID), exp.alias_(null_int, VALUE), exp.column("total")).from_(ranked.subquery("r")).where(exp.LTE(this=exp.column("rn"), expression=lit(SAMPLE))),
    ]
    for side, column in (("old", "o"), ("new", "n")):
        parts.append(
            exp.select(
                exp.alias_(lit(side), "kind"), exp.alias_(exp.cast(exp.null(), exp.DataType.Type.VARCHAR), ID),
                exp.alias_(exp.column(column), VALUE), exp.alias_(exp.Count(this=exp.Star()), "total"),
            ).from_("j").where(exp.not_(exp.column(column).is_(exp.null()))).group_by(exp.column(column))
        )
    union: exp.Query = parts[0]
    for part in parts[1:]:
        union = exp.union(union, part, distinct=False)
    return exp.select(exp.Star()).from_(union.subquery("u")).with_("j", as_=joined)


@dataclass
class Counts:
    """What the comparison query returned, read back."""

    sides: dict[str, Side] = field(default_factory=dict)
    #: 'old' / 'new' → value → users holding it
    values: dict[str, dict[int, int]] = field(default_factory=lambda: {"old": {}, "new": {}})

    def side(self, change: str) -> Side:
        return self.sides.get(change, Side(0, []))

    def size(self, side: str) -> int:
        return sum(self.values[side].values())

    def at_least(self, side: str, step: int) -> int:
        """A funnel's step count: the users whose furthest step is >= `step`."""
        return sum(c for v, c in self.values[side].items() if v >= step)


def read_counts(rows: list[tuple[Any, ...]]) -> Counts:
    out = Counts()
    samples: dict[str, list[str]] = {c: [] for c in CHANGES}
    totals: dict[str, int] = {}
    for kind, ident, value, total in rows:
        kind = str(kind)
        if kind in ("old", "new"):
            out.values[kind][int(value)] = int(total)
        else:
            totals[kind] = int(total)
            samples[kind].append(str(ident))
    out.sides = {c: Side(totals.get(c, 0), sorted(samples[c])) for c in CHANGES}
    return out
