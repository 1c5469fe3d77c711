"""Run funnels on an engine and on the reference, in the same shape, for the funnel tests.

A case is plain data in `tests/strategies.py`'s table format (`main.users`, `main.events`,
`main.purchases` rows as dicts). `on_engine` writes a real project folder with the funnels,
compiles them with segsql, stages the users query, and reads back the users, step table and
trends; `on_reference` computes the same with `tests/reference_funnels.py`.
"""

from __future__ import annotations

import io
import math
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from sqlglot import exp

from segsql.compiler.funnel_tables import step_table, trends_table, users_table
from segsql.compiler.funnels import FunnelCompiler
from segsql.engines.base import Adapter
from segsql.run.session import Options, open_session
from tests import reference_funnels as RF

USER_TYPES = {"external_id": "VARCHAR", "country": "VARCHAR", "is_vip": "BOOLEAN"}
EVENT_TYPES = {"external_id": "VARCHAR", "event_name": "VARCHAR", "occurred_at": "TIMESTAMP", "platform": "VARCHAR", "properties": "JSON"}
PURCHASE_TYPES = {"external_id": "VARCHAR", "purchased_at": "TIMESTAMP", "product_id": "VARCHAR", "price": "DOUBLE", "quantity": "BIGINT", "properties": "JSON"}
TABLES = {"users": USER_TYPES, "events": EVENT_TYPES, "purchases": PURCHASE_TYPES}
SOURCES = {
    "users": {"table": "main.users", "id": "external_id", "attributes": {"country": "string", "is_vip": "boolean"}},
    "events": {"table": "main.events", "user": "external_id", "name": "event_name", "time": "occurred_at", "properties": "properties"},
    "purchases": {"table": "main.purchases", "user": "external_id", "time": "purchased_at", "product": "product_id", "price": "price", "quantity": "quantity", "properties": "properties"},
}


@dataclass
class Result:
    users: dict[str, tuple[int, tuple[datetime, ...], str | None]] = field(default_factory=dict)
    steps: list[dict] = field(default_factory=list)
    trends: list[dict] = field(default_factory=list)


def dump(data: Any) -> str:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def aware(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


def load(adapter: Adapter, tables: dict[str, list[dict]]) -> None:
    for table, types in TABLES.items():
        rows = tables.get(f"main.{table}", [])
        adapter.load_rows(table, list(types.items()), [tuple(row.get(c) for c in types) for row in rows])


def on_engine(adapter: Adapter, funnels: list[dict], tables: dict[str, list[dict]], as_of: datetime, timezone: str = "UTC", segments: list[dict] | None = None) -> dict[str, Result]:
    load(adapter, tables)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "models").mkdir()
        (root / "segsql_project.yml").write_text(dump({"name": "f", "timezone": timezone}))
        (root / "models" / "sources.yml").write_text(dump(SOURCES))
        (root / "models" / "funnels.yml").write_text(dump({"funnels": funnels, **({"segments": segments} if segments else {})}))
        session = open_session(Options(root), as_of.isoformat(), need_target=False)
    compiler = FunnelCompiler(session.definitions, adapter.dialect, session.as_of)
    names = [f["name"] for f in funnels]
    staged = exp.table_(f"fstage_{uuid.uuid4().hex[:8]}")
    adapter.execute(exp.Create(this=staged.copy(), kind="TABLE", expression=compiler.users(names)))
    try:
        out: dict[str, Result] = {}
        for name in names:
            funnel = session.definitions.funnels[name]
            result = Result()
            columns, rows = adapter.fetch_with_columns(users_table(funnel, staged))
            breakdowns = {str(r[0]): r[1] for r in adapter.fetch(exp.select("external_user_id", "breakdown").from_(staged).where(exp.column("funnel").eq(name)))}
            for row in rows:
                furthest = int(row[1])
                result.users[str(row[0])] = (furthest, tuple(aware(t) for t in row[2:2 + furthest]), breakdowns[str(row[0])])
            columns, rows = adapter.fetch_with_columns(step_table(funnel, staged, compiler.rules))
            result.steps = [{c.lower(): aware(v) for c, v in zip(columns, r, strict=True)} for r in rows]
            if funnel.trends:
                columns, rows = adapter.fetch_with_columns(trends_table(funnel, staged, timezone))
                result.trends = [{c.lower(): v for c, v in zip(columns, r, strict=True)} for r in rows]
            out[name] = result
        return out
    finally:
        adapter.execute(exp.Drop(tables=[staged.copy()], kind="TABLE", exists=True))


def on_reference(funnels: list[dict], tables: dict[str, list[dict]], as_of: datetime, timezone: str = "UTC", segments: list[dict] | None = None) -> dict[str, Result]:
    seg_filters = {s["name"]: s["where"] for s in segments or []}
    out = {}
    for funnel in funnels:
        users = RF.evaluate_funnel(funnel, sources=SOURCES, tables=tables, as_of=as_of, timezone=timezone, segments=seg_filters)
        result = Result({u: (r.furthest, r.times, r.breakdown) for u, r in users.items()}, RF.step_table(funnel, users))
        if funnel.get("trends"):
            result.trends = RF.trends(funnel, users, timezone)
        out[funnel["name"]] = result
    return out


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-6)
    if isinstance(a, datetime) and isinstance(b, date) and not isinstance(b, datetime):
        return a.date() == b
    return bool(a == b)


def assert_same(got: Result, want: Result, breakdown: bool) -> None:
    assert got.users == want.users
    key = (lambda r: (str(r.get("breakdown")), r["step"])) if breakdown else (lambda r: r["step"])
    got_steps, want_steps = sorted(got.steps, key=key), sorted(want.steps, key=key)
    assert [key(r) for r in got_steps] == [key(r) for r in want_steps], (got_steps, want_steps)
    for g, w in zip(got_steps, want_steps, strict=True):
        for column in ("step_name", "users", "conversion_from_previous", "conversion_from_first", "median_seconds_from_previous"):
            assert _close(g[column], w[column]) or g[column] == w[column], (column, g, w)

    def tkey(r: dict) -> tuple:
        return (r["period_start"], str(r.get("breakdown")))

    got_trends = sorted(({**r, "period_start": r["period_start"].date() if isinstance(r["period_start"], datetime) else r["period_start"]} for r in got.trends), key=tkey)
    want_trends = sorted(want.trends, key=tkey)
    assert [tkey(r) for r in got_trends] == [tkey(r) for r in want_trends], (got_trends, want_trends)
    for g, w in zip(got_trends, want_trends, strict=True):
        assert (g["entered"], g["completed"]) == (w["entered"], w["completed"])
        assert _close(g["conversion"], w["conversion"])
