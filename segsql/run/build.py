"""`segsql build`: unit tests first, then one run of what passed (dbt's build).

A segment or funnel whose unit test failed (or errored) is not run, nor is anything that reads it;
they are reported as skipped. The run itself is the ordinary one — one staging pass, one
commit, guards on the new sizes — over the rest, so dependency order is the run's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from segsql.definitions.clusters import Cluster
from segsql.definitions.cohorts import Cohort
from segsql.definitions.dag import dependents, topological_order
from segsql.definitions.funnels import Funnel
from segsql.definitions.names import funnel_tables
from segsql.definitions.project import Definitions
from segsql.definitions.segments import Segment
from segsql.engines import Adapter
from segsql.run.materialize import RunResult, run_models
from segsql.run.session import Session
from segsql.run.strategies.base import Progress
from segsql.run.unit_tests import TestResult, run_unit_tests


def main_table(defs: Definitions, name: str) -> str | None:
    """The table a model's run writes (a funnel's step table; None for an ephemeral segment)."""
    model = defs.models[name]
    if isinstance(model, Segment):
        return defs.config.segment_prefix + name if model.materialized == "table" else None
    if isinstance(model, Funnel):
        return funnel_tables(model, defs.config)[0]
    assert isinstance(model, Cluster | Cohort)
    return model.table


@dataclass
class BuildResult:
    tests: list[TestResult]
    run: RunResult
    #: model → why it was not run
    skipped: dict[str, str] = field(default_factory=dict)
    #: model → (kind, table), for the skipped models' rows
    skipped_models: dict[str, tuple[str, str | None]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.run.ok and not self.skipped and all(t.status == "pass" for t in self.tests)

    def skipped_rows(self) -> list[dict[str, Any]]:
        """One run_results row per skipped model."""
        return [
            {"kind": self.skipped_models[n][0], "name": n, "table": self.skipped_models[n][1], "status": "skipped", "size": None, "entered": 0, "exited": 0, "seconds": 0.0, "message": why}
            for n, why in sorted(self.skipped.items())
        ]

    def as_dict(self) -> dict[str, Any]:
        body = self.run.as_dict()
        body["results"] = [t.as_dict() for t in self.tests] + body["results"] + self.skipped_rows()
        body["status"] = "success" if self.ok else "error"
        return body


def build(session: Session, adapter: Adapter, names: list[str], tests: list[str], *, dry_run: bool = False, progress: Progress | None = None) -> BuildResult:
    """Test `tests`, then run `names` (models of any kind) minus the tested-and-failed models and what reads them."""
    results = run_unit_tests(session, tests)
    defs = session.definitions
    skipped: dict[str, str] = {}
    for test in results:
        if test.status == "pass":
            continue
        if test.model in names:
            skipped.setdefault(test.model, f"skipped: unit test {test.name} ({test.location}) {test.status}ed")
        for dep in sorted(dependents(defs.models, test.model) & set(names)):
            skipped.setdefault(dep, f"skipped: depends on {test.model}, whose unit test {test.name} {test.status}ed")
    skipped = {n: why for n, why in skipped.items() if main_table(defs, n) is not None}
    rest = [n for n in topological_order(defs.models, names) if n in names and n not in skipped]
    run = run_models(session, adapter, rest, dry_run=dry_run, progress=progress)
    return BuildResult(results, run, skipped, {n: (defs.models[n].kind, main_table(defs, n)) for n in skipped})
