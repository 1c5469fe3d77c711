"""A segment's diff when its stage holds only the run's candidates (SPEC 9).

The new membership is the old table minus the candidates plus the candidates staged as
members, so who entered (a staged member not in the table) and who left (a candidate in
the table, not staged) follow from the staged members and the candidates' old rows alone.
Every incremental segment's entrants and leavers are staged in one table by one query (the
delta); the counts, CDI's changed ids, the change log and the DML read only that table.
The definition is unchanged (else the segment runs fully), so a member who stays keeps its
split group, and segments with consent channels never get here: nothing is regrouped and
no consent changes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from segsql.compiler.dialects import lit
from segsql.run.diff import NEW, OLD, Counts, Fetch, Membership, _named
from segsql.run.state import ENTERED_AT, SEGMENT_ID, SPLIT_GROUP

ENTITY = "entity"
SEGMENT, CHANGE = "segment", "change"


@dataclass
class Delta:
    """The staged (segment, external_user_id, change, split_group) of every incremental segment."""

    table: exp.Table
    _rows: dict[tuple[str, str], list[tuple[Any, Any]]] | None = field(default=None, repr=False)

    def where(self, segment: str, change: str) -> exp.Expr:
        return exp.and_(exp.column(SEGMENT).eq(lit(segment)), exp.column(CHANGE).eq(lit(change)))

    def rows(self, fetch: Fetch, segment: str, change: str) -> list[tuple[Any, Any]]:
        """(id, group) of one segment's entrants or leavers; the whole table is fetched once for all."""
        if self._rows is None:
            self._rows = {}
            for seg, ident, kind, group in fetch(exp.select(SEGMENT, SEGMENT_ID, CHANGE, SPLIT_GROUP).from_(self.table.copy())):
                self._rows.setdefault((str(seg), str(kind)), []).append((ident, group))
        return self._rows.get((segment, change), [])


def stage_delta(stage_table: Callable[[str, exp.Query], exp.Table], memberships: Sequence[Membership]) -> None:
    """Stage the delta of the incremental memberships among `memberships` in one query."""
    incremental = [m for m in memberships if isinstance(m, IncrementalMembership)]
    if not incremental:
        return
    parts = [m.delta_query() for m in incremental]
    delta = Delta(stage_table("delta", parts[0] if len(parts) == 1 else exp.union(*parts, distinct=False)))
    for m in incremental:
        m.delta = delta


class IncrementalMembership(Membership):
    """A membership whose stage holds only the candidates: everyone else keeps their old row."""

    candidates: exp.Table
    delta: Delta

    def _candidate(self, external_id: exp.Expr) -> exp.Expr:
        found = exp.select(lit(1)).from_(self.candidates.as_("c")).where(exp.column(ENTITY, table="c").eq(external_id))
        return exp.Exists(this=found)

    def delta_query(self) -> exp.Select:
        """Who entered and who left: the staged members FULL JOIN the candidates' old rows, one side missing."""
        n_id, o_id = exp.column(SEGMENT_ID, table=NEW), exp.column(SEGMENT_ID, table=OLD)
        old = exp.select(exp.column(SEGMENT_ID, table="t"), exp.alias_(self._old_group_of("t"), SPLIT_GROUP))
        old = old.from_(self.table.as_("t")).join(self.candidates.as_("c"), on=exp.column(ENTITY, table="c").eq(exp.column(SEGMENT_ID, table="t")))
        entered = exp.Is(this=o_id.copy(), expression=exp.null())
        select = exp.select(
            lit(self.segment.name).as_(SEGMENT),
            exp.func("COALESCE", n_id, o_id).as_(SEGMENT_ID),
            exp.Case(ifs=[exp.If(this=entered, true=lit("entered"))], default=lit("exited")).as_(CHANGE),
            exp.Case(ifs=[exp.If(this=entered.copy(), true=exp.column(SPLIT_GROUP, table=NEW))], default=exp.column(SPLIT_GROUP, table=OLD)).as_(SPLIT_GROUP),
        )
        select = select.from_(self.new_rows()).join(old.subquery(OLD), on=o_id.copy().eq(n_id.copy()), join_type="full")
        return select.where(exp.or_(entered.copy(), exp.Is(this=n_id.copy(), expression=exp.null())))

    def _old_group_of(self, alias: str) -> exp.Expr:
        return exp.column(SPLIT_GROUP, table=alias) if self.old_has_group else exp.cast(exp.null(), exp.DataType.Type.VARCHAR)

    def _changed(self, change: str) -> exp.Select:
        return exp.select(SEGMENT_ID, SPLIT_GROUP).from_(self.delta.table.copy()).where(self.delta.where(self.segment.name, change))

    def count_query(self, index: int) -> exp.Select:
        """The old size plus entered minus exited, counted in the delta."""

        def count(change: str) -> exp.Expr:
            return exp.Count(this=exp.Case(ifs=[exp.If(this=exp.column(CHANGE).eq(lit(change)), true=lit(1))]))

        counts = exp.select(count("entered").as_("entered"), count("exited").as_("exited")).from_(self.delta.table.copy()).where(exp.column(SEGMENT).eq(lit(self.segment.name)))
        sizes = exp.select(exp.Count(this=exp.Star()).as_("old_size")).from_(self.table.copy())
        entered, exited = exp.column("entered", table="k"), exp.column("exited", table="k")
        size = exp.Sub(this=exp.Add(this=exp.column("old_size", table="z"), expression=entered.copy()), expression=exited.copy())
        select = _named(lit(index), size, entered, exited, lit(0), lit(0), lit(0))
        return select.from_(counts.subquery("k")).join(sizes.subquery("z"), join_type="cross")

    def entered_query(self) -> exp.Select:
        return self._changed("entered")

    def exited_query(self) -> exp.Select:
        return self._changed("exited")

    def changed_ids(self, fetch: Fetch) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        return self.delta.rows(fetch, self.segment.name, "entered"), self.delta.rows(fetch, self.segment.name, "exited")

    def change_rows(self, run_id: str, as_of: exp.Expr) -> exp.Select:
        select = exp.select(lit(run_id), as_of.copy(), lit(self.segment.name), exp.column(SEGMENT_ID), exp.column(CHANGE), exp.column(SPLIT_GROUP))
        return select.from_(self.delta.table.copy()).where(exp.column(SEGMENT).eq(lit(self.segment.name)))

    def apply(self, as_of: exp.Expr) -> list[exp.Expr]:
        """DELETE the leavers, INSERT the entrants (entered_at = as_of), as the delta lists them."""
        counts = self.counts or Counts()
        statements: list[exp.Expr] = []
        if counts.exited:
            leavers = exp.select(SEGMENT_ID).from_(self.delta.table.copy()).where(self.delta.where(self.segment.name, "exited"))
            statements.append(exp.delete(self.table.copy(), where=exp.column(SEGMENT_ID).isin(query=leavers)))
        if counts.entered:
            split = [SPLIT_GROUP] if self.segment.split else []
            select = exp.select(SEGMENT_ID, as_of.copy(), *split).from_(self.delta.table.copy()).where(self.delta.where(self.segment.name, "entered"))
            statements.append(exp.insert(select, self.table.copy(), columns=[SEGMENT_ID, ENTERED_AT, *split]))
        return statements

    def members_query(self) -> exp.Select:
        """Every member (a resync): the staged ones and the old rows of non-candidates."""
        o_id = exp.column(SEGMENT_ID, table=OLD)
        kept = exp.select(o_id, self._group(o_id.copy())).from_(self.table.as_(OLD)).where(exp.not_(self._candidate(o_id.copy())))
        return exp.union(super().members_query(), kept, distinct=False)  # type: ignore[return-value]
