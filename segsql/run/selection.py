"""`--select` / `--exclude`: names, tag:x, path:models/x, +name, name+, state:modified.

One small grammar (optional `+` on either side of a method:value) and a registry of
methods, as dbt does it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath

from segsql.definitions.dag import dependents, topological_order
from segsql.definitions.segments import Segment
from segsql.errors import UsageError
from segsql.util.suggest import closest, suggest

Method = Callable[[dict[str, Segment], str, Path | None], set[str]]


def _by_name(segments: dict[str, Segment], value: str, _state: Path | None) -> set[str]:
    if value not in segments:
        raise UsageError(f"no segment named {value!r}", hint=suggest(value, sorted(segments), what="segment"))
    return {value}


def _by_tag(segments: dict[str, Segment], value: str, _state: Path | None) -> set[str]:
    found = {n for n, s in segments.items() if value in s.tags}
    if not found:
        tags = sorted({t for s in segments.values() for t in s.tags})
        raise UsageError(f"no segment has the tag {value!r}", hint=suggest(value, tags, what="tag"))
    return found


def _by_path(segments: dict[str, Segment], value: str, _state: Path | None) -> set[str]:
    prefix = PurePosixPath(value.rstrip("/"))
    found = {n for n, s in segments.items() if PurePosixPath(s.path) == prefix or prefix in PurePosixPath(s.path).parents}
    if not found:
        raise UsageError(f"no segment is defined under {value!r}", hint="give a folder or file relative to the project, e.g. path:models/retention")
    return found


def _by_state(segments: dict[str, Segment], value: str, state: Path | None) -> set[str]:
    if value != "modified":
        raise UsageError(f"unknown state selector state:{value}", hint=suggest(value, ["modified"]).replace("'modified'", "'state:modified'"))
    if state is None:
        raise UsageError("state:modified needs --state DIR", hint="pass a previous target/ folder with --state")
    manifest = state / "manifest.json"
    try:
        previous = json.loads(manifest.read_text())["segments"]
    except (OSError, ValueError, KeyError):
        raise UsageError(f"no readable manifest.json in {state}", hint="point --state at a target/ folder written by segsql compile or run") from None
    return {
        n for n, s in segments.items()
        if n not in previous or previous[n].get("membership_hash") != s.membership_hash() or previous[n].get("metadata_hash") != s.metadata_hash()
    }


METHODS: dict[str, Method] = {"tag": _by_tag, "path": _by_path, "state": _by_state}


def _method_hint(method: str) -> str:
    best = closest(method, METHODS)
    return (f"did you mean '{best}:'? " if best else "") + "a selector is a name, tag:x, path:models/x or state:modified"


def _one(segments: dict[str, Segment], selector: str, state: Path | None) -> set[str]:
    upstream = selector.startswith("+")
    downstream = selector.endswith("+")
    core = selector.removeprefix("+").removesuffix("+")
    if not core or "+" in core:
        raise UsageError(f"malformed selector {selector!r}", hint="use name, +name (with its dependencies) or name+ (with its dependents)")
    method, sep, value = core.partition(":")
    if sep and method in METHODS:
        found = METHODS[method](segments, value, state)
    elif sep:
        raise UsageError(f"unknown selector method {method!r} in {selector!r}", hint=_method_hint(method))
    else:
        found = _by_name(segments, core, state)
    if upstream:
        found = set(topological_order(segments, found))
    if downstream:
        for name in list(found):
            found |= dependents(segments, name)
    return found


def select(
    segments: dict[str, Segment],
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
    state: Path | None = None,
) -> list[str]:
    """The selected segment names, sorted; no --select means all."""
    words = [w for s in include for w in s.split()]
    chosen = set(segments) if not words else set().union(*(_one(segments, w, state) for w in words))
    for word in (w for s in exclude for w in s.split()):
        chosen -= _one(segments, word, state)
    return sorted(chosen)
