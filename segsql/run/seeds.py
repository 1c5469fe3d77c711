"""`segsql seed`: load `seeds/*.csv` into tables of the same names, as dbt's seeds do.

A user with a few exports (or a hand-made test shop) gets them into the target without
writing loader code. Each CSV's header names the columns; `seeds/seeds.yml` may declare
column types with the SPEC's type names (plus `integer`), and undeclared columns are
inferred from their values. Every file is read and typed before anything is loaded, so a
mistake (at its file and line) writes nothing. The rows go through the adapter's
`load_rows`, which passes values as literals or parameters, never as SQL text.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from segsql.definitions.reader import Node
from segsql.engines import Adapter
from segsql.errors import Location, ProjectError
from segsql.project.config import RESERVED_TABLE_PREFIXES
from segsql.project.yaml_lines import parse_yaml
from segsql.util.suggest import suggest

SEEDS_DIR = "seeds"
TYPES_FILE = "seeds.yml"
#: seed type → the adapters' logical load type (each adapter picks its engine's own type)
LOAD_TYPES = {"string": "VARCHAR", "number": "DOUBLE", "integer": "BIGINT", "boolean": "BOOLEAN", "time": "TIMESTAMP", "object": "JSON", "array": "VARCHAR[]"}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_INTEGER = re.compile(r"^[+-]?(0|[1-9][0-9]*)$")  # no leading zeros: "007" is an id, not 7
_NUMBER = re.compile(r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$")
_PLAIN_NUMBER = re.compile(r"^[+-]?((0|[1-9][0-9]*)(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$")  # what inference reads as a number
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$")
_TRUE, _FALSE = ("true", "t", "yes", "1"), ("false", "f", "no", "0")
_INT64 = 2**63


@dataclass(frozen=True)
class SeedTable:
    """One CSV, typed and parsed: what `load_rows` needs, and what the command reports."""

    name: str
    file: str
    columns: tuple[tuple[str, str], ...]  # (column, seed type)
    rows: list[tuple[Any, ...]]


def read_seeds(root: Path) -> list[SeedTable]:
    """Every seeds/*.csv of the project, typed; raises ProjectError at the file and line of a mistake."""
    folder = root / SEEDS_DIR
    if not folder.is_dir():
        raise ProjectError(f"there is no {SEEDS_DIR}/ folder in {root}", Location(f"{SEEDS_DIR}/"), hint="put one CSV file per table in seeds/ (seeds/users.csv → table users), or use `segsql seed --demo`")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".csv" and p.is_file())
    if not files:
        raise ProjectError(f"{SEEDS_DIR}/ holds no .csv files", Location(f"{SEEDS_DIR}/"), hint="add e.g. seeds/users.csv with a header row")
    declared = _declared_types(folder, {p.stem for p in files})
    tables = []
    for path in files:
        types, lines = declared.get(path.stem, ({}, {}))
        tables.append(_read_csv(path, types, lines))
    return tables


def load_seeds(adapter: Adapter, tables: list[SeedTable]) -> None:
    """Create-or-replace each table in the target schema and insert its rows."""
    for table in tables:
        adapter.load_rows(table.name, [(c, LOAD_TYPES[t]) for c, t in table.columns], table.rows)


def _declared_types(folder: Path, seeds: set[str]) -> dict[str, tuple[dict[str, str], dict[str, Location]]]:
    """seeds.yml: `<seed>: {columns: {<column>: <type>}}` → per seed, types and their lines."""
    path = folder / TYPES_FILE
    if not path.is_file():
        return {}
    where = Location(f"{SEEDS_DIR}/{TYPES_FILE}")
    data = parse_yaml(path.read_text(encoding="utf-8"), where)
    if data is None:
        return {}
    top = Node(data, where.at(1), TYPES_FILE)
    declared = {}
    for name in top.data:
        if str(name) not in seeds:
            raise top.fail(f"{TYPES_FILE} types seed {name!r}, but there is no {SEEDS_DIR}/{name}.csv", suggest(str(name), sorted(seeds), what="seed"), str(name))
        seed = Node(top.data[name], top.line(str(name)), f"seed {name!r}")
        seed.check_keys(["columns"])
        columns = Node(seed.required("columns"), seed.line("columns"), f"the columns of seed {name!r}")
        types, lines = {}, {}
        for column, kind in columns.data.items():
            if not isinstance(kind, str) or kind not in LOAD_TYPES:
                raise columns.fail(f"unknown type {kind!r} for column {column!r} of seed {name!r}", suggest(str(kind), LOAD_TYPES, what="type"), str(column))
            types[str(column).lower()] = kind
            lines[str(column).lower()] = columns.line(str(column))
        declared[str(name)] = (types, lines)
    return declared


def _read_csv(path: Path, declared: dict[str, str], declared_at: dict[str, Location]) -> SeedTable:
    where = Location(f"{SEEDS_DIR}/{path.name}")
    if not _NAME.match(path.stem) or path.stem.lower().startswith(RESERVED_TABLE_PREFIXES):
        raise ProjectError(f"seed file {path.name!r} would load table {path.stem!r}, which is not a plain table name", where, hint="name it with letters, digits and _ (not starting with segsql_), e.g. seeds/users.csv")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ProjectError("the file is not UTF-8", where.at(raw[: err.start].count(b"\n") + 1), hint="save it as UTF-8 (CSV UTF-8 in a spreadsheet)") from None
    header, records = _records(text, where)
    for column in declared:
        if column not in [h.lower() for h in header]:
            raise ProjectError(f"seeds.yml types column {column!r}, but {path.name} has no such column (it has {', '.join(header)})", declared_at[column], hint="fix the column name in seeds.yml or in the CSV header")
    kinds = [declared.get(h.lower()) or _infer([r[i] for _, r in records]) for i, h in enumerate(header)]
    rows = []
    for line, record in records:
        rows.append(tuple(_value(v, kind, header[i], where.at(line)) for i, (v, kind) in enumerate(zip(record, kinds, strict=True))))
    return SeedTable(path.stem, str(where), tuple(zip(header, kinds, strict=True)), rows)


def _records(text: str, where: Location) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and every non-blank record with the line it starts on."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[tuple[int, list[str]]] = []
    header: list[str] | None = None
    while True:
        line = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            raise ProjectError(f"invalid CSV: {err}", where.at(line), hint="quote values that hold commas, quotes or line breaks, and close every quote") from None
        if not record or record == [""]:
            continue
        if header is None:
            header = [h.strip() for h in record]
            _check_header(header, where.at(line))
        elif len(record) != len(header):
            raise ProjectError(f"this row has {len(record)} values, the header has {len(header)}", where.at(line), hint="give every row one value per column (an empty value is NULL)")
        else:
            records.append((line, record))
    if header is None:
        raise ProjectError("the file has no header row", where.at(1), hint="start it with the column names, e.g. external_id,country")
    return header, records


def _check_header(header: list[str], where: Location) -> None:
    seen: set[str] = set()
    for name in header:
        if not _NAME.match(name):
            raise ProjectError(f"column name {name!r} is not a plain name", where, hint="use letters, digits and _ (it becomes a column every engine spells the same way)")
        if name.lower() in seen:
            raise ProjectError(f"column {name!r} appears twice in the header", where, hint="give every column its own name")
        seen.add(name.lower())


def _infer(values: list[str]) -> str:
    """The narrowest type every non-empty value fits: boolean, integer, number, time, else string."""
    present = [v.strip() for v in values if v.strip()]
    if not present:
        return "string"
    if all(v.lower() in ("true", "false") for v in present):
        return "boolean"
    if all(_INTEGER.match(v) and abs(int(v)) < _INT64 for v in present):
        return "integer"
    if all(_PLAIN_NUMBER.match(v) for v in present):
        return "number"
    if all(_TIME.match(v) for v in present):
        return "time"
    return "string"


def _value(text: str, kind: str, column: str, where: Location) -> Any:
    """One CSV value as the Python value `load_rows` takes; an empty value is NULL."""
    value = text if kind == "string" else text.strip()
    if value == "":
        return None
    wrong = f"column {column}: {text!r} is not {'an' if kind in ('integer', 'object', 'array') else 'a'} {kind}"
    if kind == "string":
        return value
    if kind == "integer":
        if not _INTEGER.match(value) or abs(int(value)) >= _INT64:
            raise ProjectError(wrong, where, hint="write a whole number, or type the column as number or string in seeds/seeds.yml")
        return int(value)
    if kind == "number":
        if not _NUMBER.match(value) or not math.isfinite(float(value)):
            raise ProjectError(wrong, where, hint="write a number like 12.5, or type the column as string in seeds/seeds.yml")
        return float(value)
    if kind == "boolean":
        if value.lower() not in _TRUE + _FALSE:
            raise ProjectError(wrong, where, hint="write true or false")
        return value.lower() in _TRUE
    if kind == "time":
        return _time(value, wrong, where)
    return _json(value, kind, wrong, where)


def _time(value: str, wrong: str, where: Location) -> dt.datetime:
    """An ISO date or datetime; with an offset it is converted to UTC, without one it is UTC."""
    try:
        if not _TIME.match(value):
            raise ValueError(value)
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ProjectError(wrong, where, hint="write an ISO date or time, e.g. 2026-05-01 or 2026-05-01T08:30:00Z") from None
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _json(value: str, kind: str, wrong: str, where: Location) -> Any:
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = None
    if kind == "object" and isinstance(parsed, dict):
        return value
    if kind == "array" and isinstance(parsed, list):
        return [json.dumps(e) if isinstance(e, dict | list) else str(e) for e in parsed]
    example = '{"tier": "gold"}' if kind == "object" else '["sneakers", "running"]'
    raise ProjectError(wrong, where, hint=f"write JSON text like {example} (in a CSV, double each quote inside a quoted value)")
