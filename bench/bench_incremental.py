"""Benchmark (SPEC 9): an incremental run after a day of new events against a full run, same output.

    PYTHONPATH=$PWD python bench/bench_incremental.py --data-dir /tmp/binc                   # 1M users, 10M events
    PYTHONPATH=$PWD python bench/bench_incremental.py --events 50000000 --data-dir /tmp/binc50

On bench/datagen.py's shop and bench/segments.py's 50 segments: a first run at AS_OF, then a
day of new events (1 % of the table; 0.1 % of them late, timed up to 3 days before AS_OF)
is added to two copies of the database, and both are run at AS_OF + 1 day — one
incrementally, one full (its incremental state dropped, so every segment is recomputed from
all rows; the fingerprints are kept, as in any run). Each run is a fresh process. The two
copies' membership tables, change logs, history and CDI payloads must be equal. Printed: both
times, their ratio, the users recomputed, and the share of the incremental run spent finding
them (fingerprints and candidates). `--funnels` adds two funnels (sequential and strict), which
every run recomputes fully.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from datagen import AS_OF, MACROS, _event_name, _properties, _user, existing_sizes, generate
from segments import write_project

NEXT = AS_OF + dt.timedelta(days=1)
FUNNELS = """funnels:
  - {name: checkout_seq, order: sequential, conversion_window: {days: 7}, steps: [{event: product_viewed}, {event: add_to_cart}, {event: checkout_started}]}
  - {name: checkout_strict, order: strict, conversion_window: {days: 7}, steps: [{event: product_viewed}, {event: add_to_cart}, {event: checkout_started}]}
"""


def log(msg: str) -> None:
    print(msg, flush=True)


def worker(db: str, root: str, as_of: str) -> None:
    """One `run` of every model in a fresh process; prints its timings as JSON."""
    from segsql.engines.duckdb import DuckDBAdapter
    from segsql.run.materialize import run_models
    from segsql.run.session import Options, open_session

    session = open_session(Options(Path(root)), as_of, need_target=False)
    adapter = DuckDBAdapter(db, "main")
    tick = time.perf_counter()
    result = run_models(session, adapter, sorted(session.definitions.models))
    seconds = time.perf_counter() - tick
    assert result.ok, [m.message for m in result.models if m.message]
    modes = [m.refresh for m in result.models if m.kind == "segment"]
    recomputed = max((m.recomputed or 0 for m in result.models), default=0)
    print(json.dumps({"seconds": seconds, "timings": result.timings, "incremental": modes.count("incremental"), "segments": len(modes), "recomputed": recomputed}))


def run(db: Path, root: Path, as_of: dt.datetime) -> dict:
    out = subprocess.run([sys.executable, __file__, "--worker", str(db), str(root), as_of.isoformat()], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def add_day(db: Path, share: float, late_share: float) -> int:
    """Append a day of events (`share` of the table) after AS_OF, `late_share` of them up to 3 days before it."""
    import duckdb

    con = duckdb.connect(str(db))
    try:
        con.execute(MACROS)
        users, events, _ = existing_sizes(con) or (0, 0, 0)
        n = int(events * share)
        salt = 7_000_000_000  # row numbers the generator never used: a new day of rows
        moment = (
            f"CASE WHEN u01(i, 21) < {late_share} THEN TIMESTAMP '{AS_OF:%Y-%m-%d %H:%M:%S}' - to_seconds(1 + floor(u01(i, 22) * 259200)::BIGINT) "
            f"ELSE TIMESTAMP '{AS_OF:%Y-%m-%d %H:%M:%S}' + to_seconds(1 + floor(u01(i, 23) * 86399)::BIGINT) END"
        )
        con.execute(f"""
            INSERT INTO main.events
            WITH base AS (SELECT i, {_user('i', 1, users, 0.01)} AS external_id, {_event_name('i')} AS event_name, {moment} AS occurred_at
                          FROM (SELECT i + {salt} AS i FROM range({n}) t(i)))
            SELECT external_id, event_name, occurred_at, {_properties('i')} FROM base
        """)
        con.execute("CHECKPOINT")
        return n
    finally:
        con.close()


def same_output(inc: Path, full: Path) -> None:
    """Every membership table, the change log, history and CDI payloads of the two copies are equal."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"ATTACH '{inc}' AS i (READ_ONLY)")
    con.execute(f"ATTACH '{full}' AS f (READ_ONLY)")
    tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'i' AND table_name LIKE 'seg\\_%' ESCAPE '\\'").fetchall()]
    queries = {t: f"SELECT * FROM {{}}.main.{t}" for t in tables}
    queries["segsql_changes"] = "SELECT as_of, segment, external_user_id, change, split_group FROM {}.main.segsql_changes"
    queries["segsql_history"] = "SELECT segment, as_of, size, entered, exited, definition_hash FROM {}.main.segsql_history"
    queries["cdi"] = "SELECT EXTERNAL_ID, PAYLOAD FROM {}.main.cdi_segment_updates"
    for name, q in queries.items():
        for a, b in (("i", "f"), ("f", "i")):
            diff = con.execute(f"SELECT COUNT(*) FROM ({q.format(a)} EXCEPT ALL {q.format(b)})").fetchone()[0]
            if diff:
                raise SystemExit(f"DIFFERENT: {name} has {diff} rows in {a} only")
    log(f"  same output: {len(tables)} membership tables, change log, history and CDI rows equal")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(*sys.argv[2:5])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--purchases", type=int, default=1_000_000)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--funnels", action="store_true", help="also two funnels (recomputed fully by every run)")
    parser.add_argument("--reuse-first-run", action="store_true", help="start from the first run's database of a previous invocation")
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    base = args.data_dir / "base.duckdb"
    import duckdb

    con = duckdb.connect(str(base))
    if existing_sizes(con) != (args.users, args.events, args.purchases):
        log(f"generating {args.users:,} users, {args.events:,} events, {args.purchases:,} purchases")
        generate(con, args.users, args.events, args.purchases, log)
        con.execute("DROP TABLE IF EXISTS main.events_shuffled")
        con.execute("CHECKPOINT")
    con.close()
    root = args.data_dir / "project"
    write_project(root, "main.events", "seg_")
    if args.funnels:
        (root / "models" / "funnels.yml").write_text(FUNNELS)
    day0 = args.data_dir / "day0.duckdb"
    if not (args.reuse_first_run and day0.exists()):
        shutil.copy(base, day0)
        first = run(day0, root, AS_OF)
        log(f"first run at {AS_OF:%Y-%m-%d %H:%M}: {first['seconds']:.2f}s (full, records the fingerprints)")
    copies = {"incremental": args.data_dir / "inc.duckdb", "full": args.data_dir / "full.duckdb"}
    for path in copies.values():
        shutil.copy(day0, path)
        added = add_day(path, 0.01, 0.001)
    con = duckdb.connect(str(copies["full"]))
    con.execute("DELETE FROM main.segsql_incremental")  # every segment recomputed from all rows
    con.close()
    log(f"a day of new events: {added:,} rows (0.1 % of them late by up to 3 days), then a run at {NEXT:%Y-%m-%d %H:%M}")
    results = {}
    for mode in ("full", "incremental"):
        results[mode] = run(copies[mode], root, NEXT)
    inc, full = results["incremental"], results["full"]
    detect = inc["timings"].get("fingerprints", 0.0) + inc["timings"].get("changed users", 0.0)
    same_output(copies["incremental"], copies["full"])
    log(f"  full run:        {full['seconds']:7.2f}s   {json.dumps({k: round(v, 2) for k, v in full['timings'].items()})}")
    log(f"  incremental run: {inc['seconds']:7.2f}s   {json.dumps({k: round(v, 2) for k, v in inc['timings'].items()})}")
    log(f"  incremental segments: {inc['incremental']} of {inc['segments']}, users recomputed: {inc['recomputed']:,} of {args.users:,}")
    log(f"  ratio full / incremental: {full['seconds'] / inc['seconds']:.2f}x; finding the changed users: {detect:.2f}s = {100 * detect / inc['seconds']:.0f} % of the incremental run")


if __name__ == "__main__":
    main()
