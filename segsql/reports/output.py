"""The one place that prints: rich tables for people, JSON for machines."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

_out = Console(soft_wrap=True, highlight=False)
_err = Console(stderr=True, soft_wrap=True, highlight=False)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def print_table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    table = Table(title=title, title_justify="left", header_style="bold")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    _out.print(table)


def print_text(text: str) -> None:
    _out.print(text, markup=False)


def print_sql(sql: str) -> None:
    sys.stdout.write(sql.rstrip() + "\n")


def print_error(message: str) -> None:
    _err.print(f"[bold red]error:[/] {message}", markup=True, highlight=False) if "[" not in message else _err.print("error: " + message, markup=False)


def status(message: str) -> None:
    """Progress lines go to stderr so stdout stays clean for --format json."""
    _err.print(message, markup=False)
