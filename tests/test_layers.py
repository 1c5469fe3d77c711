"""The import table of DESIGN.md: each layer imports only the layers below it."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "segsql"

ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "util": set(),
    "project": {"errors", "util"},
    "definitions": {"errors", "util", "project"},
    "compiler": {"errors", "util", "project", "definitions", "planner"},
    "planner": {"errors", "util", "project", "definitions"},
    "engines": {"errors", "util"},
    "run": {"errors", "util", "project", "definitions", "compiler", "planner", "engines", "run"},
    "reports": {"errors", "util", "project", "definitions", "compiler", "planner", "engines", "run", "reports"},
    "demo": {"errors", "util", "project", "definitions", "compiler", "planner", "engines", "run", "demo"},
    "cli": {"errors", "util", "project", "definitions", "compiler", "planner", "engines", "run", "reports", "demo", "cli"},
}
DRIVERS = {"duckdb", "snowflake", "psycopg", "matplotlib", "plotly", "altair", "vl_convert", "playwright", "pygments", "grandalf"}


def _layer(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(module, at top level?) for every import in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, id(node) in top) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, id(node) in top))
    return found


def test_layers_import_only_what_the_table_allows() -> None:
    violations = []
    for path in PACKAGE.rglob("*.py"):
        layer = _layer(path)
        if layer in ("__init__", "__main__"):
            continue
        allowed = ALLOWED[layer] | {layer}
        for module, _ in _imports(path):
            parts = module.split(".")
            if parts[0] == "segsql" and len(parts) > 1 and parts[1] not in allowed and parts[1] != "__init__":
                violations.append(f"{path.relative_to(PACKAGE)} ({layer}) imports {module}")
    assert not violations, "\n".join(violations)


def test_drivers_are_imported_lazily_inside_functions() -> None:
    eager = [
        f"{path.relative_to(PACKAGE)} imports {module} at module level"
        for path in PACKAGE.rglob("*.py")
        for module, top in _imports(path)
        if top and module.split(".")[0] in DRIVERS
    ]
    assert not eager, "\n".join(eager)


def test_util_imports_only_the_standard_library() -> None:
    bad = [
        f"{path.relative_to(PACKAGE)} imports {module}"
        for path in (PACKAGE / "util").rglob("*.py")
        for module, _ in _imports(path)
        if module.split(".")[0] not in sys.stdlib_module_names and not module.startswith("segsql.util") and module != "__future__"
    ]
    assert not bad, "\n".join(bad)
