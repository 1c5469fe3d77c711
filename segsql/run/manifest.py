"""`target/manifest.json`: every definition, its hashes and dependencies, as of one command.

Every command that reads the project writes it (as dbt does), so `--state target` works
after any of them. It carries each segment's, funnel's, cluster model's and cohort's rendered YAML and
the sources and settings they were read with, which is what `diff` needs to rebuild the old
definitions; a previous manifest is read (`--state DIR`) before the new one is written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from segsql.definitions.clusters import Cluster
from segsql.definitions.funnels import Funnel
from segsql.definitions.names import funnel_tables
from segsql.definitions.segments import Segment
from segsql.errors import UsageError
from segsql.project.yaml_lines import plain
from segsql.run.artifacts import metadata, write_json
from segsql.run.session import Session

SCHEMA_VERSION = "segsql.manifest.v1"
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class State:
    """A previous target/ folder's manifest (`--state DIR`)."""

    path: Path
    manifest: dict[str, Any]

    @property
    def segments(self) -> dict[str, Any]:
        segments: dict[str, Any] = self.manifest.get("segments") or {}
        return segments

    @property
    def funnels(self) -> dict[str, Any]:
        """Empty in a manifest written before funnels were in it."""
        funnels: dict[str, Any] = self.manifest.get("funnels") or {}
        return funnels

    @property
    def clusters(self) -> dict[str, Any]:
        clusters: dict[str, Any] = self.manifest.get("clusters") or {}
        return clusters

    @property
    def cohorts(self) -> dict[str, Any]:
        """Without a `definition` each in a manifest written before cohorts were diffed."""
        cohorts: dict[str, Any] = self.manifest.get("cohorts") or {}
        return cohorts

    @property
    def models(self) -> dict[str, Any]:
        """Every model of the manifest by name: segments, funnels, clusters and cohorts."""
        return {**self.segments, **self.funnels, **self.clusters, **self.cohorts}


def read_state(folder: Path | None) -> State | None:
    """The manifest of `folder`; a missing, unreadable or foreign one is a usage error."""
    if folder is None:
        return None
    path = folder / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise UsageError(f"no readable {MANIFEST} in {folder}", hint="point --state at a target/ folder that a segsql command wrote") from None
    version = data.get("metadata", {}).get("schema_version") if isinstance(data, dict) else None
    if version != SCHEMA_VERSION or not isinstance(data.get("segments"), dict):
        raise UsageError(f"{path} is not a segsql manifest of schema {SCHEMA_VERSION} (found {version!r})", hint="write a new one with this segsql version (any command that reads the project does)")
    return State(folder, data)


def _segment(session: Session, seg: Segment, compiled: dict[str, str]) -> dict[str, Any]:
    config = session.definitions.config
    return {
        "path": seg.path,
        "line": seg.location.line,
        "description": seg.description,
        "tags": list(seg.tags),
        "materialized": seg.materialized,
        "kind": "sql" if seg.sql is not None else "filter",
        "depends_on": list(seg.dependencies()),
        "table": config.segment_prefix + seg.name if seg.materialized == "table" else None,
        "cdi": seg.cdi,
        "cdi_attribute": seg.cdi_attribute,
        "guards": {"min_size": seg.guards.min_size, "max_size": seg.guards.max_size, "max_change_pct": seg.guards.max_change_pct},
        "membership_hash": seg.membership_hash(),
        "metadata_hash": seg.metadata_hash(),
        "definition": seg.yaml,
        "sql": {"text": seg.sql.text, "dialect": seg.sql.dialect} if seg.sql is not None else None,
        "compiled": compiled,
    }


def _model(model: Funnel | Cluster, tables: tuple[str, ...]) -> dict[str, Any]:
    """A funnel or cluster model: its tables (the first is the main one) and its rendered YAML."""
    return {
        "path": model.path, "line": model.location.line, "description": model.description, "tags": list(model.tags),
        "depends_on": list(model.dependencies()), "table": tables[0], "tables": list(tables),
        "membership_hash": model.membership_hash(), "metadata_hash": model.metadata_hash(), "definition": model.yaml,
    }


def manifest(session: Session, command: str, compiled: dict[str, dict[str, str]] | None = None) -> dict[str, Any]:
    """The manifest of the session's project; `compiled`: segment → dialect → file under target/."""
    defs = session.definitions
    compiled = compiled or {}
    config = defs.config
    sources = session.project.sources
    return {
        "metadata": {
            **metadata(session, SCHEMA_VERSION, command),
            "project": config.name,
            "target": session.project.target.name if session.project.target else None,
            "dialects": sorted({d for files in compiled.values() for d in files}),
        },
        "settings": {"timezone": config.timezone, "bucket_salt": config.bucket_salt, "segment_prefix": config.segment_prefix, "funnel_prefix": config.funnel_prefix},
        "sources": plain(sources.data) if sources is not None else None,
        "segments": {name: _segment(session, seg, compiled.get(name, {})) for name, seg in sorted(defs.segments.items())},
        "cohorts": {
            name: {
                "path": c.path, "line": c.location.line, "description": c.description, "tags": list(c.tags), "depends_on": list(c.dependencies()),
                "table": c.table, "membership_hash": c.membership_hash(), "metadata_hash": c.metadata_hash(), "definition": c.yaml,
            }
            for name, c in sorted(defs.cohorts.items())
        },
        "funnels": {name: _model(f, funnel_tables(f, config)) for name, f in sorted(defs.funnels.items())},
        "clusters": {name: _model(c, (c.table, c.centroids_table)) for name, c in sorted(defs.clusters.items())},
        "unit_tests": {
            name: {"path": t.location.file, "line": t.location.line, "model": t.model, "kind": t.kind, "as_of": t.as_of_text, "tags": list(t.tags)}
            for name, t in sorted(defs.unit_tests.items())
        },
    }


def write_manifest(session: Session, command: str, compiled: dict[str, dict[str, str]] | None = None) -> Path:
    path = session.target_dir() / MANIFEST
    write_json(path, manifest(session, command, compiled), session.secrets())
    return path
