"""Sandboxed Jinja rendering of model files, profiles and project config.

Files are loaded through a FileSystemLoader so that a runtime error keeps the template's
real file name and line; default settings keep line counts, so line N of the rendered
YAML is line N of the file the user wrote.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from segsql.errors import Location, ProjectError, relative_file

_MISSING = object()
#: `as_of` as model files are rendered a second time for definition hashes: a template that
#: uses `{{ as_of }}` then hashes the same at every as_of, so `state:modified` does not select
#: it on every run (only what the user wrote, vars and env vars change the hash).
AS_OF_PLACEHOLDER = "__segsql_as_of__"


class EnvVars:
    """`env_var(name, default)`; remembers the values it hands out so they can be redacted."""

    def __init__(self) -> None:
        self.secrets: set[str] = set()

    def __call__(self, name: str, default: Any = _MISSING) -> Any:
        value = os.environ.get(name)
        if value is None:
            if default is _MISSING:
                raise ProjectError(
                    f"environment variable {name!r} is not set",
                    hint=f"export {name}=... or give env_var('{name}', <default>) a default",
                )
            value = default
        if isinstance(value, str) and len(value) >= 4:
            self.secrets.add(value)
        return value


def make_environment(root: Path) -> SandboxedEnvironment:
    """A sandboxed environment over the project root where undefined names are errors."""
    return SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(str(root)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )


def _template_line(root: Path, file: Path) -> int | None:
    """The innermost traceback line that belongs to `file` (Jinja rewrites frames to templates)."""
    tb = sys.exc_info()[2]
    line = None
    target = str(file.resolve())
    while tb is not None:
        frame_file = tb.tb_frame.f_code.co_filename
        if frame_file == target or frame_file == str(file):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def render_file(
    env: SandboxedEnvironment,
    root: Path,
    file: Path,
    context: dict[str, Any],
    text: str | None = None,
) -> str:
    """Render one file; every Jinja failure becomes a ProjectError at the file and line."""
    rel = relative_file(file, root)
    loc = Location(rel)
    try:
        if text is None:
            template = env.get_template(Path(rel).as_posix())
        else:
            template = env.from_string(text)
            template.filename = str(file.resolve())
        return template.render(**context)
    except jinja2.TemplateSyntaxError as err:
        raise ProjectError(
            f"Jinja syntax error: {err.message}", loc.at(err.lineno), "fix the template syntax"
        ) from None
    except UnicodeDecodeError as err:
        raise _not_utf8(loc, err) from None
    except jinja2.UndefinedError as err:
        raise ProjectError(
            f"Jinja error: {err.message}",
            loc.at(_template_line(root, file)),
            "define the name (var, macro) or remove the reference",
        ) from None
    except ProjectError as err:
        if err.location is None:
            raise ProjectError(err.message, loc.at(_template_line(root, file)), err.hint) from None
        raise
    except jinja2.TemplateError as err:
        raise ProjectError(
            f"Jinja error: {err}", loc.at(_template_line(root, file)), "fix the template"
        ) from None
    except Exception as err:  # an error raised by a user's macro expression
        raise ProjectError(
            f"Jinja error: {type(err).__name__}: {err}",
            loc.at(_template_line(root, file)),
            "fix the template expression",
        ) from None


def render_for_hash(env: SandboxedEnvironment, root: Path, file: Path, source: str) -> str | None:
    """The file rendered with `as_of` as AS_OF_PLACEHOLDER, or None when it does not use `as_of`
    (its rendered text hashes the same at every as_of already)."""
    if "as_of" not in source:
        return None
    try:
        return render_file(env, root, file, {"as_of": AS_OF_PLACEHOLDER})
    except ProjectError:  # a template that computes with as_of: hash what it rendered for real
        return None


def read_text(file: Path, loc: Location) -> str:
    """A project file as text; anything but UTF-8 is a user mistake, not a crash."""
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise _not_utf8(loc, err) from None


def _not_utf8(loc: Location, err: UnicodeDecodeError) -> ProjectError:
    return ProjectError(f"file is not UTF-8 text (byte {err.object[err.start]:#04x} at offset {err.start})", loc, "save the file as UTF-8")


def load_macros(env: SandboxedEnvironment, root: Path, files: list[Path]) -> dict[str, Callable[..., Any]]:
    """Load every macro of `models/macros/*.sql` so all model files can call them by name."""
    macros: dict[str, Callable[..., Any]] = {}
    for file in files:
        rel = Path(relative_file(file, root)).as_posix()
        try:
            template = env.get_template(rel)
            try:
                module = template.module
            except Exception:
                env.handle_exception()  # re-raise with frames rewritten to template lines
        except jinja2.TemplateSyntaxError as err:
            raise ProjectError(
                f"Jinja syntax error: {err.message}", Location(rel, err.lineno), "fix the macro"
            ) from None
        except UnicodeDecodeError as err:
            raise _not_utf8(Location(rel), err) from None
        except Exception as err:  # top-level code of a macro file runs on import
            message = err.message if isinstance(err, jinja2.TemplateError) and err.message else f"{type(err).__name__}: {err}"
            raise ProjectError(f"Jinja error: {message}", Location(rel, _template_line(root, file)), "fix the macro file") from None
        for name in dir(module):
            value = getattr(module, name)
            if isinstance(value, jinja2.runtime.Macro):
                macros[name] = value
    return macros
