"""One funnel's paths over the shared rows: its furthest step and step times per user (SPEC 4).

`PathBuilder.chosen()` registers the CTEs of one funnel and returns the alias of the last:
one row per user who entered, `__uid`, `__reached` (the furthest step) and `__t1` ..
`__t<k>` (the step times of the path with the earliest t1 among those reaching the
furthest step, then the earliest later times; NULL beyond the furthest step). The greedy
shapes and the path joins are described in `funnels.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlglot import exp

from segsql.compiler.dialects import lit

if TYPE_CHECKING:
    from segsql.compiler.funnels import Columns, FunnelCompiler
    from segsql.definitions.funnels import Funnel

UID, T, RID, SRC, EV_LE, EV_AT = "__uid", "__t", "__rid", "__src", "__ev_le", "__ev_at"


def col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table)


def two(expression: exp.Expr) -> exp.Expr:
    """NULL → FALSE (a missing time or flag never satisfies a limit)."""
    return exp.Coalesce(this=expression, expressions=[exp.false()])


def is_one(expression: exp.Expr) -> exp.Expr:
    return two(exp.EQ(this=expression, expression=lit(1)))


def add_seconds(time: exp.Expr, seconds: float) -> exp.Expr:
    return exp.Add(this=time, expression=exp.Interval(this=exp.Literal.string(str(round(seconds))), unit=exp.var("SECOND")))


def sorted_times(values: list[exp.Expr]) -> list[exp.Expr]:
    """The non-NULL `values` in ascending order (NULLs after them), without sorting rows.

    Value a goes to position 1 + #smaller values + #equal values before it, so each output is
    a CASE over the inputs; used for `any` order, where step times are the times at which
    the user had done 1, 2, ... of the steps."""

    def counted(condition: exp.Expr) -> exp.Expr:
        return exp.Case(ifs=[exp.If(this=condition, true=lit(1))], default=lit(0))

    positions = []
    for a, va in enumerate(values):
        terms: list[exp.Expr] = [lit(1)]
        for b, vb in enumerate(values):
            if b != a:
                terms.append(counted(exp.LT(this=vb.copy(), expression=va.copy())))
            if b < a:
                terms.append(counted(exp.EQ(this=vb.copy(), expression=va.copy())))
        total = terms[0]
        for term in terms[1:]:
            total = exp.Add(this=total, expression=term)
        positions.append(total)
    out: list[exp.Expr] = []
    for j in range(1, len(values) + 1):
        ifs = [
            exp.If(this=exp.and_(exp.not_(exp.Is(this=v.copy(), expression=exp.null())), exp.EQ(this=p.copy(), expression=lit(j))), true=v.copy())
            for v, p in zip(values, positions, strict=True)
        ]
        out.append(exp.Case(ifs=ifs))
    return out


class PathBuilder:
    """Builds the CTEs of one funnel; `register(alias, query)` adds a CTE to the query."""

    def __init__(self, compiler: FunnelCompiler, funnel: Funnel, columns: Columns, rows: str, register: Callable[[str, exp.Query], object]):
        self.compiler = compiler
        self.f = funnel
        self.cols = columns
        self.rows = rows
        self.register = register
        self.k = len(funnel.steps)
        self.prefix = ""

    def _cte(self, name: str, query: exp.Query) -> str:
        alias = f"{self.prefix}_{name}"
        self.register(alias, query)
        return alias

    def _entered(self, time: exp.Expr) -> list[exp.Expr]:
        return self.compiler.behaviour.in_window(time, self.f.entered_within)

    def _in_window(self, time: exp.Expr, first: exp.Expr) -> exp.Expr:
        return exp.LTE(this=time, expression=add_seconds(first, self.f.window_s))

    def chosen(self, prefix: str) -> str:
        from segsql.compiler.funnels import is_greedy

        self.prefix = prefix
        if is_greedy(self.f):
            candidates = {"sequential": self._greedy_sequential, "strict": self._greedy_strict, "any": self._greedy_any}[self.f.order]()
        else:
            candidates = self._paths_any() if self.f.order == "any" else self._paths_ordered()
        if is_greedy(self.f) and self.f.order != "any" and not self.f.holds:
            return self._cte("users", self._earliest_of_furthest(candidates))
        order = [exp.Ordered(this=col("__reached"), desc=True)] + [exp.Ordered(this=col(f"__t{j}")) for j in range(1, self.k + 1)]
        ranked = exp.select(exp.Star(), exp.alias_(exp.Window(this=exp.RowNumber(), partition_by=[col(UID)], order=exp.Order(expressions=order)), "__rn")).from_(candidates)
        best = exp.select(col(UID), col("__reached"), *(col(f"__t{j}") for j in range(1, self.k + 1))).from_(ranked.subquery("r")).where(exp.EQ(this=col("__rn"), expression=lit(1)))
        return self._cte("users", best)

    def _earliest_of_furthest(self, candidates: str) -> exp.Select:
        """Each user's furthest step and the earliest times among the entries reaching it, by one
        GROUP BY instead of a window sort. Exact for the greedy sequential and strict shapes without
        held values: an entry's continuation never moves earlier when its t1 moves later (strict:
        a later t1 is an event, so no earlier path can jump over it), so each step's earliest time
        among entries reaching step r is that of the entry with the earliest t1."""
        reached = col("__reached")
        minima = {
            (r, j): exp.alias_(exp.Min(this=exp.Case(ifs=[exp.If(this=exp.EQ(this=reached.copy(), expression=lit(r)), true=col(f"__t{j}"))])), f"__m{r}_{j}")
            for r in range(1, self.k + 1) for j in range(1, r + 1)
        }
        inner = exp.select(col(UID), exp.alias_(exp.Max(this=reached.copy()), "__furthest"), *minima.values()).from_(candidates).group_by(col(UID))
        times = [
            exp.alias_(exp.Case(ifs=[exp.If(this=exp.EQ(this=col("__furthest"), expression=lit(r)), true=col(f"__m{r}_{j}")) for r in range(j, self.k + 1)]), f"__t{j}")
            for j in range(1, self.k + 1)
        ]
        return exp.select(col(UID), exp.alias_(col("__furthest"), "__reached"), *times).from_(inner.subquery("m"))

    def _candidates(self, source: exp.Select, reached: exp.Expr, times: list[exp.Expr], where: exp.Expr | None = None) -> str:
        """Rows (user, reached, times masked beyond reached), one per entry; `source` is a FROM (alias s)."""
        inner = source.select(exp.alias_(col(UID, "s"), UID), exp.alias_(reached, "__reached"), *(exp.alias_(t, f"__v{j}") for j, t in enumerate(times, start=1)))
        if where is not None:
            inner = inner.where(where)
        masked = [exp.alias_(exp.Case(ifs=[exp.If(this=exp.GTE(this=col("__reached"), expression=lit(j)), true=col(f"__v{j}"))]), f"__t{j}") for j in range(1, self.k + 1)]
        outer = exp.select(col(UID), col("__reached"), *masked).from_(inner.subquery("c")).where(exp.GT(this=col("__reached"), expression=lit(0)))
        return self._cte("candidates", outer)

    # -- greedy shapes ----------------------------------------------------------------------
    def _keys(self) -> list[str]:
        return [UID] + [f"__k{m}" for m in range(self.f.holds)]

    def _groups(self) -> str:
        """One row per (user, held values, time) holding a row of a step, with a flag per step."""
        c, k = self.cols, self.k
        keys: list[exp.Expr] = [col(UID)]
        for m in range(self.f.holds):
            keys.append(exp.Case(ifs=[exp.If(this=col(c.step(j)), true=col(c.hold(j, m))) for j in range(1, k + 1)]))
        flags = [exp.alias_(exp.Max(this=exp.Case(ifs=[exp.If(this=col(c.step(j)), true=lit(1))], default=lit(0))), f"__h{j}") for j in range(1, k + 1)]
        extra: list[exp.Expr] = []
        if self.f.order == "strict":
            extra = [exp.alias_(exp.Max(this=col(EV_LE)), "__le"), exp.alias_(exp.Max(this=exp.Sub(this=col(EV_LE), expression=col(EV_AT))), "__lt")]
        named = [exp.alias_(key, name) for key, name in zip(keys, self._keys(), strict=True)]
        select = exp.select(*named, col(T), *flags, *extra).from_(self.rows)
        select = select.where(exp.or_(*(col(c.step(j)) for j in range(1, k + 1))), *(exp.not_(exp.Is(this=key.copy(), expression=exp.null())) for key in keys[1:]))
        return self._cte("groups", select.group_by(*(key.copy() for key in keys), col(T)))

    def _nexts(self, groups: str, steps: range) -> str:
        """Each group with the earliest time at or after it of every step in `steps`."""
        partition = [col(k) for k in self._keys()]
        spec = exp.WindowSpec(kind="ROWS", start="CURRENT ROW", end="UNBOUNDED", end_side="FOLLOWING")
        order = exp.Order(expressions=[exp.Ordered(this=col(T))])
        nexts = [
            exp.alias_(exp.Window(this=exp.Min(this=exp.Case(ifs=[exp.If(this=exp.EQ(this=col(f"__h{j}"), expression=lit(1)), true=col(T))])), partition_by=[p.copy() for p in partition], order=order.copy(), spec=spec.copy()), f"__n{j}")
            for j in steps
        ]
        return self._cte("next", exp.select(exp.Star(), *nexts).from_(groups))

    def _same_keys(self, a: str, b: str) -> list[exp.Expr]:
        return [exp.EQ(this=col(k, a), expression=col(k, b)) for k in self._keys()]

    def _reached_in_window(self, times: list[exp.Expr]) -> exp.Expr:
        """The last step whose earliest time is within the conversion window of t1 (times never decrease)."""
        ifs = [exp.If(this=two(self._in_window(times[j - 1].copy(), times[0].copy())), true=lit(j)) for j in range(self.k, 1, -1)]
        return exp.Case(ifs=ifs, default=lit(1)) if ifs else lit(1)

    def _greedy_sequential(self) -> str:
        if self.compiler.rules.asof_join:
            return self._asof_sequential()
        nexts = self._nexts(self._groups(), range(2, self.k + 1))
        select = exp.select().from_(exp.alias_(exp.to_table(nexts), "s", table=True))
        times: list[exp.Expr] = [col(T, "s")]
        previous = "s"
        for j in range(2, self.k + 1):
            times.append(col(f"__n{j}", previous))
            if j < self.k:
                alias = f"g{j}"
                on = exp.and_(*self._same_keys(alias, "s"), exp.EQ(this=col(T, alias), expression=col(f"__n{j}", previous)))
                select = select.join(exp.alias_(exp.to_table(nexts), alias, table=True), on=on, join_type="left")
                previous = alias
        where = exp.and_(exp.EQ(this=col("__h1", "s"), expression=lit(1)), *self._entered(col(T, "s")))
        return self._candidates(select, self._reached_in_window(times), times, where)

    def _asof_sequential(self) -> str:
        """The same chain by ASOF joins (DuckDB): each step's earliest row at or after the previous
        step's time, read from the step's own rows, with no grouping and no window."""
        c, holds = self.cols, range(self.f.holds)
        tables = []
        for j in range(1, self.k + 1):
            held = [col(c.hold(j, m)) for m in holds]
            rows = exp.select(col(UID), *(exp.alias_(h, f"__k{m}") for m, h in zip(holds, held, strict=True)), col(T)).from_(self.rows)
            rows = rows.where(col(c.step(j)), *(exp.not_(exp.Is(this=h.copy(), expression=exp.null())) for h in held))
            tables.append(self._cte(f"step{j}", rows))
        select = exp.select().from_(exp.alias_(exp.to_table(tables[0]), "s", table=True))
        times: list[exp.Expr] = [col(T, "s")]
        for j in range(2, self.k + 1):
            alias, previous = f"s{j}", "s" if j == 2 else f"s{j - 1}"
            on = exp.and_(*self._same_keys(alias, "s"), exp.GTE(this=col(T, alias), expression=col(T, previous)))
            join = exp.Join(this=exp.alias_(exp.to_table(tables[j - 1]), alias, table=True), on=on, method="ASOF", side="LEFT")
            select = select.join(join, copy=False)
            times.append(col(T, alias))
        return self._candidates(select, self._reached_in_window(times), times, exp.and_(exp.true(), *self._entered(col(T, "s"))))

    def _greedy_strict(self) -> str:
        """Each step at the current time or at the user's next event time, in layers (one per step)."""
        groups = self._groups()
        keys = self._keys()
        first = exp.select(
            *(col(key) for key in keys), exp.alias_(col(T), "__t1"), exp.alias_(col(T), "__ct"), exp.alias_(col("__le"), "__cle"),
            *(exp.alias_(col(f"__h{x}"), f"__c{x}") for x in range(2, self.k + 1)),
        ).from_(groups).where(exp.EQ(this=col("__h1"), expression=lit(1)), *self._entered(col(T)))
        layer = self._cte("layer1", first)
        for j in range(2, self.k + 1):
            stay = is_one(col(f"__c{j}", "p"))
            move = is_one(col(f"__h{j}", "n"))

            def pick(current: exp.Expr, moved: exp.Expr, stay: exp.Expr = stay, move: exp.Expr = move) -> exp.Expr:
                return exp.Case(ifs=[exp.If(this=stay.copy(), true=current), exp.If(this=move.copy(), true=moved)])

            select = exp.select(
                *(col(key, "p") for key in keys), *(col(f"__t{i}", "p") for i in range(1, j)),
                exp.alias_(pick(col("__ct", "p"), col(T, "n")), f"__t{j}"),
                exp.alias_(pick(col("__ct", "p"), col(T, "n")), "__ct"),
                exp.alias_(pick(col("__cle", "p"), col("__le", "n")), "__cle"),
                *(exp.alias_(pick(col(f"__c{x}", "p"), col(f"__h{x}", "n")), f"__c{x}") for x in range(j + 1, self.k + 1)),
            ).from_(exp.alias_(exp.to_table(layer), "p", table=True))
            on = exp.and_(*self._same_keys("n", "p"), exp.EQ(this=col("__lt", "n"), expression=col("__cle", "p")))
            select = select.join(exp.alias_(exp.to_table(groups), "n", table=True), on=on, join_type="left")
            layer = self._cte(f"layer{j}", select)
        times: list[exp.Expr] = [col(f"__t{j}", "s") for j in range(1, self.k + 1)]
        return self._candidates(exp.select().from_(exp.alias_(exp.to_table(layer), "s", table=True)), self._reached_in_window(times), times)

    def _greedy_any(self) -> str:
        nexts = self._nexts(self._groups(), range(1, self.k + 1))
        s = "s"
        valid = []
        for big_k in range(1, self.k + 1):
            within = [two(self._in_window(col(f"__n{j}", s), col(T, s))) for j in range(1, big_k + 1)]
            here = exp.or_(*(exp.EQ(this=col(f"__h{j}", s), expression=lit(1)) for j in range(1, big_k + 1)))
            valid.append(exp.and_(*within, here))
        reached = exp.Case(ifs=[exp.If(this=valid[i - 1], true=lit(i)) for i in range(self.k, 0, -1)], default=lit(0))
        inner = exp.select(exp.alias_(col(UID, s), UID), exp.alias_(reached, "__r"), *(exp.alias_(col(f"__n{j}", s), f"__n{j}") for j in range(1, self.k + 1)))
        inner = inner.from_(exp.alias_(exp.to_table(nexts), s, table=True)).where(*self._entered(col(T, s)))
        masked = [exp.Case(ifs=[exp.If(this=exp.GTE(this=col("__r"), expression=lit(j)), true=col(f"__n{j}"))]) for j in range(1, self.k + 1)]
        layer = self._cte("entries", exp.select(col(UID), col("__r"), *(exp.alias_(m, f"__m{j}") for j, m in enumerate(masked, start=1))).from_(inner.subquery("i")))
        times = sorted_times([col(f"__m{j}", "s") for j in range(1, self.k + 1)])
        return self._candidates(exp.select().from_(exp.alias_(exp.to_table(layer), "s", table=True)), col("__r", "s"), times)

    # -- path joins -------------------------------------------------------------------------
    def _funnel_rows(self) -> str:
        c = self.cols
        flags = [col(c.step(j)) for j in range(1, self.k + 1)] + [col(c.exclusion(i)) for i in range(len(self.f.exclusions))]
        return self._cte("rows", exp.select(exp.Star()).from_(self.rows).where(exp.or_(*flags)))

    def _held(self, j: int, row: str | None) -> list[exp.Expr]:
        return [col(self.cols.hold(j, m), row) for m in range(self.f.holds)]

    def _paths_ordered(self) -> str:
        """Sequential and strict order: path prefixes joined one step at a time (SPEC 4's definition)."""
        rows = self._funnel_rows()
        strict = self.f.order == "strict"
        first = exp.select(
            col(UID), exp.alias_(col(T), "__t1"), exp.alias_(col(RID), "__r1"),
            *(exp.alias_(v, f"__v{m}") for m, v in enumerate(self._held(1, None))),
            *([exp.alias_(col(EV_LE), "__le1")] if strict else []),
        ).from_(rows).where(col(self.cols.step(1)), *self._entered(col(T)), *(exp.not_(exp.Is(this=v, expression=exp.null())) for v in self._held(1, None)))
        prefixes = [self._cte("p1", first)]
        for j in range(2, self.k + 1):
            step = self.f.steps[j - 1]
            p, r = "p", "r"
            on: list[exp.Expr] = [
                exp.EQ(this=col(UID, r), expression=col(UID, p)),
                col(self.cols.step(j), r),
                exp.GTE(this=col(T, r), expression=col(f"__t{j - 1}", p)),
                self._in_window(col(T, r), col("__t1", p)),
                *(exp.NEQ(this=col(RID, r), expression=col(f"__r{i}", p)) for i in range(1, j)),
                *(exp.EQ(this=v, expression=col(f"__v{m}", p)) for m, v in enumerate(self._held(j, r))),
            ]
            if step.within_previous_s is not None:
                on.append(exp.LTE(this=col(T, r), expression=add_seconds(col(f"__t{j - 1}", p), step.within_previous_s)))
            if strict:
                on.append(exp.LTE(this=exp.Sub(this=col(EV_LE, r), expression=col(EV_AT, r)), expression=col(f"__le{j - 1}", p)))
            for x, exclusion in enumerate(self.f.exclusions):
                if exclusion.before == j:
                    hit = exp.select(lit(1)).from_(exp.alias_(exp.to_table(rows), "x", table=True)).where(
                        exp.EQ(this=col(UID, "x"), expression=col(UID, p)), col(self.cols.exclusion(x), "x"),
                        exp.GT(this=col(T, "x"), expression=col(f"__t{exclusion.after}", p)), exp.LT(this=col(T, "x"), expression=col(T, r)),
                    )
                    on.append(exp.not_(exp.Exists(this=hit)))
            select = exp.select(exp.Column(this=exp.Star(), table=exp.to_identifier(p)), exp.alias_(col(T, r), f"__t{j}"), exp.alias_(col(RID, r), f"__r{j}"),
                                *([exp.alias_(col(EV_LE, r), f"__le{j}")] if strict else []))
            select = select.from_(exp.alias_(exp.to_table(prefixes[-1]), p, table=True)).join(exp.alias_(exp.to_table(rows), r, table=True), on=exp.and_(*on))
            prefixes.append(self._cte(f"p{j}", select))
        return self._union_of_prefixes(prefixes, [None] * self.k)

    def _union_of_prefixes(self, prefixes: list[str], complete: list[exp.Expr | None]) -> str:
        """Candidates: every prefix of length j (that serves steps 1..j) reaches step j."""
        parts = []
        for j, alias in enumerate(prefixes, start=1):
            times = [col(f"__t{i}") if i <= j else exp.cast(exp.null(), self.compiler.rules.timestamp_type) for i in range(1, self.k + 1)]
            part = exp.select(col(UID), exp.alias_(lit(j), "__reached"), *(exp.alias_(t, f"__t{i}") for i, t in enumerate(times, start=1))).from_(alias)
            if complete[j - 1] is not None:
                part = part.where(complete[j - 1])
            parts.append(part)
        query: exp.Query = parts[0]
        for part in parts[1:]:
            query = exp.union(query, part, distinct=False)
        return self._cte("candidates", exp.select(exp.Star()).from_(query.subquery("u")))

    def _paths_any(self) -> str:
        """Any order: chains of rows in (time, row number) order, each serving a step not served yet."""
        rows = self._funnel_rows()
        parts = []
        for j in range(1, self.k + 1):
            held = self._held(j, None)
            part = exp.select(col(UID), col(T), col(RID), exp.alias_(lit(j), "__step"), *(exp.alias_(v, f"__v{m}") for m, v in enumerate(held)))
            parts.append(part.from_(rows).where(col(self.cols.step(j)), *(exp.not_(exp.Is(this=v.copy(), expression=exp.null())) for v in held)))
        union: exp.Query = parts[0]
        for part in parts[1:]:
            union = exp.union(union, part, distinct=False)
        served = self._cte("served_rows", exp.select(exp.Star()).from_(union.subquery("u")))
        holds = [f"__v{m}" for m in range(self.f.holds)]
        first = exp.select(
            col(UID), exp.alias_(col(T), "__t1"), exp.alias_(col(RID), "__lr"), *(col(h) for h in holds),
            *(exp.alias_(exp.EQ(this=col("__step"), expression=lit(j)), f"__d{j}") for j in range(1, self.k + 1)),
        ).from_(served).where(*self._entered(col(T)))
        chains = [self._cte("q1", first)]
        for i in range(2, self.k + 1):
            q, r = "q", "r"
            later = exp.or_(
                exp.GT(this=col(T, r), expression=col(f"__t{i - 1}", q)),
                exp.and_(exp.EQ(this=col(T, r), expression=col(f"__t{i - 1}", q)), exp.GT(this=col(RID, r), expression=col("__lr", q))),
            )
            unserved = exp.or_(*(exp.and_(exp.EQ(this=col("__step", r), expression=lit(j)), exp.not_(col(f"__d{j}", q))) for j in range(1, self.k + 1)))
            on = exp.and_(
                exp.EQ(this=col(UID, r), expression=col(UID, q)), exp.paren(later), self._in_window(col(T, r), col("__t1", q)),
                *(exp.EQ(this=col(h, r), expression=col(h, q)) for h in holds), exp.paren(unserved),
            )
            select = exp.select(
                col(UID, q), *(col(f"__t{x}", q) for x in range(1, i)), exp.alias_(col(T, r), f"__t{i}"), exp.alias_(col(RID, r), "__lr"),
                *(col(h, q) for h in holds),
                *(exp.alias_(exp.or_(col(f"__d{j}", q), exp.EQ(this=col("__step", r), expression=lit(j))), f"__d{j}") for j in range(1, self.k + 1)),
            ).from_(exp.alias_(exp.to_table(chains[-1]), q, table=True)).join(exp.alias_(exp.to_table(served), r, table=True), on=on)
            chains.append(self._cte(f"q{i}", select))
        complete: list[exp.Expr | None] = [exp.and_(*(col(f"__d{j}") for j in range(1, i + 1))) for i in range(1, self.k + 1)]
        return self._union_of_prefixes(chains, complete)
