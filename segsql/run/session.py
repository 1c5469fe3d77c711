"""One command's view of a project: loaded files, definitions, `as_of`, and the target."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from segsql.compiler.source_tables import check_file_tables
from segsql.compiler.sql_segments import check_sql_segments
from segsql.definitions import Definitions, build_definitions
from segsql.engines import Adapter, connect
from segsql.errors import UsageError
from segsql.project import LoadedProject, load_project
from segsql.project.config import parse_cli_vars


def parse_as_of(text: str | None) -> dt.datetime:
    """`--as-of` as an aware UTC instant; naive values are UTC; default: now, read once."""
    if not text:
        return dt.datetime.now(dt.UTC).replace(microsecond=0)
    try:
        moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--as-of {text!r} is not an ISO timestamp", hint="use e.g. 2026-11-22T12:00:00Z") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


@dataclass
class Options:
    """Global command-line options."""

    project_dir: Path = Path(".")
    profiles_dir: Path | None = None
    target: str | None = None
    vars: str | None = None


@dataclass
class Session:
    project: LoadedProject
    definitions: Definitions
    as_of: dt.datetime
    #: This command's run id: a run's records and the engine session (Snowflake QUERY_TAG) carry it.
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    @property
    def root(self) -> Path:
        return self.project.root

    @property
    def dialect(self) -> str:
        return self.project.target.type if self.project.target else "duckdb"

    def connect(self) -> Adapter:
        if self.project.target is None:
            raise UsageError("this command needs a connection target", hint="add profiles.yml")
        return connect(self.project.target, self.root, self.run_id)

    def target_dir(self) -> Path:
        return self.root / "target"

    def secrets(self) -> frozenset[str]:
        """Values never to write into an artifact: the target's secrets."""
        return self.project.target.secrets if self.project.target else frozenset()


def open_session(options: Options, as_of: str | None = None, need_target: bool = True, extra: dict[str, Any] | None = None) -> Session:
    """Load and validate the project (raises a UserError with file and line on any mistake)."""
    moment = parse_as_of(as_of)
    iso = moment.isoformat().replace("+00:00", "Z")
    project = load_project(
        options.project_dir,
        as_of=iso,
        cli_vars=parse_cli_vars(options.vars),
        profiles_dir=options.profiles_dir,
        target=options.target,
        need_target=need_target,
    )
    definitions = build_definitions(project)
    check_sql_segments(definitions.segments, project.target.type if project.target else "duckdb")
    check_file_tables(definitions.sources, project.target.type if project.target else None)
    return Session(project, definitions, moment)
