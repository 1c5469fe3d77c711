"""All definitions of a project, validated: sources, segments and the graph between them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from segsql.definitions.canonical import environment, models_read
from segsql.definitions.clusters import Cluster, check_clusters, parse_cluster
from segsql.definitions.cohorts import Cohort, check_cohorts, parse_cohort
from segsql.definitions.consent import Channel, check_channels, parse_channels, with_consent
from segsql.definitions.dag import Model, check_cycles, check_references
from segsql.definitions.funnels import Funnel, check_funnels, parse_funnel
from segsql.definitions.meaning import meaning
from segsql.definitions.names import (
    check_cdi_attributes,
    check_funnel_tables,
    check_tables,
    taken_tables,
)
from segsql.definitions.parse_filters import FilterContext
from segsql.definitions.reader import NAME_RE, Node
from segsql.definitions.segments import Segment, SqlBody, parse_segment
from segsql.definitions.sources import Sources, parse_sources
from segsql.definitions.unit_tests import UnitTest, parse_unit_test
from segsql.errors import Location, ProjectError
from segsql.project.config import ProjectConfig
from segsql.project.loader import LoadedProject
from segsql.util.suggest import suggest

TOP_LEVEL_KEYS = ("segments", "funnels", "unit_tests", "cohorts", "clusters")


@dataclass(frozen=True)
class Definitions:
    """The typed project: what the planner and compiler work from."""

    config: ProjectConfig
    sources: Sources
    segments: dict[str, Segment]
    unit_tests: dict[str, UnitTest] = field(default_factory=dict)
    funnels: dict[str, Funnel] = field(default_factory=dict)
    #: SPEC 8.4: consent channels of segsql_project.yml
    channels: dict[str, Channel] = field(default_factory=dict)
    #: SPEC 8.2: cohort retention models
    cohorts: dict[str, Cohort] = field(default_factory=dict)
    #: SPEC 8.1: k-means cluster models
    clusters: dict[str, Cluster] = field(default_factory=dict)

    @property
    def models(self) -> Mapping[str, Model]:
        """Every model of every kind by name (names are unique across kinds): the DAG's nodes."""
        return {**self.segments, **self.funnels, **self.cohorts, **self.clusters}


def build_definitions(project: LoadedProject) -> Definitions:
    """Validate every model file into typed definitions; the first mistake raises."""
    sources_loc = Location(project.sources.path) if project.sources else Location("models/sources.yml")
    sources = parse_sources(project.sources.data if project.sources else None, sources_loc)
    ctx = FilterContext(sources, project.config.timezone)
    sql_files: dict[str, SqlBody] = {}
    for f in project.sql_files:
        stem = Path(f.path).stem
        if not NAME_RE.match(stem):
            raise ProjectError(f"bad SQL segment file name {stem!r}", f.location, "name SQL files like segment names: lower-case letters, digits, _")
        if stem in sql_files:
            raise ProjectError(f"two SQL files define segment {stem!r}", f.location, f"rename one of them (the other is {sql_files[stem].location})")
        sql_files[stem] = SqlBody(f.text, None, f.location.at(1), f.lines, hash_text=f.hash_text)

    segments: dict[str, Segment] = {}
    unit_tests: dict[str, UnitTest] = {}
    funnels: dict[str, Funnel] = {}
    cohorts: dict[str, Cohort] = {}
    clusters: dict[str, Cluster] = {}
    for f in project.yaml_files:
        if f.data is None:
            continue
        node = Node(f.data, f.location.at(1), f"model file {f.path}")
        node.check_keys(TOP_LEVEL_KEYS)
        if node.has("segments"):
            hashed = f.hash_data.get("segments") if isinstance(f.hash_data, dict) else None
            items = node.items("segments", "segment")
            for i, (item, loc) in enumerate(items):
                seg = parse_segment(item, loc, ctx, sql_files, hashed[i] if isinstance(hashed, list) and len(hashed) == len(items) else None)
                if seg.name in segments:
                    raise ProjectError(f"segment {seg.name!r} is defined twice", seg.location, f"rename one (the other is at {segments[seg.name].location})")
                segments[seg.name] = seg
        if node.has("unit_tests"):
            for item, loc in node.items("unit_tests", "unit test"):
                test = parse_unit_test(item, loc, sources)
                if test.name in unit_tests:
                    raise ProjectError(f"unit test {test.name!r} is defined twice", test.location, f"rename one (the other is at {unit_tests[test.name].location})")
                unit_tests[test.name] = test
        if node.has("funnels"):
            for item, loc in node.items("funnels", "funnel"):
                funnel = parse_funnel(item, loc, ctx)
                if funnel.name in funnels:
                    raise ProjectError(f"funnel {funnel.name!r} is defined twice", funnel.location, f"rename one (the other is at {funnels[funnel.name].location})")
                funnels[funnel.name] = funnel
        if node.has("cohorts"):
            for item, loc in node.items("cohorts", "cohort"):
                cohort = parse_cohort(item, loc, ctx)
                if cohort.name in cohorts:
                    raise ProjectError(f"cohort {cohort.name!r} is defined twice", cohort.location, f"rename one (the other is at {cohorts[cohort.name].location})")
                cohorts[cohort.name] = cohort
        if node.has("clusters"):
            for item, loc in node.items("clusters", "cluster model"):
                cluster = parse_cluster(item, loc, ctx)
                others: dict[str, Cluster | Funnel | Cohort] = {**funnels, **cohorts, **clusters}
                if cluster.name in others:
                    other = others[cluster.name]
                    raise ProjectError(f"cluster model {cluster.name!r} is defined twice", cluster.location, f"rename one (the other is at {other.location})")
                clusters[cluster.name] = cluster
    for stem, body in sql_files.items():
        if stem not in segments:
            segments[stem] = parse_segment({"name": stem}, body.location, ctx, sql_files)
    funnels = {n: replace(f, environment=_environment(f, sources, project.config)) for n, f in funnels.items()}
    clusters = {n: replace(c, environment=_environment(c, sources, project.config)) for n, c in clusters.items()}
    cohorts = {n: replace(c, environment=_environment(c, sources, project.config)) for n, c in cohorts.items()}
    hashes = {"funnel": {n: f.membership_hash() for n, f in funnels.items()}, "cluster": {n: c.membership_hash() for n, c in clusters.items()}}
    for name, seg in segments.items():
        env = environment(meaning(seg.where), seg.sql is not None, sources, project.config.timezone, project.config.bucket_salt)
        reads = models_read(meaning(seg.where), hashes)
        segments[name] = replace(seg, environment={**env, **reads} if env is not None and reads else env)
    check_tables(segments, project.config, sources)
    check_cdi_attributes(segments)
    check_clusters(clusters, segments, taken_tables(segments, funnels, project.config, sources))
    check_funnels(funnels, segments)
    for funnel in funnels.values():  # selectors and the DAG name models, whatever their kind
        if funnel.name in segments:
            raise ProjectError(f"funnel {funnel.name!r} has the name of a segment", funnel.location, f"rename one of them (the segment is at {segments[funnel.name].location})")
    check_references({**segments, **clusters, **funnels})
    check_cycles({**segments, **clusters, **funnels})
    check_unit_tests(unit_tests, segments, funnels)
    check_funnel_tables(funnels, segments, project.config, sources)
    check_cohorts(cohorts, {**segments, **funnels, **clusters}, segments, taken_tables(segments, funnels, project.config, sources))
    channels = parse_channels(project.config, ctx)
    check_channels(segments, channels)
    return Definitions(project.config, sources, with_consent(segments, channels), unit_tests, funnels, channels=channels, cohorts=cohorts, clusters=clusters)


def _environment(model: Funnel | Cluster | Cohort, sources: Sources, config: ProjectConfig) -> object:
    """What a funnel, cluster or cohort reads beyond its YAML, for its membership hash."""
    return environment(meaning(model), False, sources, config.timezone, config.bucket_salt)


def check_unit_tests(tests: dict[str, UnitTest], segments: dict[str, Segment], funnels: dict[str, Funnel]) -> None:
    """A test names a segment (or funnel) of the project, and no segment shares its name (selectors name both)."""
    for test in tests.values():
        if test.name in segments:
            raise ProjectError(f"unit test {test.name!r} has the name of a segment", test.location, f"rename the test (the segment is at {segments[test.name].location}), e.g. {test.name}_test")
        if test.kind == "funnel" and test.model not in funnels:
            raise ProjectError(f"unit test {test.name!r} tests unknown funnel {test.model!r}", test.location, suggest(test.model, funnels, what="funnel"))
        if test.kind == "funnel" and test.expect.furthest_step is None:
            raise ProjectError(f"unit test {test.name!r} of funnel {test.model!r} has no `furthest_step`", test.location, "add expect: {furthest_step: {u1: 2, u2: 0}}")
        if test.kind == "segment" and test.model not in segments:
            raise ProjectError(f"unit test {test.name!r} tests unknown segment {test.model!r}", test.location, f"fix the name (known: {', '.join(sorted(segments)) or 'none'})")
