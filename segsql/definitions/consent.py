"""Consent channels (SPEC 8.4): `consent:` of segsql_project.yml and `channels:` of segments.

A channel is a filter of section 3 evaluated per user at each run; a segment that lists
channels keeps every member in its table, but CDI sees as members only those who satisfy
every listed channel. A consent filter may not read a segment: consent is a fact about
the user, and a segment that reads itself through its own channel would be a cycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from segsql.definitions.filters import Filter, SegmentRef, walk
from segsql.definitions.meaning import meaning
from segsql.definitions.parse_filters import FilterContext, parse_filter
from segsql.definitions.segments import Segment
from segsql.errors import Location, ProjectError
from segsql.project.config import ProjectConfig
from segsql.util.suggest import suggest


@dataclass(frozen=True)
class Channel:
    name: str
    where: Filter
    location: Location = field(compare=False, repr=False)


def parse_channels(config: ProjectConfig, ctx: FilterContext) -> dict[str, Channel]:
    """Each channel's consent filter, parsed like a segment's `where:`."""
    channels: dict[str, Channel] = {}
    for name, data in config.consent.items():
        loc = config.consent_locations[name]
        where = parse_filter(data, loc, ctx)
        for node in walk(where):
            if isinstance(node, SegmentRef):
                raise ProjectError(f"the consent filter of channel {name!r} reads segment {node.segment!r}", node.location, "consent filters read attributes and behaviour, not segments: copy the condition here")
        channels[name] = Channel(name, where, loc)
    return channels


def check_channels(segments: Mapping[str, Segment], channels: Mapping[str, Channel]) -> None:
    """Every `channels:` entry names a channel of `consent:`; an ephemeral segment has no CDI to gate."""
    for seg in segments.values():
        if not seg.channels:
            continue
        at = seg.channels_location or seg.location
        if seg.materialized != "table":
            raise ProjectError(f"ephemeral segment {seg.name!r} lists channels, but it has no table or CDI rows to gate", at, "drop `channels:` or use materialized: table")
        for name in seg.channels:
            if name not in channels:
                hint = suggest(name, sorted(channels), what="channel") if channels else "declare it under `consent:` in segsql_project.yml, e.g. consent: {email: {attribute: email_opt_in, equals: true}}"
                raise ProjectError(f"segment {seg.name!r} lists unknown channel {name!r}", at, hint + ("" if not channels else " (channels are declared under `consent:` in segsql_project.yml)"))


def with_consent(segments: Mapping[str, Segment], channels: Mapping[str, Channel]) -> dict[str, Segment]:
    """Each segment with the meaning of its channels' filters, so editing one marks it modified."""
    return {
        name: replace(seg, consent={c: meaning(channels[c].where) for c in seg.channels}) if seg.channels else seg
        for name, seg in segments.items()
    }
