"""Load a project folder into one typed `LoadedProject` (files rendered and parsed, not yet validated)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from segsql.errors import Location, ProjectError, relative_file
from segsql.project.config import (
    PROJECT_FILE,
    ProjectConfig,
    Target,
    find_profiles_file,
    parse_project_config,
    parse_target,
)
from segsql.project.file_tables import sql_reference
from segsql.project.line_map import line_map
from segsql.project.templating import (
    EnvVars,
    load_macros,
    make_environment,
    read_text,
    render_file,
    render_for_hash,
)
from segsql.project.yaml_lines import parse_yaml

MODELS_DIR = "models"
MACROS_DIR = "macros"
SOURCES_FILE = "sources.yml"
REF_PREFIX = "__segsql_ref__"


@dataclass(frozen=True)
class ModelFile:
    """One rendered model file. `data` is the parsed YAML (None for SQL files); `lines` gives,
    for each rendered line of a SQL file, its 1-based line in the file as written."""

    path: str
    text: str
    data: Any = None
    lines: tuple[int, ...] | None = None
    #: for a file that uses `as_of`: its text (SQL) or parsed YAML rendered with `as_of` as a
    #: placeholder, which definition hashes read instead (None: the file does not use as_of)
    hash_text: str | None = None
    hash_data: Any = None

    @property
    def location(self) -> Location:
        return Location(self.path)


@dataclass(frozen=True)
class LoadedProject:
    """Everything read from disk; `definitions` turns it into typed objects."""

    root: Path
    config: ProjectConfig
    target: Target | None
    as_of: str
    sources: ModelFile | None
    yaml_files: list[ModelFile] = field(default_factory=list)
    sql_files: list[ModelFile] = field(default_factory=list)


def _var_function(values: dict[str, Any]) -> Any:
    def var(name: str, default: Any = None) -> Any:
        if name in values:
            return values[name]
        if default is not None:
            return default
        raise ProjectError(f"var {name!r} is not defined", hint="add it to `vars:` in segsql_project.yml or pass --vars")

    return var


def _source_function(sources: dict[str, Any]) -> Any:
    def source(name: str) -> str:
        entry = sources.get(name)
        if name in ("users", "events", "purchases") and isinstance(entry, dict) and entry.get("table"):
            return sql_reference(str(entry["table"]))
        catalogs = sources.get("catalogs") or {}
        if isinstance(catalogs, dict) and isinstance(catalogs.get(name), dict) and catalogs[name].get("table"):
            return sql_reference(str(catalogs[name]["table"]))
        raise ProjectError(f"unknown source {name!r}", hint="use users, events, purchases or a catalog of sources.yml")

    return source


def ref(name: str) -> str:
    """A placeholder table name; the compiler swaps it for the referenced segment's members."""
    return f"{REF_PREFIX}{name}"


def _read_config(root: Path, env: Any, base_context: dict[str, Any], cli_vars: dict[str, Any]) -> ProjectConfig:
    project_file = root / PROJECT_FILE
    config_data = None
    if project_file.is_file():
        text = render_file(env, root, project_file, {**base_context, "var": _var_function(cli_vars)})
        config_data = parse_yaml(text, Location(PROJECT_FILE))
    return parse_project_config(config_data, Location(PROJECT_FILE), cli_vars)


def _read_target(root: Path, config: ProjectConfig, profiles_dir: Path | None, target: str | None) -> Target:
    profiles_file = find_profiles_file(root, profiles_dir)
    loc = Location(relative_file(profiles_file, root))
    raw = parse_yaml(read_text(profiles_file, loc), loc)
    return parse_target(raw, loc, config.profile, target, make_environment(profiles_file.parent))


def load_target(
    root: Path,
    *,
    as_of: str,
    cli_vars: dict[str, Any] | None = None,
    profiles_dir: Path | None = None,
    target: str | None = None,
) -> tuple[ProjectConfig, Target]:
    """Only `segsql_project.yml` and `profiles.yml`: enough to connect while a model file is
    broken, which is what `segsql debug` needs to check the two separately."""
    root = root.resolve()
    config = _read_config(root, make_environment(root), {"env_var": EnvVars(), "as_of": as_of}, cli_vars or {})
    return config, _read_target(root, config, profiles_dir, target)


def _parse_for_hash(text: str | None, rel: str) -> Any:
    """The placeholder rendering of a YAML file, parsed; None when it cannot be (a date that
    is only valid with a real as_of): its definitions then hash their real text."""
    if text is None:
        return None
    try:
        return parse_yaml(text, Location(rel))
    except ProjectError:
        return None


def load_project(
    root: Path,
    *,
    as_of: str,
    cli_vars: dict[str, Any] | None = None,
    profiles_dir: Path | None = None,
    target: str | None = None,
    need_target: bool = True,
) -> LoadedProject:
    """Read config, profile and every model file of the project at `root`."""
    root = root.resolve()
    if not (root / MODELS_DIR).is_dir():
        raise ProjectError(f"no {MODELS_DIR}/ folder in {root}", hint="pass --project-dir, or create one with `segsql init`")
    env = make_environment(root)
    base_context: dict[str, Any] = {"env_var": EnvVars(), "as_of": as_of}
    config = _read_config(root, env, base_context, cli_vars or {})
    loaded_target = _read_target(root, config, profiles_dir, target) if need_target else None

    models = root / MODELS_DIR
    sources_path = models / SOURCES_FILE
    context = {**base_context, "var": _var_function(config.vars), "ref": ref}
    sources_file = None
    sources_data: dict[str, Any] = {}
    if sources_path.is_file():
        text = render_file(env, root, sources_path, context)
        data = parse_yaml(text, Location(relative_file(sources_path, root)), sources_path.read_text(encoding="utf-8"))
        sources_file = ModelFile(relative_file(sources_path, root), text, data)
        sources_data = data if isinstance(data, dict) else {}
    context["source"] = _source_function(sources_data)

    macro_files = sorted((models / MACROS_DIR).glob("*.sql"))
    env.globals.update(context)
    env.globals.update(load_macros(env, root, macro_files))

    yaml_files, sql_files = [], []
    for path in sorted(models.rglob("*")):
        if not path.is_file() or path == sources_path or path in macro_files:
            continue
        rel = relative_file(path, root)
        if path.suffix in (".yml", ".yaml"):
            text = render_file(env, root, path, {})
            source = path.read_text(encoding="utf-8")
            data = parse_yaml(text, Location(rel), source)
            hash_text = render_for_hash(env, root, path, source)
            yaml_files.append(ModelFile(rel, text, data, hash_data=_parse_for_hash(hash_text, rel)))
        elif path.suffix == ".sql":
            text = render_file(env, root, path, {})
            source = path.read_text(encoding="utf-8")
            lines = tuple(line + 1 for line in line_map(source, text))
            sql_files.append(ModelFile(rel, text, lines=lines, hash_text=render_for_hash(env, root, path, source)))
    return LoadedProject(root, config, loaded_target, as_of, sources_file, yaml_files, sql_files)
