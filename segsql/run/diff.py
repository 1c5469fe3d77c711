"""One segment's new members against its membership table, as SQL that never leaves the engine.

The staged flags hold the new members; the membership table holds the old ones with their
`entered_at`. Everything a run needs from the pair is a query over them: the counts (size,
entered, exited, regrouped) for every segment in one statement, the changed ids only where
CDI needs them in Python, and the DML that turns old into new inside the run's transaction
— rows that stay are not touched, so an unchanged segment costs no write at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from segsql.compiler import consent_name, flag_name
from segsql.compiler.dialects import lit
from segsql.compiler.registry import rules_for
from segsql.definitions.segments import Segment
from segsql.run.state import CONSENTED, ENTERED_AT, SEGMENT_ID, SPLIT_GROUP

NEW, OLD = "n", "o"
Fetch = Callable[[exp.Expr], list[tuple[Any, ...]]]


def split_group_sql(segment: Segment, dialect: str, external_id: exp.Expr) -> exp.Expr:
    """SPEC 2: the bucket of md5(salt || id) picks the group; group i takes the next 100·p_i buckets."""
    assert segment.split is not None
    bucket = rules_for(dialect).bucket(external_id, segment.split.salt)
    ifs, upper = [], 0.0
    for group, pct in segment.split.groups:
        upper += pct * 100
        ifs.append(exp.If(this=exp.LT(this=bucket.copy(), expression=lit(round(upper, 6))), true=lit(group)))
    return exp.Case(ifs=ifs)


_VARCHAR = exp.DataType.Type.VARCHAR


def _null_text() -> exp.Expr:
    """CAST(NULL AS VARCHAR), built without parsing the type name."""
    return exp.cast(exp.null(), _VARCHAR)


def _named(*values: exp.Expr) -> exp.Select:
    """SELECT of the count columns, named (some drivers drop unnamed duplicates).

    The values are fresh trees owned by the SELECT: built without copying or parsing (a run
    counts every segment in one query, so this is on the fixed cost of each run)."""
    names = ("segment_index", "size", "entered", "exited", "regrouped", "consent_given", "consent_withdrawn")
    return exp.Select(expressions=[exp.alias_(v, n, copy=False) for v, n in zip(values, names, strict=True)])


@dataclass
class Counts:
    size: int = 0
    entered: int = 0
    exited: int = 0
    #: members who stay but whose split_group changes (a new split, a changed salt or split removed)
    regrouped: int = 0
    #: members who stay and now satisfy / no longer satisfy the segment's channels (SPEC 8.4)
    consent_given: int = 0
    consent_withdrawn: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.entered or self.exited or self.regrouped or self.consent_given or self.consent_withdrawn)


@dataclass
class Membership:
    """A segment's new members (its flag in a stage table) and its table (absent on a first dry run)."""

    segment: Segment
    stage: exp.Table
    table: exp.Table
    exists: bool
    old_has_group: bool
    dialect: str
    counts: Counts | None = None
    #: the table has `consented` (the segment has, or had, channels: SPEC 8.4)
    old_has_consent: bool = False

    # -- pieces -----------------------------------------------------------------------------
    def _group(self, external_id: exp.Expr) -> exp.Expr:
        if self.segment.split is None:
            return _null_text()
        return split_group_sql(self.segment, self.dialect, external_id)

    def _old_group(self) -> exp.Expr:
        return exp.column(SPLIT_GROUP, table=OLD) if self.old_has_group else _null_text()

    def gated(self) -> bool:
        """CDI reads consent for this segment: it lists channels, or its table still says who consented."""
        return bool(self.segment.channels) or self.old_has_consent

    def _consent(self, stage: str = "s") -> exp.Expr:
        """Whether a staged member satisfies every channel of the segment (TRUE without channels)."""
        if not self.segment.channels:
            return exp.true()
        return exp.and_(*(exp.column(consent_name(c), table=stage) for c in self.segment.channels))

    def _old_consent(self) -> exp.Expr:
        return exp.func("COALESCE", exp.column(CONSENTED, table=OLD), exp.true()) if self.old_has_consent else exp.true()

    def _consent_changed(self) -> exp.Expr:
        return exp.column(CONSENTED, table=NEW).neq(self._old_consent())

    def new_rows(self) -> exp.Subquery:
        """(external_user_id, split_group, consented) of the new members, aliased `n`."""
        s = exp.column(SEGMENT_ID, table="s")
        select = exp.Select(
            expressions=[s, exp.alias_(self._group(exp.column(SEGMENT_ID, table="s")), SPLIT_GROUP, copy=False), exp.alias_(self._consent(), CONSENTED, copy=False)],
            from_=exp.From(this=exp.alias_(self.stage, "s")),
            where=exp.Where(this=exp.column(flag_name(self.segment.name), table="s")),
        )
        return exp.Subquery(this=select, alias=exp.TableAlias(this=exp.to_identifier(NEW)))

    def _same_id(self) -> exp.Expr:
        return exp.column(SEGMENT_ID, table=OLD).eq(exp.column(SEGMENT_ID, table=NEW))

    def _not_in_old(self) -> exp.Expr:
        old = exp.select(lit(1)).from_(self.table.as_(OLD)).where(self._same_id())
        return exp.not_(exp.Exists(this=old))

    def _not_staged(self, external_id: exp.Expr) -> exp.Expr:
        """NOT EXISTS a new member with this id (read straight from the stage: no group needed)."""
        s = exp.column(SEGMENT_ID, table="s")
        staged = exp.select(lit(1)).from_(self.stage.as_("s")).where(exp.and_(exp.column(flag_name(self.segment.name), table="s"), s.eq(external_id)))
        return exp.not_(exp.Exists(this=staged))

    def _regrouped(self) -> exp.Expr:
        """True for a staying member whose group differs (NULL and '' alike, as before)."""
        return exp.func("COALESCE", self._old_group(), lit("")).neq(exp.func("COALESCE", exp.column(SPLIT_GROUP, table=NEW), lit("")))

    def tracks_groups(self) -> bool:
        return self.exists and (self.segment.split is not None or self.old_has_group)

    # -- counting ---------------------------------------------------------------------------
    def count_query(self, index: int) -> exp.Select:
        """One row (index, size, entered, exited, regrouped); many segments UNION ALL into one query."""
        n_id, o_id = exp.column(SEGMENT_ID, table=NEW), exp.column(SEGMENT_ID, table=OLD)
        if not self.exists:
            size = exp.Count(this=exp.Star())
            return _named(lit(index), size, size.copy(), lit(0), lit(0), lit(0), lit(0)).from_(self.new_rows(), copy=False)

        def count_when(condition: exp.Expr) -> exp.Expr:
            return exp.Count(this=exp.Case(ifs=[exp.If(this=condition, true=lit(1))]))

        def is_null(column: exp.Column) -> exp.Expr:
            return exp.Is(this=exp.column(column.name, table=column.table), expression=exp.null())

        def not_null(column: exp.Column) -> exp.Expr:
            return exp.Not(this=is_null(column))

        regrouped: exp.Expr = lit(0)
        if self.tracks_groups():
            regrouped = count_when(exp.and_(not_null(n_id), not_null(o_id), self._regrouped(), copy=False))
        given: exp.Expr = lit(0)
        withdrawn: exp.Expr = lit(0)
        if self.gated():
            now = exp.column(CONSENTED, table=NEW)
            given = count_when(exp.and_(not_null(n_id), not_null(o_id), now, exp.not_(self._old_consent()), copy=False))
            withdrawn = count_when(exp.and_(not_null(n_id), not_null(o_id), exp.not_(now.copy()), self._old_consent(), copy=False))
        select = _named(lit(index), exp.Count(this=n_id), count_when(is_null(o_id)), count_when(is_null(n_id)), regrouped, given, withdrawn)
        select.set("from_", exp.From(this=self.new_rows()))
        select.set("joins", [exp.Join(this=exp.alias_(self.table, OLD), side="FULL", on=self._same_id())])
        return select

    # -- changed ids, for CDI ------------------------------------------------------------------
    def entered_query(self) -> exp.Select:
        """(id, group) of new members not in the table."""
        select = exp.select(exp.column(SEGMENT_ID, table=NEW), exp.column(SPLIT_GROUP, table=NEW)).from_(self.new_rows())
        return select.where(self._not_in_old()) if self.exists else select

    def exited_query(self) -> exp.Select:
        """(id, old group) of old members no longer in the segment."""
        return exp.select(exp.column(SEGMENT_ID, table=OLD), self._old_group()).from_(self.table.as_(OLD)).where(self._not_staged(exp.column(SEGMENT_ID, table=OLD)))

    def regrouped_query(self) -> exp.Select:
        """(id, old group, new group) of staying members whose group changed."""
        # named apart: some drivers keep one of two result columns of the same name
        before, after = exp.alias_(self._old_group(), "old_group"), exp.alias_(exp.column(SPLIT_GROUP, table=NEW), "new_group")
        select = exp.select(exp.column(SEGMENT_ID, table=NEW), before, after).from_(self.new_rows())
        return select.join(self.table.as_(OLD), on=self._same_id()).where(self._regrouped())

    def synced_query(self, everyone: bool) -> exp.Select:
        """For a gated segment (SPEC 8.4): (id, was a member, old group, old consent, is a member,
        new group, new consent) of every user whose membership, group or consent changed —
        of every old and new member with `everyone` (a resync). What CDI last said of a user
        follows from the old columns, what it must say now from the new ones."""
        n_id, o_id = exp.column(SEGMENT_ID, table=NEW), exp.column(SEGMENT_ID, table=OLD)
        if not self.exists:
            return exp.select(n_id, exp.false().as_("was"), _null_text().as_("old_group"), exp.false().as_("old_consent"), exp.true().as_("is_member"),
                              exp.column(SPLIT_GROUP, table=NEW).as_("new_group"), exp.column(CONSENTED, table=NEW).as_("new_consent")).from_(self.new_rows())
        select = exp.select(
            exp.func("COALESCE", n_id, o_id).as_("id"),
            exp.not_(exp.Is(this=o_id.copy(), expression=exp.null())).as_("was"),
            self._old_group().as_("old_group"),
            self._old_consent().as_("old_consent"),
            exp.not_(exp.Is(this=n_id.copy(), expression=exp.null())).as_("is_member"),
            exp.column(SPLIT_GROUP, table=NEW).as_("new_group"),
            exp.func("COALESCE", exp.column(CONSENTED, table=NEW), exp.false()).as_("new_consent"),
        ).from_(self.new_rows()).join(self.table.as_(OLD), on=self._same_id(), join_type="full")
        if everyone:
            return select
        missing = exp.or_(exp.Is(this=n_id.copy(), expression=exp.null()), exp.Is(this=o_id.copy(), expression=exp.null()))
        return select.where(exp.or_(missing, self._regrouped(), self._consent_changed()))

    def members_query(self) -> exp.Select:
        return exp.select(exp.column(SEGMENT_ID, table=NEW), exp.column(SPLIT_GROUP, table=NEW)).from_(self.new_rows())

    def changed_ids(self, fetch: Fetch) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """(id, group) of who entered and of who exited, for CDI (a query only where the count says so)."""
        counts = self.counts or Counts()
        return (fetch(self.entered_query()) if counts.entered else [], fetch(self.exited_query()) if counts.exited else [])

    # -- the commit's DML ---------------------------------------------------------------------
    def change_rows(self, run_id: str, as_of: exp.Expr) -> exp.Query:
        """The rows for segsql_changes: who entered, who exited, whose consent changed; the
        INSERT of them must run before `apply()` (they compare the new members with the old table)."""
        counts = self.counts or Counts()

        def logged(change: str, ident: exp.Expr, group: exp.Expr) -> exp.Select:
            return exp.select(lit(run_id), as_of.copy(), lit(self.segment.name), ident, lit(change), group)

        parts: list[exp.Select] = []
        if counts.entered:
            entered = logged("entered", exp.column(SEGMENT_ID, table=NEW), exp.column(SPLIT_GROUP, table=NEW)).from_(self.new_rows())
            parts.append(entered.where(self._not_in_old()) if self.exists else entered)
        if counts.exited:
            parts.append(logged("exited", exp.column(SEGMENT_ID, table=OLD), self._old_group()).from_(self.table.as_(OLD)).where(self._not_staged(exp.column(SEGMENT_ID, table=OLD))))
        if counts.consent_given or counts.consent_withdrawn:
            change = exp.Case(ifs=[exp.If(this=exp.column(CONSENTED, table=NEW), true=lit("consent_given"))], default=lit("consent_withdrawn"))
            select = exp.select(lit(run_id), as_of.copy(), lit(self.segment.name), exp.column(SEGMENT_ID, table=NEW), change, exp.column(SPLIT_GROUP, table=NEW))
            parts.append(select.from_(self.new_rows()).join(self.table.as_(OLD), on=self._same_id()).where(self._consent_changed()))
        return parts[0] if len(parts) == 1 else exp.union(*parts, distinct=False, copy=False)

    def apply(self, as_of: exp.Expr) -> list[exp.Expr]:
        """DELETE who left, re-group who stays, INSERT who entered (entered_at = as_of); stayers keep their row."""
        counts = self.counts or Counts()
        statements: list[exp.Expr] = []
        if counts.exited:
            statements.append(exp.delete(self.table.copy(), where=self._not_staged(exp.column(SEGMENT_ID, table=self.table.name))))
        if counts.regrouped:
            group = self._group(exp.column(SEGMENT_ID))
            differs = exp.func("COALESCE", exp.column(SPLIT_GROUP), lit("")).neq(exp.func("COALESCE", group.copy(), lit("")))
            statements.append(exp.update(self.table.copy(), {SPLIT_GROUP: group}, where=differs))
        for given, count in ((True, counts.consent_given), (False, counts.consent_withdrawn)):
            if count:
                statements.append(self._set_consent(given))
        if counts.entered:
            split = [SPLIT_GROUP] if self.segment.split else []
            split += [CONSENTED] if self.gated() else []
            select = exp.select(exp.column(SEGMENT_ID, table=NEW), as_of.copy(), *(exp.column(c, table=NEW) for c in split)).from_(self.new_rows())
            if self.exists:
                select = select.where(self._not_in_old())
            statements.append(exp.insert(select, self.table.copy(), columns=[SEGMENT_ID, ENTERED_AT, *split]))
        return statements

    def _set_consent(self, given: bool) -> exp.Expr:
        """UPDATE `consented` of staying members whose consent became `given` (before: the other)."""
        s_id = exp.column(SEGMENT_ID, table="s")
        now = self._consent()
        staged = exp.select(s_id).from_(self.stage.as_("s")).where(exp.and_(exp.column(flag_name(self.segment.name), table="s"), now if given else exp.not_(exp.paren(now))))
        before = exp.func("COALESCE", exp.column(CONSENTED), exp.true())
        was = exp.not_(before) if given else before
        return exp.update(self.table.copy(), {CONSENTED: exp.true() if given else exp.false()}, where=exp.and_(was, exp.column(SEGMENT_ID).isin(query=staged)))
