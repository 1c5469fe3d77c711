"""What every command shares: option decorators and opening the project."""

from __future__ import annotations

from pathlib import Path

import click

from segsql.reports import output
from segsql.run.manifest import State, read_state, write_manifest
from segsql.run.session import Options, Session, open_session

FORMAT = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output format.")
SELECT = click.option("--select", "-s", "select", multiple=True, help="Names, tag:x, path:models/x, +name, 2+name, name+1, @name, state:modified; a comma intersects.")
EXCLUDE = click.option("--exclude", "exclude", multiple=True, help="Same syntax as --select.")
STATE = click.option("--state", type=click.Path(path_type=Path, file_okay=False), help="A previous target/ folder, for state:modified.")
AS_OF = click.option("--as-of", "as_of", help="Evaluation instant (ISO 8601, UTC if no offset). Default: now.")


def options() -> Options:
    found: Options = click.get_current_context().find_root().obj
    return found


def open_project(as_of: str | None = None, need_target: bool = True, state: Path | None = None) -> tuple[Session, State | None]:
    """Load the project, read `--state` first, then write target/manifest.json (as every command does)."""
    previous = read_state(state)
    # a `--target` given on the command line is always checked against the profile
    session = open_session(options(), as_of, need_target or options().target is not None)
    if session.project.target:
        output.hide(session.project.target.secrets)
    write_manifest(session, click.get_current_context().info_name or "segsql")
    return session, previous


def open_any_target(as_of: str | None = None, state: Path | None = None) -> tuple[Session, State | None]:
    """With the profile's target if there is one, else without (commands that need no connection)."""
    from segsql.errors import UsageError

    try:
        return open_project(as_of, need_target=True, state=state)
    except UsageError:  # no profiles.yml (a mistyped --target still fails)
        if options().target is not None:
            raise
        return open_project(as_of, need_target=False, state=state)


def selected(session: Session, select: tuple[str, ...], exclude: tuple[str, ...], state: State | None) -> list[str]:
    from segsql.run.selection import select as run_select

    return run_select(session.definitions.segments, select, exclude, state)
