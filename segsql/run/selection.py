"""`--select` / `--exclude`: dbt's node selection grammar over segments and unit tests.

A selector is `[@][N+]method:value[+N]`; a comma joins selectors into an intersection
(`tag:email,tag:loyalty`), a space or a repeated flag into a union. Methods are a
registry: a bare name (`*` globs allowed), `tag:`, `path:`, `state:modified` /
`state:modified.body` / `state:new` against a previous manifest (`--state DIR`). `+name`
adds every ancestor, `2+name` those up to two levels up, `name+` / `name+1` descendants,
`@name` the descendants and all their ancestors (what a rebuild of `name` needs).

Unit tests are nodes too, children of the segment they test: `segsql test --select X`
runs the tests selected directly and the tests of every selected segment (dbt's eager
indirect selection).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Protocol

from segsql.errors import UsageError
from segsql.run.manifest import State
from segsql.util.suggest import closest, suggest


class Selectable(Protocol):
    """A model of any kind, as selection sees it (segments, cohorts, ...)."""

    @property
    def tags(self) -> tuple[str, ...]: ...
    @property
    def path(self) -> str: ...
    def dependencies(self) -> tuple[str, ...]: ...
    def membership_hash(self) -> str: ...
    def metadata_hash(self) -> str: ...


@dataclass(frozen=True)
class Item:
    """One selectable node: a model or a unit test."""

    name: str
    kind: str
    tags: tuple[str, ...]
    path: str
    parents: tuple[str, ...]
    segment: Selectable | None = None


@dataclass(frozen=True)
class Graph:
    items: dict[str, Item]
    state: State | None = None

    def children(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {name: set() for name in self.items}
        for item in self.items.values():
            for parent in item.parents:
                out.setdefault(parent, set()).add(item.name)
        return out

    def what(self) -> str:
        """What the nodes are called in an error: segments, or models when other kinds are among them."""
        kinds = {i.kind for i in self.items.values()}
        model = "segment" if kinds <= {"segment", "test"} else "model"
        return f"{model} or unit test" if "test" in kinds else model


Method = Callable[[Graph, str], set[str]]


def _by_name(graph: Graph, value: str) -> set[str]:
    found = set(fnmatch.filter(graph.items, value)) if any(c in value for c in "*?[") else ({value} & set(graph.items))
    if not found:
        raise UsageError(f"no {graph.what()} named {value!r}", hint=suggest(value, sorted(graph.items), what=graph.what()))
    return found


def _by_tag(graph: Graph, value: str) -> set[str]:
    found = {n for n, i in graph.items.items() if value in i.tags}
    if not found:
        tags = sorted({t for i in graph.items.values() for t in i.tags})
        raise UsageError(f"no segment has the tag {value!r}", hint=suggest(value, tags, what="tag"))
    return found


def _by_path(graph: Graph, value: str) -> set[str]:
    prefix = PurePosixPath(value.rstrip("/"))
    found = {n for n, i in graph.items.items() if PurePosixPath(i.path) == prefix or prefix in PurePosixPath(i.path).parents}
    if not found:
        raise UsageError(f"no segment is defined under {value!r}", hint="give a folder or file relative to the project, e.g. path:models/retention")
    return found


STATE_CHECKS: dict[str, Callable[[Selectable, dict[str, Any] | None], bool]] = {
    "new": lambda seg, old: old is None,
    "modified": lambda seg, old: old is None or old.get("membership_hash") != seg.membership_hash() or old.get("metadata_hash") != seg.metadata_hash(),
    "modified.body": lambda seg, old: old is None or old.get("membership_hash") != seg.membership_hash(),
}


def _by_state(graph: Graph, value: str) -> set[str]:
    check = STATE_CHECKS.get(value)
    if check is None:
        best = closest(value, STATE_CHECKS)
        known = ", ".join("state:" + k for k in STATE_CHECKS)
        raise UsageError(f"unknown state selector state:{value}", hint=(f"did you mean 'state:{best}'? " if best else "") + f"use one of: {known}")
    if graph.state is None:
        raise UsageError(f"state:{value} needs --state DIR", hint="pass a previous target/ folder with --state")
    previous = graph.state.models
    return {n for n, i in graph.items.items() if i.segment is not None and check(i.segment, previous.get(n))}


METHODS: dict[str, Method] = {"tag": _by_tag, "path": _by_path, "state": _by_state}

_SELECTOR = re.compile(r"^(?P<at>@)?(?:(?P<up_n>\d*)(?P<up>\+))?(?P<core>[^+@]+?)(?:(?P<down>\+)(?P<down_n>\d*))?$")


def _walk(start: set[str], edges: Callable[[str], Iterable[str]], depth: int | None) -> set[str]:
    """`start` and the nodes reached along `edges` in at most `depth` steps (None: any)."""
    seen, frontier, level = set(start), set(start), 0
    while frontier and (depth is None or level < depth):
        frontier = {nxt for node in frontier for nxt in edges(node)} - seen
        seen |= frontier
        level += 1
    return seen


def _one(graph: Graph, selector: str) -> set[str]:
    match = _SELECTOR.match(selector)
    if match is None or (match["at"] and (match["up"] or match["down"])):
        raise UsageError(
            f"malformed selector {selector!r}",
            hint="use name, +name / 2+name (with ancestors), name+ / name+1 (with descendants), @name, or a comma for an intersection",
        )
    core = match["core"]
    method, sep, value = core.partition(":")
    if sep and method in METHODS:
        found = METHODS[method](graph, value)
    elif sep:
        best = closest(method, METHODS)
        raise UsageError(f"unknown selector method {method!r} in {selector!r}", hint=(f"did you mean '{best}:'? " if best else "") + f"use a name, {', '.join(m + ':' for m in METHODS)}")
    else:
        found = _by_name(graph, core)
    children = graph.children()

    def parents(name: str) -> Iterable[str]:
        return graph.items[name].parents if name in graph.items else ()

    def kids(name: str) -> Iterable[str]:
        return children.get(name, ())

    result = set(found)
    if match["up"]:
        result |= _walk(found, parents, int(match["up_n"]) if match["up_n"] else None)
    if match["down"]:
        result |= _walk(found, kids, int(match["down_n"]) if match["down_n"] else None)
    if match["at"]:
        result = _walk(_walk(found, kids, None), parents, None)
    return result


def _resolve(graph: Graph, words: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for word in words:
        parts = [p for p in word.split(",")]
        if not all(parts):
            raise UsageError(f"malformed selector {word!r}", hint="join selectors with a comma and no empty part: tag:email,tag:loyalty")
        sets = [_one(graph, p) for p in parts]
        out |= set.intersection(*sets)
    return out


def _words(values: Iterable[str]) -> list[str]:
    return [w for value in values for w in value.split()]


def segment_graph(segments: Mapping[str, Any], state: State | None = None, tests: Mapping[str, Any] | None = None) -> Graph:
    """Models (parents: what they read) and, given, unit tests (parent: their segment or funnel)."""
    items = {n: Item(n, getattr(s, "kind", "segment"), s.tags, s.path, s.dependencies(), s) for n, s in segments.items()}
    for name, test in (tests or {}).items():
        items[name] = Item(name, "test", tuple(test.tags), test.location.file, (test.model,))
    return Graph(items, state)


def select(
    segments: Mapping[str, Any],
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
    state: State | None = None,
) -> list[str]:
    """The selected segment names, sorted; no --select means all."""
    graph = segment_graph(segments, state)
    words = _words(include)
    chosen = set(segments) if not words else _resolve(graph, words)
    chosen -= _resolve(graph, _words(exclude))
    return sorted(chosen)


def select_tests(
    segments: Mapping[str, Selectable],
    tests: Mapping[str, Any],
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
    state: State | None = None,
    *,
    with_tested: bool = True,
) -> tuple[list[str], list[str]]:
    """(unit tests, segments) selected; no --select means all.

    A test is selected directly or through its segment; the segments are those selected
    and (`with_tested`) those of the selected tests. `tests` maps names to objects with `model`, `tags` and
    `location` (unit test definitions)."""
    graph = segment_graph(segments, state, tests)
    words = _words(include)
    chosen = set(graph.items) if not words else _resolve(graph, words)
    dropped = _resolve(graph, _words(exclude))
    picked = sorted(n for n, t in tests.items() if (n in chosen or t.model in chosen) and n not in dropped and t.model not in dropped)
    models = {n for n in chosen if n in segments and n not in dropped}
    if with_tested:
        models |= {tests[n].model for n in picked if tests[n].model in segments}
    return picked, sorted(models)
