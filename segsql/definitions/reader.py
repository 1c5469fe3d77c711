"""Small helpers to validate YAML mappings while keeping the user's file and line."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

from segsql.errors import Location, ProjectError
from segsql.project.yaml_lines import item_line, key_line, node_line, plain
from segsql.util.suggest import suggest

#: the names of models and unit tests: they become table names and JSON keys
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class Node:
    """A YAML mapping plus the location it came from; every error names that location."""

    def __init__(self, data: Any, loc: Location, what: str):
        if not isinstance(data, dict):
            raise ProjectError(f"{what} must be a mapping, got {type_name(data)}", loc, "write key: value pairs")
        self.data = data
        self.what = what
        self.loc = loc.at(node_line(data) or loc.line)

    def line(self, key: str) -> Location:
        return self.loc.at(key_line(self.data, key) or self.loc.line)

    def fail(self, message: str, hint: str, key: str | None = None) -> ProjectError:
        return ProjectError(message, self.line(key) if key else self.loc, hint)

    def model_name(self, what: str) -> str:
        """The required `name:` of a model or unit test, checked; later errors then name it."""
        name = self.string("name", required=True) or ""
        if not NAME_RE.match(name):
            raise self.fail(f"bad {what} name {name!r}", "use ^[a-z][a-z0-9_]{0,62}$: lower-case letters, digits, _", "name")
        self.what = f"{what} {name!r}"
        return name

    def check_keys(self, allowed: Iterable[str]) -> None:
        allowed = list(allowed)
        for key in self.data:
            if key not in allowed:
                raise self.fail(f"unknown key {key!r} in {self.what}", suggest(str(key), allowed), str(key))

    def has(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def required(self, key: str) -> Any:
        if key not in self.data or self.data[key] is None:
            raise self.fail(f"{self.what} needs `{key}`", f"add `{key}:`")
        return self.data[key]

    def string(self, key: str, default: str | None = None, *, required: bool = False) -> str | None:
        if key not in self.data or self.data[key] is None:
            if required:
                raise self.fail(f"{self.what} needs `{key}`", f"add `{key}: <text>`")
            return default
        value = self.data[key]
        if isinstance(value, bool | dict | list):
            raise self.fail(f"`{key}` must be text, got {type_name(value)}", f"write `{key}: <text>`", key)
        return str(value)

    def boolean(self, key: str, default: bool | None) -> bool | None:
        value = self.data.get(key, default)
        if value is not None and not isinstance(value, bool):
            raise self.fail(f"`{key}` must be true or false, got {value!r}", f"write `{key}: true` or `{key}: false`", key)
        return value

    def number(self, key: str, *, required: bool = False, minimum: float | None = None) -> float | None:
        value = self.data.get(key)
        if value is None:
            if required:
                raise self.fail(f"{self.what} needs `{key}`", f"add `{key}: <number>`")
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(f"`{key}` must be a number, got {value!r}", f"write `{key}: <number>`", key)
        if not math.isfinite(value):
            raise self.fail(f"`{key}` must be a finite number, got {value!r}", f"write `{key}: <number>`", key)
        if minimum is not None and value < minimum:
            raise self.fail(f"`{key}` must be at least {minimum}, got {value!r}", f"use a number >= {minimum}", key)
        return float(value) if isinstance(value, float) else int(value)

    def child(self, key: str, what: str) -> Node:
        return Node(self.data[key], self.line(key), what)

    def items(self, key: str, what: str) -> list[tuple[Any, Location]]:
        """A non-empty list under `key`, each item with its own line."""
        seq = self.data.get(key)
        if not isinstance(seq, list) or not seq:
            raise self.fail(f"`{key}` must be a non-empty list", f"write `{key}: [...]` with at least one {what}", key)
        return [(item, self.loc.at(item_line(seq, i) or self.line(key).line)) for i, item in enumerate(seq)]

    def string_list(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key)
        if value is None:
            return ()
        if isinstance(value, str):
            return (value,)
        if not isinstance(value, list) or not all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in value):
            raise self.fail(f"`{key}` must be a list of names", f"write `{key}: [a, b]`", key)
        return tuple(str(v) for v in value)

    def plain(self, key: str) -> Any:
        return plain(self.data.get(key))


def type_name(value: Any) -> str:
    """How a YAML value's type reads in an error message."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__
