"""Which trait tables (SPEC 8.3) a segment reads, through the segments it reads too.

A stale trait table fails exactly the segments that read it, and a query joins only the
trait tables its segments read: both ask this one question.
"""

from __future__ import annotations

from collections.abc import Mapping

from segsql.definitions.filters import Filter, TraitFilter, walk
from segsql.definitions.segments import Segment


def filter_traits(node: Filter | None) -> set[str]:
    """The trait tables one filter tree names directly (not through `segment:`)."""
    return {n.trait for n in walk(node) if isinstance(n, TraitFilter)} if node is not None else set()


def segment_traits(segments: Mapping[str, Segment], name: str) -> set[str]:
    """The trait tables segment `name` reads: its own filter's, and those of every segment it
    reads by `segment:` or `ref()`, however deep."""
    found: set[str] = set()
    seen: set[str] = set()
    stack = [name]
    while stack:
        current = stack.pop()
        if current in seen or current not in segments:
            continue
        seen.add(current)
        found |= filter_traits(segments[current].where)
        stack.extend(segments[current].dependencies())
    return found
