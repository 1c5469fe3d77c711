"""Files segsql writes under target/: JSON artifacts, written atomically, never holding a secret."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from segsql import __version__
from segsql.engines.base import redact
from segsql.run.session import Session


def write_json(path: Path, data: Any, secrets: Iterable[str] = ()) -> None:
    """Write through a temporary file and rename, so a reader never sees half a file.

    Every secret of the target is replaced by **** (as written and as escaped in JSON): a
    last line of defence should a password ever reach a message or a definition."""
    hidden = frozenset(form for s in secrets if s for form in (s, json.dumps(s)[1:-1]))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    text = json.dumps(data, indent=2, default=str, sort_keys=False) + "\n"
    tmp.write_text(redact(text, hidden), encoding="utf-8")
    os.replace(tmp, path)


def metadata(session: Session, schema_version: str, command: str) -> dict[str, Any]:
    """The `metadata` block every artifact starts with: which segsql, command, run and target."""
    return {
        "schema_version": schema_version,
        "segsql_version": __version__,
        "command": command,
        "invocation_id": session.run_id,
        "generated_at": dt.datetime.now(dt.UTC).isoformat(),
        "as_of": session.project.as_of,
    }


def schema(artifact: str) -> dict[str, Any]:
    """The JSON Schema that ships with segsql for `manifest`, `run_results` or the JSON of `why` and `diff` (package data)."""
    from importlib.resources import files

    text = files("segsql").joinpath("schemas", f"{artifact}.v1.json").read_text(encoding="utf-8")
    found: dict[str, Any] = json.loads(text)
    return found
