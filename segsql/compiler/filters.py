"""Filter nodes → one boolean sqlglot expression over a per-user row.

Each node kind has a `compile_<kind>` method (sqlglot's generator dispatch idiom), so a
new leaf kind is a new method; every method returns a two-valued expression.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from sqlglot import exp

from segsql.compiler.behaviour import BehaviourCompiler
from segsql.compiler.conditions import ConditionCompiler, Typed, two_valued
from segsql.compiler.dialects import lit
from segsql.definitions.filters import (
    AllOf,
    AnyOf,
    AttributeFilter,
    BehaviourFilter,
    ClusterFilter,
    Filter,
    FunnelFilter,
    Near,
    Not,
    RandomBucket,
    RfmFilter,
    SegmentRef,
    SequenceFilter,
    TraitFilter,
)
from segsql.definitions.sources import Sources

ID_COLUMN = "external_user_id"


def trait_row(trait: str) -> str:
    """The alias a trait table is joined under (SPEC 8.3)."""
    return f"__trait_{trait}"


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class FilterCompiler:
    """Compiles filter trees over the users row and the universe row; `segment_flag` resolves `segment:`."""

    def __init__(
        self,
        conditions: ConditionCompiler,
        sources: Sources,
        bucket_salt: str,
        segment_flag: Callable[[str], exp.Expr],
        users_row: str,
        id_row: str,
        behaviour: BehaviourCompiler,
        cluster_tables: Mapping[str, exp.Table] | None = None,
        funnel_users: Callable[[str], exp.Expr] | None = None,
    ):
        self.conditions = conditions
        self.rules = conditions.rules
        self.sources = sources
        self.bucket_salt = bucket_salt
        self.segment_flag = segment_flag
        self.users_row = users_row
        self.id_row = id_row
        self.behaviour = behaviour
        self.cluster_tables = cluster_tables or {}
        #: funnel → a FROM item with `funnel`, `external_user_id`, `furthest_step` (the entered users)
        self.funnel_users = funnel_users

    def compile(self, node: Filter) -> exp.Expr:
        method: Callable[[Filter], exp.Expr] = getattr(self, f"compile_{_snake(type(node).__name__)}")
        return method(node)

    def compile_all_of(self, node: AllOf) -> exp.Expr:
        return exp.and_(*(exp.paren(self.compile(c)) if isinstance(c, AnyOf) else self.compile(c) for c in node.children))

    def compile_any_of(self, node: AnyOf) -> exp.Expr:
        return exp.paren(exp.or_(*(self.compile(c) for c in node.children)))

    def compile_not(self, node: Not) -> exp.Expr:
        return exp.not_(exp.paren(self.compile(node.child)))

    def compile_attribute_filter(self, node: AttributeFilter) -> exp.Expr:
        table = self.sources.users.table if self.sources.users else None
        return self.conditions.condition(self.conditions.value(node.value, self.users_row, table), node.condition)

    def compile_trait_filter(self, node: TraitFilter) -> exp.Expr:
        """An attribute of a trait table, LEFT JOINed by id: no row means missing."""
        table = self.sources.traits[node.trait].table
        return self.conditions.condition(self.conditions.value(node.value, trait_row(node.trait), table), node.condition)

    def compile_segment_ref(self, node: SegmentRef) -> exp.Expr:
        return self.segment_flag(node.segment)

    def compile_cluster_filter(self, node: ClusterFilter) -> exp.Expr:
        """Members of the named clusters of a cluster model (SPEC 8.1), by number or label."""
        table = self.cluster_tables.get(node.model) or exp.to_table(f"cluster_{node.model}")
        numbers = [lit(v) for v in node.values if isinstance(v, int)]
        labels = [lit(v) for v in node.values if isinstance(v, str)]
        tests: list[exp.Expr] = []
        if numbers:
            tests.append(exp.In(this=exp.column("cluster", table="c"), expressions=numbers))
        if labels:
            tests.append(exp.In(this=exp.column("label", table="c"), expressions=labels))
        ids = exp.select(exp.column(ID_COLUMN, table="c")).from_(exp.alias_(table.copy(), "c", table=True)).where(exp.or_(*tests))
        return self.id_column().isin(query=ids)

    def compile_funnel_filter(self, node: FunnelFilter) -> exp.Expr:
        """Users whose furthest step satisfies the comparison (SPEC 3.7). Entered users are read
        from the funnel's users; everyone else has furthest step 0, so when 0 satisfies it the
        users not entered count too (the comparison of 0 is a constant the engine folds)."""
        step = Typed(exp.column("furthest_step", table="fu"), "number")
        reached = self._entered(node.funnel).where(two_valued(self.conditions.condition(step, node.condition)))
        at_zero = two_valued(self.conditions.condition(Typed(lit(0), "number"), node.condition))
        never = exp.and_(at_zero, exp.not_(self.id_column().isin(query=self._entered(node.funnel))))
        return exp.paren(exp.or_(self.id_column().isin(query=reached), never))

    def _entered(self, funnel: str) -> exp.Select:
        assert self.funnel_users is not None
        rows = exp.alias_(self.funnel_users(funnel), "fu", table=True)
        ids = exp.column(ID_COLUMN, table="fu")
        same = exp.EQ(this=exp.column("funnel", table="fu"), expression=lit(funnel))
        return exp.select(ids).from_(rows).where(same, exp.not_(exp.Is(this=ids.copy(), expression=exp.null())))

    def id_column(self) -> exp.Expr:
        return exp.column(ID_COLUMN, table=self.id_row)

    def compile_random_bucket(self, node: RandomBucket) -> exp.Expr:
        bucket = self.rules.bucket(self.id_column(), self.bucket_salt)
        return self.conditions.condition(Typed(bucket, "number"), node.condition)

    def compile_behaviour_filter(self, node: BehaviourFilter) -> exp.Expr:
        return self.behaviour.compile_behaviour(node)

    def compile_sequence_filter(self, node: SequenceFilter) -> exp.Expr:
        return self.behaviour.compile_sequence(node)

    def compile_rfm_filter(self, node: RfmFilter) -> exp.Expr:
        return self.behaviour.compile_rfm(node)

    def compile_near(self, node: Near) -> exp.Expr:
        users = self.sources.users
        assert users is not None and users.lat is not None and users.lon is not None
        lat = self.rules.to_number(exp.column(users.lat, table=self.users_row))
        lon = self.rules.to_number(exp.column(users.lon, table=self.users_row))
        distance = self.rules.haversine_km(lat, lon, node.lat, node.lon)
        return two_valued(exp.LTE(this=distance, expression=lit(node.radius_km)))
