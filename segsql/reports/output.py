"""The one place that prints: rich tables for people, JSON for machines."""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

_PIPE_WIDTH = 200  # rich assumes 80 columns when not on a terminal; logs and CI deserve full names
_SECRETS: set[str] = set()
_WROTE_JSON: list[bool] = [False]  # this command already printed a JSON document on stdout


def hide(secrets: Iterable[str]) -> None:
    """Register values never to print (a target's password, tokens, env_var values): a last
    line of defence behind the adapters' own redaction, for any message that slips past them."""
    for secret in secrets:
        if secret:
            _SECRETS.update({secret, json.dumps(secret)[1:-1]})  # as written, and as escaped in JSON


def forget_secrets() -> None:
    """Start a command with no registered secrets (the CLI runs in-process in tests)."""
    _SECRETS.clear()
    _WROTE_JSON[0] = False


def wrote_json() -> bool:
    """Whether this command printed its JSON result already (an error then goes to stderr only)."""
    return _WROTE_JSON[0]


def redact(text: str) -> str:
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, "****")
    return text


def _console(stderr: bool = False) -> Console:
    """A console bound to the current stream (tests swap sys.stdout), wide when piped."""
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else _PIPE_WIDTH
    return Console(file=stream, soft_wrap=True, highlight=False, width=width)


def print_json(data: Any) -> None:
    _WROTE_JSON[0] = True
    sys.stdout.write(redact(json.dumps(data, indent=2, default=str)) + "\n")


def print_table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    table = Table(title=redact(title) if title else None, title_justify="left", header_style="bold")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if v is None else redact(str(v)) for v in row))
    _console().print(table)


@dataclass(frozen=True)
class TreeLine:
    """One line of `print_tree`: its text and the lines below it."""

    text: str
    children: Sequence[TreeLine] = ()


def print_tree(title: str, roots: Sequence[TreeLine]) -> None:
    """Trees of lines (`why`'s verdicts), printed with rich's guides; plain text, no markup."""
    tree = Tree(Text(redact(title)), guide_style="dim")

    def add(parent: Tree, line: TreeLine) -> None:
        branch = parent.add(Text(redact(line.text)))
        for child in line.children:
            add(branch, child)

    for root in roots:
        add(tree, root)
    _console().print(tree)


def print_text(text: str) -> None:
    _console().print(redact(text), markup=False)


def print_error(message: str) -> None:
    logging.getLogger("segsql.output").info("error: %s", redact(message))
    _console(stderr=True).print("error: " + redact(message), markup=False, style="bold red" if sys.stderr.isatty() else None)


def print_traceback(text: str) -> None:
    """`--debug`: the traceback of an error, on stderr, redacted like everything else."""
    sys.stderr.write(redact(text))


def status(message: str) -> None:
    """Progress lines go to stderr so stdout stays clean for --format json."""
    _console(stderr=True).print(redact(message), markup=False)


@contextlib.contextmanager
def progress() -> Iterator[Callable[[str], None]]:
    """A spinner on a terminal, plain lines on stderr otherwise; yields `step(message)`."""
    console = _console(stderr=True)
    if not sys.stderr.isatty():
        yield lambda message: console.print(redact(message), markup=False)
        return
    with console.status("starting") as spinner:
        yield lambda message: spinner.update(redact(message))
