"""`segsql history NAME`: a segment's size, entered and exited over past runs."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlglot import exp

from segsql.engines import Adapter
from segsql.run.state import HISTORY, RUNS


@dataclass(frozen=True)
class HistoryRow:
    run_id: str
    as_of: str
    finished_at: str
    size: int
    entered: int
    exited: int

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def iso(value: Any) -> str:
    """segsql's state tables hold naive UTC timestamps; shown as ISO 8601 with `Z`, like `--as-of`."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return str(value)
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo is None else value.astimezone(dt.UTC).replace(tzinfo=None)
        return moment.isoformat(timespec="seconds") + "Z"
    return "" if value is None else str(value)


def segment_history(adapter: Adapter, name: str) -> list[HistoryRow]:
    """Every committed run of the segment, oldest first (empty before the first run)."""
    if not adapter.table_exists(HISTORY):
        return []
    query = (
        exp.select("h.run_id", "h.as_of", "r.finished_at", "h.size", "h.entered", "h.exited")
        .from_(adapter.table(HISTORY).as_("h"))
        .join(adapter.table(RUNS).as_("r"), on=exp.column("run_id", table="r").eq(exp.column("run_id", table="h")), join_type="left")
        .where(exp.column("segment", table="h").eq(exp.Literal.string(name)))
        .order_by("r.finished_at")
    )
    return [HistoryRow(str(r[0]), iso(r[1]), iso(r[2]), int(r[3]), int(r[4]), int(r[5])) for r in adapter.fetch(query)]


def history_chart(name: str, rows: list[HistoryRow], path: Path) -> Path:
    """Size, entered and exited per run, over the runs' as_of."""
    from segsql.reports import charts

    records = [{"as_of": iso_time(r.as_of), "size": r.size, "entered": r.entered, "exited": r.exited} for r in rows]
    return charts.save(charts.lines(records, "as_of", ["size", "entered", "exited"], f"history of {name}"), path)


def iso_time(moment: str) -> str:
    """A stored naive UTC timestamp as ISO 8601 with its zone, so no chart reads it as local time."""
    text = moment.replace(" ", "T")
    return text if text.endswith("Z") or "+" in text[10:] else text + "Z"
