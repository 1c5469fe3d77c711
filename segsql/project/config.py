"""`segsql_project.yml` and `profiles.yml`: project settings and the connection target."""

from __future__ import annotations

import json
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

PROJECT_FILE = "segsql_project.yml"
PROFILES_FILE = "profiles.yml"
ENGINE_TYPES = ("duckdb", "snowflake", "postgres")
_PROJECT_KEYS = {"name", "profile", "vars", "bucket_salt", "timezone", "table_prefix", "cdi"}


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
            f"use one of {', '.join(sorted(_PROJECT_KEYS))}",
        )
    vars_ = data.get("vars") or {}
    _expect(isinstance(vars_, dict), "vars must be a mapping", loc.at(key_line(data, "vars")), "write vars: {name: value}")
    tz = str(data.get("timezone", "UTC"))
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ProjectError(
            f"unknown time zone {tz!r}", loc.at(key_line(data, "timezone")), "use an IANA name such as Asia/Seoul"
        ) from None
    prefixes = data.get("table_prefix") or {}
    cdi = data.get("cdi") or {}
    _expect(isinstance(prefixes, dict), "table_prefix must be a mapping", loc.at(key_line(data, "table_prefix")), "write table_prefix: {segment: seg_, funnel: funnel_}")
    _expect(isinstance(cdi, dict), "cdi must be a mapping", loc.at(key_line(data, "cdi")), "write cdi: {table: cdi_segment_updates}")
    return ProjectConfig(
        name=str(data.get("name", "segsql_project")),
        profile=str(data.get("profile", "segsql")),
        vars={**plain(vars_), **cli_vars},
        bucket_salt=str(data.get("bucket_salt") or ""),
        timezone=tz,
        segment_prefix=str(prefixes.get("segment", "seg_")),
        funnel_prefix=str(prefixes.get("funnel", "funnel_")),
        cdi_table=str(cdi.get("table", "cdi_segment_updates")),
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
    """--profiles-dir, then the project folder, then ~/.segsql/ (as dbt looks them up)."""
    candidates = [profiles_dir / PROFILES_FILE] if profiles_dir else []
    candidates += [root / PROFILES_FILE, Path.home() / ".segsql" / PROFILES_FILE]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    where = str(candidates[0].parent) if profiles_dir else f"{root} or ~/.segsql/"
    raise UsageError(f"no profiles.yml found in {where}", hint="create one (see `segsql init`) or pass --profiles-dir")


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
            hint=f"use one of: {', '.join(map(str, outputs))}",
        )
    tloc = loc.at(key_line(outputs, str(name)))
    _expect(isinstance(outputs[name], dict), f"target {name!r} must be a mapping", tloc, "add type: duckdb and its settings")
    settings, secrets = _render_settings(outputs, str(name), loc, env)
    kind = settings.get("type")
    _expect(kind in ENGINE_TYPES, f"target {name!r} has type {kind!r}", tloc, f"use one of {', '.join(ENGINE_TYPES)}")
    check_target(str(kind), str(name), settings, outputs[name], loc)
    return Target(profile, str(name), str(kind), settings, secrets | secret_values(settings), tloc)
