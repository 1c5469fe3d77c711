"""Segment definitions (SPEC section 2): YAML entries and `models/**/<name>.sql` files."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from typing import Any, ClassVar

from segsql.definitions.canonical import digest
from segsql.definitions.filters import ClusterFilter, Filter, FunnelFilter, SegmentRef, walk
from segsql.definitions.meaning import meaning
from segsql.definitions.parse_filters import FilterContext, parse_filter
from segsql.definitions.reader import NAME_RE, Node
from segsql.errors import Location
from segsql.project.loader import REF_PREFIX
from segsql.project.yaml_lines import plain
from segsql.util.suggest import suggest

MATERIALIZATIONS = ("table", "ephemeral")
SEGMENT_KEYS = (
    "name", "description", "tags", "materialized", "cdi", "cdi_attribute", "guards",
    "where", "sql", "dialect", "split", "meta", "channels",
)
_REF_RE = re.compile(re.escape(REF_PREFIX) + r"([A-Za-z0-9_]+)")
_QUOTED = re.compile(r'"([^"\n]{1,128})"|\'([^\'\n]{1,128})\'')  # what an engine error quotes


@dataclass(frozen=True)
class SqlBody:
    """A SQL segment's SELECT as the user wrote it (after Jinja), in `dialect` (None: the target's)."""

    text: str
    dialect: str | None
    location: Location = field(compare=False, repr=False)
    #: for each line of `text`, its line in the file (Jinja in a `.sql` file may add or remove lines)
    lines: tuple[int, ...] | None = field(default=None, compare=False, repr=False)
    #: where `dialect:` was written, for an unknown dialect's error
    dialect_location: Location | None = field(default=None, compare=False, repr=False)
    #: the text rendered with `as_of` as a placeholder, when it uses as_of: what membership_hash reads
    hash_text: str | None = field(default=None, compare=False, repr=False)

    def refs(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(_REF_RE.findall(self.text)))

    def file_line(self, line: int) -> int:
        """The line in the file of 1-based `line` of the text."""
        if self.lines and 0 < line <= len(self.lines):
            return self.lines[line - 1]
        return (self.location.line or 1) + line - 1


@dataclass(frozen=True)
class Guards:
    min_size: int | None = None
    max_size: int | None = None
    max_change_pct: float | None = None


@dataclass(frozen=True)
class Split:
    salt: str
    groups: tuple[tuple[str, float], ...]
    holdout: str | None = None


@dataclass(frozen=True)
class Segment:
    kind: ClassVar[str] = "segment"

    name: str
    location: Location = field(compare=False, repr=False)
    description: str = ""
    tags: tuple[str, ...] = ()
    materialized: str = "table"
    cdi: bool = True
    cdi_attribute: str = ""
    guards: Guards = Guards()
    where: Filter | None = None
    sql: SqlBody | None = None
    split: Split | None = None
    #: SPEC 8.4: the consent channels CDI requires of a member (membership itself keeps everyone)
    channels: tuple[str, ...] = ()
    channels_location: Location | None = field(default=None, compare=False, repr=False)
    #: the meaning of those channels' consent filters (segsql_project.yml): what CDI also reads
    consent: Any = field(default=None, compare=False, repr=False)
    #: what membership reads outside the definition (source tables, time zone, salt), canonical
    environment: Any = field(default=None, compare=False, repr=False)
    #: the entry as rendered from YAML (plain data): enough to rebuild it from a manifest
    yaml: Any = field(default=None, compare=False, repr=False)

    @property
    def path(self) -> str:
        return self.location.file

    def dependencies(self) -> tuple[str, ...]:
        """Models this one reads: `segment:` leaves and `ref()` in SQL, the models of `cluster:` leaves and the funnels of `funnel:` leaves."""
        if self.sql is not None:
            return self.sql.refs()
        return tuple(dict.fromkeys(name for name, _ in self.dependency_locations()))

    def dependency_locations(self) -> list[tuple[str, Location]]:
        if self.sql is not None:
            return [(name, self.sql.location) for name in self.sql.refs()]
        if self.where is None:
            return []
        return [
            (n.segment, n.location) if isinstance(n, SegmentRef) else (n.funnel, n.location) if isinstance(n, FunnelFilter) else (n.model, n.location)
            for n in walk(self.where)
            if isinstance(n, SegmentRef | ClusterFilter | FunnelFilter)
        ]

    def segment_dependencies(self) -> tuple[str, ...]:
        """The segments among `dependencies()` (a `cluster:` or `funnel:` leaf reads another kind of model)."""
        if self.sql is not None:
            return self.sql.refs()
        return tuple(dict.fromkeys(n.segment for n in walk(self.where) if isinstance(n, SegmentRef))) if self.where is not None else ()

    def error_location(self, message: str) -> Location:
        """Where to blame an engine error about this segment: a SQL segment's own SQL — the
        first line naming something the engine quotes (`"contry"`), else its first line — in
        its `.sql` file or under `sql:`; a filter segment's entry."""
        if self.sql is None:
            return self.location
        lines = self.sql.text.splitlines()
        for match in _QUOTED.finditer(message):
            word = re.compile(rf"(?<!\w){re.escape(match.group(1) or match.group(2))}(?!\w)", re.IGNORECASE)
            for number, line in enumerate(lines, 1):
                if word.search(line):
                    return self.sql.location.at(self.sql.file_line(number))
        return self.sql.location

    def membership_hash(self) -> str:
        """Changes when membership may change; editing description or tags, or moving the entry, does not.

        It includes what a filter segment reads outside its YAML (`environment`): its sources,
        and the hashes of the funnels and cluster models its `funnel:` and `cluster:` leaves read."""
        sql = self.sql if self.sql is None or self.sql.hash_text is None else replace(self.sql, text=self.sql.hash_text)
        return digest([meaning(self.where), meaning(sql), meaning(self.split), self.environment])

    def metadata_hash(self) -> str:
        """Changes when what is written beside membership may change (CDI, guards, docs)."""
        parts = [self.description, list(self.tags), self.materialized, self.cdi, self.cdi_attribute, meaning(self.guards)]
        if self.channels:  # a consent filter edited in segsql_project.yml changes what CDI says
            parts.append([list(self.channels), self.consent])
        return digest(parts)


def _guards(node: Node) -> Guards:
    if not node.has("guards"):
        return Guards()
    g = node.child("guards", "guards")
    g.check_keys([f.name for f in fields(Guards)])
    min_size, max_size = g.number("min_size", minimum=0), g.number("max_size", minimum=0)
    if min_size is not None and max_size is not None and min_size > max_size:
        raise g.fail(f"min_size {min_size} is above max_size {max_size}", "make min_size <= max_size", "max_size")
    pct = g.number("max_change_pct", minimum=0)
    return Guards(int(min_size) if min_size is not None else None, int(max_size) if max_size is not None else None, float(pct) if pct is not None else None)


def _split(node: Node, name: str) -> Split | None:
    if not node.has("split"):
        return None
    s = node.child("split", "split")
    s.check_keys(["salt", "groups", "holdout"])
    groups_node = s.child("groups", "split groups") if s.has("groups") else None
    if groups_node is None or not groups_node.data:
        raise s.fail("a split needs `groups`", "write groups: {holdout: 10, variant_a: 90}")
    groups = []
    for group in groups_node.data:
        pct = groups_node.number(str(group), required=True, minimum=0)
        if not NAME_RE.match(str(group)):
            raise groups_node.fail(f"bad group name {group!r}", "use lower-case letters, digits and _", str(group))
        groups.append((str(group), float(pct or 0)))
    if abs(sum(p for _, p in groups) - 100) > 1e-9:
        raise s.fail(f"split groups sum to {sum(p for _, p in groups):g}, not 100", "make the percentages add up to 100", "groups")
    holdout = s.string("holdout")
    if holdout is not None and holdout not in dict(groups):
        raise s.fail(f"holdout {holdout!r} is not one of the groups", suggest(holdout, [g for g, _ in groups]), "holdout")
    return Split(s.string("salt", name) or name, tuple(groups), holdout)


def _cdi_attribute(node: Node, name: str) -> str:
    """The PAYLOAD key; an empty one would write a nameless Braze attribute."""
    key = node.string("cdi_attribute", name) or ""
    if not key.strip():
        raise node.fail("`cdi_attribute` is empty", f"drop it (the default is the segment name, {name!r}) or give a name", "cdi_attribute")
    return key


def parse_segment(data: Any, loc: Location, ctx: FilterContext, sql_files: dict[str, SqlBody], hash_data: Any = None) -> Segment:
    """One entry of a `segments:` list; `hash_data` is the same entry rendered with `as_of` as a
    placeholder (None when its file does not use as_of)."""
    node = Node(data, loc, "segment")
    node.check_keys(SEGMENT_KEYS)
    name = node.model_name("segment")
    materialized = node.string("materialized", "table") or "table"
    if materialized not in MATERIALIZATIONS:
        raise node.fail(f"materialized must be one of {', '.join(MATERIALIZATIONS)}, got {materialized!r}", suggest(materialized, MATERIALIZATIONS), "materialized")
    dialect = node.string("dialect")  # checked against the dialect registry by the compiler
    dialect_at = node.line("dialect") if dialect is not None else None
    where = sql = None
    if node.has("where") and node.has("sql"):
        raise node.fail("a segment has either `where:` or `sql:`, not both", "keep one of them", "sql")
    body = "where" if node.has("where") else "sql" if node.has("sql") else None
    if body is not None and name in sql_files:
        raise node.fail(
            f"segment {name!r} has `{body}:` and also the file {sql_files[name].location.file}",
            "keep one of them: drop the key (a YAML entry beside the file carries only metadata) or delete the file",
            body,
        )
    if node.has("where") and dialect is not None:
        raise node.fail("`dialect:` is the language of a SQL segment's `sql:`; a `where:` filter has none", "remove dialect:", "dialect")
    if node.has("where"):
        where = parse_filter(node.raw("where"), node.line("where"), ctx)
    elif node.has("sql"):
        text = node.string("sql", required=True) or ""
        sql_line = node.line("sql").line or 1
        hash_sql = hash_data.get("sql") if isinstance(hash_data, dict) and isinstance(hash_data.get("sql"), str) else None
        sql = SqlBody(text, dialect, node.loc.at(sql_line + 1 if "\n" in text.strip() or str(node.raw("sql")).endswith("\n") else sql_line), dialect_location=dialect_at, hash_text=hash_sql)
    elif name in sql_files:
        sql = replace(sql_files[name], dialect=dialect, dialect_location=dialect_at)
    else:
        raise node.fail(f"segment {name!r} has no `where:` or `sql:`", f"add a filter under where:, SQL under sql:, or a file models/**/{name}.sql")
    cdi_default = materialized == "table"
    cdi = bool(node.boolean("cdi", cdi_default))
    if cdi and materialized == "ephemeral":
        raise node.fail("an ephemeral segment has no table, so it cannot feed CDI", "drop `cdi: true` or use materialized: table", "cdi")
    split = _split(node, name)
    if split is not None and materialized == "ephemeral":
        raise node.fail("an ephemeral segment cannot be split", "use materialized: table", "split")
    return Segment(
        name=name,
        location=node.loc,
        description=node.string("description", "") or "",
        tags=node.string_list("tags"),
        materialized=materialized,
        cdi=cdi,
        cdi_attribute=_cdi_attribute(node, name),
        guards=_guards(node),
        where=where,
        sql=sql,
        split=split,
        channels=tuple(dict.fromkeys(node.string_list("channels"))),
        channels_location=node.line("channels") if node.has("channels") else None,
        yaml=plain(data),
    )
