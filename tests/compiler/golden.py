"""The snapshot check shared by the golden SQL tests."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
import sqlglot

from segsql.run.compile import segment_sql
from segsql.run.session import Session

GOLDEN = Path(__file__).parent.parent / "golden"


def check_golden(session: Session, section: str, case: str, dialect: str, update_golden: bool) -> None:
    """Compile `case`, re-parse it in its dialect, and compare it with its snapshot (or write it)."""
    sql = segment_sql(session, case, dialect) + "\n"
    sqlglot.parse_one(sql, read=dialect)  # the snapshot is valid SQL in its own dialect
    path = GOLDEN / section / f"{case}.{dialect}.sql"
    if update_golden or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sql, encoding="utf-8")
        if not update_golden:
            pytest.fail(f"new golden file {path} written; review and commit it")
    expected = path.read_text(encoding="utf-8")
    if sql != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), sql.splitlines(True), str(path), "compiled"))
        pytest.fail(f"compiled SQL differs from the golden file (rerun with --update-golden if intended):\n{diff}")
