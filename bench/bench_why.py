"""bench: `segsql why` for one user against the fused query over every user, side by side.

Seeds the demo shop (`--users N`) into a temporary DuckDB, runs the demo project once (cluster
models need their tables), then times `why` over every demo segment for a few users and the
fused flags query (what a run stages) over all users, each after one untimed run; prints both
and their ratio. `why` filters every pass and funnel to the user, so it should not grow with
the number of users the way the fused query does.

    PYTHONPATH=. python bench/bench_why.py --users 20000
"""

from __future__ import annotations

import argparse
import contextlib
import io
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each side (the median is reported)")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from segsql.cli.main import main as cli
    from segsql.compiler import SegmentCompiler
    from segsql.reports.why import explain_user
    from segsql.run.session import Options, open_session
    from segsql.run.source_check import source_types

    as_of = "2026-11-22T12:00:00Z"
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for item in ("models", "segsql_project.yml", "profiles.yml"):
            (shutil.copytree if (REPO / item).is_dir() else shutil.copy)(REPO / item, root / item)
        for command in (["seed", "--demo", "--users", str(args.users), "--as-of", as_of], ["run", "--as-of", as_of]):
            try:
                with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                    cli(["--project-dir", str(root), *command])
            except SystemExit as done:
                if done.code:
                    raise
        session = open_session(Options(root), as_of)
        names = list(session.definitions.segments)
        users = ["u00001", f"u{args.users // 2:05d}", f"u{args.users:05d}"]
        with session.connect() as adapter:
            compiler = SegmentCompiler(session.definitions, adapter.dialect, session.as_of, source_types(session.definitions.sources, adapter))
            fused = compiler.flags([n for n in names if session.definitions.segments[n].materialized == "table"])

            def timed(work: object) -> float:
                assert callable(work)
                work()
                runs = []
                for _ in range(args.repeat):
                    start = time.perf_counter()
                    work()
                    runs.append(time.perf_counter() - start)
                return statistics.median(runs)

            why = timed(lambda: [explain_user(session, adapter, u, names) for u in users]) / len(users)
            flags = timed(lambda: adapter.fetch(fused))
    print(f"{args.users} users, {len(names)} segments (DuckDB)")
    print(f"why, one user, every segment:     {why:.3f} s")
    print(f"fused flags query, every user:    {flags:.3f} s")
    print(f"ratio fused / why:                {flags / why:.1f}x")


if __name__ == "__main__":
    main()
