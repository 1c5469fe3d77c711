"""Global options are moved in front of the command name, and nothing else moves."""

from __future__ import annotations

import pytest

from segsql.cli.argv import hoist_global_options


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (["run", "--target", "prod"], ["--target", "prod", "run"]),
        (["run", "-s", "a", "-t", "prod", "--debug"], ["-t", "prod", "--debug", "run", "-s", "a"]),
        (["--project-dir", "p", "show", "x", "--vars={\"a\": 1}"], ["--project-dir", "p", '--vars={"a": 1}', "show", "x"]),
        (["--target", "prod", "run", "--as-of", "2026-01-01"], ["--target", "prod", "run", "--as-of", "2026-01-01"]),
        (["why", "u1", "--", "--debug"], ["why", "u1", "--", "--debug"]),
        (["--debug"], ["--debug"]),
        ([], []),
    ],
)
def test_hoist_global_options(given: list[str], expected: list[str]) -> None:
    assert hoist_global_options(given) == expected
