"""The exception tree, in one place; each class carries its exit code.

SegsqlError
├── UserError                 a mistake the user can fix; exit code 2
│   ├── ProjectError          bad YAML/Jinja/definition, always with a Location
│   └── UsageError            bad command-line option or value
├── RunFailure                a model, test or guard failed; exit code 1 (may carry a Location)
│   └── EngineError           the engine failed (message redacted of secrets)
│       ├── ConnectionFailure the connection could not be opened or was lost: nothing is
│       │                     retried model by model, the whole command stops
│       └── StatementFailure  the engine rejected one statement: a run isolates the model
└── InternalError             a bug in segsql (e.g. DDL sent inside a transaction); exit code 3

Any other exception is also a bug: the CLI reports it with exit code 3 and how to report it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Location:
    """Where the user wrote something: a file (relative to the project) and a 1-based line."""

    file: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def at(self, line: int | None) -> Location:
        return Location(self.file, line)


def relative_file(path: Path, root: Path) -> str:
    """Show paths relative to the project root, as users see them in their editor."""
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


class SegsqlError(Exception):
    """Base of every error segsql raises on purpose."""

    exit_code = 1


class UserError(SegsqlError):
    """A mistake in the project or the command line; `hint` says how to fix it."""

    exit_code = 2

    def __init__(self, message: str, location: Location | None = None, hint: str | None = None):
        self.message = message
        self.location = location
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        text = f"{self.location}: {self.message}" if self.location else self.message
        return f"{text} — {self.hint}" if self.hint else text


class ProjectError(UserError):
    """A mistake in a project file."""


class UsageError(UserError):
    """A mistake on the command line."""


class RunFailure(SegsqlError):
    """A model, unit test or guard failed (exit code 1); the message says which, `location` where."""

    exit_code = 1

    def __init__(self, message: str, location: Location | None = None):
        self.message = message
        self.location = location
        super().__init__(f"{location}: {message}" if location else message)


class EngineError(RunFailure):
    """The engine rejected a statement or the connection failed (message redacted)."""


class ConnectionFailure(EngineError):
    """No connection, or a connection lost mid-run: retrying the next model cannot help."""


class StatementFailure(EngineError):
    """The engine rejected one statement (a binder, type or runtime error in its SQL)."""


class InternalError(SegsqlError):
    """segsql broke one of its own rules (exit code 3): a bug to report, never the user's fault."""

    exit_code = 3
