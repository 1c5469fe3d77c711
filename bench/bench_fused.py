"""Benchmark: segsql's `run` against a hand-written floor and one query per segment, on two workloads.

    PYTHONPATH=/work/main python bench/bench_fused.py          # 1M users, 10M events, 1M purchases
    PYTHONPATH=/work/main python bench/bench_fused.py --users 100000 --events 1000000 --purchases 100000

Workloads: "mixed" (`segments.py`: 50 segments of every kind over 10 event names) and
"selective" (`selective.py`: 50 segments each asking one of 30 skewed event names over one
window), each on time-ordered and shuffled events. Per workload and ordering: segsql (auto:
the cost rule chooses), one hand-written query per segment, the wide GROUP BY + tables
(floor), and segsql with each strategy forced.

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
from selective import SELECTIVE, existing_selective, generate_selective

#: workload → (its segments, ordering → its events table)
WORKLOADS = {
    "mixed": (SEGMENTS, {"time": "main.events", "shuffled": "main.events_shuffled"}),
    "selective": (SELECTIVE, {"time": "main.sel_events", "shuffled": "main.sel_events_shuffled"}),
}
ORDERINGS = ("time", "shuffled")
#: the strategies segsql is also run with, forced (`planner: {strategy: ...}`)
FORCED = ("fused", "per_name", "grouped", "split")
LABELS = {"segsql": "segsql run (auto: the cost rule)", "floor": "wide GROUP BY + tables (floor)", "per_segment": "one query per segment", **{f"segsql:{f}": f"segsql run, {f} forced" for f in FORCED}}
_CODES = {"segsql": "seg", "floor": "hwf", "per_segment": "hwq", **{f"segsql:{f}": f"sg{f[0]}{f[-1]}" for f in FORCED}}


def prefix_of(variant: str, workload: str, ordering: str) -> str:
    """The membership tables' prefix of one (variant, workload, ordering): `seg_mt_`, `hwq_ss_`, ..."""
    return f"{_CODES[variant]}_{workload[0]}{ordering[0]}_"


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
    table = re.sub(r"\b(\w{3}_[ms][ts]_)\w+", r"\1<segment>", table)
    kind = f"{verb} {table}"
    if verb == "SELECT" and re.search(r"AS name, COUNT\(\*\) AS n\b", text):
        return "SELECT row counts per event name (the cost rule's facts)"
    return kind + " (a group's flags query)" if verb == "CREATE" and "__segsql_stage" in table else kind


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
        loaded = time.perf_counter() - tick
        adapter = timed_adapter(args.db)
        # every run recomputes (`--full-refresh`): the bench reruns one as_of over unchanged data,
        # which an incremental run answers from its fingerprints alone (bench_incremental.py)
        result = run_models(session, adapter, sorted(session.definitions.segments), full_refresh=True)
        adapter.close()
        seconds = time.perf_counter() - tick
        if not result.ok:
            raise SystemExit(f"segsql run failed: {sorted({s.message for s in result.models})}")
        breakdown = {f"{kind} x{adapter.counts[kind]}": secs for kind, secs in adapter.timings.items()}
        breakdown["start-up: load and parse the project"] = loaded
        breakdown["Python (plan, cost rule, compile, sqlglot) and the rest"] = seconds - sum(breakdown.values())
        choice = result.plan.choice if result.plan is not None else None
        runs.append((seconds, breakdown))
        if i == 0:
            peaks.append(peak_rss_mib())
    peaks.append(peak_rss_mib())
    out = _summary(runs, peaks)
    out["sizes"] = {s.name: s.size for s in result.models}
    out["choice"] = choice.describe()[:2] if choice is not None else []
    return out


def _summary(runs: list[tuple[float, dict]], peaks: list[float]) -> dict:
    """1st run, then the fastest timed run (its breakdown) and every timed run's seconds."""
    timed = runs[1:]
    best = min(timed, key=lambda r: r[0])
    return {"first": runs[0][0], "seconds": best[0], "all": [r[0] for r in timed], "breakdown": best[1], "peak_first_mib": peaks[0], "peak_mib": peaks[1]}


def floor_statements(workload: str, ordering: str) -> list[str]:
    segments, tables = WORKLOADS[workload]
    prefix = prefix_of("floor", workload, ordering)
    agg, creates = floor_sql(tables[ordering], prefix, segments)
    return [agg, *(sql for _, sql in creates), f"DROP TABLE {prefix}agg"]


def per_segment_statements(workload: str, ordering: str) -> list[str]:
    segments, tables = WORKLOADS[workload]
    prefix = prefix_of("per_segment", workload, ordering)
    universe = f"main.{prefix}universe"
    statements = [universe_sql(tables[ordering], universe)]
    statements += [per_segment_sql(seg, tables[ordering], prefix, universe) for seg in segments]
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
    return _run_statements(args, floor_statements(args.workload, args.ordering), "the GROUP BYs (events, purchases) joined to users", "50 x CREATE TABLE AS SELECT id FROM agg WHERE ...")


def work_per_segment(args: argparse.Namespace) -> dict:
    return _run_statements(args, per_segment_statements(args.workload, args.ordering), "the universe table (users + ids seen in events, purchases)", "50 x CREATE TABLE AS <its own query>")


def work_generate(args: argparse.Namespace) -> dict:
    import duckdb

    con = duckdb.connect(args.db)
    sizes = (args.users, args.events, args.purchases)
    reused = existing_sizes(con) == sizes
    if not reused:
        generate(con, *sizes, log=log)
    if "selective" in args.workloads.split(",") and existing_selective(con) != (args.users, args.events):
        generate_selective(con, args.users, args.events, log=log)
        reused = False
    con.close()
    return {"reused": reused, "duckdb": duckdb.__version__}


def work_verify(args: argparse.Namespace) -> dict:
    """Every membership table of `prefix` must hold exactly the members of `reference`'s table."""
    import duckdb

    con = duckdb.connect(args.db, read_only=True)
    sizes, bad = {}, []
    for seg in WORKLOADS[args.workload][0]:
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
    agg, _ = floor_sql(WORKLOADS[args.workload][1][args.ordering], "prof_", WORKLOADS[args.workload][0])
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

    def spawn(self, kind: str, workload: str = "mixed", ordering: str = "time", project: Path | None = None, **extra: str) -> dict:
        """Run one worker in a fresh interpreter; its result gets `rusage_maxrss_mib` from os.wait4."""
        out = self.work / f"{kind}_{workload}_{ordering}_{extra.get('prefix', '')}.json"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, "--db", str(self.db), "--workload", workload, "--ordering", ordering, "--out", str(out)]
        cmd += ["--project", str(project or self.work), f"--workloads={self.args.workloads}"]
        cmd += [f"--users={self.args.users}", f"--events={self.args.events}", f"--purchases={self.args.purchases}", f"--repeat={self.args.repeat}"]
        for key, value in extra.items():
            cmd += [f"--{key}", value]
        proc = subprocess.Popen(cmd)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise SystemExit(f"worker {kind}/{workload}/{ordering} failed with exit code {proc.returncode}")
        result = json.loads(out.read_text())
        result["rusage_maxrss_mib"] = usage.ru_maxrss / 1024.0  # KiB on Linux
        return result

    def verify(self, workload: str, prefix: str, reference: str) -> dict[str, int]:
        result = self.spawn("verify", workload, prefix=prefix, reference=reference)
        if result["bad"]:
            raise SystemExit(f"MEMBERS DIFFER between {prefix}* and {reference}*:\n  " + "\n  ".join(result["bad"]))
        return result["sizes"]

    def project(self, variant: str, workload: str, ordering: str) -> Path:
        """The segsql project of a segsql variant (auto or one strategy forced)."""
        project = self.work / f"project_{workload}_{ordering}_{variant.replace(':', '_')}"
        segments, tables = WORKLOADS[workload]
        write_project(project, tables[ordering], prefix_of(variant, workload, ordering), segments, variant.split(":")[1] if ":" in variant else None)
        return project

    def run(self, workloads: list[str], orderings: list[str], variants: list[str]) -> dict:
        args = self.args
        log(f"data: {args.users:,} users, {args.events:,} events per workload (+ a shuffled copy), {args.purchases:,} purchases in {self.db}")
        tick = time.monotonic()
        gen = self.spawn("generate")
        log(f"  {'reused' if gen['reused'] else 'generated'} in {time.monotonic() - tick:.1f}s; DuckDB {gen['duckdb']}, {os.cpu_count()} CPUs, file {self.db.stat().st_size / 2**20:,.0f} MiB")
        figures: dict = {"users": args.users, "events": args.events, "purchases": args.purchases, "duckdb": gen["duckdb"], "segsql": segsql_version(), "repeat": args.repeat, "rounds": args.rounds, "load_before": os.getloadavg(), "cases": {}}
        if figures["load_before"][0] > 0.5:
            log(f"  WARNING: load average {figures['load_before'][0]:.2f} before measuring: other processes share the CPUs, timings will be noisy")
        for workload in workloads:
            for ordering in orderings:
                case = f"{workload}:{ordering}"
                reference = prefix_of("segsql", workload, ordering)
                rounds: dict[str, list[dict]] = {variant: [] for variant in variants}
                loads = []
                for r in range(args.rounds):
                    for variant in variants:
                        log(f"[{case}] {LABELS[variant]}{f' (round {r + 1} of {args.rounds})' if args.rounds > 1 else ''} ...")
                        project = self.project(variant, workload, ordering) if variant.startswith("segsql") else self.work
                        result = self.spawn(variant.split(":")[0], workload, ordering, project)
                        loads.append(os.getloadavg()[0])
                        if r == 0:  # the members do not change between rounds: check them once
                            members = self.verify(workload, prefix_of(variant, workload, ordering), reference)
                            if variant.startswith("segsql") and members != result.pop("sizes"):
                                raise SystemExit("segsql's run results disagree with its tables")
                            if variant == "segsql":
                                result["members"] = members
                        log(f"    1st {result['first']:.2f}s, then {', '.join(f'{t:.2f}' for t in result['all'])}s (best {result['seconds']:.2f}s), peak RSS {result['peak_first_mib']:,.0f} / {result['peak_mib']:,.0f} MiB"
                            + (f" — members identical to {reference}*" if r == 0 else "") + (f"; {result['choice'][0]}" if result.get("choice") else ""))
                        rounds[variant].append(result)
                row: dict = {variant: merge_rounds(results) for variant, results in rounds.items()}
                row["rounds"] = [{variant: rounds[variant][r]["seconds"] for variant in variants} for r in range(args.rounds)]
                row["load"] = (min(loads), max(loads))
                if args.profile:
                    log(f"[{case}] profiling the fused query and the floor's GROUP BY alone (not part of the figures) ...")
                    row["profile"] = self.spawn("profile", workload, ordering, self.project("segsql", workload, ordering))
                figures["cases"][case] = row
        figures["load_after"] = os.getloadavg()
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
    log(f"== {figures['users']:,} users, {figures['events']:,} events per workload, {figures['purchases']:,} purchases, 50 segments per workload; seconds of the fastest of {figures['repeat'] * figures['rounds']} steady-state runs ==")
    before, after = figures["load_before"], figures["load_after"]
    log(f"segsql {figures['segsql']}, DuckDB {figures['duckdb']}, {os.cpu_count()} CPUs, load average (1/5/15 min) {before[0]:.2f}/{before[1]:.2f}/{before[2]:.2f} before, {after[0]:.2f}/{after[1]:.2f}/{after[2]:.2f} after")
    forced = [v for v in next(iter(figures["cases"].values())) if v.startswith("segsql:")]
    header = f"{'workload:ordering':<20} {'segsql':>7} {'per-seg':>8} {'floor':>7} {'segsql/best':>12}  " + " ".join(f"{v.split(':')[1]:>9}" for v in forced) + f"  {'peak RSS':>9}  {'load':>9}  chosen"
    log(header)
    log("-" * len(header))
    for case, row in figures["cases"].items():
        s, q, f = row["segsql"]["seconds"], row["per_segment"]["seconds"], row["floor"]["seconds"]
        best = min(q, f)
        cells = " ".join(f"{row[v]['seconds']:>9.2f}" for v in forced)
        chosen = row["segsql"].get("choice", ["?"])[0].removeprefix("strategy: ")
        log(f"{case:<20} {s:>7.2f} {q:>8.2f} {f:>7.2f} {ratio(s, best):>12}  {cells}  {row['segsql']['peak_mib']:>5,.0f} MiB  {row['load'][0]:.1f}-{row['load'][1]:.1f}  {chosen}")
    log("(segsql/best = segsql auto / the faster of one query per segment and the floor; forced columns: segsql with that strategy forced;")
    log(" peak RSS = VmHWM of segsql auto's own fresh process over its timed runs; load = 1-min load average after each variant of the case)")
    log("")
    log("target: segsql/best <= 1.00x and segsql peak RSS <= 1,536 MiB on every workload and ordering")
    for case, row in figures["cases"].items():
        s, best = row["segsql"]["seconds"], min(row["per_segment"]["seconds"], row["floor"]["seconds"])
        rss = max(row["segsql"]["peak_mib"], row["segsql"]["peak_first_mib"])
        log(f"  {case}: segsql/best {s / best:.2f}x {'meets' if s / best <= 1.0 else 'MISSES'}; peak RSS {rss:,.0f} MiB {'meets' if rss <= 1536 else 'MISSES'}")
        if len(row["rounds"]) > 1:
            paired = [r["segsql"] / min(r["per_segment"], r["floor"]) for r in row["rounds"]]
            log(f"    each round's best runs paired: segsql/best {', '.join(f'{x:.2f}x' for x in paired)} (median {statistics.median(paired):.2f}x)")
    for case, row in figures["cases"].items():
        log("")
        log(f"fixed costs and where segsql's {row['segsql']['seconds']:.2f}s go ({case}, fastest run, timed around each statement segsql sends):")
        for kind, secs in sorted(row["segsql"]["breakdown"].items(), key=lambda kv: -kv[1]):
            log(f"  {secs:7.2f}s  {kind}")
        for line in row["segsql"].get("choice", [])[1:]:
            log(f"  {line}")
        for variant in ("floor", "per_segment"):
            log(f"{LABELS[variant]} ({case}): " + "; ".join(f"{secs:.2f}s {label}" for label, secs in row[variant]["breakdown"].items()))
        prof = row.get("profile")
        if prof:
            log(f"profiles ({case}): fused flags query alone {prof['fused']:.2f}s (DuckDB peak buffer {prof['fused_peak_buffer_mib']:,.0f} MiB); "
                f"floor GROUP BY alone {prof['floor']:.2f}s ({prof['floor_peak_buffer_mib']:,.0f} MiB)")
            for key in ("fused", "floor"):
                log(f"  costliest operators of the {key} query (seconds, rows out):")
                for name, secs, rows in prof[key + "_top"]:
                    log(f"    {secs:7.2f}s {rows:>12,}  {name}")
    for case, row in figures["cases"].items():
        values = sorted(row["segsql"]["members"].values())
        log(f"segment sizes ({case}): min {values[0]:,}, median {statistics.median(values):,.0f}, max {values[-1]:,}; every variant's members equal segsql's")
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
    parser.add_argument("--workloads", default="mixed,selective", help="comma-separated subset of: mixed, selective")
    parser.add_argument("--strategies", default=",".join(FORCED), help=f"the strategies segsql is also run with, forced (subset of {', '.join(FORCED)}; empty: none)")
    parser.add_argument("--profile", action="store_true", help="also profile the fused query and the floor's GROUP BY alone (not part of the figures)")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    for hidden in ("worker", "db", "workload", "ordering", "project", "out", "prefix", "reference"):
        parser.add_argument(f"--{hidden}", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker_main(args)
        return
    orderings = [o.strip() for o in args.orderings.split(",") if o.strip()]
    if not orderings or any(o not in ORDERINGS for o in orderings):
        parser.error(f"--orderings takes a comma-separated subset of: {', '.join(ORDERINGS)}")
    workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    if not workloads or any(w not in WORKLOADS for w in workloads):
        parser.error(f"--workloads takes a comma-separated subset of: {', '.join(WORKLOADS)}")
    strategies = [f.strip() for f in args.strategies.split(",") if f.strip()]
    if any(f not in FORCED for f in strategies):
        parser.error(f"--strategies takes a comma-separated subset of: {', '.join(FORCED)}")
    variants = ["segsql", "per_segment", "floor", *(f"segsql:{f}" for f in strategies)]
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="segsql_bench_") as tmp:
        work = args.data_dir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        figures = Driver(args, work).run(workloads, orderings, variants)
    report(figures, keep=args.data_dir is not None)
    log(f"total wall time {time.monotonic() - started:.0f}s")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
