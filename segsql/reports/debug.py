"""`segsql debug`: check the project, the profile, the connection and the source tables, printing no secret.

The profile is read on its own (`load_target`) so that a broken model file does not hide
whether the warehouse is reachable, and the connection is tried even when the project is
invalid. Every value that is a secret — a password, token or passphrase, or anything the
profile got from `env_var` — is shown as `****`.
"""

from __future__ import annotations

import datetime as dt
import platform
import time
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from segsql import __version__
from segsql.definitions.sources import Sources
from segsql.engines import connect
from segsql.engines.base import redact
from segsql.errors import SegsqlError, UserError
from segsql.project.config import Target, parse_cli_vars
from segsql.project.loader import load_target
from segsql.project.targets import SECRET_KEYS
from segsql.reports import output
from segsql.run.session import Options, open_session
from segsql.run.source_check import source_types
from segsql.util.words import plural

HIDDEN = "****"
#: Distributions whose versions matter when reporting a problem (drivers only if installed).
PACKAGES = ("sqlglot", "duckdb", "snowflake-connector-python", "psycopg", "jinja2", "ruamel.yaml", "click")


@dataclass
class ProjectCheck:
    dir: str
    name: str | None = None
    segments: int | None = None
    ok: bool = False
    error: str | None = None


@dataclass
class ProfileCheck:
    file: str | None = None
    name: str | None = None
    target: str | None = None
    type: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    ok: bool = False
    error: str | None = None


@dataclass
class ConnectionCheck:
    ok: bool | None = None  # None: not tried, the profile is invalid
    error: str | None = None
    seconds: float | None = None


@dataclass
class SourcesCheck:
    """Every table and column sources.yml names, on the target (SPEC 1)."""

    ok: bool | None = None  # None: not tried, the project, profile or connection failed
    error: str | None = None
    tables: int | None = None


@dataclass
class DebugReport:
    project: ProjectCheck
    profile: ProfileCheck = field(default_factory=ProfileCheck)
    connection: ConnectionCheck = field(default_factory=ConnectionCheck)
    sources: SourcesCheck = field(default_factory=SourcesCheck)
    versions: dict[str, str] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        """2 for an invalid project, profile or sources.yml, else 1 when the connection failed, else 0."""
        if not (self.project.ok and self.profile.ok) or self.sources.ok is False:
            return 2
        return 0 if self.connection.ok else 1

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.exit_code == 0, **asdict(self)}


def versions() -> dict[str, str]:
    found = {"segsql": __version__, "python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def visible_settings(target: Target) -> dict[str, Any]:
    """The target's settings with every secret value (or secret inside a value) hidden."""
    shown: dict[str, Any] = {}
    for key, value in sorted(target.settings.items()):
        if key in SECRET_KEYS and value not in (None, ""):
            shown[key] = HIDDEN
        elif isinstance(value, str):
            shown[key] = redact(value, target.secrets)
        else:
            shown[key] = value
    return shown


def _check_connection(target: Target, root: Path) -> ConnectionCheck:
    """Open the target and run a trivial query; a failure keeps only its (redacted) message."""
    started = time.perf_counter()
    try:
        with connect(target, root) as adapter:
            adapter.fetch("SELECT 1")
        error = None
    except SegsqlError as err:
        error = str(err)
    except Exception as err:  # a driver error no adapter wrapped: still one redacted line
        error = f"{type(err).__name__}: {err}"
    seconds = round(time.perf_counter() - started, 3)
    return ConnectionCheck(error is None, redact(error, target.secrets) if error else None, seconds)


def debug_project(options: Options) -> DebugReport:
    """Run every check; a user mistake in the project or profile is reported, not raised."""
    root = options.project_dir.resolve()
    cli_vars = parse_cli_vars(options.vars)  # a bad --vars is a usage error of the command itself
    report = DebugReport(ProjectCheck(str(root)), versions=versions())
    target: Target | None = None
    try:
        config, target = load_target(root, as_of=dt.datetime.now(dt.UTC).isoformat(), cli_vars=cli_vars, profiles_dir=options.profiles_dir, target=options.target)
        output.hide(target.secrets)  # for anything printed after this, a traceback included
        report.project.name = config.name
        report.profile = ProfileCheck(
            file=target.location.file if target.location else None,
            name=config.profile,
            target=target.name,
            type=target.type,
            settings=visible_settings(target),
            ok=True,
        )
    except UserError as err:
        report.profile.error = err.render()
    secrets = target.secrets if target else frozenset()
    session = None
    try:
        session = open_session(options, need_target=False)
        report.project.name = session.definitions.config.name
        report.project.segments = len(session.definitions.segments)
        report.project.ok = True
    except UserError as err:
        report.project.error = redact(err.render(), secrets)
    if target is not None:
        report.connection = _check_connection(target, root)
        if session is not None and report.connection.ok:
            report.sources = _check_sources(session.definitions.sources, target, root)
    return report


def _check_sources(sources: Sources, target: Target, root: Path) -> SourcesCheck:
    try:
        with connect(target, root) as adapter:
            source_types(sources, adapter)
    except SegsqlError as err:
        return SourcesCheck(False, redact(str(err), target.secrets))
    return SourcesCheck(True, tables=len({s.table for s in (sources.users, sources.events, sources.purchases, *sources.catalogs.values()) if s is not None}))


def _status(ok: bool | None) -> str:
    return "skipped" if ok is None else "ok" if ok else "FAILED"


def print_report(report: DebugReport) -> None:
    """The text form: the three checks, the target's settings (secrets hidden), versions."""
    p, t, c, s = report.project, report.profile, report.connection, report.sources
    checks = [
        ("project", _status(p.ok), p.error or f"{p.dir} ({p.name}, {plural(p.segments or 0, 'segment')})"),
        ("profile", _status(t.ok), t.error or f"{t.file}: profile {t.name}, target {t.target} ({t.type})"),
        ("connection", _status(c.ok), c.error or (f"SELECT 1 in {c.seconds:.2f}s" if c.ok else "not tried: the profile is invalid")),
        ("sources", _status(s.ok), s.error or (f"every table and column of sources.yml found ({plural(s.tables or 0, 'table')})" if s.ok else "not tried: the project or connection failed")),
    ]
    output.print_table("segsql debug", ["check", "status", "detail"], checks)
    if t.ok:
        output.print_table(f"target {t.target} ({t.type})", ["setting", "value"], list(t.settings.items()))
    output.print_table("versions", ["package", "version"], list(report.versions.items()))
