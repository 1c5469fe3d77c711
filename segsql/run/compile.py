"""`segsql compile`: SQL per segment and dialect under target/compiled/, plus manifest.json."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import sqlglot
from sqlglot.errors import SqlglotError

from segsql import __version__
from segsql.compiler import SegmentCompiler
from segsql.definitions.segments import Segment
from segsql.errors import ProjectError
from segsql.planner.costs import run_plan, segment_shapes
from segsql.run.manifest import write_manifest
from segsql.run.session import Session


@dataclass
class CompileResult:
    files: list[Path] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    #: what a run of the selected table segments computes (the fused plan), as readable lines
    plan: list[str] = field(default_factory=list)


def compiled_path(segment: Segment, dialect: str) -> PurePosixPath:
    """target/compiled/<dialect>/<the model file's folder under models/>/<name>.sql"""
    folder = PurePosixPath(segment.path).parent
    parts = folder.parts[1:] if folder.parts and folder.parts[0] == "models" else folder.parts
    return PurePosixPath("compiled", dialect, *parts, f"{segment.name}.sql")


def segment_sql(session: Session, name: str, dialect: str, compiler: SegmentCompiler | None = None) -> str:
    compiler = compiler or SegmentCompiler(session.definitions, dialect, session.as_of)
    return compiler.members(name).sql(dialect, pretty=True)


def compile_project(session: Session, names: list[str], dialects: list[str]) -> CompileResult:
    """Write every selected segment's SQL for every dialect; re-parse each to prove it is valid."""
    result = CompileResult()
    target = session.target_dir()
    for dialect in dialects:
        compiler = SegmentCompiler(session.definitions, dialect, session.as_of)
        for name in names:
            seg = session.definitions.segments[name]
            try:
                sql = segment_sql(session, name, dialect, compiler)
                sqlglot.parse_one(sql, read=dialect)
            except ProjectError as err:
                result.errors.append(err.render())
                continue
            except SqlglotError as err:
                result.errors.append(f"{seg.location}: segment {name!r} compiled to SQL that {dialect} does not re-parse: {err}")
                continue
            path = target / compiled_path(seg, dialect)
            path.parent.mkdir(parents=True, exist_ok=True)
            header = f"-- segsql {__version__}: segment {name} ({seg.location}), dialect {dialect}, as_of {session.project.as_of}\n"
            path.write_text(header + sql + "\n", encoding="utf-8")
            result.files.append(path)
    tables = [n for n in names if session.definitions.segments[n].materialized == "table"]
    if tables and not result.errors:
        defs = session.definitions
        result.plan = run_plan(defs, tables, session.as_of, segment_shapes(defs, tables, session.as_of)).describe()
        (target / "compiled").mkdir(parents=True, exist_ok=True)
        (target / "compiled" / "plan.txt").write_text("\n".join(result.plan) + "\n", encoding="utf-8")
    compiled: dict[str, dict[str, str]] = {}
    for path in result.files:
        dialect, name = path.relative_to(target).parts[1], path.stem
        compiled.setdefault(name, {})[dialect] = path.relative_to(target).as_posix()
    write_manifest(session, "compile", compiled)
    return result
