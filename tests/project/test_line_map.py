"""Rendered YAML lines map back to the lines the user wrote (SPEC 1, Jinja: errors point to the source)."""

from __future__ import annotations

import jinja2

from segsql.errors import Location
from segsql.project.line_map import line_map
from segsql.project.yaml_lines import key_line, parse_yaml

LOOP = """segments:
{% for c in ['KR', 'JP'] %}
  - name: c_{{ c | lower }}
    where: {attribute: country, equals: {{ c }}}
{% endfor %}
  - name: last
    where: {attribute: country, equals: US}
"""


def _render(source: str) -> str:
    return jinja2.Environment(keep_trailing_newline=True).from_string(source).render()


def test_same_line_count_is_the_identity() -> None:
    assert line_map("a: {{ x }}\nb: 2\n", "a: 1\nb: 2\n") == [0, 1]


def test_lines_after_a_loop_are_exact_and_loop_lines_map_into_its_body() -> None:
    rendered = _render(LOOP)
    mapping = [line + 1 for line in line_map(LOOP, rendered)]
    lines = rendered.splitlines()
    assert mapping[lines.index("  - name: last")] == 6
    assert mapping[lines.index("  - name: c_jp")] == 3
    assert mapping[lines.index("    where: {attribute: country, equals: JP}")] == 4


def test_parse_yaml_records_source_lines() -> None:
    data = parse_yaml(_render(LOOP), Location("models/a.yml"), LOOP)
    segments = data["segments"]
    assert [key_line(s, "where") for s in segments] == [4, 4, 7]
    assert key_line(data, "segments") == 1
