"""SPEC 1 on every engine: the columns sources.yml names are found whatever case the engine
reports them in, and a wrong one is one ProjectError at its line, with the real columns."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from segsql.definitions.sources import Sources, parse_sources
from segsql.engines.base import Adapter
from segsql.errors import Location, ProjectError
from segsql.project.yaml_lines import parse_yaml
from segsql.run.source_check import source_types

SOURCES = """\
users:
  table: main.users
  id: external_id
  attributes:
    country: string
    signed_up: {column: signup_at, type: time}
events:
  table: main.events
  user: external_id
  name: event_name
  time: occurred_at
"""


def _sources(text: str) -> Sources:
    loc = Location("models/sources.yml")
    return parse_sources(parse_yaml(text, loc, text), loc)


def test_declared_columns_are_found_and_a_wrong_one_is_named_at_its_line(engine: Callable[[], Adapter]) -> None:
    adapter = engine()
    adapter.load_rows("users", [("external_id", "VARCHAR"), ("country", "VARCHAR"), ("signup_at", "TIMESTAMP")], [("u1", "KR", None)])
    adapter.load_rows("events", [("external_id", "VARCHAR"), ("event_name", "VARCHAR"), ("occurred_at", "TIMESTAMP")], [])
    types = source_types(_sources(SOURCES), adapter)
    assert types.is_naive("main.users", "signup_at")
    with pytest.raises(ProjectError) as wrong:
        source_types(_sources(SOURCES.replace("{column: signup_at,", "{column: signed_at,")), adapter)
    assert str(wrong.value.location) == "models/sources.yml:6"
    assert "`attribute signed_up` column 'signed_at' is not a column of main.users" in wrong.value.message
    assert wrong.value.hint is not None and "did you mean" in wrong.value.hint and "signup_at" in wrong.value.hint.lower()
    with pytest.raises(ProjectError) as missing_time:
        source_types(_sources(SOURCES.replace("time: occurred_at", "time: occured_at")), adapter)
    assert str(missing_time.value.location) == "models/sources.yml:11"
