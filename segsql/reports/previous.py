"""The definitions of a previous `target/manifest.json`, rebuilt so they compile like the project's.

A manifest holds each segment, funnel, cluster model and cohort as rendered (vars and env vars
already substituted), the rendered sources, and the settings membership reads (time zone,
bucket salt, table prefixes): parsing those again gives the old definitions exactly as they
were compiled, so an old `funnel:` or `cluster:` leaf reads the old funnel or cluster model.
A manifest written before funnels and clusters were in it rebuilds its segments over today's.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from segsql.definitions.clusters import parse_cluster
from segsql.definitions.cohorts import parse_cohort
from segsql.definitions.dag import check_references
from segsql.definitions.funnels import parse_funnel
from segsql.definitions.parse_filters import FilterContext
from segsql.definitions.project import Definitions
from segsql.definitions.segments import Segment, SqlBody, parse_segment
from segsql.definitions.sources import parse_sources
from segsql.errors import Location, SegsqlError, UsageError
from segsql.run.manifest import MANIFEST, State


def previous_definitions(state: State, current: Definitions) -> Definitions:
    """The segments, funnels and cluster models of `state`'s manifest over its own sources and settings."""
    manifest = state.manifest
    where = Location(str(state.path / MANIFEST))
    settings: dict[str, Any] = manifest.get("settings") or {}
    if manifest.get("sources") is None or not settings:
        raise UsageError(f"{where.file} has no sources or settings to rebuild the old definitions from", hint="write the state with a segsql version that records them (any command that reads the project does)")
    try:
        sources = parse_sources(manifest["sources"], where)
        config = replace(
            current.config, timezone=settings["timezone"], bucket_salt=settings["bucket_salt"], segment_prefix=settings["segment_prefix"],
            funnel_prefix=settings.get("funnel_prefix", current.config.funnel_prefix),
        )
        ctx = FilterContext(sources, config.timezone)
        segments: dict[str, Segment] = {}
        for name, entry in state.segments.items():
            data = entry["definition"]
            sql_files: dict[str, SqlBody] = {}
            if entry.get("sql") is not None and "sql" not in data:  # a models/**/<name>.sql file
                sql_files[name] = SqlBody(entry["sql"]["text"], entry["sql"]["dialect"], where)
            segments[name] = parse_segment(data, where, ctx, sql_files)
        funnels = {n: parse_funnel(e["definition"], where, ctx) for n, e in state.funnels.items()} if "funnels" in manifest else current.funnels
        clusters = {n: parse_cluster(e["definition"], where, ctx) for n, e in state.clusters.items()} if "clusters" in manifest else current.clusters
        # a cohort without its definition (a manifest written before cohorts were diffed) has no old side
        cohorts = {n: parse_cohort(e["definition"], where, ctx) for n, e in state.cohorts.items() if "definition" in e}
        check_references({**segments, **funnels, **clusters})
    except SegsqlError as err:
        raise UsageError(f"cannot rebuild the definitions of {where.file}: {getattr(err, 'message', err)}", hint="write the state again with this segsql version (`segsql compile` on the base branch)") from None
    except (KeyError, TypeError) as err:
        raise UsageError(f"{where.file} is missing {err} needed to rebuild the old definitions", hint="write the state again with this segsql version (`segsql compile` on the base branch)") from None
    return replace(current, config=config, sources=sources, segments=segments, funnels=funnels, clusters=clusters, unit_tests={}, cohorts=cohorts)
