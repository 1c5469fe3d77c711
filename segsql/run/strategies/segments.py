"""The segment strategy: one fused query, a diff against each membership table, guards, CDI.

`stage` computes every selected table segment in one query (one per segment only to
isolate a statement failure), creates missing membership tables, counts size / entered /
exited for all of them in one query and applies the guards. `prepare` turns the passing
segments' changes into CDI rows and loads them into a scratch table. `write` yields the
DML that replaces the memberships in place (leavers deleted, newcomers inserted, unchanged
segments untouched), the change log, the CDI rows and the history.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from segsql.compiler import SegmentCompiler
from segsql.compiler.dialects import lit
from segsql.compiler.registry import rules_for
from segsql.definitions.segments import Segment
from segsql.definitions.traits import filter_traits, segment_traits
from segsql.errors import StatementFailure
from segsql.planner import Plan, plan_models
from segsql.planner.costs import needs_facts, run_plan, segment_shapes
from segsql.run import cdi
from segsql.run.diff import Counts, Membership
from segsql.run.facts import measure_facts
from segsql.run.incremental.membership import stage_delta
from segsql.run.state import (
    CDI_COLUMNS,
    CHANGES,
    COLUMNS,
    CONSENTED,
    HISTORY,
    SPLIT_GROUP,
    ensure_membership_table,
)
from segsql.run.strategies.base import ModelResult, RunContext, Strategy
from segsql.run.traits import stale_traits
from segsql.util.words import plural

if TYPE_CHECKING:
    from segsql.run.incremental.segments import IncrementalSegments

#: changed users whose old CDI payloads are looked up per query (bounds a big run's memory)
CDI_LOOKUP_BATCH = 100_000
#: a user CDI does not see as a member of a gated segment (SPEC 8.4)
_UNSYNCED = object()


def insert_values(ctx: RunContext, table: str, rows: list[tuple[Any, ...]]) -> exp.Insert | None:
    """One INSERT ... VALUES of every row into one of segsql's tables (none: no statement)."""
    rules = rules_for(ctx.adapter.dialect)

    def literal(value: Any) -> exp.Expr:
        if isinstance(value, dt.datetime):
            return rules.timestamp(value.replace(tzinfo=dt.UTC))
        return lit(value)

    if not rows:
        return None
    values = exp.Values(expressions=[exp.Tuple(expressions=[literal(v) for v in row]) for row in rows])
    return exp.insert(values, ctx.adapter.table(table), columns=[c for c, _ in COLUMNS[table]], copy=False)


class SegmentStrategy(Strategy):
    kind = "segment"

    def __init__(self, ctx: RunContext, names: list[str]):
        # ephemeral segments have no table: they are inlined where other segments read them
        super().__init__(ctx, [n for n in names if ctx.defs.segments[n].materialized == "table"])
        config = ctx.defs.config
        self.results = {n: ModelResult(n, self.kind, config.segment_prefix + n) for n in self.names}
        self.shapes = segment_shapes(ctx.defs, self.names, ctx.as_of)
        self.plan: Plan = run_plan(ctx.defs, self.names, ctx.as_of, self.shapes)
        self.memberships: list[Membership] = []
        self.cdi_scratch: exp.Table | None = None
        #: SPEC 9: set by the run when it has fingerprints (not in a dry run)
        self.incremental: IncrementalSegments | None = None

    def _segment(self, name: str) -> Segment:
        return self.ctx.defs.segments[name]

    def _fail(self, name: str, message: str) -> None:
        self.results[name].fail(message)

    # -- stage -----------------------------------------------------------------------------------
    def stage(self) -> None:
        ctx = self.ctx
        ctx.progress(f"staging {plural(len(self.names), 'segment')} in one query")
        started = time.monotonic()
        incremental = self._stage_incremental()
        elapsed = time.monotonic() - started
        groups = tuple(kept for g in self._choose_groups() if (kept := tuple(n for n in g if n not in incremental)))
        started = time.monotonic()
        stages = {**self._stage_queries(groups), **incremental}
        ctx.timings["segments query"] = elapsed + time.monotonic() - started - ctx.timings.get("changed users", 0.0)
        for name in self.names:
            if name not in stages:
                continue
            try:
                self.memberships.append(self._membership(name, stages[name]))
            except StatementFailure as err:
                self._fail(name, f"{self._segment(name).error_location(str(err))}: {err}")
        ctx.progress(f"diffing {plural(len(self.memberships), 'segment')} in one query")
        started = time.monotonic()
        if self.memberships:
            if self.incremental is not None:
                stage_delta(ctx.stage_table, self.memberships)
            self._count(self.memberships)
        ctx.timings["diff"] = time.monotonic() - started
        self.memberships = [m for m in self.memberships if m.counts is not None]
        for m in self.memberships:
            self._guard(m.segment.name)
        self._fail_stale_traits()

    def _stage_incremental(self) -> dict[str, exp.Table]:
        """SPEC 9: the segments that can run incrementally, staged for their candidates only."""
        if self.incremental is None:
            return {}
        started = time.monotonic()
        try:
            stages = self.incremental.stage(self._compiler())
        except StatementFailure as err:  # recomputed fully instead: never less exact
            self.incremental.fall_back(str(err))
            stages = {}
        for name in stages:
            self.results[name].seconds = time.monotonic() - started
        self.incremental.report(self.results)
        return stages

    def _compiler(self) -> SegmentCompiler:
        ctx = self.ctx
        published = {name: ctx.adapter.table(c.table) for name, c in ctx.defs.clusters.items()}
        return SegmentCompiler(ctx.defs, ctx.adapter.dialect, ctx.as_of, ctx.types, {**published, **ctx.cluster_tables})

    def _choose_groups(self) -> tuple[tuple[str, ...], ...]:
        """The cost rule's grouping of the segments into queries, from row counts measured now
        when they can change it (`planner/costs.py`)."""
        ctx = self.ctx
        if needs_facts(self.shapes, ctx.defs.config.planner_strategy):
            ctx.progress("counting rows per event name for the cost rule")
            started = time.monotonic()
            facts = measure_facts(ctx, self._compiler(), self.plan, self.shapes)
            ctx.timings["row counts"] = time.monotonic() - started
            self.plan = run_plan(ctx.defs, self.names, ctx.as_of, self.shapes, facts)
        assert self.plan.choice is not None
        return self.plan.choice.groups

    def _stage_queries(self, groups: tuple[tuple[str, ...], ...]) -> dict[str, exp.Table]:
        """One stage table per group of segments; if the engine rejects a group's query, one per
        segment of it to isolate the failure."""
        ctx = self.ctx
        compiler = self._compiler()
        tables: dict[str, exp.Table] = {}
        for g, group in enumerate(groups):
            label = "stage" if len(groups) == 1 else f"stage{g}"
            plan = self.plan if list(group) == self.names else plan_models(ctx.defs, list(group), ctx.as_of, anchored=True)
            started = time.monotonic()
            try:
                table = ctx.stage_table(label, compiler.render(plan))
            except StatementFailure as err:
                if len(group) == 1:
                    self._fail(group[0], f"{self._segment(group[0]).error_location(str(err))}: {err}")
                    continue
            else:
                elapsed = time.monotonic() - started
                for name in group:
                    self.results[name].seconds = elapsed
                    tables[name] = table
                continue
            for i, name in enumerate(group):
                started = time.monotonic()
                try:
                    tables[name] = ctx.stage_table(f"{label}_{i}", compiler.flags([name]))
                except StatementFailure as err:
                    self._fail(name, f"{self._segment(name).error_location(str(err))}: {err}")
                self.results[name].seconds = time.monotonic() - started
        return tables

    def _membership(self, name: str, stage: exp.Table) -> Membership:
        """The segment's table, created (or given `split_group`) first unless this is a dry run."""
        ctx, seg = self.ctx, self._segment(name)
        table_name = self.results[name].table
        columns = ctx.catalogue.get(table_name.lower())
        if not ctx.dry_run:
            columns = ensure_membership_table(ctx.adapter, table_name, seg.split is not None, columns, consent=bool(seg.channels))
        exists = columns is not None
        membership = Membership(seg, stage, ctx.adapter.table(table_name), exists, exists and SPLIT_GROUP in (columns or ()), ctx.adapter.dialect)
        membership.old_has_consent = exists and CONSENTED in (columns or ())
        return self.incremental.membership(membership) if self.incremental is not None else membership

    def _count(self, memberships: list[Membership]) -> None:
        """Size, entered, exited and regrouped of every segment in one query (one per segment to isolate a failure)."""
        try:
            self._count_query(memberships)
            return
        except StatementFailure:
            if len(memberships) == 1:
                raise
        for m in memberships:
            try:
                self._count_query([m])
            except StatementFailure as err:
                self._fail(m.segment.name, f"{m.segment.error_location(str(err))}: {err}")

    def _count_query(self, memberships: list[Membership]) -> None:
        parts = [m.count_query(i) for i, m in enumerate(memberships)]
        query = parts[0] if len(parts) == 1 else exp.union(*parts, distinct=False, copy=False)
        for index, size, entered, exited, regrouped, given, withdrawn in self.ctx.adapter.fetch(query):
            m = memberships[int(index)]
            m.counts = Counts(int(size), int(entered), int(exited), int(regrouped), int(given), int(withdrawn))
            res = self.results[m.segment.name]
            res.size, res.entered, res.exited = m.counts.size, m.counts.entered, m.counts.exited

    def _guard(self, name: str) -> None:
        """SPEC 5.4: min_size, max_size, max_change_pct (of the previous size, when it is > 0)."""
        seg, res = self._segment(name), self.results[name]
        g = seg.guards
        previous = res.size - res.entered + res.exited
        if g.min_size is not None and res.size < g.min_size:
            self._fail(name, f"guard min_size: {plural(res.size, 'member')}, fewer than {g.min_size}")
        elif g.max_size is not None and res.size > g.max_size:
            self._fail(name, f"guard max_size: {plural(res.size, 'member')}, more than {g.max_size}")
        elif g.max_change_pct is not None and previous > 0:
            change = abs(res.size - previous) * 100 / previous
            if change > g.max_change_pct:
                self._fail(name, f"guard max_change_pct: size changed {change:.1f}% ({previous} → {res.size}), limit {g.max_change_pct:g}%")

    def _traits_read(self, name: str) -> set[str]:
        """The trait tables whose values decide what this segment writes (its channels' too)."""
        defs = self.ctx.defs
        return segment_traits(defs.segments, name).union(*(filter_traits(defs.channels[c].where) for c in defs.segments[name].channels))

    def _fail_stale_traits(self) -> None:
        """SPEC 8.3: a trait table older than its max_age fails the segments reading it (a guard)."""
        assert self.plan is not None
        ctx = self.ctx
        if not any(ctx.defs.sources.traits[t].max_age_hours for t in self.plan.traits):
            return
        stale = stale_traits(ctx.defs.sources, ctx.adapter, self.plan.traits, ctx.as_of, ctx.types)
        for m in self.memberships:
            reasons = [stale[t] for t in sorted(self._traits_read(m.segment.name)) if t in stale]
            if reasons and self.results[m.segment.name].status == "success":
                self._fail(m.segment.name, "; ".join(reasons))

    # -- prepare ---------------------------------------------------------------------------------
    def _passing(self) -> list[Membership]:
        return [m for m in self.memberships if self.results[m.segment.name].status == "success"]

    def prepare(self) -> None:
        ctx = self.ctx
        changes = self._cdi_changes(self._passing())
        if ctx.dry_run:
            self.cdi_rows = sum(len(cdi.chunk(v)) for v in changes.values())
            return
        rows = self._cdi_rows(changes)
        del changes  # a first run's changes name every member: free them before the commit
        self.cdi_rows = len(rows)
        if rows:
            self.cdi_scratch = ctx.scratch_table("cdi")
            ctx.adapter.load_rows(self.cdi_scratch.name, CDI_COLUMNS, rows)

    def _cdi_changes(self, memberships: list[Membership]) -> dict[str, dict[str, Any]]:
        """{user: {cdi_attribute: true | group | false | null}} for this run's synced changes.

        Only changed segments are queried, one list at a time, so memory holds the merged
        changes rather than every segment's lists at once."""
        fetch = self.ctx.adapter.fetch
        changes: dict[str, dict[str, Any]] = {}
        for m in memberships:
            seg, counts = m.segment, m.counts or Counts()
            if not seg.cdi:
                continue
            if m.gated():
                if counts.changed or self.ctx.resync:
                    self._gated_changes(m, changes)
                continue
            key, holdout = seg.cdi_attribute, seg.split.holdout if seg.split else None

            def synced(group: str | None, seg: Segment = seg, holdout: str | None = holdout) -> Any:
                return True if seg.split is None else (None if group == holdout else group)

            entered, exited = m.changed_ids(fetch)
            for user, group in entered:
                if seg.split is None or group != holdout:
                    changes.setdefault(str(user), {})[key] = synced(group)
            for user, group in exited:
                if seg.split is None:
                    changes.setdefault(str(user), {})[key] = False
                elif group != holdout:
                    changes.setdefault(str(user), {})[key] = None
            if counts.regrouped and seg.split is not None:
                for user, before, after in fetch(m.regrouped_query()):
                    if before != after and not (before == holdout and after == holdout):
                        changes.setdefault(str(user), {})[key] = synced(after)
            if self.ctx.resync:
                for user, group in fetch(m.members_query()):
                    if seg.split is None or group != holdout:
                        changes.setdefault(str(user), {}).setdefault(key, synced(group))
        return changes

    def _gated_changes(self, m: Membership, changes: dict[str, dict[str, Any]]) -> None:
        """SPEC 8.4: CDI sees as a member only who is one and satisfies every channel (and is not
        in the holdout). What it said at the last run follows from the table's old row (member,
        group, `consented`), so a user is written exactly when that synced value changes: the
        entering value on joining or giving consent, the leaving value on leaving or withdrawing
        it, nothing for a user CDI never saw as a member."""
        seg = m.segment
        key, holdout = seg.cdi_attribute, seg.split.holdout if seg.split else None
        leaving = None if seg.split is not None else False

        def synced(member: Any, consent: Any, group: Any) -> Any:
            if not member or not consent or (group is not None and group == holdout):
                return _UNSYNCED
            return True if group is None else str(group)

        for user, was, old_group, old_consent, now, new_group, new_consent in self.ctx.adapter.fetch(m.synced_query(self.ctx.resync)):
            before, after = synced(was, old_consent, old_group), synced(now, new_consent, new_group)
            if after is not _UNSYNCED and (before != after or self.ctx.resync):
                changes.setdefault(str(user), {})[key] = after
            elif after is _UNSYNCED and before is not _UNSYNCED:
                changes.setdefault(str(user), {})[key] = leaving

    def _cdi_rows(self, changes: dict[str, dict[str, Any]]) -> list[cdi.CdiRow]:
        if not changes:
            return []
        adapter = self.ctx.adapter
        cdi_table = adapter.table(self.ctx.defs.config.cdi_table)
        latest = adapter.fetch(exp.select(exp.func("MAX", exp.column("UPDATED_AT"))).from_(cdi_table))[0][0]
        if latest is not None:  # an empty table (a first run) has no old payloads to look up
            self._merge_old_payloads(cdi_table, changes)
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        return cdi.build_rows(changes, now, latest)

    def _merge_old_payloads(self, cdi_table: exp.Table, changes: dict[str, dict[str, Any]]) -> None:
        """Overlay this run's changes on each changed user's old payloads, `CDI_LOOKUP_BATCH` users at a time.

        A run that changes a million users would otherwise hold every old payload in Python at
        once (the fetched rows and their parsed copies: ~0.4 GiB at 1M users)."""
        adapter = self.ctx.adapter
        users = self.ctx.scratch_table("cdiusers")
        ordered = sorted(changes)
        for start in range(0, len(ordered), CDI_LOOKUP_BATCH):
            batch = ordered[start:start + CDI_LOOKUP_BATCH]
            adapter.load_rows(users.name, [("external_id", "VARCHAR")], [(u,) for u in batch])
            old = adapter.fetch(
                exp.select(exp.column("EXTERNAL_ID", table="c"), exp.column("PAYLOAD", table="c")).from_(cdi_table.as_("c"))
                .join(users.as_("u"), on=exp.column("external_id", table="u").eq(exp.column("EXTERNAL_ID", table="c")))
                .order_by(exp.column("UPDATED_AT", table="c"))
            )
            cdi.merge_payloads(((str(u), str(p)) for u, p in old), changes)

    # -- write -----------------------------------------------------------------------------------
    def write(self) -> Iterator[exp.Expr]:
        ctx = self.ctx
        as_of = rules_for(ctx.adapter.dialect).timestamp(ctx.as_of)
        passing = self._passing()
        changed = [m for m in passing if m.counts and m.counts.changed]
        # the log first, one INSERT for every segment: it compares the new members with the old table
        logged = [m.change_rows(ctx.run_id, as_of) for m in changed if m.counts and (m.counts.entered or m.counts.exited or m.counts.consent_given or m.counts.consent_withdrawn)]
        if logged:
            rows = logged[0] if len(logged) == 1 else exp.union(*logged, distinct=False, copy=False)
            yield exp.insert(rows, ctx.adapter.table(CHANGES), columns=[c for c, _ in COLUMNS[CHANGES]])
        for m in changed:
            yield from m.apply(as_of)
        if self.cdi_scratch is not None:
            cdi_table = ctx.adapter.table(ctx.defs.config.cdi_table)
            yield exp.delete(cdi_table, where=exp.column("EXTERNAL_ID").isin(query=exp.select("EXTERNAL_ID").from_(self.cdi_scratch)))
            yield exp.insert(exp.select("UPDATED_AT", "EXTERNAL_ID", "PAYLOAD").from_(self.cdi_scratch), cdi_table, columns=["UPDATED_AT", "EXTERNAL_ID", "PAYLOAD"])
        as_of_naive = ctx.as_of.replace(tzinfo=None)
        history = [
            (ctx.run_id, m.segment.name, as_of_naive, self.results[m.segment.name].size, self.results[m.segment.name].entered,
             self.results[m.segment.name].exited, m.segment.membership_hash())
            for m in passing
        ]
        statement = insert_values(ctx, HISTORY, history)
        if statement is not None:
            yield statement

    def state(self) -> dict[str, dict[str, Any]]:
        return {m.segment.name: {"membership_hash": m.segment.membership_hash(), "size": self.results[m.segment.name].size} for m in self._passing()}
