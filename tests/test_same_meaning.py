"""SPEC 7 "the same project and as_of give identical memberships on every engine": guards
against constructs that would silently mean different things on different engines.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import run_cli, write_project

GOLDEN = Path(__file__).parent / "golden"
SOURCES = "users:\n  table: main.users\n  id: external_id\n  attributes: {country: string}\n"


@pytest.mark.parametrize("pattern", ["a(?i)b", "(?s)a.b", "(?i:kr)", "(?im)^k"])
def test_regex_flags_other_than_a_leading_case_flag_are_rejected(tmp_path: Path, pattern: str) -> None:
    """RE2 (DuckDB) honours inline flags anywhere, Snowflake takes flags as a parameter and
    PostgreSQL only at the start: anything but a leading `(?i)` would differ by engine."""
    segment = f"segments:\n  - name: a\n    where:\n      attribute: country\n      matches_regex: '{pattern}'\n"
    root = write_project(tmp_path / "p", {"models/sources.yml": SOURCES, "models/a.yml": segment})
    result = run_cli("--project-dir", str(root), "compile")
    assert result.code == 2, result.output
    assert result.err.startswith("error: models/a.yml:5:") and "only a leading (?i)" in result.err


# Functions and syntax of other engines that a compile target does not have.
FOREIGN = {
    "bigquery": r"\b(JSON_EXTRACT_STRING|LIST_\w+|JSONB_\w+|EPOCH_MS|TO_TIMESTAMP|REGEXP_MATCHES|RADIANS|GET_PATH|TRY_PARSE_JSON|ARRAY_CONTAINS)\(",
    "databricks": r"\b(JSON_EXTRACT_STRING|JSON_TYPE|JSON_QUERY|LIST_\w+|JSONB_\w+|EPOCH_MS|TO_HEX|GET_PATH|TRY_PARSE_JSON)\(",
    "redshift": r"\bJSONB|\b(TO_TIMESTAMP|JSON_EXTRACT_STRING|JSON_EXTRACT|LIST_\w+|EPOCH_MS|GET_PATH)\(|\bRANGE BETWEEN\b",
}


@pytest.mark.parametrize("dialect", sorted(FOREIGN))
def test_compiled_sql_uses_only_functions_of_its_own_dialect(dialect: str) -> None:
    offending = sorted(str(p.relative_to(GOLDEN)) for p in GOLDEN.rglob(f"*.{dialect}.sql") if re.search(FOREIGN[dialect], p.read_text(encoding="utf-8")))
    assert not offending, f"{dialect} SQL calls functions {dialect} does not have: {offending}"
