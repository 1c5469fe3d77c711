"""Benchmark: segsql's fused `run` against a hand-written floor and one query per segment.

    PYTHONPATH=/work/main python bench/bench_fused.py          # 1M users, 10M events, 1M purchases
    PYTHONPATH=/work/main python bench/bench_fused.py --users 100000 --events 1000000 --purchases 100000

Every measured variant runs in a fresh subprocess: one untimed run, then --repeat timed runs
(steady state: segsql's membership tables exist, DuckDB's buffer pool is warm); the fastest
timed run is reported, because on a shared machine noise only ever adds time. Peak memory is
the subprocess's VmHWM (peak resident set from /proc/self/status, reset through
/proc/self/clear_refs after the first run, so the timed runs' peak is their own). Data
generation and the member checks also run in subprocesses, so the driver stays small. After each variant every membership
table is compared with segsql's; any difference stops the benchmark. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar

from datagen import AS_OF, existing_sizes, generate
from segments import SEGMENTS, floor_sql, per_segment_sql, universe_sql, write_project

ORDERINGS = {"time": "main.events", "shuffled": "main.events_shuffled"}
PREFIXES = {  # membership tables of each (variant, ordering)
    ("segsql", "time"): "seg_t_",
    ("segsql", "shuffled"): "seg_s_",
    ("floor", "time"): "hwf_t_",
    ("floor", "shuffled"): "hwf_s_",
    ("per_segment", "time"): "hwq_t_",
    ("per_segment", "shuffled"): "hwq_s_",
}
VARIANTS = ("segsql", "floor", "per_segment")
LABELS = {"segsql": "segsql run (fused)", "floor": "floor (1 GROUP BY per source)", "per_segment": "one query per segment"}
AS_OF_ISO = AS_OF.isoformat().replace("+00:00", "Z")


def log(msg: str) -> None:
    print(msg, flush=True)


# -- workers (each in a fresh process) -------------------------------------------------------------
def _connect(db: str) -> Any:
    import duckdb

    con = duckdb.connect(db)
    con.execute("SET TimeZone = 'UTC'")  # as segsql's DuckDB adapter does
    return con


_TABLE = re.compile(r"\b(?:TABLE(?: IF NOT EXISTS)?|FROM|INTO)\s+([\w.\"]+)", re.IGNORECASE)
_SCRATCH = re.compile(r"__segsql_([a-z]+)\d*_[0-9a-f]{8,}(?:_\d+)?")


def _statement_kind(sql: str) -> str:
    """A statement's verb and main table, with run ids and segment names folded: `CREATE main.__segsql_new*`."""
    text = sql.lstrip()
    verb = text.split(None, 1)[0].upper() if text else "?"
    if verb in ("BEGIN", "COMMIT", "ROLLBACK"):
        return "BEGIN / COMMIT"
    if "information_schema" in text.lower():
        return f"{verb} information_schema (segsql's own tables)"
    match = _TABLE.search(text)
    table = match.group(1).replace('"', "") if match else "?"
    table = _SCRATCH.sub(lambda m: f"__segsql_{m.group(1)}*", table)
    for prefix in ("seg_t_", "seg_s_"):
        table = re.sub(rf"\b{prefix}\w+", f"{prefix}<segment>", table)
    kind = f"{verb} {table}"
    return kind + " (the fused flags query)" if verb == "CREATE" and "__segsql_stage" in table else kind


def timed_adapter(db: str) -> Any:
    """segsql's DuckDB adapter, unchanged, with a stopwatch around every statement it sends."""
    from segsql.engines.duckdb import DuckDBAdapter

    class TimedAdapter(DuckDBAdapter):
        # class-level, so the statements the adapter's own __init__ sends are timed too
        timings: ClassVar[Counter] = Counter()
        counts: ClassVar[Counter] = Counter()

        def _timed(self, kind: str, call, *args):
            tick = time.perf_counter()
            try:
                return call(*args)
            finally:
                self.timings[kind] += time.perf_counter() - tick
                self.counts[kind] += 1

        def _execute(self, sql: str) -> None:
            self._timed(_statement_kind(sql), super()._execute, sql)

        def _fetch(self, sql: str):
            return self._timed(_statement_kind(sql), super()._fetch, sql)

        def _describe(self, sql: str):
            return self._timed("column types (SELECT * ... LIMIT 0 per source table)", super()._describe, sql)

    return TimedAdapter(db, "main")


def work_segsql(args: argparse.Namespace) -> dict:
    from segsql.run.materialize import run_models
    from segsql.run.session import Options, open_session

    runs: list[tuple[float, dict]] = []
    peaks = []
    for i in range(1 + args.repeat):
        if i < 2:
            reset_peak_rss()  # the 1st run's peak, then the peak over the timed runs
        tick = time.perf_counter()
        session = open_session(Options(Path(args.project)), AS_OF_ISO, need_target=False)
        adapter = timed_adapter(args.db)
        result = run_models(session, adapter, sorted(session.definitions.segments))
        adapter.close()
        seconds = time.perf_counter() - tick
        if not result.ok:
            raise SystemExit(f"segsql run failed: {sorted({s.message for s in result.models})}")
        breakdown = {f"{kind} x{adapter.counts[kind]}": secs for kind, secs in adapter.timings.items()}
        breakdown["Python (load project, compile, sqlglot) and the rest"] = seconds - sum(breakdown.values())
        runs.append((seconds, breakdown))
        if i == 0:
            peaks.append(peak_rss_mib())
    peaks.append(peak_rss_mib())
    out = _summary(runs, peaks)
    out["sizes"] = {s.name: s.size for s in result.models}
    return out


def _summary(runs: list[tuple[float, dict]], peaks: list[float]) -> dict:
    """1st run, then the fastest timed run (its breakdown) and every timed run's seconds."""
    timed = runs[1:]
    best = min(timed, key=lambda r: r[0])
    return {"first": runs[0][0], "seconds": best[0], "all": [r[0] for r in timed], "breakdown": best[1], "peak_first_mib": peaks[0], "peak_mib": peaks[1]}


def floor_statements(ordering: str) -> list[str]:
    prefix = PREFIXES[("floor", ordering)]
    agg, tables = floor_sql(ORDERINGS[ordering], prefix)
    return [agg, *(sql for _, sql in tables), f"DROP TABLE {prefix}agg"]


def per_segment_statements(ordering: str) -> list[str]:
    prefix = PREFIXES[("per_segment", ordering)]
    universe = f"main.{prefix}universe"
    statements = [universe_sql(ORDERINGS[ordering], universe)]
    statements += [per_segment_sql(seg, ORDERINGS[ordering], prefix, universe) for seg in SEGMENTS]
    return statements


def _run_statements(args: argparse.Namespace, statements: list[str], first_label: str, rest_label: str) -> dict:
    """Run the statements 1 + --repeat times, each time in a fresh connection; the 1st is a warm-up."""
    runs: list[tuple[float, dict]] = []
    peaks = []
    for i in range(1 + args.repeat):
        if i < 2:
            reset_peak_rss()
        con = _connect(args.db)
        each = []
        for sql in statements:
            tick = time.perf_counter()
            con.execute(sql)
            each.append(time.perf_counter() - tick)
        con.close()
        runs.append((sum(each), {first_label: each[0], rest_label: sum(each[1:])}))
        if i == 0:
            peaks.append(peak_rss_mib())
    peaks.append(peak_rss_mib())
    return _summary(runs, peaks)


def work_floor(args: argparse.Namespace) -> dict:
    return _run_statements(args, floor_statements(args.ordering), "the GROUP BYs (events, purchases) joined to users", "50 x CREATE TABLE AS SELECT id FROM agg WHERE ...")


def work_per_segment(args: argparse.Namespace) -> dict:
    return _run_statements(args, per_segment_statements(args.ordering), "the universe table (users + ids seen in events, purchases)", "50 x CREATE TABLE AS <its own query>")


def work_generate(args: argparse.Namespace) -> dict:
    import duckdb

    con = duckdb.connect(args.db)
    sizes = (args.users, args.events, args.purchases)
    reused = existing_sizes(con) == sizes
    if not reused:
        generate(con, *sizes, log=log)
    con.close()
    return {"reused": reused, "duckdb": duckdb.__version__}


def work_verify(args: argparse.Namespace) -> dict:
    """Every membership table of `prefix` must hold exactly the members of `reference`'s table."""
    import duckdb

    con = duckdb.connect(args.db, read_only=True)
    sizes, bad = {}, []
    for seg in SEGMENTS:
        a, b = f"main.{args.prefix}{seg.name}", f"main.{args.reference}{seg.name}"
        rows, distinct, only_a, only_b = con.execute(
            f"SELECT (SELECT count(*) FROM {a}), (SELECT count(DISTINCT external_user_id) FROM {a}), "
            f"(SELECT count(*) FROM (SELECT external_user_id FROM {a} EXCEPT SELECT external_user_id FROM {b})), "
            f"(SELECT count(*) FROM (SELECT external_user_id FROM {b} EXCEPT SELECT external_user_id FROM {a}))"
        ).fetchone()
        sizes[seg.name] = rows
        if rows != distinct or only_a or only_b:
            bad.append(f"{seg.name}: {rows} rows ({distinct} distinct), {only_a} only in {args.prefix}*, {only_b} only in {args.reference}*")
    con.close()
    return {"sizes": sizes, "bad": bad}


def work_profile(args: argparse.Namespace) -> dict:
    """Not part of the figures: the fused flags query (compiled with the column types a run
    learns from the engine, as `run` does) and the floor's GROUP BY alone, profiled."""
    from segsql.compiler import SegmentCompiler
    from segsql.engines.duckdb import DuckDBAdapter
    from segsql.run.materialize import source_types
    from segsql.run.session import Options, open_session

    project = Path(args.project)
    session = open_session(Options(project), AS_OF_ISO, need_target=False)
    names = sorted(session.definitions.segments)
    adapter = DuckDBAdapter(args.db, "main")
    types = source_types(session.definitions.sources, adapter)
    adapter.close()
    fused = SegmentCompiler(session.definitions, "duckdb", session.as_of, types).flags(names).sql("duckdb", pretty=True)
    (project / "fused_flags.sql").write_text(fused + "\n")
    agg, _ = floor_sql(ORDERINGS[args.ordering], "prof_")
    (project / "floor_agg.sql").write_text(agg + "\n")
    out: dict = {"naive_time_columns": sorted(f"{t}.{c}" for t, c in types.naive)}
    con = _connect(args.db)
    queries = {"fused": f"CREATE OR REPLACE TEMP TABLE prof_fused AS {fused}", "floor": agg}
    for key, sql in queries.items():
        con.execute(sql)  # warm-up
        path = project / f"profile_{key}.json"
        con.execute("SET enable_profiling = 'json'")
        con.execute(f"SET profiling_output = '{path}'")
        tick = time.perf_counter()
        con.execute(sql)
        out[key] = time.perf_counter() - tick
        con.execute("PRAGMA disable_profiling")
        out[key + "_top"], out[key + "_peak_buffer_mib"] = read_profile(path)
    con.close()
    return out


def read_profile(path: Path, limit: int = 5) -> tuple[list[tuple[str, float, int]], float]:
    """The costliest operators of a DuckDB JSON profile (name + detail, seconds, rows out), and
    DuckDB's peak buffer memory in MiB."""
    tree = json.loads(path.read_text())
    found: list[tuple[str, float, int]] = []

    def walk(node: dict) -> None:
        extra = node.get("extra_info") or {}
        detail = ""
        for key in ("Table", "Join Type", "Conditions", "Expression"):
            if key in extra:
                detail += f" {key}={str(extra[key])[:70]}"
        found.append((f"{node.get('type', '?')}{detail}", float(node.get("timing", 0.0)), int(node.get("intermediate_rows", 0))))
        for child in node.get("children", []):
            walk(child)

    for node in tree.get("operator", []):
        walk(node)
    found.sort(key=lambda t: -t[1])
    peak = float(tree.get("system", {}).get("peak_buffer_memory", 0)) / 2**20
    return found[:limit], peak


WORKERS = {"generate": work_generate, "segsql": work_segsql, "floor": work_floor, "per_segment": work_per_segment, "verify": work_verify, "profile": work_profile}


def peak_rss_mib() -> float:
    """This process's peak resident set (VmHWM), which starts afresh at exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return 0.0


def reset_peak_rss() -> None:
    """Restart VmHWM from the current RSS (Linux >= 4.0), so each run's peak is its own."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def worker_main(args: argparse.Namespace) -> None:
    result = WORKERS[args.worker](args)
    result["vmhwm_mib"] = peak_rss_mib()
    Path(args.out).write_text(json.dumps(result))


# -- the driver -----------------------------------------------------------------------------------
class Driver:
    def __init__(self, args: argparse.Namespace, work: Path):
        self.args = args
        self.work = work
        self.db = work / "bench.duckdb"

    def spawn(self, kind: str, ordering: str = "time", project: Path | None = None, **extra: str) -> dict:
        """Run one worker in a fresh interpreter; its result gets `rusage_maxrss_mib` from os.wait4."""
        out = self.work / f"{kind}_{ordering}_{extra.get('prefix', '')}.json"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, "--db", str(self.db), "--ordering", ordering, "--out", str(out)]
        cmd += ["--project", str(project or self.work)]
        cmd += [f"--users={self.args.users}", f"--events={self.args.events}", f"--purchases={self.args.purchases}", f"--repeat={self.args.repeat}"]
        for key, value in extra.items():
            cmd += [f"--{key}", value]
        proc = subprocess.Popen(cmd)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise SystemExit(f"worker {kind}/{ordering} failed with exit code {proc.returncode}")
        result = json.loads(out.read_text())
        result["rusage_maxrss_mib"] = usage.ru_maxrss / 1024.0  # KiB on Linux
        return result

    def verify(self, prefix: str, reference: str) -> dict[str, int]:
        result = self.spawn("verify", prefix=prefix, reference=reference)
        if result["bad"]:
            raise SystemExit(f"MEMBERS DIFFER between {prefix}* and {reference}*:\n  " + "\n  ".join(result["bad"]))
        return result["sizes"]

    def run(self, orderings: list[str]) -> dict:
        args = self.args
        log(f"data: {args.users:,} users, {args.events:,} events (+ a shuffled copy), {args.purchases:,} purchases in {self.db}")
        tick = time.monotonic()
        gen = self.spawn("generate")
        log(f"  {'reused' if gen['reused'] else 'generated'} in {time.monotonic() - tick:.1f}s; DuckDB {gen['duckdb']}, {os.cpu_count()} CPUs, file {self.db.stat().st_size / 2**20:,.0f} MiB")
        figures: dict = {"users": args.users, "events": args.events, "purchases": args.purchases, "duckdb": gen["duckdb"], "segsql": segsql_version(), "repeat": args.repeat, "rounds": args.rounds, "load_before": os.getloadavg()[0], "orderings": {}}
        if figures["load_before"] > 0.5:
            log(f"  WARNING: load average {figures['load_before']:.2f} before measuring: other processes share the CPUs, timings will be noisy")
        for ordering in orderings:
            project = self.work / f"project_{ordering}"
            write_project(project, ORDERINGS[ordering], PREFIXES[("segsql", ordering)])
            rounds: dict[str, list[dict]] = {variant: [] for variant in VARIANTS}
            for r in range(args.rounds):
                for variant in VARIANTS:
                    log(f"[{ordering}] {LABELS[variant]}{f' (round {r + 1} of {args.rounds})' if args.rounds > 1 else ''} ...")
                    result = self.spawn(variant, ordering, project)
                    reference = PREFIXES[("segsql", ordering if variant != "segsql" else orderings[0])]
                    if r == 0:  # the members do not change between rounds: check them once
                        members = self.verify(PREFIXES[(variant, ordering)], reference)
                        if variant == "segsql":
                            result["members"] = members
                            if members != result.pop("sizes"):
                                raise SystemExit("segsql's run results disagree with its tables")
                    log(f"    1st {result['first']:.2f}s, then {', '.join(f'{t:.2f}' for t in result['all'])}s (best {result['seconds']:.2f}s), peak RSS {result['peak_first_mib']:,.0f} / {result['peak_mib']:,.0f} MiB" + (f" — members identical to {reference}*" if r == 0 else ""))
                    rounds[variant].append(result)
            row: dict = {variant: merge_rounds(results) for variant, results in rounds.items()}
            row["rounds"] = [{variant: rounds[variant][r]["seconds"] for variant in VARIANTS} for r in range(args.rounds)]
            if not args.no_profile:
                log(f"[{ordering}] profiling the fused query and the floor's GROUP BY alone (not part of the figures) ...")
                row["profile"] = self.spawn("profile", ordering, project)
            figures["orderings"][ordering] = row
        figures["load_after"] = os.getloadavg()[0]
        return figures


def merge_rounds(results: list[dict]) -> dict:
    """One variant over all rounds: its fastest run (and that run's breakdown), every timed run,
    the highest timed-run peak; the 1st-run figures stay round 1's (only it can create tables)."""
    best = min(results, key=lambda r: r["seconds"])
    merged = {**results[0], "seconds": best["seconds"], "breakdown": best["breakdown"]}
    merged["all"] = [t for r in results for t in r["all"]]
    merged["peak_mib"] = max(r["peak_mib"] for r in results)
    return merged


def segsql_version() -> str:
    """The segsql commit measured, and whether its working tree had uncommitted changes."""
    import segsql

    root = Path(segsql.__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--", "segsql"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" + uncommitted changes in segsql/" if dirty else "")


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "-"


def report(figures: dict, keep: bool) -> None:
    log("")
    log(f"== {figures['users']:,} users, {figures['events']:,} events, {figures['purchases']:,} purchases, {len(SEGMENTS)} segments; seconds of the fastest of {figures['repeat'] * figures['rounds']} steady-state runs ==")
    log(f"segsql {figures['segsql']}, DuckDB {figures['duckdb']}, {os.cpu_count()} CPUs, 1-min load average {figures['load_before']:.2f} before / {figures['load_after']:.2f} after")
    header = f"{'events':<9} {'segsql':>8} {'floor':>8} {'per-seg':>8} {'segsql/floor':>13} {'per-seg/segsql':>15}   peak RSS: {'segsql':>8} {'(1st run)':>10} {'floor':>9} {'per-seg':>9}"
    log(header)
    log("-" * len(header))
    for ordering, row in figures["orderings"].items():
        s, f, q = (row[v]["seconds"] for v in VARIANTS)
        log(f"{ordering:<9} {s:>8.2f} {f:>8.2f} {q:>8.2f} {ratio(s, f):>13} {ratio(q, s):>15}   {'':>9} {row['segsql']['peak_mib']:>4,.0f} MiB {row['segsql']['peak_first_mib']:>6,.0f} MiB "
            f"{row['floor']['peak_mib']:>5,.0f} MiB {row['per_segment']['peak_mib']:>5,.0f} MiB")
    log("(peak RSS = VmHWM of the variant's own fresh process over its timed runs; '1st run' = segsql's untimed first run, which creates the tables in a fresh data dir)")
    log("")
    log("targets: segsql/floor <= 1.30x; per-seg/segsql >= 1.00x on time-ordered events and >= 2.00x on shuffled; segsql peak RSS <= 1,536 MiB at 10M events")
    for ordering, row in figures["orderings"].items():
        s, f, q = (row[v]["seconds"] for v in VARIANTS)
        need = 2.0 if ordering == "shuffled" else 1.0
        verdicts = [
            f"segsql/floor {s / f:.2f}x {'meets' if s / f <= 1.3 else 'MISSES'} <= 1.30x",
            f"per-seg/segsql {q / s:.2f}x {'meets' if q / s >= need else 'MISSES'} >= {need:.2f}x",
        ]
        if figures["events"] >= 10_000_000:
            for label, rss in (("steady-state", row["segsql"]["peak_mib"]), ("1st run", row["segsql"]["peak_first_mib"])):
                verdicts.append(f"{label} peak RSS {rss:,.0f} MiB {'meets' if rss <= 1536 else 'MISSES'} <= 1,536 MiB")
        log(f"  {ordering}: " + "; ".join(verdicts))
    for ordering, row in figures["orderings"].items():
        if len(row["rounds"]) > 1:
            per_seg = [r["per_segment"] / r["segsql"] for r in row["rounds"]]
            floor = [r["segsql"] / r["floor"] for r in row["rounds"]]
            log(f"  {ordering}, each round's best run paired (variants interleaved, so a slow spell of the machine hits all three): "
                f"per-seg/segsql {', '.join(f'{x:.2f}x' for x in per_seg)} (median {statistics.median(per_seg):.2f}x); "
                f"segsql/floor {', '.join(f'{x:.2f}x' for x in floor)} (median {statistics.median(floor):.2f}x)")
    for ordering, row in figures["orderings"].items():
        log("")
        log(f"where segsql's {row['segsql']['seconds']:.2f}s go ({ordering}, fastest run, timed around each statement segsql sends):")
        for kind, secs in sorted(row["segsql"]["breakdown"].items(), key=lambda kv: -kv[1]):
            log(f"  {secs:7.2f}s  {kind}")
        for variant in ("floor", "per_segment"):
            log(f"{LABELS[variant]} ({ordering}): " + "; ".join(f"{secs:.2f}s {label}" for label, secs in row[variant]["breakdown"].items()))
        prof = row.get("profile")
        if prof:
            log(f"profiles ({ordering}): fused flags query alone {prof['fused']:.2f}s (DuckDB peak buffer {prof['fused_peak_buffer_mib']:,.0f} MiB); "
                f"floor GROUP BY alone {prof['floor']:.2f}s ({prof['floor_peak_buffer_mib']:,.0f} MiB); "
                f"time columns read as they are (naive): {', '.join(prof['naive_time_columns']) or 'none'}")
            for key in ("fused", "floor"):
                log(f"  costliest operators of the {key} query (seconds, rows out):")
                for name, secs, rows in prof[key + "_top"]:
                    log(f"    {secs:7.2f}s {rows:>12,}  {name}")
    sizes = next(iter(figures["orderings"].values()))["segsql"]["members"]
    values = sorted(sizes.values())
    log("")
    log(f"segment sizes: min {values[0]:,}, median {statistics.median(values):,.0f}, max {values[-1]:,}; every variant's members equal segsql's")
    if keep:
        log("generated SQL (fused_flags.sql, floor_agg.sql) and DuckDB JSON profiles are in the project_* folders of --data-dir")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--purchases", type=int, default=1_000_000)
    parser.add_argument("--data-dir", type=Path, help="keep the DuckDB file, projects, SQL and profiles here; data of the same sizes is reused (default: a temporary folder, deleted)")
    parser.add_argument("--orderings", default="time,shuffled", help="comma-separated subset of: time, shuffled")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per variant after the first (untimed) one; the fastest is reported (default 3)")
    parser.add_argument("--rounds", type=int, default=1, help="run the three variants this many times, interleaved, and also report each round's paired ratios (default 1)")
    parser.add_argument("--no-profile", action="store_true", help="skip profiling the fused query and the floor's GROUP BY")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    for hidden in ("worker", "db", "ordering", "project", "out", "prefix", "reference"):
        parser.add_argument(f"--{hidden}", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker_main(args)
        return
    orderings = [o.strip() for o in args.orderings.split(",") if o.strip()]
    if not orderings or any(o not in ORDERINGS for o in orderings):
        parser.error(f"--orderings takes a comma-separated subset of: {', '.join(ORDERINGS)}")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="segsql_bench_") as tmp:
        work = args.data_dir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        figures = Driver(args, work).run(orderings)
    report(figures, keep=args.data_dir is not None)
    log(f"total wall time {time.monotonic() - started:.0f}s")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
