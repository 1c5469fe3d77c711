"""logs/segsql.log: one appended record of every invocation, as dbt keeps logs/dbt.log.

Each command adds its lines: every statement sent to the engine with its time (the
adapters log them, `segsql.engine`), then the command line, exit status and duration.
Records are written as they happen, so a killed run leaves the statements it sent; each
line is redacted at that moment with every secret registered so far (the adapters also
redact their own statements), and the command line is written last, once the target's
secrets are known. Nothing is written outside a project folder (`segsql --help` in a
random directory leaves no logs/ behind).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

from segsql.reports import output

LOG_FILE = Path("logs") / "segsql.log"
_LOGGER = logging.getLogger("segsql")


class _Redacting(logging.Formatter):
    """UTC timestamps to the microsecond, the process id, and no secret."""

    def format(self, record: logging.LogRecord) -> str:
        moment = dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
        return output.redact(f"{moment} [{os.getpid()}] {record.getMessage()}")


def _project_dir(args: list[str]) -> Path:
    """--project-dir as the command line gives it (before click parses it), default `.`."""
    for i, arg in enumerate(args):
        if arg == "--project-dir" and i + 1 < len(args):
            return Path(args[i + 1])
        if arg.startswith("--project-dir="):
            return Path(arg.split("=", 1)[1])
    return Path(".")


def _is_project(folder: Path) -> bool:
    return (folder / "segsql_project.yml").is_file() or (folder / "models").is_dir()


@contextlib.contextmanager
def invocation_log(args: list[str]) -> Iterator[logging.Logger]:
    """Attach the project's log file for one invocation; yields the logger to record the end on."""
    folder = _project_dir(args)
    handler: logging.Handler = logging.NullHandler()
    if _is_project(folder):
        try:
            (folder / LOG_FILE).parent.mkdir(exist_ok=True)
            handler = logging.FileHandler(folder / LOG_FILE, encoding="utf-8", delay=True)
        except OSError:  # a read-only project still runs; it only has no log
            pass
    handler.setFormatter(_Redacting())
    level = _LOGGER.level
    _LOGGER.setLevel(logging.INFO)
    _LOGGER.addHandler(handler)
    try:
        yield _LOGGER
    finally:
        _LOGGER.removeHandler(handler)
        _LOGGER.setLevel(level)
        handler.close()


def log_exit(logger: logging.Logger, args: list[str], code: int, started: float) -> None:
    """The invocation's last line (its errors were logged as they were printed): what was
    asked, how it ended, how long it took."""
    logger.info("segsql %s → exit %d in %.3fs", " ".join(args), code, time.perf_counter() - started)
