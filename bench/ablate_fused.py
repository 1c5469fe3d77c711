"""Where does segsql's fused flags query spend its time? Re-time it with one construct changed.

    PYTHONPATH=/work/main python bench/ablate_fused.py --data-dir DIR [--ordering time]

DIR is a `--data-dir` of bench_fused.py after a run (it holds bench.duckdb and the
project_<ordering>/ folders). The query is compiled twice — with the column types a run
learns from the engine (what `run` executes) and without them (what `compile` writes, every
time column converted to UTC) — and the first is also rewritten one construct at a time.
Each variant runs twice (the second timed) as CREATE TEMP TABLE ... AS, and its flags are
compared with the first's. This is a diagnostic of segsql's SQL, not a change to segsql.
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

import duckdb

from segsql.compiler import SegmentCompiler
from segsql.engines.duckdb import DuckDBAdapter
from segsql.run.materialize import source_types
from segsql.run.session import Options, open_session

AS_OF = "2026-11-22T12:00:00Z"
JSON_NUMBER = re.compile(
    r"CASE\s+WHEN JSON_TYPE\((\w+\.properties), '\$\.\"(\w+)\"'\) IN \('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT'\)\s+"
    r"THEN CAST\(JSON_EXTRACT_STRING\(\1, '\$\.\"\2\"'\) AS DOUBLE\)\s+END"
)
UNIVERSE = re.compile(r"__universe AS \(\n.*?\n\)\n(?=SELECT)", re.S)


def json_once(sql: str) -> str:
    """One JSON read per number property instead of JSON_TYPE + JSON_EXTRACT_STRING (lenient
    typing: a JSON string "12" would count as 12; this data has none, so the flags stay the same)."""
    return JSON_NUMBER.sub(r"TRY_CAST(\1->>'\2' AS DOUBLE)", sql)


def users_universe(sql: str) -> str:
    """NOT equivalent (drops ids only seen in events/purchases): the cost of the universe itself."""
    return UNIVERSE.sub("__universe AS (SELECT CAST(external_id AS TEXT) AS external_user_id FROM main.users)\n", sql)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--ordering", default="time", choices=["time", "shuffled"])
    args = parser.parse_args()
    project = args.data_dir / f"project_{args.ordering}"
    db = str(args.data_dir / "bench.duckdb")
    session = open_session(Options(project), AS_OF, need_target=False)
    names = sorted(session.definitions.segments)
    adapter = DuckDBAdapter(db, "main")
    types = source_types(session.definitions.sources, adapter)
    adapter.close()
    learned = SegmentCompiler(session.definitions, "duckdb", session.as_of, types).flags(names).sql("duckdb", pretty=True)
    unknown = SegmentCompiler(session.definitions, "duckdb", session.as_of).flags(names).sql("duckdb", pretty=True)
    con = duckdb.connect(db)
    con.execute("SET TimeZone = 'UTC'")

    def timed(sql: str) -> float:
        con.execute(sql)
        tick = time.perf_counter()
        con.execute(sql)
        return time.perf_counter() - tick

    print(f"{'floor GROUP BY (reference)':<58} {timed((project / 'floor_agg.sql').read_text()):7.2f}s", flush=True)
    variants = [
        ("as run executes it (naive time columns read as they are)", learned, True),
        ("as compile writes it (every time column converted)", unknown, True),
        ("JSON read once per number property (lenient)", json_once(learned), True),
        ("universe = users only (NOT equivalent)", users_universe(learned), False),
    ]
    for i, (label, sql, equivalent) in enumerate(variants):
        changed = "" if i < 2 or sql != learned else "  (rewrite matched nothing)"
        secs = timed(f"CREATE OR REPLACE TEMP TABLE abl_{i} AS {sql}")
        same = ""
        if i:
            diff = con.execute(f"SELECT (SELECT count(*) FROM (SELECT * FROM abl_0 EXCEPT SELECT * FROM abl_{i})) + (SELECT count(*) FROM (SELECT * FROM abl_{i} EXCEPT SELECT * FROM abl_0))").fetchone()[0]
            same = "same flags" if diff == 0 else f"{diff} rows differ" + ("" if not equivalent else "  <-- UNEXPECTED")
        print(f"{label:<58} {secs:7.2f}s  {same}{changed}", flush=True)


if __name__ == "__main__":
    main()
