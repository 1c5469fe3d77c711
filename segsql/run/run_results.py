"""`target/run_results.json`: what one command did to each model or test it selected."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from segsql.run.artifacts import metadata, write_json
from segsql.run.session import Session

SCHEMA_VERSION = "segsql.run_results.v1"
RUN_RESULTS = "run_results.json"


def run_results(session: Session, command: str, body: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
    """`body` (its `results` list of per-model dicts) under versioned metadata.

    A dry run marks the file and every result in it, so nothing reading it mistakes a
    preview for a run that wrote."""
    results = [{"kind": "segment", **r, "dry_run": dry_run} for r in body.get("results", [])]
    return {
        "metadata": {
            **metadata(session, SCHEMA_VERSION, command),
            "target": session.project.target.name if session.project.target else None,
            "dry_run": dry_run,
        },
        **body,
        "dry_run": dry_run,
        "results": results,
    }


def write_run_results(session: Session, command: str, body: dict[str, Any], *, dry_run: bool = False) -> Path:
    path = session.target_dir() / RUN_RESULTS
    write_json(path, run_results(session, command, body, dry_run=dry_run), session.secrets())
    return path
