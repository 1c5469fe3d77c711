"""SPEC 6 `overlap`: pairwise counts and Jaccard on every engine, in one query."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from segsql.engines.base import Adapter
from segsql.reports.overlap import segment_overlap
from segsql.run.session import Options, open_session
from tests.conftest import write_project
from tests.reports.test_insights import AS_OF, FILES, MEMBERS, load


def test_counts_and_jaccard_match_the_member_sets(tmp_path: Path, engine: Callable[[], Adapter]) -> None:
    adapter = engine()
    load(adapter)
    session = open_session(Options(write_project(tmp_path / "p", FILES)), AS_OF.isoformat() + "Z", need_target=False)
    names = ["koreans", "recent_buyers", "app_openers"]
    result = segment_overlap(session, adapter, names)
    assert result.sizes == {n: len(MEMBERS[n]) for n in names}
    for a in names:
        for b in names:
            both, union = MEMBERS[a] & MEMBERS[b], MEMBERS[a] | MEMBERS[b]
            cell = result.cell(a, b)
            assert cell.both == len(both), (a, b)
            assert cell.jaccard == pytest.approx(len(both) / len(union)), (a, b)
