"""Incremental runs (SPEC 9): each kind of change, run incrementally, equals a full run."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from segsql.engines.duckdb import DuckDBAdapter
from tests import incremental_harness as H

T0 = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 6, 1, 11)


def _copies(tmp_path: Path) -> list[H.Copy]:
    copies = [H.Copy(tmp_path / name, DuckDBAdapter(str(tmp_path / f"{name}.duckdb"), "main"), full) for name, full in (("inc", False), ("full", True))]
    for c in copies:
        H.load(c.adapter, {
            "users": [("u1", "KR", 30.0, NOW - dt.timedelta(days=1)), ("u2", "JP", 20.0, NOW - dt.timedelta(days=5)), ("u3", "KR", 40.0, None)],
            "events": [("u1", "open", NOW - dt.timedelta(days=2), '{"k": 2}'), ("u2", "open", NOW - dt.timedelta(days=29), None),
                       ("u3", "view", NOW, None), ("u4", "open", NOW - dt.timedelta(hours=1), '{"k": 1}')],
            "purchases": [("u1", NOW - dt.timedelta(days=1), "p1", 35.0), ("u2", NOW - dt.timedelta(days=4), "p2", 5.0)],
            "products": [("p1", "shoes"), ("p2", "hats")],
        })
    return copies


def _step(copies: list[H.Copy], as_of: dt.datetime, resync: bool = False) -> dict[str, str]:
    results = [c.run(as_of, resync=resync) for c in copies]
    assert all(r.ok for r in results), [m.message for r in results for m in r.models if m.message]
    inc, full = (c.snapshot() for c in copies)
    assert inc == full
    return {m.name: m.refresh for m in results[0].models}


def test_each_change_kind_equals_a_full_run(tmp_path: Path) -> None:
    copies = _copies(tmp_path)
    assert set(_step(copies, T0).values()) == {"full"}, "a first run has nothing to build on"
    modes = _step(copies, T0 + dt.timedelta(hours=30))  # windows move: events age out, thresholds are crossed
    assert modes["openers_3d"] == "incremental" and modes["rfm_top"] == "full" and modes["open_then_view"] == "full"
    for c in copies:
        H.append(c.adapter, "events", [("u2", "open", NOW - dt.timedelta(days=1), '{"k": 3}'), ("u5", "view", NOW + dt.timedelta(hours=20), None)])  # late; new user
        c.adapter.execute("DELETE FROM main.purchases WHERE external_id = 'u1'")
        c.adapter.execute("UPDATE main.users SET country = 'JP' WHERE external_id = 'u3'")
    modes = _step(copies, T0 + dt.timedelta(hours=40))
    assert modes["big_spenders"] == "incremental"
    for c in copies:
        c.adapter.execute("UPDATE main.products SET category = 'shoes' WHERE product_id = 'p2'")
    modes = _step(copies, T0 + dt.timedelta(days=3))
    assert modes["shoe_buyers"] == "full" and modes["koreans"] == "incremental"


def test_a_resync_re_emits_every_member_when_incremental(tmp_path: Path) -> None:
    copies = _copies(tmp_path)
    _step(copies, T0)
    for c in copies:
        H.append(c.adapter, "events", [("u3", "open", NOW, '{"k": 2}')])
    modes = _step(copies, T0 + dt.timedelta(hours=6), resync=True)
    assert modes["koreans"] == "incremental"


def test_the_run_table_and_run_results_say_how_each_model_ran(tmp_path: Path, cli: Callable[..., Any]) -> None:
    import json

    inc = H.Copy(tmp_path / "inc", DuckDBAdapter(str(tmp_path / "p.duckdb"), "main"), False)
    H.load(inc.adapter, {"users": [("u1", "KR", 30.0, NOW)], "events": [("u1", "open", NOW, None)], "purchases": [], "products": []})
    inc.adapter.close()
    (inc.root / "profiles.yml").write_text(f"segsql:\n  target: dev\n  outputs:\n    dev: {{type: duckdb, path: '{tmp_path / 'p.duckdb'}', schema: main}}\n")
    args = ("--project-dir", str(inc.root), "run", "--as-of", "2026-06-01T12:00:00Z")
    first = cli(*args)
    assert first.code == 0 and "refresh" in first.out and "incremental" not in first.out
    second = cli(*args, "--select", "koreans", "--select", "rfm_top")
    assert second.code == 0 and "incremental" in second.out
    report = json.loads((inc.root / "target" / "run_results.json").read_text())
    by_name = {r["name"]: r for r in report["results"]}
    assert by_name["koreans"]["refresh"] == "incremental" and by_name["koreans"]["recomputed"] == 0, "no row changed, no window moved"
    assert by_name["rfm_top"]["refresh"] == "full" and by_name["rfm_top"]["refresh_reason"] == "an RFM leaf ranks users against each other"
    forced = json.loads(cli(*args, "--select", "koreans", "--full-refresh", "--format", "json").out)
    assert forced["results"][0]["refresh"] == "full" and forced["results"][0]["refresh_reason"] == "--full-refresh"


def test_a_run_without_segments_leaves_the_fingerprints_for_the_next_segment_run(tmp_path: Path) -> None:
    """A funnel-only run between two segment runs neither fingerprints nor breaks the chain: the
    next segment run is incremental against the last segment run's rows, and still exact."""
    from segsql.run.materialize import run_models
    from segsql.run.session import Options, open_session

    copies = _copies(tmp_path)
    _step(copies, T0)
    inc = copies[0]
    (inc.root / "models" / "funnels.yml").write_text("funnels:\n  - {name: open_view, steps: [{event: open}, {event: view}]}\n")
    stored = sorted(inc.adapter.fetch("SELECT source, bucket, n, h1, h2, run_id FROM main.segsql_fingerprints"))
    for c in copies:  # a change the funnel run must not swallow: only the next segment run sees it
        H.append(c.adapter, "events", [("u1", "view", NOW - dt.timedelta(days=3), None)])
    session = open_session(Options(inc.root), (T0 + dt.timedelta(hours=2)).isoformat(), need_target=False)
    funnel_only = run_models(session, inc.adapter, ["open_view"])
    assert funnel_only.ok and "fingerprints" not in funnel_only.timings
    assert sorted(inc.adapter.fetch("SELECT source, bucket, n, h1, h2, run_id FROM main.segsql_fingerprints")) == stored
    modes = _step(copies, T0 + dt.timedelta(hours=4))
    assert modes["never_viewed"] == "incremental"
