"""Names a run writes: membership tables and CDI payload keys must not collide.

A membership table named like a source or segsql's own tables would be overwritten by a
run, one longer than 63 characters would be silently cut by PostgreSQL, and two segments sharing a `cdi_attribute` would write one Braze attribute with two
meanings, so both are rejected before any SQL is generated.
"""

from __future__ import annotations

from collections.abc import Mapping

from segsql.definitions.funnels import Funnel
from segsql.definitions.segments import Segment
from segsql.definitions.sources import (
    CatalogSource,
    EventsSource,
    PurchasesSource,
    Sources,
    TraitSource,
    UsersSource,
)
from segsql.errors import ProjectError
from segsql.project.config import RESERVED_TABLE_PREFIXES, ProjectConfig

#: The longest identifier every engine keeps whole (PostgreSQL and Redshift truncate longer ones),
#: so a project runs unchanged on every target.
MAX_TABLE_NAME = 63


def _source_tables(sources: Sources) -> dict[str, str]:
    """Unqualified, lower-cased source table names, each with what declares it."""
    named: list[tuple[str, UsersSource | EventsSource | PurchasesSource | CatalogSource | TraitSource | None]] = [("users", sources.users), ("events", sources.events), ("purchases", sources.purchases)]
    named += [(f"catalog {name}", cat) for name, cat in sources.catalogs.items()]
    named += [(f"trait {name}", trait) for name, trait in sources.traits.items()]
    return {src.table.split(".")[-1].strip('"').lower(): what for what, src in named if src is not None}


def check_tables(segments: Mapping[str, Segment], config: ProjectConfig, sources: Sources) -> None:
    """Each table segment's `<prefix><name>` is free: not segsql's, not the CDI table, not a source."""
    taken = _source_tables(sources)
    for seg in segments.values():
        if seg.materialized != "table":
            continue
        table = config.segment_prefix + seg.name
        hint = "rename the segment or set table_prefix: {segment: ...} in segsql_project.yml"
        if len(table.encode()) > MAX_TABLE_NAME:
            raise ProjectError(
                f"segment {seg.name!r} would write table {table!r}, {len(table.encode())} characters; PostgreSQL and Redshift cut names at {MAX_TABLE_NAME}",
                seg.location,
                "shorten the segment name or the segment table_prefix so that prefix + name fits in 63 characters",
            )
        if table.lower().startswith(RESERVED_TABLE_PREFIXES):
            raise ProjectError(f"segment {seg.name!r} would write table {table!r}, a name reserved for segsql's own tables", seg.location, hint)
        if table.lower() == config.cdi_table.lower():
            raise ProjectError(f"segment {seg.name!r} would write table {table!r}, which is the CDI table", seg.location, hint)
        if table.lower() in taken:
            raise ProjectError(f"segment {seg.name!r} would write table {table!r}, the table of the {taken[table.lower()]} source", seg.location, hint)


def funnel_tables(funnel: Funnel, config: ProjectConfig) -> tuple[str, ...]:
    """The tables a funnel's run writes: the step table, the users table and, with trends, the trends table."""
    base = config.funnel_prefix + funnel.name
    return (base, base + "_users") + ((base + "_trends",) if funnel.trends else ())


def check_funnel_tables(funnels: Mapping[str, Funnel], segments: Mapping[str, Segment], config: ProjectConfig, sources: Sources) -> None:
    """Each funnel's tables are free: not segsql's, not the CDI table, not a source, not a segment's."""
    taken = _source_tables(sources)
    segment_tables = {(config.segment_prefix + s.name).lower() for s in segments.values() if s.materialized == "table"}
    hint = "rename the funnel or set table_prefix: {funnel: ...} in segsql_project.yml"
    owners: dict[str, str] = {}
    for funnel in funnels.values():
        for table in funnel_tables(funnel, config):
            low = table.lower()
            other = owners.setdefault(low, funnel.name)
            if other != funnel.name:
                raise ProjectError(f"funnels {other!r} and {funnel.name!r} would both write table {table!r}", funnel.location, hint)
            if len(table.encode()) > MAX_TABLE_NAME:
                raise ProjectError(
                    f"funnel {funnel.name!r} would write table {table!r}, {len(table.encode())} characters; PostgreSQL and Redshift cut names at {MAX_TABLE_NAME}",
                    funnel.location,
                    "shorten the funnel name or the funnel table_prefix (the trends table adds _trends)",
                )
            clash = (
                "a name reserved for segsql's own tables" if low.startswith(RESERVED_TABLE_PREFIXES)
                else "the CDI table" if low == config.cdi_table.lower()
                else f"the table of the {taken[low]} source" if low in taken
                else "a segment's membership table" if low in segment_tables
                else None
            )
            if clash:
                raise ProjectError(f"funnel {funnel.name!r} would write table {table!r}, {clash}", funnel.location, hint)


def taken_tables(segments: Mapping[str, Segment], funnels: Mapping[str, Funnel], config: ProjectConfig, sources: Sources) -> dict[str, str]:
    """Lower-case names of the tables a project reads or writes, each with what it is (for a
    model of another kind to check its own table against)."""
    taken = {name: f"the table of the {what} source" for name, what in _source_tables(sources).items()}
    taken[config.cdi_table.lower()] = "the CDI table"
    taken.update({(config.segment_prefix + s.name).lower(): f"the membership table of segment {s.name!r}" for s in segments.values() if s.materialized == "table"})
    taken.update({t.lower(): f"a table of funnel {f.name!r}" for f in funnels.values() for t in funnel_tables(f, config)})
    return taken


def check_cdi_attributes(segments: Mapping[str, Segment]) -> None:
    """Two `cdi: true` segments may not write the same PAYLOAD key."""
    owners: dict[str, Segment] = {}
    for seg in sorted(segments.values(), key=lambda s: (s.location.file, s.location.line or 0)):
        if not seg.cdi:
            continue
        other = owners.setdefault(seg.cdi_attribute, seg)
        if other is not seg:
            raise ProjectError(
                f"segments {other.name!r} and {seg.name!r} both write the CDI attribute {seg.cdi_attribute!r}",
                seg.location,
                f"give one of them another cdi_attribute (the other is at {other.location})",
            )
