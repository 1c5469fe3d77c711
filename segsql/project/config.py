"""`segsql_project.yml` and `profiles.yml`: project settings and the connection target."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from segsql.errors import Location, ProjectError, UsageError
from segsql.project.targets import check_target, secret_values
from segsql.project.templating import EnvVars
from segsql.project.yaml_lines import key_line, plain
from segsql.util.engines import ENGINES
from segsql.util.suggest import suggest

PROJECT_FILE = "segsql_project.yml"
PROFILES_FILE = "profiles.yml"
_PROJECT_KEYS = {"name", "profile", "vars", "bucket_salt", "timezone", "table_prefix", "cdi", "consent", "planner"}
#: `planner: {strategy: ...}`: how a run groups segments into queries (auto: by the cost rule)
PLANNER_STRATEGIES = ("auto", "fused", "per_name", "grouped", "split")
_CHANNEL_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
#: segsql's scratch (`__segsql_*`) and state (`segsql_runs`, ...) tables; user-named tables must not start so.
RESERVED_TABLE_PREFIXES = ("segsql_", "__segsql")
_TABLE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PREFIX_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)?$")


@dataclass(frozen=True)
class ProjectConfig:
    """Settings of `segsql_project.yml`, with SPEC defaults for everything omitted."""

    name: str = "segsql_project"
    profile: str = "segsql"
    vars: dict[str, Any] = field(default_factory=dict)
    bucket_salt: str = ""
    timezone: str = "UTC"
    segment_prefix: str = "seg_"
    funnel_prefix: str = "funnel_"
    cdi_table: str = "cdi_segment_updates"
    #: SPEC 8.4: channel → its consent filter as written (YAML with lines; definitions parses
    #: it), with the location of each channel's line
    consent: dict[str, Any] = field(default_factory=dict)
    consent_locations: dict[str, Location] = field(default_factory=dict)
    #: how a run groups its segments into queries: auto (the cost rule) or one forced strategy
    planner_strategy: str = "auto"


@dataclass(frozen=True)
class Target:
    """One output of a profile: engine type and its settings. `secrets` are redacted."""

    profile: str
    name: str
    type: str
    settings: dict[str, Any]
    secrets: frozenset[str] = frozenset()
    location: Location | None = None

    @property
    def schema(self) -> str | None:
        value = self.settings.get("schema")
        return str(value) if value is not None else None


def _expect(cond: bool, message: str, loc: Location, hint: str) -> None:
    if not cond:
        raise ProjectError(message, loc, hint)


def _text(data: dict[str, Any], key: str, default: str, loc: Location) -> str:
    """A setting that must be a plain scalar; a list or mapping is a mistake, not text."""
    value = data.get(key, default)
    _expect(
        not isinstance(value, dict | list | bool),
        f"`{key}` must be text, got {value!r}",
        loc.at(key_line(data, key)),
        f"write `{key}: <text>`",
    )
    return "" if value is None else str(value)


def _settings(data: dict[str, Any], key: str, allowed: tuple[str, ...], loc: Location, example: str) -> dict[str, Any]:
    """A nested mapping such as `table_prefix:` whose keys are checked like the top level."""
    value = data.get(key) or {}
    where = loc.at(key_line(data, key))
    _expect(isinstance(value, dict), f"`{key}` must be a mapping", where, f"write {key}: {example}")
    for sub in value:
        _expect(sub in allowed, f"unknown key {sub!r} in `{key}`", loc.at(key_line(value, sub)), suggest(str(sub), allowed))
    return value


def _table_name(value: str, what: str, where: Location, *, prefix: bool = False) -> str:
    """Names segsql creates tables with: plain identifiers that cannot hit its own scratch/state tables."""
    pattern = _PREFIX_RE if prefix else _TABLE_RE
    _expect(bool(pattern.match(value)), f"{what} {value!r} is not a plain table name", where, "use letters, digits and _ (not starting with a digit)")
    _expect(
        prefix or not value.lower().startswith(RESERVED_TABLE_PREFIXES),
        f"{what} {value!r} is reserved for segsql's own tables",
        where,
        f"choose a name not starting with {' or '.join(RESERVED_TABLE_PREFIXES)}",
    )
    return value


def parse_project_config(data: Any, loc: Location, cli_vars: dict[str, Any]) -> ProjectConfig:
    """Validate the parsed `segsql_project.yml` (or None when the file is absent)."""
    if data is None:
        return ProjectConfig(vars=dict(cli_vars))
    _expect(isinstance(data, dict), "segsql_project.yml must be a mapping", loc, "write key: value pairs")
    for key in data:
        _expect(
            key in _PROJECT_KEYS,
            f"unknown key {key!r} in segsql_project.yml",
            loc.at(key_line(data, key)),
            suggest(str(key), sorted(_PROJECT_KEYS)),
        )
    vars_ = data.get("vars") or {}
    _expect(isinstance(vars_, dict), "vars must be a mapping", loc.at(key_line(data, "vars")), "write vars: {name: value}")
    tz = _text(data, "timezone", "UTC", loc)
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ProjectError(
            f"unknown time zone {tz!r}", loc.at(key_line(data, "timezone")), "use an IANA name such as Asia/Seoul"
        ) from None
    prefixes = _settings(data, "table_prefix", ("segment", "funnel"), loc, "{segment: seg_, funnel: funnel_}")
    cdi = _settings(data, "cdi", ("table",), loc, "{table: cdi_segment_updates}")
    segment_prefix, funnel_prefix = (
        _table_name(_text(prefixes, kind, default, loc), f"table_prefix.{kind}", loc.at(key_line(prefixes, kind)), prefix=True)
        for kind, default in (("segment", "seg_"), ("funnel", "funnel_"))
    )
    _expect(
        segment_prefix != funnel_prefix,
        f"segment and funnel tables share the prefix {segment_prefix!r}",
        loc.at(key_line(data, "table_prefix")),
        "give them different prefixes so their tables cannot collide",
    )
    planner = _settings(data, "planner", ("strategy",), loc, "{strategy: auto}")
    strategy = _text(planner, "strategy", "auto", loc)
    _expect(strategy in PLANNER_STRATEGIES, f"unknown planner strategy {strategy!r}", loc.at(key_line(planner, "strategy")), suggest(strategy, PLANNER_STRATEGIES))
    consent = data.get("consent") or {}
    _expect(isinstance(consent, dict), "`consent` must be a mapping of channels to filters", loc.at(key_line(data, "consent")), "write consent: {email: {attribute: email_opt_in, equals: true}}")
    for channel in consent:
        where = loc.at(key_line(consent, channel))
        _expect(isinstance(channel, str) and bool(_CHANNEL_RE.match(channel)), f"bad channel name {channel!r} in `consent`", where, "use lower-case letters, digits and _ (e.g. email, push, sms)")
        _expect(consent[channel] is not None, f"channel {channel!r} has no consent filter", where, f"write {channel}: {{attribute: <attribute>, equals: true}}")
    return ProjectConfig(
        consent=dict(consent),
        consent_locations={str(c): loc.at(key_line(consent, c)) for c in consent},
        name=_text(data, "name", "segsql_project", loc),
        profile=_text(data, "profile", "segsql", loc),
        vars={**plain(vars_), **cli_vars},
        bucket_salt=_text(data, "bucket_salt", "", loc),
        timezone=tz,
        segment_prefix=segment_prefix,
        funnel_prefix=funnel_prefix,
        planner_strategy=strategy,
        cdi_table=_table_name(_text(cdi, "table", "cdi_segment_updates", loc), "cdi.table", loc.at(key_line(cdi, "table"))),
    )


def parse_cli_vars(text: str | None) -> dict[str, Any]:
    """`--vars '{...}'`: a JSON (or YAML flow) object."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise UsageError(f"--vars is not valid JSON: {err.msg}", hint="pass an object such as '{\"lookback_days\": 7}'") from None
    if not isinstance(value, dict):
        raise UsageError("--vars must be a JSON object", hint="pass an object such as '{\"lookback_days\": 7}'")
    return value


def find_profiles_file(root: Path, profiles_dir: Path | None) -> Path:
    """--profiles-dir alone when given (a typo must not silently pick another file, as in
    dbt), else the project folder, then ~/.segsql/."""
    if profiles_dir is not None:
        candidate = profiles_dir / PROFILES_FILE
        if not candidate.is_file():
            raise UsageError(f"--profiles-dir {profiles_dir}: no {PROFILES_FILE} there", hint="pass the folder that holds profiles.yml")
        return candidate
    for candidate in (root / PROFILES_FILE, Path.home() / ".segsql" / PROFILES_FILE):
        if candidate.is_file():
            return candidate
    raise UsageError(f"no profiles.yml found in {root} or ~/.segsql/", hint="create one (see `segsql init`) or pass --profiles-dir")


def _render_settings(outputs: Any, name: str, loc: Location, env: SandboxedEnvironment) -> tuple[dict[str, Any], frozenset[str]]:
    """Render the Jinja in the chosen target's values only (as dbt does): other targets'
    `env_var` calls need not be set. Returns the settings and the env_var values to redact."""
    env_vars = EnvVars()
    target_node = outputs[name]
    settings: dict[str, Any] = {}
    for key, value in plain(target_node).items():
        if isinstance(value, str) and ("{{" in value or "{%" in value):
            where = loc.at(key_line(target_node, key))
            try:
                value = env.from_string(value).render(env_var=env_vars)
            except ProjectError as err:
                raise ProjectError(err.message, where, err.hint) from None
            except jinja2.TemplateError as err:
                raise ProjectError(f"Jinja error in profile value `{key}`: {err}", where, "fix the template") from None
        settings[key] = value
    return settings, frozenset(env_vars.secrets)


def parse_target(data: Any, loc: Location, profile: str, target: str | None, env: SandboxedEnvironment) -> Target:
    """Pick the profile and target (`--target` or the profile's default), render and validate it."""
    _expect(isinstance(data, dict), "profiles.yml must be a mapping of profile names", loc, "see SPEC section 1")
    if profile not in data:
        raise ProjectError(
            f"profile {profile!r} not found in profiles.yml",
            loc,
            f"add it, or set `profile:` in segsql_project.yml to one of {', '.join(map(str, data)) or 'none'}",
        )
    prof = data[profile]
    ploc = loc.at(key_line(data, profile))
    _expect(isinstance(prof, dict) and isinstance(prof.get("outputs"), dict), f"profile {profile!r} needs `outputs:`", ploc, "add outputs: {dev: {type: duckdb, path: segsql.duckdb}}")
    outputs = prof["outputs"]
    name = target or prof.get("target") or next(iter(outputs), None)
    if name not in outputs:
        raise UsageError(
            f"target {name!r} not found in profile {profile!r}",
            hint=suggest(str(name), map(str, outputs), what="target"),
        )
    tloc = loc.at(key_line(outputs, str(name)))
    _expect(isinstance(outputs[name], dict), f"target {name!r} must be a mapping", tloc, "add type: duckdb and its settings")
    settings, secrets = _render_settings(outputs, str(name), loc, env)
    kind = settings.get("type")
    _expect(kind in ENGINES, f"target {name!r} has type {kind!r}", tloc, suggest(str(kind), list(ENGINES)))
    check_target(str(kind), str(name), settings, outputs[name], loc)
    return Target(profile, str(name), str(kind), settings, secrets | secret_values(settings), tloc)
