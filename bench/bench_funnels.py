"""bench: segsql's funnel evaluation against ClickHouse's `windowFunnel` (chdb), same data.

On bench/datagen.py's shop (1M users, 10M events by default; time-ordered and shuffled), two
funnels product_viewed → add_to_cart → checkout_started with a 7-day window, `sequential` and
`strict`, run by segsql (`FunnelCompiler.users` into a temporary table, on DuckDB) and by chdb
(`windowFunnel(604800)` / `windowFunnel(604800, 'strict_order')` into a Memory table over a
MergeTree copy of the events). Each variant runs in a fresh process (one untimed run, then
`--repeat` timed runs, the fastest reported; peak RSS = VmHWM of that process over its timed
runs), interleaved segsql / chdb per funnel so a slow spell of the shared machine hits both.
Afterwards the furthest steps are compared per user (see bench/README.md for where the two
semantics differ). Also: 10 different funnels in one segsql query against 10 queries of one,
and 10 funnels in one `run` (one staged query, one commit writing all 30 tables) against 10
runs of one funnel each (`run_models`, as `segsql run --select tenN` does).

    pip install -e '.[bench]'
    python bench/bench_funnels.py --data-dir /tmp/fb            # 1M users, 10M events
    python bench/bench_funnels.py --users 100000 --events 1000000 --data-dir /tmp/fb_small
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_fused import peak_rss_mib, reset_peak_rss
from datagen import AS_OF, existing_sizes, generate

STEPS = ("product_viewed", "add_to_cart", "checkout_started")
WINDOW_S = 7 * 86400
AS_OF_TEXT = "2026-11-22 12:00:00"
#: ten funnels for "10 in one run": different steps, windows and orders over the same events
TEN = [
    (STEPS, 7, "sequential"), (STEPS, 1, "sequential"), (STEPS, 30, "sequential"), (("search", "product_viewed", "add_to_cart"), 7, "sequential"),
    (("app_open", "search", "product_viewed"), 1, "sequential"), (("product_viewed", "wishlist_add"), 14, "sequential"),
    (("push_opened", "app_open", "checkout_started"), 7, "sequential"), (("screen_view", "add_to_cart", "checkout_started"), 3, "sequential"),
    (("search", "add_to_cart"), 7, "sequential"), (("product_viewed", "checkout_started"), 2, "sequential"),
]


def log(msg: str) -> None:
    print(msg, flush=True)


def project(work: Path, ordering: str) -> Path:
    """A segsql project over `main.events` or `main.events_shuffled` with the bench funnels."""
    root = work / f"project_{ordering}"
    (root / "models").mkdir(parents=True, exist_ok=True)
    table = "main.events" if ordering == "time" else "main.events_shuffled"
    (root / "models" / "sources.yml").write_text(
        "users: {table: main.users, id: external_id, attributes: {country: string}}\n"
        f"events: {{table: {table}, user: external_id, name: event_name, time: occurred_at, properties: properties}}\n"
    )
    lines = ["funnels:"]
    for name, steps, days, order in [("seq", STEPS, 7, "sequential"), ("strict", STEPS, 7, "strict")] + [(f"ten{i}", *f) for i, f in enumerate(TEN)]:
        lines += [f"  - name: {name}", f"    order: {order}", f"    conversion_window: {{days: {days}}}", "    steps:"] + [f"      - {{event: {s}}}" for s in steps]
    (root / "models" / "funnels.yml").write_text("\n".join(lines) + "\n")
    return root


# -- workers -------------------------------------------------------------------------------------
def _timed(runs: int, call: Any) -> tuple[list[float], float]:
    call()  # untimed first run
    reset_peak_rss()
    times = []
    for _ in range(runs):
        tick = time.perf_counter()
        call()
        times.append(time.perf_counter() - tick)
    return times, peak_rss_mib()


def _adapter(args: argparse.Namespace) -> Any:
    """The bench database, with the DuckDB target setting `memory_limit` when `--memory-limit` is given."""
    from segsql.engines.duckdb import DuckDBAdapter

    adapter = DuckDBAdapter(str(Path(args.data_dir) / "bench.duckdb"), "main")
    if args.memory_limit:
        adapter.limit_memory(args.memory_limit)
    return adapter


def work_segsql(args: argparse.Namespace) -> dict:
    from sqlglot import exp

    from segsql.compiler.funnels import FunnelCompiler
    from segsql.run.session import Options, open_session
    from segsql.run.source_check import source_types

    adapter = _adapter(args)
    root = project(Path(args.data_dir), args.ordering)
    groups = [[n] for n in args.funnels.split(",")] if args.separately else [args.funnels.split(",")]

    def run() -> None:
        session = open_session(Options(root), AS_OF.isoformat(), need_target=False)
        compiler = FunnelCompiler(session.definitions, "duckdb", session.as_of, source_types(session.definitions.sources, adapter))
        for i, names in enumerate(groups):
            table = exp.table_(f"__bench_funnel_{i}")
            temporary = exp.Properties(expressions=[exp.TemporaryProperty()])
            adapter.execute(exp.Drop(tables=[table.copy()], kind="TABLE", exists=True))
            adapter.execute(exp.Create(this=table, kind="TABLE", expression=compiler.users(names), properties=temporary))

    times, peak = _timed(args.repeat, run)
    if args.result:
        adapter.execute(f"COPY (SELECT external_user_id, furthest_step FROM __bench_funnel_0) TO '{args.result}' (FORMAT PARQUET)")
    return {"times": times, "peak_mib": peak}


def work_run(args: argparse.Namespace) -> dict:
    """`segsql run` of the funnels (all in one run, or `--separately` one run per funnel) into the bench database."""
    from segsql.run.materialize import run_models
    from segsql.run.session import Options, open_session

    adapter = _adapter(args)
    root = project(Path(args.data_dir), args.ordering)
    names = args.funnels.split(",")
    groups = [[n] for n in names] if args.separately else [names]

    def run() -> None:
        for group in groups:
            session = open_session(Options(root), AS_OF.isoformat(), need_target=False)
            result = run_models(session, adapter, group)
            assert result.ok, [m.message for m in result.models]

    times, peak = _timed(args.repeat, run)
    return {"times": times, "peak_mib": peak}


def _chdb_session(args: argparse.Namespace) -> Any:
    from chdb import session

    return session.Session(str(Path(args.data_dir) / f"chdb_{args.ordering}"))


def work_chdb_load(args: argparse.Namespace) -> dict:
    """The events (user, name, whole-second time) into a MergeTree table in the table's row order."""
    import duckdb

    parquet = Path(args.data_dir) / f"events_{args.ordering}.parquet"
    con = duckdb.connect(str(Path(args.data_dir) / "bench.duckdb"), read_only=True)
    table = "main.events" if args.ordering == "time" else "main.events_shuffled"
    con.execute(f"COPY (SELECT external_id, event_name, occurred_at FROM {table}) TO '{parquet}' (FORMAT PARQUET)")
    con.close()
    sess = _chdb_session(args)
    sess.query("DROP TABLE IF EXISTS events")
    sess.query(f"CREATE TABLE events ENGINE = MergeTree ORDER BY tuple() AS SELECT external_id, event_name, toUInt32(toUnixTimestamp(occurred_at)) AS ts FROM file('{parquet}', Parquet)")
    return {"rows": int(str(sess.query("SELECT count() FROM events", "CSV")).strip())}


def work_chdb(args: argparse.Namespace) -> dict:
    sess = _chdb_session(args)
    strict = args.funnels == "strict"
    mode = ", 'strict_order'" if strict else ""
    conditions = ", ".join(f"event_name = '{s}'" for s in STEPS)
    names = "" if strict else " AND event_name IN (" + ", ".join(f"'{s}'" for s in STEPS) + ")"
    cutoff = f"toUInt32(toUnixTimestamp(toDateTime('{AS_OF_TEXT}', 'UTC')))"
    query = (
        f"CREATE TABLE res ENGINE = Memory AS SELECT external_id, windowFunnel({WINDOW_S}{mode})(ts, {conditions}) AS level "
        f"FROM events WHERE ts <= {cutoff} AND external_id != ''{names} GROUP BY external_id"
    )

    def run() -> None:
        sess.query("DROP TABLE IF EXISTS res")
        sess.query(query)

    times, peak = _timed(args.repeat, run)
    if args.result:
        sess.query(f"INSERT INTO FUNCTION file('{args.result}', Parquet) SELECT external_id, level FROM res WHERE level > 0")
    return {"times": times, "peak_mib": peak}


def work_compare(args: argparse.Namespace) -> dict:
    """Per user: segsql's furthest step against windowFunnel's level; disagreements with equal-time steps counted."""
    import duckdb

    ours, theirs = args.result.split(",")
    con = duckdb.connect(str(Path(args.data_dir) / "bench.duckdb"), read_only=True)
    table = "main.events" if args.ordering == "time" else "main.events_shuffled"
    names = ", ".join(f"'{s}'" for s in STEPS)
    row = con.execute(f"""
        WITH a AS (SELECT external_user_id AS id, furthest_step AS f FROM '{ours}'),
             b AS (SELECT external_id AS id, level AS l FROM '{theirs}'),
             j AS (SELECT COALESCE(a.id, b.id) AS id, COALESCE(f, 0) AS f, COALESCE(l, 0) AS l FROM a FULL JOIN b ON a.id = b.id),
             tied AS (SELECT DISTINCT external_id AS id FROM {table} WHERE event_name IN ({names}) GROUP BY external_id, occurred_at HAVING count(*) > 1)
        SELECT count(*), count(*) FILTER (WHERE f = l), count(*) FILTER (WHERE f <> l),
               count(*) FILTER (WHERE f <> l AND id IN (SELECT id FROM tied)), count(*) FILTER (WHERE f > l), count(*) FILTER (WHERE f < l)
        FROM j
    """).fetchone()
    assert row is not None
    return dict(zip(("users", "agree", "differ", "differ_with_tied_steps", "segsql_further", "chdb_further"), row, strict=True))


def work_generate(args: argparse.Namespace) -> dict:
    import duckdb

    con = duckdb.connect(str(Path(args.data_dir) / "bench.duckdb"))
    sizes = (args.users, args.events, args.purchases)
    reused = existing_sizes(con) == sizes
    if not reused:
        generate(con, *sizes, log=log)
    con.close()
    return {"reused": reused}


WORKERS = {"segsql": work_segsql, "run": work_run, "chdb": work_chdb, "chdb_load": work_chdb_load, "compare": work_compare, "generate": work_generate}


# -- the driver ----------------------------------------------------------------------------------
def spawn(args: argparse.Namespace, worker: str, ordering: str = "time", **extra: Any) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = handle.name
    cmd = [sys.executable, __file__, "--worker", worker, "--out", out, "--ordering", ordering, "--data-dir", args.data_dir,
           f"--users={args.users}", f"--events={args.events}", f"--purchases={args.purchases}", f"--repeat={args.repeat}", f"--memory-limit={args.memory_limit}"]
    for key, value in extra.items():
        cmd += [f"--{key.replace('_', '-')}"] if value is True else [f"--{key.replace('_', '-')}", str(value)]
    subprocess.run(cmd, check=True)
    result: dict = json.loads(Path(out).read_text())
    os.unlink(out)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--purchases", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--orderings", default="time,shuffled")
    parser.add_argument("--data-dir", default="/tmp/segsql_bench_funnels")
    parser.add_argument("--worker")
    parser.add_argument("--out")
    parser.add_argument("--ordering", default="time")
    parser.add_argument("--funnels", default="seq")
    parser.add_argument("--separately", action="store_true")
    parser.add_argument("--result", default="")
    parser.add_argument("--memory-limit", default="", help="DuckDB memory_limit for segsql (the target setting), e.g. 1GB")
    parser.add_argument("--no-ten", action="store_true", help="skip 10 funnels in one query vs 10 queries")
    parser.add_argument("--no-runs", action="store_true", help="skip 10 funnels in one run vs 10 runs of one")
    parser.add_argument("--no-chdb", action="store_true", help="skip the comparison with chdb")
    args = parser.parse_args(argv)
    if args.worker:
        result = WORKERS[args.worker](args)
        Path(args.out).write_text(json.dumps(result))
        return
    Path(args.data_dir).mkdir(parents=True, exist_ok=True)
    log(f"data: {args.users:,} users, {args.events:,} events in {args.data_dir} (reused: {spawn(args, 'generate')['reused']})")
    figures: dict[str, Any] = {}
    for ordering in args.orderings.split(","):
        if not args.no_chdb:
            log(f"chdb load ({ordering}): {spawn(args, 'chdb_load', ordering)['rows']:,} rows")
        for funnel in () if args.no_chdb else ("seq", "strict"):
            ours, theirs = (str(Path(args.data_dir) / f"{v}_{funnel}_{ordering}.parquet") for v in ("segsql", "chdb"))
            seg = spawn(args, "segsql", ordering, funnels=funnel, result=ours)
            ch = spawn(args, "chdb", ordering, funnels=funnel, result=theirs)
            agreement = spawn(args, "compare", ordering, result=f"{ours},{theirs}")
            best_s, best_c = min(seg["times"]), min(ch["times"])
            figures[f"{funnel}/{ordering}"] = {"segsql": seg, "chdb": ch, "agreement": agreement}
            log(f"{funnel:>6} {ordering:>8}: segsql {best_s:.2f} s ({seg['peak_mib']:,.0f} MiB)  chdb {best_c:.2f} s ({ch['peak_mib']:,.0f} MiB)  "
                f"segsql/chdb {best_s / best_c:.2f}x  per-user furthest step: {agreement}  load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        if not args.no_ten:
            names = ",".join(f"ten{i}" for i in range(len(TEN)))
            one = spawn(args, "segsql", ordering, funnels=names)
            each = spawn(args, "segsql", ordering, funnels=names, separately=True)
            figures[f"ten/{ordering}"] = {"one_run": one, "ten_runs": each}
            log(f"   ten {ordering:>8}: 10 funnels in one query {min(one['times']):.2f} s ({one['peak_mib']:,.0f} MiB)  "
                f"10 queries of one {min(each['times']):.2f} s ({each['peak_mib']:,.0f} MiB)  ratio {min(each['times']) / min(one['times']):.2f}x")
        if not args.no_runs:
            names = ",".join(f"ten{i}" for i in range(len(TEN)))
            one = spawn(args, "run", ordering, funnels=names)
            each = spawn(args, "run", ordering, funnels=names, separately=True)
            figures[f"runs/{ordering}"] = {"one_run": one, "ten_runs": each}
            log(f"  runs {ordering:>8}: 10 funnels in one run {min(one['times']):.2f} s ({one['peak_mib']:,.0f} MiB)  "
                f"10 runs of one {min(each['times']):.2f} s ({each['peak_mib']:,.0f} MiB)  ratio {min(each['times']) / min(one['times']):.2f}x  "
                f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    (Path(args.data_dir) / "figures.json").write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
