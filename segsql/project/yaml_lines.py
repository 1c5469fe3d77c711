"""YAML parsing that keeps the line of every mapping key and sequence item.

ruamel.yaml's round-trip loader records positions on the containers it builds, so error
messages can point at the line a user wrote without a custom YAML parser.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import ConstructorError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError

from segsql.errors import Location, ProjectError
from segsql.project.line_map import line_map


class _MarkedConstructor(RoundTripConstructor):
    """Builds values as ruamel does, but a value it cannot build (an unquoted `1998-13-01`,
    `!!int x`) fails at the node's line instead of as a bare ValueError with none."""

    def construct_non_recursive_object(self, node: Any, tag: str | None = None) -> Any:
        try:
            return super().construct_non_recursive_object(node, tag)
        except MarkedYAMLError:
            raise
        except (ValueError, TypeError, OverflowError) as err:
            raise ConstructorError(None, None, f"cannot read the value {node.value!r}: {err}", node.start_mark) from None


def parse_yaml(text: str, location: Location, source: str | None = None) -> Any:
    """Parse YAML text; a syntax error becomes a ProjectError at the offending line.

    With `source` (the text before Jinja rendering), every recorded line is mapped back to
    the line the user wrote, so later errors point there too.
    """
    yaml = YAML(typ="rt", pure=True)
    yaml.Constructor = _MarkedConstructor
    lines = line_map(source, text) if source is not None else None
    try:
        data = yaml.load(text)
    except MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = _source_line(lines, mark.line) + 1 if mark is not None else None
        problem = err.problem or err.context or "invalid YAML"
        hint = "write a valid value (quote it if it is meant as text)" if problem.startswith("cannot read the value") else "fix the YAML syntax on that line"
        raise ProjectError(f"invalid YAML: {problem}", location.at(line), hint) from None
    except Exception as err:  # ruamel raises a few unmarked errors (e.g. duplicate keys)
        raise ProjectError(f"invalid YAML: {err}", location, "fix the YAML syntax") from None
    if lines is not None and lines != list(range(len(lines))):
        _remap(data, lines, set())
    return data


def _source_line(lines: list[int] | None, line: int) -> int:
    if not lines:
        return line
    return lines[min(line, len(lines) - 1)]


def _remap(node: Any, lines: list[int], seen: set[int]) -> None:
    """Rewrite the 0-based lines ruamel recorded on `node` and below (aliases once)."""
    if not isinstance(node, CommentedMap | CommentedSeq) or id(node) in seen:
        return
    seen.add(id(node))
    node.lc.line = _source_line(lines, node.lc.line)
    for pos in (node.lc.data or {}).values():
        pos[0] = _source_line(lines, pos[0])
        if len(pos) > 2:
            pos[2] = _source_line(lines, pos[2])
    for child in node.values() if isinstance(node, CommentedMap) else node:
        _remap(child, lines, seen)


def node_line(node: Any) -> int | None:
    """1-based line where a mapping or sequence starts, if known."""
    if isinstance(node, CommentedMap | CommentedSeq):
        return int(node.lc.line) + 1
    return None


def key_line(mapping: Any, key: str) -> int | None:
    """1-based line of `key` inside `mapping`, falling back to the mapping's own line."""
    if isinstance(mapping, CommentedMap) and key in mapping:
        try:
            return int(mapping.lc.key(key)[0]) + 1
        except (KeyError, TypeError):
            pass
    return node_line(mapping)


def item_line(seq: Any, index: int) -> int | None:
    """1-based line of item `index` of a sequence, falling back to the sequence's line."""
    if isinstance(seq, CommentedSeq):
        try:
            return int(seq.lc.item(index)[0]) + 1
        except (KeyError, TypeError, IndexError):
            pass
    return node_line(seq)


def plain(node: Any) -> Any:
    """Deep-convert ruamel containers and scalars to plain Python values."""
    if isinstance(node, dict):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return node
