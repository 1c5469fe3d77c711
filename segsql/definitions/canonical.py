"""What a definition's hashes are taken of, beyond its own meaning (`meaning.py`).

A definition is hashed as parsed from its *rendered* YAML, so the values of the vars and
env vars it uses are in it (dbt hashes the unrendered text and misses them: dbt-core
issue 4304), while where it sits in its file (locations, line maps) is left out: moving a
segment down a file or adding a comment above it changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from typing import Any

from segsql.definitions.meaning import meaning


def _nodes(tree: Any) -> Iterator[dict[str, Any]]:
    """Every mapping in a tree of `meaning()` data."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def values_of(tree: Any, key: str) -> set[str]:
    """Every string stored under `key` anywhere in a tree of `meaning()` data (`kind`: the node kinds)."""
    return {node[key] for node in _nodes(tree) if isinstance(node.get(key), str)}


def digest(parts: Any) -> str:
    text = json.dumps(parts, default=str, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


#: what a model's docs say, not what its result holds: left out of its membership hash
METADATA_FIELDS = ("description", "tags")


def body_hash(model: Any, env: Any) -> str:
    """A funnel's, cluster's or cohort's membership hash: its meaning without description and tags,
    and what it reads outside its YAML (`environment`)."""
    body = {k: v for k, v in meaning(model).items() if k not in METADATA_FIELDS}
    return digest([body, env])


def environment(body: Any, is_sql: bool, sources: Any, timezone: str, bucket_salt: str) -> dict[str, Any] | None:
    """What a filter segment's members depend on beyond its own YAML.

    The universe is every id of the users, events and purchases sources, so their tables and
    key columns always count; catalogs and trait tables count when a filter joins them, the time zone
    decides calendar days, the salt decides buckets. A SQL segment names its own tables.
    """
    if is_sql:
        return None
    used = values_of(body, "kind")
    keys = {
        "users": ("table", "id"),
        "events": ("table", "user", "name", "time", "properties"),
        "purchases": ("table", "user", "time", "product", "price", "quantity", "properties"),
    }
    out: dict[str, Any] = {"timezone": timezone}
    for name, wanted in keys.items():
        source = getattr(sources, name)
        if source is not None:
            out[name] = {k: meaning(getattr(source, k)) for k in wanted}
    if "RandomBucket" in used:
        out["bucket_salt"] = bucket_salt
    catalogs = values_of(body, "catalog") if "CatalogCondition" in used else set()
    for name in sorted(catalogs):
        catalog = sources.catalogs.get(name)
        if catalog is not None:
            out[f"catalog:{name}"] = {"table": catalog.table, "key": catalog.key}
    for name in sorted(values_of(body, "trait") if "TraitFilter" in used else set()):
        trait = sources.traits.get(name)
        if trait is not None:
            out[f"trait:{name}"] = {"table": trait.table, "id": trait.id}
    return out


def models_read(body: Any, hashes: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """The membership hash of every funnel and cluster model a filter's `funnel:` and `cluster:`
    leaves read (`hashes`: kind → name → hash), so editing that model marks the segment modified."""
    keys = {"FunnelFilter": ("funnel", "funnel"), "ClusterFilter": ("cluster", "model")}
    out: dict[str, str] = {}
    for node in _nodes(body):
        kind, key = keys.get(str(node.get("kind")), ("", ""))
        name = node.get(key) if kind else None
        if isinstance(name, str) and name in hashes[kind]:
            out[f"{kind}:{name}"] = hashes[kind][name]
    return out
