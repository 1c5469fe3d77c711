"""SQL segments: one SELECT in its own dialect, parsed by sqlglot and made to return ids.

The user's SELECT is parsed in the segment's `dialect` and later generated in the
target's, so a segment written in Snowflake SQL runs on DuckDB. `ref()` placeholders
become subqueries of the referenced segment's members.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from segsql.compiler.registry import DIALECTS
from segsql.definitions.segments import Segment
from segsql.errors import ProjectError
from segsql.project.loader import REF_PREFIX
from segsql.util.suggest import suggest

ID_COLUMN = "external_user_id"


def _selects(query: exp.Expr) -> list[exp.Select]:
    if isinstance(query, exp.Select):
        return [query]
    if isinstance(query, exp.SetOperation):
        return _selects(query.left) + _selects(query.right)
    if isinstance(query, exp.Subquery):
        return _selects(query.this)
    return []


def parse_sql_segment(segment: Segment, target_dialect: str) -> exp.Query:
    """Parse and check a SQL segment; its single column is renamed `external_user_id`."""
    body = segment.sql
    assert body is not None
    dialect = body.dialect or target_dialect
    if dialect not in DIALECTS:
        raise ProjectError(f"unknown dialect {dialect!r} for SQL segment {segment.name!r}", body.dialect_location or segment.location, suggest(dialect, list(DIALECTS)))
    try:
        statements = [s for s in sqlglot.parse(body.text, read=dialect) if s is not None]
    except ParseError as err:
        first = err.errors[0] if err.errors else {}
        line = body.file_line(int(first.get("line", 1) or 1))
        detail = first.get("description") or str(err).splitlines()[0]
        raise ProjectError(f"SQL of segment {segment.name!r} does not parse as {dialect}: {detail}", body.location.at(line), "fix the SQL (or set `dialect:` to the dialect it is written in)") from None
    except TokenError as err:
        raise ProjectError(f"SQL of segment {segment.name!r} does not tokenize as {dialect}: {err}", body.location, "fix the SQL") from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise ProjectError(f"SQL of segment {segment.name!r} must be exactly one SELECT", body.location, "remove other statements")
    query = statements[0]
    selects = _selects(query)
    if not selects:
        raise ProjectError(f"SQL of segment {segment.name!r} must be a SELECT", body.location, "write one SELECT returning external ids")
    for select in selects:
        projections = select.expressions
        if len(projections) != 1 or isinstance(projections[0], exp.Star) or (isinstance(projections[0], exp.Column) and isinstance(projections[0].this, exp.Star)):
            raise ProjectError(
                f"SQL of segment {segment.name!r} must return exactly one column of external ids, not {len(projections)} ({', '.join(p.sql(dialect) for p in projections[:3])})",
                body.location,
                "select only the external id column",
            )
        inner = projections[0].unalias() if isinstance(projections[0], exp.Alias) else projections[0]
        projections[0].replace(exp.alias_(inner.copy(), ID_COLUMN))
    return query


def replace_refs(query: exp.Query, members: Callable[[str], exp.Query]) -> exp.Query:
    """Swap every `ref()` placeholder table for a subquery of that segment's members."""
    query = query.copy()
    for table in list(query.find_all(exp.Table)):
        if table.name.startswith(REF_PREFIX):
            name = table.name[len(REF_PREFIX):]
            alias = table.alias or table.name
            table.replace(exp.Subquery(this=members(name), alias=exp.TableAlias(this=exp.to_identifier(alias))))
    return query


def check_sql_segments(segments: dict[str, Segment], target_dialect: str) -> None:
    """Parse every SQL segment once, up front, so a mistake is reported before any SQL is built."""
    for segment in segments.values():
        if segment.sql is not None:
            parse_sql_segment(segment, target_dialect)
