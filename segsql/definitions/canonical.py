"""The canonical form of a definition: what its hashes are taken of.

A definition is hashed as parsed from its *rendered* YAML, so the values of the vars and
env vars it uses are in it (dbt hashes the unrendered text and misses them: dbt-core
issue 4304), while where it sits in its file (locations, line maps) is left out: moving a
segment down a file or adding a comment above it changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import fields, is_dataclass
from typing import Any

#: dataclass fields that say where something was written, not what it means
_POSITIONAL = frozenset({"location", "lines"})


def canonical(value: Any) -> Any:
    """Plain JSON data for a tree of frozen dataclasses, tuples and scalars, without positions."""
    if is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {"kind": type(value).__name__}
        for f in fields(value):
            if f.name not in _POSITIONAL and f.compare:
                out[f.name] = canonical(getattr(value, f.name))
        return out
    if isinstance(value, tuple | list):
        return [canonical(v) for v in value]
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def kinds(tree: Any) -> set[str]:
    """Every node kind in a canonical tree (which leaves a definition uses)."""
    found: set[str] = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("kind"), str):
                found.add(node["kind"])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def values_of(tree: Any, key: str) -> set[str]:
    """Every value stored under `key` anywhere in a canonical tree."""
    found: set[str] = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get(key), str):
                found.add(node[key])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def digest(parts: Any) -> str:
    text = json.dumps(parts, default=str, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def environment(body: Any, is_sql: bool, sources: Any, timezone: str, bucket_salt: str) -> dict[str, Any] | None:
    """What a filter segment's members depend on beyond its own YAML.

    The universe is every id of the users, events and purchases sources, so their tables and
    key columns always count; catalogs count when a condition joins them, the time zone
    decides calendar days, the salt decides buckets. A SQL segment names its own tables.
    """
    if is_sql:
        return None
    used = kinds(body)
    keys = {
        "users": ("table", "id"),
        "events": ("table", "user", "name", "time", "properties"),
        "purchases": ("table", "user", "time", "product", "price", "quantity", "properties"),
    }
    out: dict[str, Any] = {"timezone": timezone}
    for name, wanted in keys.items():
        source = getattr(sources, name)
        if source is not None:
            out[name] = {k: canonical(getattr(source, k)) for k in wanted}
    if "RandomBucket" in used:
        out["bucket_salt"] = bucket_salt
    catalogs = values_of(body, "catalog") if "CatalogCondition" in used else set()
    for name in sorted(catalogs):
        catalog = sources.catalogs.get(name)
        if catalog is not None:
            out[f"catalog:{name}"] = {"table": catalog.table, "key": catalog.key}
    return out
