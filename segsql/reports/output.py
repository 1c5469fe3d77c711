"""The one place that prints: rich tables for people, JSON for machines."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

_PIPE_WIDTH = 200  # rich assumes 80 columns when not on a terminal; logs and CI deserve full names


def _console(stderr: bool = False) -> Console:
    """A console bound to the current stream (tests swap sys.stdout), wide when piped."""
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else _PIPE_WIDTH
    return Console(file=stream, soft_wrap=True, highlight=False, width=width)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def print_table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    table = Table(title=title, title_justify="left", header_style="bold")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    _console().print(table)


def print_text(text: str) -> None:
    _console().print(text, markup=False)



def print_error(message: str) -> None:
    _console(stderr=True).print("error: " + message, markup=False, style="bold red" if sys.stderr.isatty() else None)


def status(message: str) -> None:
    """Progress lines go to stderr so stdout stays clean for --format json."""
    _console(stderr=True).print(message, markup=False)


@contextlib.contextmanager
def progress() -> Iterator[Callable[[str], None]]:
    """A spinner on a terminal, plain lines on stderr otherwise; yields `step(message)`."""
    console = _console(stderr=True)
    if not sys.stderr.isatty():
        yield lambda message: console.print(message, markup=False)
        return
    with console.status("starting") as spinner:
        yield lambda message: spinner.update(message)
