"""A segment's diff when its stage holds only the run's candidates (SPEC 9).

The new membership is the old table minus the candidates plus the candidates staged as
members, so everything the diff asks reads only the candidates and the changed rows: who
entered (a staged member not in the table), who left (a candidate in the table, not staged),
and the size (the old size plus entered minus exited). The definition is unchanged (else
the segment runs fully), so a member who stays keeps its split group, and segments with
consent channels never get here: nothing is regrouped and no consent changes.
"""

from __future__ import annotations

from sqlglot import exp

from segsql.compiler.dialects import lit
from segsql.run.diff import NEW, OLD, Membership, _named
from segsql.run.state import SEGMENT_ID

ENTITY = "entity"


class IncrementalMembership(Membership):
    """A membership whose stage holds only the candidates: everyone else keeps their old row."""

    candidates: exp.Table

    def _candidate(self, external_id: exp.Expr) -> exp.Expr:
        found = exp.select(lit(1)).from_(self.candidates.as_("c")).where(exp.column(ENTITY, table="c").eq(external_id))
        return exp.Exists(this=found)

    def _not_staged(self, external_id: exp.Expr) -> exp.Expr:
        """A member no longer: a candidate the stage does not list (others keep their row)."""
        return exp.and_(self._candidate(external_id.copy()), super()._not_staged(external_id))

    def count_query(self, index: int) -> exp.Select:
        """One pass over the staged members FULL JOIN the old rows of the candidates."""
        n_id, o_id = exp.column(SEGMENT_ID, table=NEW), exp.column(SEGMENT_ID, table=OLD)
        old_c = exp.select(exp.column(SEGMENT_ID, table="t")).from_(self.table.as_("t")).where(self._candidate(exp.column(SEGMENT_ID, table="t")))
        sizes = exp.select(exp.Count(this=exp.Star()).as_("old_size")).from_(self.table.copy())

        def count_null(column: exp.Column) -> exp.Expr:
            return exp.Count(this=exp.Case(ifs=[exp.If(this=exp.Is(this=column.copy(), expression=exp.null()), true=lit(1))]))

        counts = exp.select(count_null(o_id).as_("entered"), count_null(n_id).as_("exited")).from_(self.new_rows())
        counts = counts.join(old_c.subquery(OLD), on=o_id.copy().eq(n_id.copy()), join_type="full")
        entered, exited = exp.column("entered", table="k"), exp.column("exited", table="k")
        size = exp.Sub(this=exp.Add(this=exp.column("old_size", table="z"), expression=entered.copy()), expression=exited.copy())
        select = _named(lit(index), size, entered, exited, lit(0), lit(0), lit(0))
        return select.from_(counts.subquery("k")).join(sizes.subquery("z"), join_type="cross")

    def members_query(self) -> exp.Select:
        """Every member (a resync): the staged ones and the old rows of non-candidates."""
        o_id = exp.column(SEGMENT_ID, table=OLD)
        kept = exp.select(o_id, self._group(o_id.copy())).from_(self.table.as_(OLD)).where(exp.not_(self._candidate(o_id.copy())))
        return exp.union(super().members_query(), kept, distinct=False)  # type: ignore[return-value]
