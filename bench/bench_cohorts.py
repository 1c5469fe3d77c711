"""bench: segsql's cohort retention query against one hand-written GROUP BY, on the same data.

On bench/datagen.py's shop (1M users, 10M events by default), a monthly cohort of app openers
(entry: the first `app_open`; return: any later `app_open`; 12 periods) is computed on DuckDB
by the query `segsql run` stages for it (`CohortCompiler.table`) and by one hand-written
query computing the same triangle — first opens grouped by user, then the distinct returning
users per (cohort, months since), crossed with the started periods. Both are materialized
with CREATE TEMP TABLE ... AS, interleaved, one untimed run each and then `--repeat` timed
runs (the fastest reported); their rows must be equal. Also the whole `segsql run` of the
cohort, once.

    python bench/bench_cohorts.py --data-dir /tmp/bench_data              # 1M users, 10M events
    python bench/bench_cohorts.py --users 100000 --events 1000000 --purchases 100000
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from datagen import AS_OF_SQL, existing_sizes, generate

AS_OF_ISO = "2026-11-22T12:00:00+00:00"
NAME = "monthly_openers"
PERIODS = 12
#: the same triangle by hand: first opens, distinct returners per (cohort, months since), sizes × started periods
HAND = f"""
WITH opens AS (
    SELECT external_id AS uid, occurred_at AS t FROM main.events
    WHERE event_name = 'app_open' AND occurred_at <= {AS_OF_SQL} AND external_id <> ''
),
firsts AS (SELECT uid, min(t) AS t0, CAST(date_trunc('month', min(t)) AS DATE) AS c FROM opens GROUP BY uid),
back AS (
    SELECT f.c, (year(o.t) * 12 + month(o.t)) - (year(f.c) * 12 + month(f.c)) AS n, count(DISTINCT o.uid) AS returned
    FROM opens o JOIN firsts f ON o.uid = f.uid
    WHERE o.t > f.t0
    GROUP BY 1, 2
),
sizes AS (SELECT c, count(*) AS size FROM firsts GROUP BY c)
SELECT s.c AS cohort_start, g.n AS period, s.size AS cohort_size, coalesce(b.returned, 0) AS returned
FROM sizes s CROSS JOIN range({PERIODS + 1}) g(n)
LEFT JOIN back b ON b.c = s.c AND b.n = g.n
WHERE s.c + to_months(CAST(g.n AS INTEGER)) <= CAST(date_trunc('month', {AS_OF_SQL}) AS DATE)
"""


def log(msg: str) -> None:
    print(msg, flush=True)


def ensure_data(args: argparse.Namespace) -> str:
    import duckdb

    db = str(Path(args.data_dir) / "bench.duckdb")
    con = duckdb.connect(db)
    if existing_sizes(con) != (args.users, args.events, args.purchases):
        log(f"generating {args.users:,} users, {args.events:,} events, {args.purchases:,} purchases into {db}")
        generate(con, args.users, args.events, args.purchases, log=log)
    con.close()
    return db


def project(work: Path) -> Path:
    root = work / "project_cohorts"
    (root / "models").mkdir(parents=True, exist_ok=True)
    (root / "segsql_project.yml").write_text("name: bench_cohorts\ntimezone: UTC\n")
    (root / "models" / "sources.yml").write_text(
        "users: {table: main.users, id: external_id, attributes: {country: string}}\n"
        "events: {table: main.events, user: external_id, name: event_name, time: occurred_at}\n"
    )
    (root / "models" / "cohorts.yml").write_text(
        f"cohorts:\n  - name: {NAME}\n    entry: {{event: app_open}}\n    return: {{event: app_open}}\n    period: month\n    periods: {PERIODS}\n"
    )
    return root


def _timed(con: Any, sql: str) -> float:
    tick = time.perf_counter()
    con.execute(f"CREATE OR REPLACE TEMP TABLE bench_out AS {sql}")
    return time.perf_counter() - tick


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--purchases", type=int, default=1_000_000)
    parser.add_argument("--data-dir", help="keep the DuckDB file here (reused when the sizes match); default a temporary folder")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per variant after one untimed run; the fastest is reported")
    args = parser.parse_args(argv)
    temp = None if args.data_dir else tempfile.TemporaryDirectory()
    args.data_dir = args.data_dir or temp.name  # type: ignore[union-attr]
    Path(args.data_dir).mkdir(parents=True, exist_ok=True)
    db = ensure_data(args)
    root = project(Path(args.data_dir))

    from segsql.compiler.cohorts import CohortCompiler
    from segsql.engines.duckdb import DuckDBAdapter
    from segsql.run.materialize import run_models
    from segsql.run.session import Options, open_session
    from segsql.run.source_check import source_types

    session = open_session(Options(root), AS_OF_ISO, need_target=False)
    log(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())} ({os.cpu_count()} cores)")
    with DuckDBAdapter(db, "main") as adapter:
        compiler = CohortCompiler(session.definitions, "duckdb", session.as_of, source_types(session.definitions.sources, adapter))
        segsql_sql = adapter.sql(compiler.table([NAME]))
        con = adapter.conn
        (Path(args.data_dir) / "cohort_segsql.sql").write_text(segsql_sql + "\n")
        (Path(args.data_dir) / "cohort_hand.sql").write_text(HAND)
        best = {"segsql": float("inf"), "hand": float("inf")}
        for i in range(1 + args.repeat):  # interleaved; the first round untimed
            for variant, sql in (("segsql", segsql_sql), ("hand", HAND)):
                seconds = _timed(con, sql)
                if i:
                    best[variant] = min(best[variant], seconds)
        _timed(con, segsql_sql)
        ours = con.execute("SELECT cohort_start, period, cohort_size, returned FROM bench_out ORDER BY 1, 2").fetchall()
        _timed(con, HAND)
        theirs = con.execute("SELECT cohort_start, period, cohort_size, returned FROM bench_out ORDER BY 1, 2").fetchall()
        tick = time.perf_counter()
        result = run_models(session, adapter, [NAME])
        run_seconds = time.perf_counter() - tick
    if ours != theirs:
        raise SystemExit(f"the triangles differ: {len(ours)} segsql rows, {len(theirs)} hand rows; first difference {next((a, b) for a, b in zip(ours, theirs, strict=False) if a != b)}")
    cohorts = len({r[0] for r in ours})
    log(f"same triangle: {len(ours)} rows ({cohorts} monthly cohorts, periods 0..{PERIODS}), {sum(r[2] for r in ours if r[1] == 0):,} users")
    log(f"segsql cohort query: {best['segsql']:.3f} s; hand-written GROUP BY: {best['hand']:.3f} s; "
        f"ratio {best['segsql'] / best['hand']:.2f}x (target <= 1.5x)")
    steps = " · ".join(f"{step} {seconds:.2f} s" for step, seconds in result.timings.items())
    log(f"segsql run of the cohort: {run_seconds:.2f} s, {'ok' if result.ok else 'FAILED'} ({steps})")
    log(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    if temp is not None:
        temp.cleanup()


if __name__ == "__main__":
    main()
