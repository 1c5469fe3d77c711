"""`segsql build`: unit tests first, then one run of what passed (dbt's build).

A segment whose unit test failed (or errored) is not run, nor is anything that reads it;
they are reported as skipped. The run itself is the ordinary one — one staging pass, one
commit, guards on the new sizes — over the rest, so dependency order is the run's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from segsql.definitions.dag import dependents, topological_order
from segsql.engines import Adapter
from segsql.run.materialize import RunResult, run_models
from segsql.run.session import Session
from segsql.run.strategies.base import Progress
from segsql.run.unit_tests import TestResult, run_unit_tests


@dataclass
class BuildResult:
    tests: list[TestResult]
    run: RunResult
    #: segment → why it was not run
    skipped: dict[str, str] = field(default_factory=dict)
    #: the membership tables' prefix (for the skipped segments' rows)
    prefix: str = ""

    @property
    def ok(self) -> bool:
        return self.run.ok and not self.skipped and all(t.status == "pass" for t in self.tests)

    def as_dict(self) -> dict[str, Any]:
        body = self.run.as_dict()
        skipped = [
            {"kind": "segment", "name": n, "table": self.prefix + n, "status": "skipped", "size": None, "entered": 0, "exited": 0, "seconds": 0.0, "message": why}
            for n, why in sorted(self.skipped.items())
        ]
        body["results"] = [t.as_dict() for t in self.tests] + body["results"] + skipped
        body["status"] = "success" if self.ok else "error"
        return body


def build(session: Session, adapter: Adapter, names: list[str], tests: list[str], *, dry_run: bool = False, progress: Progress | None = None) -> BuildResult:
    """Test `tests`, then run `names` minus the tested-and-failed segments and what reads them."""
    results = run_unit_tests(session, tests)
    segments = session.definitions.segments
    skipped: dict[str, str] = {}
    for test in results:
        if test.status == "pass":
            continue
        if test.model in names:
            skipped.setdefault(test.model, f"skipped: unit test {test.name} ({test.location}) {test.status}ed")
        for dep in sorted(dependents(segments, test.model) & set(names)):
            skipped.setdefault(dep, f"skipped: depends on {test.model}, whose unit test {test.name} {test.status}ed")
    skipped = {n: why for n, why in skipped.items() if segments[n].materialized == "table"}
    rest = [n for n in topological_order(session.definitions.models, names) if n in names and n not in skipped]
    run = run_models(session, adapter, rest, dry_run=dry_run, progress=progress)
    return BuildResult(results, run, skipped, session.definitions.config.segment_prefix)
