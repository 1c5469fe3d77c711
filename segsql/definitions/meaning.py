"""What a definition means, as plain JSON-able data: the input of every definition hash.

Fields declared with `compare=False` (where a node was written: its Location, a SQL body's
line map) are not part of the meaning, so moving a definition or adding a comment above it
never changes a hash, while any change of an operator, value, window or name does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import fields, is_dataclass
from typing import Any


def meaning(value: Any) -> Any:
    """`value` as nested lists, dicts and scalars, each dataclass tagged with its kind."""
    if is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {"kind": type(value).__name__}
        for f in fields(value):
            if f.compare:
                out[f.name] = meaning(getattr(value, f.name))
        return out
    if isinstance(value, tuple | list):
        return [meaning(v) for v in value]
    if isinstance(value, dict):
        return {str(k): meaning(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return repr(value)
