"""Commands that prove a definition before it ships: `test` and `build`."""

from __future__ import annotations

from pathlib import Path

import click

from segsql.cli.common import (
    AS_OF,
    EXCLUDE,
    FORMAT,
    SELECT,
    STATE,
    open_any_target,
    open_project,
)
from segsql.errors import RunFailure
from segsql.reports import output
from segsql.run.manifest import State
from segsql.run.session import Session
from segsql.run.unit_tests import TestResult


def _tests(session: Session, select: tuple[str, ...], exclude: tuple[str, ...], previous: State | None, *, with_tested: bool = True) -> tuple[list[str], list[str]]:
    """(unit tests, models of every kind) that `--select`/`--exclude` pick (tests by name or by their segment or funnel)."""
    from segsql.run.selection import Selectable, select_tests

    defs = session.definitions
    models: dict[str, Selectable] = {**defs.segments, **defs.funnels, **defs.clusters, **defs.cohorts}
    return select_tests(models, defs.unit_tests, select, exclude, previous, with_tested=with_tested)


def _print_tests(results: list[TestResult], total: int) -> None:
    rows = [(r.status.upper(), r.name, r.model, r.location, r.size, f"{r.seconds:.2f}s") for r in results]
    output.print_table(f"unit tests: {len(results)} of {total} selected, each on an in-memory DuckDB at its as_of", ["result", "test", "model", "defined at", "size", "time"], rows)
    for r in results:
        if r.status != "pass":
            output.print_error(f"{r.location}: unit test {r.name} ({r.model}) {r.status}: {r.message}")


@click.command(name="test")
@SELECT
@EXCLUDE
@STATE
@FORMAT
def test_(select: tuple[str, ...], exclude: tuple[str, ...], state: Path | None, fmt: str) -> None:
    """Run unit tests on in-memory DuckDB, and check guards against the last run's sizes."""
    from segsql.reports.guards import guard_report
    from segsql.run.run_results import write_run_results
    from segsql.run.unit_tests import run_unit_tests

    session, previous = open_any_target(state=state)
    names, models = _tests(session, select, exclude, previous)
    results = run_unit_tests(session, names)
    guards = guard_report(session, [n for n in models if n in session.definitions.segments])
    failed = [r for r in results if r.status != "pass"]
    ok = not failed and not guards.broken
    write_run_results(session, "test", {"status": "success" if ok else "error", "results": [r.as_dict() for r in results]})
    if fmt == "json":
        output.print_json({"status": "success" if ok else "error", "tests": [r.as_dict() for r in results], "guards": guards.as_dict()})
    else:
        _print_tests(results, len(session.definitions.unit_tests))
        if not guards.checked:
            output.print_text(guards.reason)
        else:
            rows = [(c.segment, c.size, c.previous, c.min_size, c.max_size, c.max_change_pct, c.status, c.message) for c in guards.checks]
            output.print_table("guards against the size at the last run", ["segment", "last size", "run before", "min_size", "max_size", "max_change_pct", "status", "detail"], rows)
    if not ok:
        raise RunFailure(f"{len(failed)} unit test(s) failed, {len(guards.broken)} guard(s) broken at the last run's size")


@click.command()
@AS_OF
@click.option("--dry-run", is_flag=True, help="Test, then compute sizes and changes; write nothing.")
@SELECT
@EXCLUDE
@STATE
@FORMAT
def build(as_of: str | None, dry_run: bool, select: tuple[str, ...], exclude: tuple[str, ...], state: Path | None, fmt: str) -> None:
    """Unit tests, then a run of what passed (a segment whose test failed, and its dependents, are skipped)."""
    from segsql.run.build import build as run_build
    from segsql.run.run_results import write_run_results

    session, previous = open_project(as_of, state=state)
    tests, names = _tests(session, select, exclude, previous, with_tested=False)
    with session.connect() as adapter, output.progress() as step:
        result = run_build(session, adapter, names, tests, dry_run=dry_run, progress=step)
    write_run_results(session, "build", result.as_dict(), dry_run=dry_run)
    if fmt == "json":
        output.print_json(result.as_dict())
    else:
        _print_tests(result.tests, len(session.definitions.unit_tests))
        run = result.run
        rows: list[tuple[object, ...]] = [(m.name, m.kind, m.table, m.size, m.entered, m.exited, m.status) for m in run.models]
        rows += [(row["name"], row["kind"], row["table"], None, None, None, "skipped") for row in result.skipped_rows()]
        title = f"run {run.run_id} as_of {session.project.as_of}: {run.cdi_rows} CDI rows" + (" (dry run: nothing written)" if dry_run else "")
        output.print_table(title, ["model", "kind", "table", "size", "entered", "exited", "status"], rows)
        for m in run.models:
            if m.message:
                output.print_error(f"{m.name}: {m.message}")
        for name, why in sorted(result.skipped.items()):
            output.print_error(f"{name}: {why}")
    if not result.ok:
        failed = sum(t.status != "pass" for t in result.tests)
        raise RunFailure(f"{failed} unit test(s) failed, {len(result.skipped)} segment(s) skipped, {sum(m.status != 'success' for m in result.run.models)} model(s) failed")
