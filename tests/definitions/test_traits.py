"""SPEC 8.3 in sources.yml and in filters: every mistake is exit 2 at its line, with a did-you-mean."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli, write_project

SOURCES = """\
users:
  table: main.users
  id: external_id
  attributes: {country: string}
traits:
  churn:
    table: ml.churn_scores
    id: user_id
    attributes:
      score: number
      band: string
    updated_at: scored_at
    max_age: {hours: 48}
"""


def _compile(tmp_path: Path, sources: str, where: str = "{attribute: churn.score, gte: 0.5}") -> tuple[int, str]:
    root = write_project(tmp_path / "p", {"models/sources.yml": sources, "models/s.yml": f"segments:\n  - name: s\n    where: {where}\n"})
    result = run_cli("--project-dir", str(root), "compile")
    assert "Traceback" not in result.output
    return result.code, result.output


def test_a_trait_attribute_compiles_with_one_join(tmp_path: Path) -> None:
    code, out = _compile(tmp_path, SOURCES, "[{attribute: churn.score, gte: 0.5}, {attribute: churn.band, in: [high]}]")
    assert code == 0, out
    sql = (tmp_path / "p" / "target" / "compiled" / "duckdb" / "s.sql").read_text()
    assert sql.count("ml.churn_scores") == 1


def test_a_segment_without_traits_joins_none(tmp_path: Path) -> None:
    code, out = _compile(tmp_path, SOURCES, "{attribute: country, equals: KR}")
    assert code == 0, out
    assert "churn_scores" not in (tmp_path / "p" / "target" / "compiled" / "duckdb" / "s.sql").read_text()


@pytest.mark.parametrize(
    ("sources", "where", "line", "words"),
    [
        (SOURCES.replace("    updated_at: scored_at\n", ""), None, 12, ["`max_age` needs `updated_at`"]),
        (SOURCES.replace("{hours: 48}", "{hour: 48}"), None, 13, ["unknown key 'hour'", "did you mean 'hours'"]),
        (SOURCES.replace("{hours: 48}", "{hours: 0}"), None, 13, ["above 0"]),
        (SOURCES.replace("    id: user_id\n", "    id: user_id\n    updated: x\n"), None, 9, ["unknown key 'updated'", "did you mean 'updated_at'"]),
        (SOURCES.replace("      band: string", "      band: strng"), None, 11, ["unknown type 'strng'", "did you mean 'string'"]),
        (SOURCES.replace("  churn:", "  country:"), None, 6, ["has the name of a users attribute"]),
        (SOURCES, "{attribute: churn.scroe, gte: 1}", 3, ["unknown attribute 'churn.scroe'", "did you mean 'churn.score'"]),
        (SOURCES, "{attribute: chrun.score, gte: 1}", 3, ["unknown attribute 'chrun.score'", "did you mean 'churn.score'"]),
        (SOURCES, "{attribute: churn.band, gte: 1}", 3, ["operator 'gte' does not fit attribute 'churn.band' of type string"]),
    ],
)
def test_trait_mistakes_are_one_error_at_their_line(tmp_path: Path, sources: str, where: str | None, line: int, words: list[str]) -> None:
    code, out = _compile(tmp_path, sources, where or "{attribute: country, equals: KR}")
    assert code == 2, out
    file = "models/s.yml" if where else "models/sources.yml"
    assert f"{file}:{line}:" in out, out
    for word in words:
        assert word in out, out
