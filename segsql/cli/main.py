"""`segsql` command line. Each command parses options, calls the API, renders, maps exit codes."""

from __future__ import annotations

import contextlib
import itertools
import logging
import sys
import time
import traceback
from pathlib import Path
from typing import NoReturn

import click

from segsql import __version__
from segsql.cli.common import AS_OF, EXCLUDE, FORMAT, SELECT, STATE, open_project
from segsql.cli.verify import build, test_
from segsql.errors import Location, ProjectError, RunFailure, SegsqlError, UsageError, UserError
from segsql.reports import output
from segsql.run.session import Options, Session
from segsql.util.words import plural

#: Exit code of a bug in segsql (SPEC 6): 0 ok, 1 a model/test/guard failed, 2 a user mistake.
INTERNAL_ERROR = 3


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--project-dir", type=click.Path(path_type=Path, file_okay=False), default=".", show_default=True, help="The project folder.")
@click.option("--profiles-dir", type=click.Path(path_type=Path, file_okay=False), help="Folder holding profiles.yml.")
@click.option("--target", "-t", help="Target of the profile (default: the profile's `target`).")
@click.option("--vars", "vars_", help="JSON object overriding project vars.")
@click.option("--debug", is_flag=True, help="Show a traceback on errors.")
@click.version_option(__version__, prog_name="segsql")
@click.pass_context
def cli(ctx: click.Context, project_dir: Path, profiles_dir: Path | None, target: str | None, vars_: str | None, debug: bool) -> None:
    """segsql: customer segments as code, compiled to SQL for your warehouse."""
    ctx.obj = Options(project_dir, profiles_dir, target, vars_)


def _options() -> Options:
    options: Options = click.get_current_context().find_root().obj
    return options


def _session(as_of: str | None = None, need_target: bool = True) -> Session:
    """The project, after reading the command's `--state` (if any); writes target/manifest.json."""
    ctx = click.get_current_context()
    session, previous = open_project(as_of, need_target, ctx.params.get("state"))
    ctx.meta["segsql.state"] = previous
    return session


def _selected(session: Session, select: tuple[str, ...], exclude: tuple[str, ...], state: Path | None) -> list[str]:
    """`state` was read by `_session` before it wrote the new manifest."""
    from segsql.run.selection import select as run_select

    previous = click.get_current_context().meta.get("segsql.state") if state is not None else None
    return run_select(session.definitions.segments, select, exclude, previous)


def _in_order(session: Session, words: tuple[str, ...]) -> list[str]:
    """Segments named or selected (`tag:x` works too), in the order written: a report's columns."""
    chosen = []
    for word in words:
        chosen += [n for n in _selected(session, (word,), (), None) if n not in chosen]
    return chosen


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
def init(directory: Path) -> None:
    """Scaffold a new project in DIRECTORY."""
    from segsql.cli.scaffold import next_steps, scaffold

    for path in scaffold(directory):
        output.print_text(f"created {path}")
    output.print_text(next_steps(directory))


@cli.command()
@FORMAT
def debug(fmt: str) -> None:
    """Check project, profile and connection (no secrets printed)."""
    from segsql.reports.debug import debug_project, print_report

    report = debug_project(_options())
    if fmt == "json":
        output.print_json(report.as_dict())
    else:
        print_report(report)
    if report.exit_code:
        raise (UsageError if report.exit_code == 2 else RunFailure)("debug found a problem (see the report)")


@cli.command()
@click.option("--demo", is_flag=True, help="Load the synthetic demo shop instead of seeds/*.csv.")
@click.option("--users", type=click.IntRange(1, 10_000_000), help="With --demo: number of users.  [default: 5000]")
@click.option("--seed", "seed_", type=int, help="With --demo: random seed.  [default: 42]")
@click.option("--as-of", "as_of", help="With --demo: the story ends at this instant (ISO 8601, UTC if no offset). Default: now, so a `run` right after it finds every demo segment non-empty.")
@FORMAT
def seed(demo: bool, users: int | None, seed_: int | None, as_of: str | None, fmt: str) -> None:
    """Load seeds/*.csv into tables of the same names (typed by seeds/seeds.yml or inferred), or --demo data."""
    if not demo and (users, seed_, as_of) != (None, None, None):
        raise UsageError("--users, --seed and --as-of only apply to `seed --demo`", hint="add --demo, or drop them to load seeds/*.csv")
    session = _session(as_of, need_target=True)
    if demo:
        from segsql.demo.seed import seed_demo

        with session.connect() as adapter:
            counts = seed_demo(adapter, users=5000 if users is None else users, seed=42 if seed_ is None else seed_, as_of=session.as_of)
        columns: dict[str, dict[str, str]] = {}
    else:
        from segsql.run.seeds import load_seeds, read_seeds

        tables = read_seeds(session.root)  # every file is read and typed before anything is loaded
        with session.connect() as adapter:
            load_seeds(adapter, tables)
        counts = {t.name: len(t.rows) for t in tables}
        columns = {t.name: dict(t.columns) for t in tables}
    if fmt == "json":
        output.print_json({"tables": counts, **({"columns": columns} if columns else {})})
    elif columns:
        output.print_table("seeded from seeds/", ["table", "rows", "columns"], [(n, counts[n], ", ".join(f"{c} {t}" for c, t in columns[n].items())) for n in sorted(counts)])
    else:
        output.print_table("seeded", ["table", "rows"], sorted(counts.items()))


@cli.command()
@click.option("--dialect", default="all", show_default=True, help="Compile target: all, or one of the dialect registry (duckdb, snowflake, postgres, redshift, bigquery, databricks).")
@click.option("--check", is_flag=True, help="Exit 1 on any error (for CI).")
@AS_OF
@SELECT
@EXCLUDE
@STATE
@FORMAT
def compile(dialect: str, check: bool, as_of: str | None, select: tuple[str, ...], exclude: tuple[str, ...], state: Path | None, fmt: str) -> None:
    """Write target/compiled/**.sql and target/manifest.json."""
    from segsql.compiler import COMPILE_DIALECTS
    from segsql.run.compile import compile_project
    from segsql.util.suggest import suggest

    if dialect != "all" and dialect not in COMPILE_DIALECTS:
        raise UsageError(f"--dialect {dialect!r} is not a compile target", hint=suggest(dialect, ["all", *COMPILE_DIALECTS]))

    try:
        session = _compile_session(as_of, check)
        names = _selected(session, select, exclude, state)
        if check:
            _check_sources(session)
        dialects = list(COMPILE_DIALECTS) if dialect == "all" else [dialect]
        result = compile_project(session, names, dialects)
    except ProjectError as err:  # a command-line mistake stays exit 2
        if check:
            raise RunFailure(err.render()) from None
        raise
    if fmt == "json":
        output.print_json({"files": [str(p) for p in result.files], "errors": result.errors, "plan": result.plan})
    else:
        output.print_text(f"compiled {plural(len(names), 'segment')} for {', '.join(dialects)}: {plural(len(result.files), 'file')} under {session.target_dir() / 'compiled'}")
        if result.plan:
            output.print_text("plan of a run (target/compiled/plan.txt):\n" + "\n".join(result.plan))
        for error in result.errors:
            output.print_error(error)
    if result.errors:
        raise RunFailure(f"{plural(len(result.errors), 'segment')} failed to compile") if check else UsageError(result.errors[0])


def _compile_session(as_of: str | None, check: bool) -> Session:
    """`compile` needs no target; `--check` uses the profile's when it loads, to check the sources."""
    if check and _options().target is None:
        with contextlib.suppress(UserError):  # no usable profile (say, CI without credentials)
            return _session(as_of, need_target=True)
    return _session(as_of, need_target=False)


def _check_sources(session: Session) -> None:
    """`compile --check` on a target that connects: every table and column of sources.yml exists."""
    from segsql.engines import EngineError
    from segsql.run.source_check import connectable, source_types

    target = session.project.target
    if target is None:
        return
    reason = connectable(target, session.root)
    if reason is None:
        try:
            with session.connect() as adapter:
                source_types(session.definitions.sources, adapter)
            return
        except EngineError as err:
            reason = f"cannot connect to target {target.name!r}: {str(err).splitlines()[0] if str(err) else 'no reason given'}"
    output.status(f"note: source tables not checked ({reason})")


@cli.command()
@AS_OF
@click.option("--full-refresh", is_flag=True, help="Rebuild all derived state (the sources' fingerprints) and recompute every model from scratch.")
@click.option("--resync", is_flag=True, help="Re-emit true (or the split group) to CDI for every current member.")
@click.option("--dry-run", is_flag=True, help="Compute sizes and changes; write nothing.")
@SELECT
@EXCLUDE
@STATE
@FORMAT
def run(as_of: str | None, full_refresh: bool, resync: bool, dry_run: bool, select: tuple[str, ...], exclude: tuple[str, ...], state: Path | None, fmt: str) -> None:
    """Materialize the selected models (segments, funnels, cluster models, cohorts)."""
    from segsql.run.materialize import refresh_label, run_models
    from segsql.run.run_results import write_run_results
    from segsql.run.selection import select as run_select

    session = _session(as_of)
    previous = click.get_current_context().meta.get("segsql.state") if state is not None else None
    names = run_select(session.definitions.models, select, exclude, previous)
    with session.connect() as adapter, output.progress() as step:
        result = run_models(session, adapter, names, dry_run=dry_run, resync=resync, progress=step, full_refresh=full_refresh)
    write_run_results(session, "run", result.as_dict(), dry_run=dry_run)
    if fmt == "json":
        output.print_json(result.as_dict())
    else:
        if dry_run and result.plan is not None:
            output.print_text("plan:\n" + "\n".join(result.plan.describe()))
        rows = [(m.name, m.kind, m.table, m.size, m.entered, m.exited, refresh_label(m), m.status) for m in result.models]
        title = f"run {result.run_id} as_of {session.project.as_of}: {plural(result.cdi_rows, 'CDI row')}" + (" (dry run: nothing written)" if dry_run else "")
        output.print_table(title, ["model", "kind", "table", "size", "entered", "exited", "refresh", "status"], rows)
        if result.timings:
            output.print_text(" · ".join(f"{step_name} {seconds:.2f}s" for step_name, seconds in result.timings.items()) + f" · total {result.seconds:.2f}s")
        for m in result.models:
            if m.note:
                output.print_text(f"{m.name}: {m.note}")
            if m.message:
                output.print_error(f"{m.name}: {m.message}")
    if not result.ok:
        raise RunFailure(f"{plural(sum(m.status != 'success' for m in result.models), 'model')} failed")


@cli.command()
@click.argument("name")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(0), help="Members to list.")
@AS_OF
@FORMAT
def show(name: str, limit: int, as_of: str | None, fmt: str) -> None:
    """Preview a segment's members without writing anything."""
    from segsql.reports.show import show_segment

    session = _session(as_of)
    _selected(session, (name,), (), None)
    with session.connect() as adapter:
        result = show_segment(session, adapter, name, limit)
    if fmt == "json":
        output.print_json(result.as_dict())
    else:
        output.print_text(f"{name}: {plural(result.size, 'member')} at {result.as_of}")
        output.print_table(None, ["external_user_id"], [(m,) for m in result.members])


@cli.command()
@click.argument("name")
@click.option("--trends", is_flag=True, help="Conversion by entry period (the funnel needs `trends:`).")
@click.option("--chart", "chart_path", type=click.Path(path_type=Path, dir_okay=False), help="Also write a chart: .png, .svg or .html (opens offline).")
@AS_OF
@FORMAT
def funnel(name: str, trends: bool, chart_path: Path | None, as_of: str | None, fmt: str) -> None:
    """A funnel's step table (or --trends) at --as-of, computed without writing; optionally a chart."""
    from segsql.reports import charts
    from segsql.reports.funnel import TREND_COLUMNS, chart, funnel_report, step_rows
    from segsql.util.suggest import suggest

    session = _session(as_of)
    funnels = session.definitions.funnels
    if name not in funnels:
        raise UsageError(f"no funnel named {name!r}", hint=suggest(name, funnels, what="funnel"))
    if trends and not funnels[name].trends:
        raise UsageError(f"funnel {name!r} has no `trends:`", hint=f"add trends: {{period: week}} to funnel {name!r} at {funnels[name].location}")
    if chart_path is not None:
        charts.check_path(chart_path)
    with session.connect() as adapter:
        report = funnel_report(session, adapter, name, trends)
    if chart_path is not None:
        charts.save(chart(report, trends), chart_path)
    if fmt == "json":
        output.print_json({**report.as_dict(), **({"chart": str(chart_path)} if chart_path else {})})
        return
    if trends:
        assert report.trends is not None
        columns = [c for c in TREND_COLUMNS if c != "breakdown" or report.breakdown]
        rows = [tuple(f"{100 * r[c]:.1f}%" if c == "conversion" and r[c] is not None else r[c] for c in columns) for r in report.trends]
        output.print_table(f"{name}: trends at {report.as_of}", columns, rows)
    else:
        columns, table = step_rows(report)
        output.print_table(f"{name} ({report.order}) at {report.as_of}", columns, table)
    if chart_path is not None:
        output.status(f"chart written to {chart_path}")


@cli.command()
@click.argument("name")
@click.option("--chart", "chart_path", type=click.Path(path_type=Path, dir_okay=False), help="Also draw the triangle as a heat map: .png, .svg or .html (opens offline).")
@AS_OF
@FORMAT
def cohort(name: str, chart_path: Path | None, as_of: str | None, fmt: str) -> None:
    """A cohort model's retention triangle at --as-of, computed without writing; optionally a heat map."""
    from segsql.reports import charts
    from segsql.reports.cohorts import chart, cohort_report
    from segsql.util.suggest import suggest

    session = _session(as_of)
    cohorts = session.definitions.cohorts
    if name not in cohorts:
        raise UsageError(f"no cohort named {name!r}", hint=suggest(name, cohorts, what="cohort"))
    if chart_path is not None:
        charts.check_path(chart_path)
    with session.connect() as adapter:
        report = cohort_report(session, adapter, name)
    if chart_path is not None:
        charts.save(chart(report), chart_path)
    if fmt == "json":
        output.print_json({**report.as_dict(), **({"chart": str(chart_path)} if chart_path else {})})
        return
    columns, rows = report.triangle()
    output.print_table(f"{name}: share returning per {report.period} since entry, at {report.as_of}", columns, rows)
    if chart_path is not None:
        output.status(f"chart written to {chart_path}")


@cli.command()
@click.argument("name")
@click.option("--chart", "chart_path", type=click.Path(path_type=Path, dir_okay=False), help="Also draw the scaled centroids as a heat map: .png, .svg or .html (opens offline).")
@FORMAT
def clusters(name: str, chart_path: Path | None, fmt: str) -> None:
    """A cluster model's centroids (original and scaled units), sizes and labels from its last run."""
    from segsql.reports import charts
    from segsql.reports.clusters import chart, cluster_report
    from segsql.util.suggest import suggest

    session = _session()
    models = session.definitions.clusters
    if name not in models:
        raise UsageError(f"no cluster model named {name!r}", hint=suggest(name, models, what="cluster model"))
    if chart_path is not None:
        charts.check_path(chart_path)
    with session.connect() as adapter:
        report = cluster_report(adapter, models[name], session.project.target.name if session.project.target else "?")
    if chart_path is not None:
        charts.save(chart(report), chart_path)
    if fmt == "json":
        output.print_json({**report.as_dict(), **({"chart": str(chart_path)} if chart_path else {})})
        return
    output.print_text(report.summary())
    if report.changed:
        output.status(f"note: {name}'s definition changed since that run; `segsql run --select {name}` recomputes it")
    output.print_table("centroids: mean of each feature in original units", *report.table(scaled=False))
    if report.has_scaled:
        output.print_table(f"centroids in scaled units ({report.scale})", *report.table(scaled=True))
    if chart_path is not None:
        output.status(f"chart written to {chart_path}")


@cli.command()
@click.argument("name")
@AS_OF
@FORMAT
def explain(name: str, as_of: str | None, fmt: str) -> None:
    """Filter waterfall: the size after each top-level filter (all:) or what each branch adds (any:)."""
    from segsql.reports.explain import explain_segment

    session = _session(as_of)
    _selected(session, (name,), (), None)
    with session.connect() as adapter:
        result = explain_segment(session, adapter, name)
    if fmt == "json":
        output.print_json(result.as_dict())
    else:
        heading = "size after each filter (share of the previous step kept)" if result.combinator == "all" else "size after each branch (members it adds)"
        rows = [(s.index, s.filter, s.size, f"{s.share_kept:.1%}" if s.share_kept is not None else (f"+{s.added}" if s.added is not None else "")) for s in result.steps]
        output.print_table(f"{name} at {result.as_of}: {heading}", ["step", "filter", "size", "kept" if result.combinator == "all" else "added"], rows)


@cli.command()
@click.argument("name")
@click.option("--chart", type=click.Path(path_type=Path, dir_okay=False), help="Also draw size, entered and exited per run: a .png, .svg or .html file.")
@FORMAT
def history(name: str, chart: Path | None, fmt: str) -> None:
    """Size, entered and exited of a segment over past runs."""
    from segsql.reports.charts import check_path
    from segsql.reports.history import history_chart, segment_history

    if chart:
        check_path(chart)
    session = _session()
    _selected(session, (name,), (), None)
    if session.definitions.segments[name].materialized == "ephemeral":
        raise UsageError(f"segment {name!r} is ephemeral: it has no table, so runs record no history for it", hint="set materialized: table to track its size")
    with session.connect() as adapter:
        rows = segment_history(adapter, name)
    if chart:
        history_chart(name, rows, chart)
    if fmt == "json":
        output.print_json({"segment": name, "runs": [r.as_dict() for r in rows]} | ({"chart": str(chart)} if chart else {}))
    else:
        output.print_table(f"history of {name}", ["as_of", "size", "entered", "exited", "run", "finished"], [(r.as_of, r.size, r.entered, r.exited, r.run_id, r.finished_at) for r in rows])
        if chart:
            output.print_text(f"wrote {chart}")


@cli.command()
@click.argument("names", nargs=-1, required=True)
@click.option("--baseline", default="all", show_default=True, help="'all' (every user) or a segment to compare against.")
@click.option("--within", "within", default=30, show_default=True, type=click.IntRange(1, 36_500), help="Window of the behaviour KPIs (with --by-split: after entering), in days.")
@click.option("--by-split", is_flag=True, help="Readout of one split segment: conversion per group against the holdout.")
@click.option("--metric", default="purchase", show_default=True, help="With --by-split: purchase, or event:NAME.")
@AS_OF
@FORMAT
def insights(names: tuple[str, ...], baseline: str, within: int, by_split: bool, metric: str, as_of: str | None, fmt: str) -> None:
    """Segments side by side: size, share of baseline, purchasers, revenue, AOV, events, recency."""
    from segsql.reports.insights import print_insights, segment_insights

    session = _session(as_of)
    if by_split:
        _split_readout(session, names, metric, within, fmt)
        return
    with session.connect() as adapter:
        result = segment_insights(session, adapter, _in_order(session, names), baseline, within)
    if fmt == "json":
        output.print_json(result.as_dict())
    else:
        print_insights(result)


def _split_readout(session: Session, names: tuple[str, ...], metric: str, within: int, fmt: str) -> None:
    from segsql.reports.splits import parse_metric, print_readout, split_readout

    chosen = _in_order(session, names)
    if len(chosen) != 1:
        raise UsageError(f"--by-split reads one segment, got {len(chosen)}: {', '.join(chosen)}", hint="name one split segment")
    parsed = parse_metric(metric)
    with session.connect() as adapter:
        result = split_readout(session, adapter, chosen[0], parsed, within)
    if fmt == "json":
        output.print_json(result.as_dict())
    else:
        print_readout(result)


@cli.command()
@click.argument("names", nargs=-1, required=True)
@click.option("--chart", type=click.Path(path_type=Path, dir_okay=False), help="Also draw a heat map: a .png, .svg or .html file.")
@AS_OF
@FORMAT
def overlap(names: tuple[str, ...], chart: Path | None, as_of: str | None, fmt: str) -> None:
    """Pairwise overlap of segments: members in both and the Jaccard index."""
    from segsql.reports.charts import check_path
    from segsql.reports.overlap import overlap_chart, print_overlap, segment_overlap

    if chart:
        check_path(chart)
    session = _session(as_of)
    with session.connect() as adapter:
        result = segment_overlap(session, adapter, _in_order(session, names))
    if chart:
        overlap_chart(result, chart)
    if fmt == "json":
        output.print_json(result.as_dict() | ({"chart": str(chart)} if chart else {}))
    else:
        print_overlap(result)
        if chart:
            output.print_text(f"wrote {chart}")


@cli.command(name="ls")
@SELECT
@EXCLUDE
@STATE
@FORMAT
def ls_(select: tuple[str, ...], exclude: tuple[str, ...], state: Path | None, fmt: str) -> None:
    """List models with tags, materialization and dependencies."""
    from segsql.reports.listing import list_models

    try:
        session = _session(need_target=True)
    except UsageError:  # no profiles.yml: list without a target schema (a mistyped --target still fails)
        if _options().target is not None:
            raise
        session = _session(need_target=False)
    schema = session.project.target.schema if session.project.target else None
    rows = list_models(session.definitions, _selected(session, select, exclude, state), schema, session.dialect)
    if fmt == "json":
        output.print_json([r.as_dict() for r in rows])
    else:
        output.print_table(None, ["name", "kind", "materialized", "tags", "depends on", "path"], [(r.name, r.kind, r.materialized, ", ".join(r.tags), ", ".join(r.depends_on), r.path) for r in rows])


def _wants_json(args: list[str]) -> bool:
    """`--format json` anywhere on the command line (read before click parses it: the error may be click's)."""
    return "--format=json" in args or any(a == "--format" and b == "json" for a, b in itertools.pairwise(args))


def _fail(message: str, code: int, as_json: bool, location: Location | None = None, stderr: str | None = None) -> NoReturn:
    """Report an error on stderr and, with --format json, as one JSON object on stdout — unless
    the command already wrote its JSON result there (stdout stays one parseable document)."""
    output.print_error(stderr or message)
    if as_json and not output.wrote_json():
        output.print_json({"error": {"message": message, "file": location.file if location else None, "line": location.line if location else None, "exit_code": code}})
    sys.exit(code)


def _quiet_sqlglot() -> None:
    """sqlglot logs its own warnings (`'NULLS LAST' translation not supported`); they are about
    segsql's SQL, not the user's project, so they never reach the terminal."""
    logger = logging.getLogger("sqlglot")
    logger.propagate = False
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())


@cli.group()
def docs() -> None:
    """A static site of the project's models under target/docs/ (opens offline)."""


@docs.command(name="generate")
@click.option("--no-warehouse", is_flag=True, help="Do not connect: leave out size history and insights.")
@AS_OF
@FORMAT
def docs_generate(no_warehouse: bool, as_of: str | None, fmt: str) -> None:
    """Write target/docs/: index with search, a page per model, lineage."""
    from segsql.reports.docs.site import generate

    try:
        session = _session(as_of, need_target=not no_warehouse)
    except UsageError:  # no profiles.yml: a site without warehouse data
        session = _session(as_of, need_target=False)
    connect = None if no_warehouse or session.project.target is None else session.connect
    result = generate(session, connect)
    for note in result.notes:
        output.status(note)
    if fmt == "json":
        output.print_json(result.as_dict())
    else:
        output.print_text(f"wrote {len(result.pages)} pages under {result.folder}; open {result.folder / 'index.html'} or run `segsql docs serve`")


@docs.command(name="serve")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="Port on 127.0.0.1 (0: any free port).")
def docs_serve(port: int) -> None:
    """Serve target/docs/ on 127.0.0.1 until interrupted."""
    from segsql.reports.docs.serve import serve

    session = _session(need_target=False)
    serve(session.target_dir() / "docs", port, lambda url: output.status(f"serving {session.target_dir() / 'docs'} at {url} (Ctrl-C to stop)"))


cli.add_command(test_)
cli.add_command(build)


@cli.command()
@click.argument("user")
@click.argument("names", nargs=-1)
@AS_OF
@FORMAT
def why(user: str, names: tuple[str, ...], as_of: str | None, fmt: str) -> None:
    """One user's verdict in each segment (all if none named) and the value of every leaf behind it."""
    from segsql.reports.why import explain_user, print_why

    session = _session(as_of)
    chosen = _in_order(session, names) if names else list(session.definitions.segments)
    with session.connect() as adapter:
        result = explain_user(session, adapter, user, chosen)
    if fmt == "json":
        output.print_json(result.as_dict())
    else:
        print_why(result)


@cli.command(name="diff")
@click.option("--state", type=click.Path(path_type=Path, file_okay=False), required=True, help="A previous target/ folder (its manifest.json holds the old definitions).")
@SELECT
@EXCLUDE
@AS_OF
@FORMAT
def diff_(state: Path, select: tuple[str, ...], exclude: tuple[str, ...], as_of: str | None, fmt: str) -> None:
    """The members each changed segment, funnel or cluster model adds and removes at --as-of, against --state; nothing is written."""
    from segsql.reports.diff_text import print_diff
    from segsql.reports.state_diff import diff_state
    from segsql.run.selection import select as run_select

    session = _session(as_of)
    previous = click.get_current_context().meta["segsql.state"]
    defs = session.definitions
    models = {**defs.segments, **defs.funnels, **defs.clusters}
    changed = run_select(models, ("state:modified",), exclude, previous)
    if select:
        chosen = set(run_select(models, select, (), previous))
        changed = [n for n in changed if n in chosen]
    before = {**previous.segments, **previous.funnels, **previous.clusters}
    removed = sorted(set(before) - set(models)) if not select else []
    with session.connect() as adapter:
        report = diff_state(session, adapter, previous, changed, removed)
    if fmt == "json":
        output.print_json(report.as_dict())
    else:
        print_diff(report)
    if report.broken:
        raise RunFailure(f"{plural(len(report.broken), 'segment')} would break {'its' if len(report.broken) == 1 else 'their'} guards: {', '.join(s.segment for s in report.broken)}")


def main(argv: list[str] | None = None) -> None:
    """Entry point: one invocation, recorded in the project's logs/segsql.log."""
    from segsql.cli.argv import hoist_global_options
    from segsql.cli.logfile import invocation_log, log_exit

    args = hoist_global_options(sys.argv[1:] if argv is None else argv)
    started = time.perf_counter()
    with invocation_log(args) as log:
        try:
            _main(args)
        except SystemExit as done:
            log_exit(log, args, done.code if isinstance(done.code, int) else 1, started)
            raise


def _main(args: list[str]) -> None:
    """Run click without its own exit handling, and map errors to exit codes."""
    show_traceback = "--debug" in args
    as_json = _wants_json(args)
    output.forget_secrets()
    _quiet_sqlglot()
    try:
        cli.main(args=args, prog_name="segsql", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as err:  # pragma: no cover - click version specific
        output.print_text(str(err))
        sys.exit(2)
    except click.exceptions.UsageError as err:
        _fail(err.format_message() + (f" (see `{err.ctx.command_path} --help`)" if err.ctx else ""), 2, as_json)
    except click.exceptions.Abort:
        _fail("aborted", 1, as_json)
    except SegsqlError as err:
        if show_traceback:
            output.print_traceback(traceback.format_exc())
        if isinstance(err, UserError):
            _fail(f"{err.message} — {err.hint}" if err.hint else err.message, err.exit_code, as_json, err.location, stderr=str(err))
        location = getattr(err, "location", None)
        _fail(getattr(err, "message", str(err)), err.exit_code, as_json, location, stderr=str(err))
    except Exception as err:
        if show_traceback:
            output.print_traceback(traceback.format_exc())
        _fail(f"internal error: {type(err).__name__}: {err} (this is a bug in segsql: rerun with --debug and report the output)", INTERNAL_ERROR, as_json)
    sys.exit(0)
