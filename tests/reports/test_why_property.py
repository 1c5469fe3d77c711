"""Property: `why`'s verdict for each user is the membership the run's fused query gives and the
reference evaluator's, on random projects and data, on DuckDB, fakesnow and PostgreSQL; and every
combinator node's verdict follows from its children's."""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segsql.compiler import SegmentCompiler
from segsql.engines.base import Adapter
from segsql.errors import UsageError
from segsql.reports.why import WhyNode, explain_user, plain_value
from segsql.run.session import Options, open_session
from tests import funnel_harness as FH
from tests import funnel_strategies as FS
from tests import strategies
from tests import test_semantics_property as sem

EXAMPLES = {"duckdb": 40, "fakesnow": 8, "postgres": 10}
USERS_PER_CASE = {"duckdb": 6, "fakesnow": 3, "postgres": 4}


def consistent(node: WhyNode) -> None:
    """A combinator's verdict is its children's AND / OR / NOT; a filter segment's is its filter's."""
    for child in node.children:
        consistent(child)
    verdicts = [c.verdict for c in node.children]
    if node.kind == "all":
        assert node.verdict == all(verdicts)
    elif node.kind == "any":
        assert node.verdict == any(verdicts)
    elif node.kind == "not":
        assert node.verdict is not verdicts[0]
    elif node.kind == "segment":
        assert node.verdict == verdicts[0]
    elif node.kind in ("event", "purchase"):
        assert node.verdict == all(verdicts)  # the measures are ANDed


def leaves(node: Any) -> list[Any]:
    """The leaves of a filter tree as written (each becomes a segment of its own)."""
    if isinstance(node, dict) and ("all" in node or "any" in node):
        return [leaf for child in node.get("all") or node.get("any") for leaf in leaves(child)]
    if isinstance(node, dict) and "not" in node:
        return leaves(node["not"])
    return [node]


def check_case(adapter: Adapter, engine_name: str, case: dict[str, Any], pick: st.DataObject) -> None:
    case = copy.deepcopy(case)
    if engine_name == "fakesnow":
        case["filter"] = sem.without_array_operators(case["filter"])
    sem.load_case(adapter, case)
    # each leaf is a segment too, so that every behavioural leaf decides a verdict of its own
    own = {f"l{i}": leaf for i, leaf in enumerate(leaves(case["filter"])[:5])}
    segments = {"s": case["filter"], "t": {"any": [{"not": {"segment": "s"}}, {"random_bucket": {"lt": 5000}}]}, **own}
    with tempfile.TemporaryDirectory() as tmp:
        root = sem.write_case(Path(tmp), case, segments)
        session = open_session(Options(root), case["as_of"].isoformat(), need_target=False)
        compiler = SegmentCompiler(session.definitions, adapter.dialect, session.as_of)
        columns, rows = adapter.fetch_with_columns(compiler.flags(list(segments)))
        names = [c.lower() for c in columns]
        # every user of the universe is in s or in (not s or ...): the fused rows are the universe
        flags = {str(r[0]): {n: bool(r[names.index(f"__seg_{n}")]) for n in segments} for r in rows}
        reference = {name: sem.reference_members(case, where, segments) for name, where in segments.items() if name != "t"}
        users = sorted(flags)
        chosen = pick.draw(st.lists(st.sampled_from(users), min_size=1, max_size=USERS_PER_CASE[engine_name], unique=True)) if users else []
        for user in chosen:
            why = explain_user(session, adapter, user, list(segments))
            for name, node in zip(segments, why.segments, strict=True):
                assert node.verdict == flags[user][name], name
                if name in reference:
                    assert node.verdict == (user in reference[name]), name
                consistent(node)
        with pytest.raises(UsageError, match="no user"):
            explain_user(session, adapter, "nobody-at-all", ["s"])


def test_why_agrees_with_the_membership_and_the_reference(engine: Callable[[], Adapter], request: pytest.FixtureRequest) -> None:
    engine_name = request.node.callspec.params["engine"]
    adapter = engine()

    @settings(max_examples=EXAMPLES[engine_name], deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
    @given(case=st.one_of(strategies.case_strategy(), strategies.behaviour_case_strategy()), pick=st.data())
    def check(case: dict[str, Any], pick: st.DataObject) -> None:
        check_case(adapter, engine_name, case, pick)

    check()


FUNNEL_EXAMPLES = {"duckdb": 15, "fakesnow": 5, "postgres": 6}


def test_why_shows_the_reference_furthest_step_and_step_times(engine: Callable[[], Adapter], request: pytest.FixtureRequest) -> None:
    """A `funnel:` leaf's values are the reference's furthest step and the times of its path."""
    engine_name = request.node.callspec.params["engine"]
    adapter = engine()

    @settings(max_examples=FUNNEL_EXAMPLES[engine_name], deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
    @given(case=FS.funnel_case(), pick=st.data())
    def check(case: dict[str, Any], pick: st.DataObject) -> None:
        case = copy.deepcopy(case)
        segments = [{"name": f"in_{f['name']}", "where": {"funnel": f["name"], "furthest_step": {"gte": 1}}} for f in case["funnels"]]
        want = FH.on_reference(case["funnels"], case["tables"], FS.AS_OF, case["timezone"])
        FH.load(adapter, case["tables"])
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            (root / "models").mkdir()
            (root / "segsql_project.yml").write_text(FH.dump({"name": "f", "timezone": case["timezone"]}))
            (root / "models" / "sources.yml").write_text(FH.dump(FH.SOURCES))
            (root / "models" / "funnels.yml").write_text(FH.dump({"funnels": case["funnels"], "segments": segments}))
            session = open_session(Options(root), FS.AS_OF.isoformat(), need_target=False)
            users = sorted({str(r["external_id"]) for r in case["tables"].get("main.users", []) if r.get("external_id")} | {u for w in want.values() for u in w.users})
            for user in pick.draw(st.lists(st.sampled_from(users), min_size=1, max_size=3, unique=True)) if users else []:
                why = explain_user(session, adapter, user, [s["name"] for s in segments])
                for funnel, node in zip(case["funnels"], why.segments, strict=True):
                    leaf = node.children[0]
                    furthest, times, _ = want[funnel["name"]].users.get(user, (0, (), None))
                    assert leaf.values["furthest_step"] == furthest, (funnel["name"], user)
                    assert [leaf.values[f"step_{k}_at"] for k in range(1, furthest + 1)] == [plain_value(t) for t in times], (funnel["name"], user)
                    assert node.verdict is leaf.verdict is (furthest >= 1)

    check()
