"""Every user mistake is one message naming file and line, exit code 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli, write_project

SOURCES = """
users:
  table: main.users
  id: external_id
  attributes:
    country: string
    age: number
    profile: object
"""

BEHAVIOUR_SOURCES = SOURCES + """
events:
  table: main.events
  user: external_id
  name: event_name
  time: occurred_at
  properties: properties
purchases:
  table: main.purchases
  user: external_id
  time: purchased_at
"""


def _where(filter_yaml: str) -> dict[str, str]:
    """A project with every source and one segment whose `where:` is `filter_yaml` (from line 4)."""
    return {"models/sources.yml": BEHAVIOUR_SOURCES, "models/a.yml": "segments:\n  - name: a\n    where:\n" + filter_yaml}


OK_SEGMENT = """
segments:
  - name: ok_segment
    where:
      attribute: country
      equals: KR
"""

# (case id, files, command, expected location, expected words in the message)
BROKEN: list[tuple[str, dict[str, str], list[str], str, str]] = [
    ("bad_yaml", {"models/a.yml": "segments:\n  - name: a\n    where: {attribute: country, equals: [KR\n"}, ["compile"], "models/a.yml:", "invalid YAML"),
    ("jinja_syntax", {"models/a.yml": "segments:\n  - name: a\n    where: {{ foo( }}\n"}, ["compile"], "models/a.yml:3", "Jinja syntax error"),
    ("jinja_undefined", {"models/a.yml": "segments:\n  - name: a\n    where:\n      attribute: country\n      equals: {{ not_defined_anywhere }}\n"}, ["compile"], "models/a.yml:5", "undefined"),
    ("unknown_var", {"models/a.yml": "segments:\n  - name: a\n    where:\n      attribute: country\n      equals: {{ var('nope') }}\n"}, ["compile"], "models/a.yml:5", "var 'nope' is not defined"),
    ("unknown_segment_key", {"models/a.yml": "segments:\n  - name: a\n    descripton: typo\n    where: {attribute: country, equals: KR}\n"}, ["compile"], "models/a.yml:3", "unknown key 'descripton'"),
    ("unknown_operator", {"models/a.yml": "segments:\n  - name: a\n    where:\n      attribute: country\n      equal: KR\n"}, ["compile"], "models/a.yml:5", "unknown key 'equal'"),
    ("operator_type_misfit", {"models/a.yml": "segments:\n  - name: a\n    where:\n      attribute: age\n      matches_regex: '1.*'\n"}, ["compile"], "models/a.yml:5", "allowed operators for number"),
    ("unknown_attribute", {"models/a.yml": "segments:\n  - name: a\n    where:\n      attribute: colour\n      equals: red\n"}, ["compile"], "models/a.yml:4", "unknown attribute 'colour'"),
    ("unknown_source", {"models/s.sql": "select external_id\nfrom {{ source('nope') }}\n"}, ["compile"], "models/s.sql:2", "unknown source 'nope'"),
    ("cycle", {"models/a.yml": "segments:\n  - name: a\n    where: {segment: b}\n  - name: b\n    where: {segment: a}\n"}, ["compile"], "models/a.yml:", "cycle: a -> b -> a"),
    ("unknown_reference", {"models/a.yml": "segments:\n  - name: a\n    where:\n      segment: ghost\n"}, ["compile"], "models/a.yml:4", "unknown segment 'ghost'"),
    ("broken_sql", {"models/a.yml": "segments:\n  - name: a\n    sql: |\n      select external_id\n      from main.users where (\n"}, ["compile"], "models/a.yml:", "does not parse"),
    ("sql_two_columns", {"models/b.sql": "select external_id, country from main.users\n"}, ["compile"], "models/b.sql:1", "exactly one column"),
    ("invalid_regex", {"models/a.yml": "segments:\n  - name: a\n    where:\n      attribute: country\n      matches_regex: '(unclosed'\n"}, ["compile"], "models/a.yml:5", "invalid regex"),
    ("lookaround_regex", {"models/a.yml": "segments:\n  - name: a\n    where:\n      attribute: country\n      matches_regex: 'K(?=R)'\n"}, ["compile"], "models/a.yml:5", "RE2"),
    ("duplicate_segment", {"models/a.yml": OK_SEGMENT, "models/b.yml": OK_SEGMENT}, ["compile"], "models/b.yml:2", "defined twice"),
    ("bad_segment_name", {"models/a.yml": "segments:\n  - name: Bad-Name\n    where: {attribute: country, equals: KR}\n"}, ["compile"], "models/a.yml:2", "bad segment name"),
    ("empty_all", {"models/a.yml": "segments:\n  - name: a\n    where:\n      all: []\n"}, ["compile"], "models/a.yml:4", "non-empty list"),
    ("wrong_value_type", {"models/a.yml": "segments:\n  - name: a\n    where:\n      attribute: age\n      gt: lots\n"}, ["compile"], "models/a.yml:5", "expected a number"),
    ("bad_between", {"models/a.yml": "segments:\n  - name: a\n    where:\n      attribute: age\n      between: [5, 1]\n"}, ["compile"], "models/a.yml:5", "between"),
    ("bad_timezone", {"segsql_project.yml": "name: x\ntimezone: Mars/Olympus\n", "models/a.yml": OK_SEGMENT}, ["compile"], "segsql_project.yml:2", "unknown time zone"),
    ("unknown_project_key", {"segsql_project.yml": "name: x\nprofil: segsql\n", "models/a.yml": OK_SEGMENT}, ["compile"], "segsql_project.yml:2", "unknown key 'profil'"),
    ("missing_env_var", {"models/a.yml": OK_SEGMENT, "profiles.yml": "segsql:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: \"{{ env_var('SEGSQL_TEST_SURELY_UNSET') }}\"\n"}, ["run"], "profiles.yml:6", "SEGSQL_TEST_SURELY_UNSET"),
    ("bad_target_type", {"models/a.yml": OK_SEGMENT, "profiles.yml": "segsql:\n  target: dev\n  outputs:\n    dev:\n      type: oracle\n"}, ["run"], "profiles.yml:4", "type 'oracle'"),
    ("unknown_type_in_sources", {"models/sources.yml": "users:\n  table: main.users\n  attributes:\n    country: text\n", "models/a.yml": OK_SEGMENT}, ["compile"], "models/sources.yml:4", "unknown type 'text'"),
    ("object_without_path", {"models/a.yml": "segments:\n  - name: a\n    where:\n      attribute: profile\n      equals: x\n"}, ["compile"], "models/a.yml:4", "is an object"),
    ("missing_source_table", {"models/sources.yml": SOURCES.replace("main.users", "main.no_such_table"), "models/a.yml": OK_SEGMENT}, ["run"], "models/sources.yml:2", "source table main.no_such_table cannot be read"),
    ("missing_source_table_show", {"models/sources.yml": SOURCES.replace("main.users", "main.no_such_table"), "models/a.yml": OK_SEGMENT}, ["show", "ok_segment"], "models/sources.yml:2", "source table main.no_such_table cannot be read"),
    ("duckdb_path_in_missing_folder", {"models/a.yml": OK_SEGMENT, "profiles.yml": "segsql:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: no_such_folder/x.duckdb\n"}, ["run"], "profiles.yml:4", "in a folder that does not exist"),
    ("table_name_too_long", {"models/a.yml": "segments:\n  - name: " + "a" * 60 + "\n    where: {attribute: country, equals: KR}\n"}, ["compile"], "models/a.yml:2", "PostgreSQL and Redshift cut names at 63"),
    # YAML shapes users get wrong
    ("tab_in_yaml", {"models/a.yml": "segments:\n  - name: a\n\twhere: {attribute: country, equals: KR}\n"}, ["compile"], "models/a.yml:3", "'\\t'"),
    ("duplicate_yaml_key", {"models/a.yml": "segments:\n  - name: a\n    name: b\n    where: {attribute: country, equals: KR}\n"}, ["compile"], "models/a.yml:3", "duplicate key"),
    ("list_where_mapping_expected", {"models/a.yml": "segments:\n  - [a, b]\n"}, ["compile"], "models/a.yml:2", "segment must be a mapping, got a list"),
    ("mapping_where_list_expected", {"models/a.yml": "segments:\n  name: a\n"}, ["compile"], "models/a.yml:1", "`segments` must be a non-empty list"),
    ("empty_in", {"models/a.yml": "segments:\n  - name: a\n    where:\n      attribute: country\n      in: []\n"}, ["compile"], "models/a.yml:5", "non-empty list"),
    ("between_one_value", {"models/a.yml": "segments:\n  - name: a\n    where:\n      attribute: age\n      between: [3]\n"}, ["compile"], "models/a.yml:5", "two numbers"),
    ("random_bucket_not_a_number", {"models/a.yml": "segments:\n  - name: a\n    where:\n      random_bucket: {lt: abc}\n"}, ["compile"], "models/a.yml:4", "expected a number"),
    ("random_bucket_infinite", {"models/a.yml": "segments:\n  - name: a\n    where:\n      random_bucket: {lt: .inf}\n"}, ["compile"], "models/a.yml:4", "finite number"),
    ("window_nan", {"models/a.yml": "segments:\n  - name: a\n    where:\n      attribute: age\n      gt: .nan\n"}, ["compile"], "models/a.yml:5", "finite number"),
    ("sql_not_a_select", {"models/a.sql": "delete from main.users\n"}, ["compile"], "models/a.sql:1", "exactly one SELECT"),
    ("macro_syntax_error", {"models/macros/m.sql": "{% macro m() %}\n{{ x( }}\n{% endmacro %}\n", "models/a.yml": OK_SEGMENT}, ["compile"], "models/macros/m.sql:2", "Jinja syntax error"),
    ("macro_file_top_level_error", {"models/macros/m.sql": "{% macro m() %}KR{% endmacro %}\n\n{{ 1/0 }}\n", "models/a.yml": OK_SEGMENT}, ["compile"], "models/macros/m.sql:3", "division by zero"),
    ("jinja_sandbox", {"models/a.yml": "segments:\n  - name: a\n    description: \"{{ ''.__class__ }}\"\n    where: {attribute: country, equals: KR}\n"}, ["compile"], "models/a.yml:3", "unsafe"),
    # Jinja that adds or removes lines must not shift the reported line
    ("line_after_jinja_loop", {"models/a.yml": "segments:\n{% for c in ['KR', 'JP', 'US'] %}\n  - name: c_{{ c | lower }}\n    where: {attribute: country, equals: {{ c }}}\n{% endfor %}\n  - name: bad\n    where: {attribute: nope, equals: 1}\n"}, ["compile"], "models/a.yml:7", "unknown attribute 'nope'"),
    ("line_inside_jinja_loop", {"models/a.yml": "segments:\n{% for c in ['KR', 'JP'] %}\n  - name: c_{{ c | lower }}\n    where: {attribute: nope, equals: {{ c }}}\n{% endfor %}\n"}, ["compile"], "models/a.yml:4", "unknown attribute 'nope'"),
    ("line_after_jinja_comment", {"models/a.yml": "{#\n  a long\n  comment\n#}\nsegments:\n  - name: bad\n    where: {attribute: nope, equals: 1}\n"}, ["compile"], "models/a.yml:7", "unknown attribute 'nope'"),
    ("line_after_multiline_macro", {"models/macros/m.sql": "{% macro two() %}\n      all:\n        - {attribute: country, equals: KR}\n        - {attribute: age, gt: 3}\n{%- endmacro %}\n", "models/a.yml": "segments:\n  - name: a\n    where:\n{{ two() }}\n  - name: bad\n    where: {attribute: nope, equals: 1}\n"}, ["compile"], "models/a.yml:6", "unknown attribute 'nope'"),
    # segsql_project.yml: nested keys and types are checked like the top level
    ("unknown_table_prefix_key", {"segsql_project.yml": "table_prefix: {segments: s_}\n", "models/a.yml": OK_SEGMENT}, ["compile"], "segsql_project.yml:1", "unknown key 'segments' in `table_prefix`"),
    ("unknown_cdi_key", {"segsql_project.yml": "cdi:\n  tabel: x\n", "models/a.yml": OK_SEGMENT}, ["compile"], "segsql_project.yml:2", "unknown key 'tabel' in `cdi`"),
    ("project_name_not_text", {"segsql_project.yml": "name: shop\nbucket_salt: [a]\n", "models/a.yml": OK_SEGMENT}, ["compile"], "segsql_project.yml:2", "`bucket_salt` must be text"),
    ("cdi_table_not_plain", {"segsql_project.yml": "cdi: {table: 'my table'}\n", "models/a.yml": OK_SEGMENT}, ["compile"], "segsql_project.yml:1", "not a plain table name"),
    ("cdi_table_reserved", {"segsql_project.yml": "cdi: {table: segsql_runs}\n", "models/a.yml": OK_SEGMENT}, ["compile"], "segsql_project.yml:1", "reserved for segsql"),
    ("segment_prefix_not_plain", {"segsql_project.yml": "table_prefix: {segment: seg-}\n", "models/a.yml": OK_SEGMENT}, ["compile"], "segsql_project.yml:1", "not a plain table name"),
    ("same_prefix_for_segments_and_funnels", {"segsql_project.yml": "table_prefix: {segment: x_, funnel: x_}\n", "models/a.yml": OK_SEGMENT}, ["compile"], "segsql_project.yml:1", "share the prefix"),
    # what a run writes must not collide
    ("membership_table_is_a_source", {"segsql_project.yml": "table_prefix: {segment: ''}\n", "models/a.yml": "segments:\n  - name: users\n    where: {attribute: country, equals: KR}\n"}, ["compile"], "models/a.yml:2", "the table of the users source"),
    ("membership_table_reserved", {"segsql_project.yml": "table_prefix: {segment: ''}\n", "models/a.yml": "segments:\n  - name: segsql_runs\n    where: {attribute: country, equals: KR}\n"}, ["compile"], "models/a.yml:2", "reserved for segsql"),
    ("membership_table_is_cdi_table", {"segsql_project.yml": "table_prefix: {segment: ''}\ncdi: {table: vips}\n", "models/a.yml": "segments:\n  - name: vips\n    where: {attribute: country, equals: KR}\n"}, ["compile"], "models/a.yml:2", "which is the CDI table"),
    ("duplicate_cdi_attribute", {"models/a.yml": "segments:\n  - name: a\n    where: {attribute: country, equals: KR}\n  - name: b\n    cdi_attribute: a\n    where: {attribute: country, equals: JP}\n"}, ["compile"], "models/a.yml:4", "both write the CDI attribute 'a'"),
    ("empty_cdi_attribute", {"models/a.yml": "segments:\n  - name: a\n    cdi_attribute: ''\n    where: {attribute: country, equals: KR}\n"}, ["compile"], "models/a.yml:3", "`cdi_attribute` is empty"),
    ("sql_file_and_sql_key", {"models/a.sql": "select external_id from main.users\n", "models/a.yml": "segments:\n  - name: a\n    sql: select external_id from main.users\n"}, ["compile"], "models/a.yml:3", "also the file models/a.sql"),
    ("sql_file_and_where", {"models/a.sql": "select external_id from main.users\n", "models/a.yml": OK_SEGMENT.replace("ok_segment", "a")}, ["compile"], "models/a.yml:", "also the file models/a.sql"),
    ("source_table_four_parts", {"models/sources.yml": "users:\n  table: a.b.c.d\n", "models/a.yml": OK_SEGMENT}, ["compile"], "models/sources.yml:2", "[database.]schema.table"),
    ("sql_file_line_after_jinja_comment", {"models/s.sql": "{#\n  who: every user\n  owner: crm\n#}\nselect external_id\nfrom main.users\nwhere (\n"}, ["compile"], "models/s.sql:7", "does not parse"),
    ("sql_file_line_after_jinja_loop", {"models/s.sql": "select external_id from main.users\nwhere country in (\n{% for c in ['KR', 'JP', 'US'] %}\n  '{{ c }}',\n{% endfor %}\n  'GB')\nand (\n"}, ["compile"], "models/s.sql:7", "does not parse"),
    # did you mean: the closest valid name first (issue 11, item 2)
    ("window_key_typo", _where("      event: x\n      within: {last_day: 90}\n"), ["compile"], "models/a.yml:5", "did you mean 'last_days'?"),
    ("operator_typo_suggested", {"models/a.yml": "segments:\n  - name: a\n    where:\n      attribute: country\n      equal: KR\n"}, ["compile"], "models/a.yml:5", "did you mean 'equals'?"),
    ("segment_key_typo_suggested", {"models/a.yml": "segments:\n  - name: a\n    descripton: typo\n    where: {attribute: country, equals: KR}\n"}, ["compile"], "models/a.yml:3", "did you mean 'description'?"),
    ("attribute_typo_suggested", {"models/a.yml": "segments:\n  - name: a\n    where:\n      attribute: contry\n      equals: KR\n"}, ["compile"], "models/a.yml:4", "did you mean 'country'?"),
    ("segment_ref_typo_suggested", {"models/a.yml": OK_SEGMENT + "  - name: b\n    where:\n      segment: ok_segmnt\n"}, ["compile"], "models/a.yml:8", "did you mean 'ok_segment'?"),
    ("filter_kind_typo", _where("      atribute: country\n      equals: KR\n"), ["compile"], "models/a.yml:4", "did you mean 'attribute'?"),
    ("measure_key_typo", _where("      event: x\n      cout: {gte: 2}\n"), ["compile"], "models/a.yml:5", "did you mean 'count'?"),
    ("source_type_typo", {"models/sources.yml": "users:\n  table: main.users\n  attributes:\n    country: strng\n", "models/a.yml": OK_SEGMENT}, ["compile"], "models/sources.yml:4", "did you mean 'string'?"),
    ("project_key_typo", {"segsql_project.yml": "name: x\ntimezon: UTC\n", "models/a.yml": OK_SEGMENT}, ["compile"], "segsql_project.yml:2", "did you mean 'timezone'?"),
    # every YAML value error names its line (item 3)
    ("unquoted_invalid_date", _where("      event: x\n      within: {since: 1998-13-01}\n"), ["compile"], "models/a.yml:5", "month must be in 1..12"),
    ("unquoted_invalid_datetime", _where("      attribute: country\n      equals: KR\n  - name: b\n    where:\n      event: x\n      within:\n        until: 2026-02-30T10:00:00Z\n"), ["compile"], "models/a.yml:10", "day is out of range"),
    ("bad_yaml_tagged_value", {"models/a.yml": "segments:\n  - name: a\n    where:\n      attribute: age\n      gt: !!int lots\n"}, ["compile"], "models/a.yml:5", "invalid YAML"),
    # contradictions are compile errors (item 4)
    ("since_after_until", _where("      event: x\n      within: {since: 2026-03-01, until: 2026-02-01}\n"), ["compile"], "models/a.yml:5", "since 2026-03-01 is not before until 2026-02-01"),
    ("since_equals_until", _where("      event: x\n      within:\n        since: '2026-03-01'\n        until: '2026-03-01'\n"), ["compile"], "models/a.yml:7", "window [since, until) is empty"),
    ("window_two_kinds", _where("      event: x\n      within: {last_days: 3, since: 2026-03-01}\n"), ["compile"], "models/a.yml:5", "not last_days and since"),
    ("count_lt_zero", _where("      event: x\n      count: {lt: 0}\n"), ["compile"], "models/a.yml:5", "can never be true: a count is a whole number >= 0"),
    ("count_equals_negative", _where("      purchase: any\n      count: {equals: -1}\n"), ["compile"], "models/a.yml:5", "can never be true"),
    ("count_gte_above_lt", _where("      event: x\n      count: {gte: 5, lt: 3}\n"), ["compile"], "models/a.yml:5", "can never be true"),
    ("count_between_reversed", _where("      event: x\n      count: {between: [5, 2]}\n"), ["compile"], "models/a.yml:5", "low is above high"),
    ("count_distinct_lte_negative", _where("      event: x\n      count_distinct: {property: sku, lte: -1}\n"), ["compile"], "models/a.yml:5", "a distinct count is a whole number >= 0"),
    ("between_reversed", {"models/a.yml": "segments:\n  - name: a\n    where:\n      attribute: age\n      between: [40, 18]\n"}, ["compile"], "models/a.yml:5", "between [40, 18] is empty"),
    ("rfm_threshold_above_5", _where("      rfm: {recency: {gte: 6}}\n"), ["compile"], "models/a.yml:4", "recency score threshold 6 is outside 1..5"),
    ("rfm_threshold_zero", _where("      rfm:\n        monetary: {lt: 0}\n"), ["compile"], "models/a.yml:5", "monetary score threshold 0 is outside 1..5"),
    ("rfm_impossible_inside_range", _where("      rfm:\n        frequency: {gt: 5}\n"), ["compile"], "models/a.yml:5", "can never be true"),
    ("random_bucket_impossible", _where("      random_bucket: {gte: 10000}\n"), ["compile"], "models/a.yml:4", "a bucket is a whole number from 0 to 9999"),
    ("guard_max_below_min", {"models/a.yml": "segments:\n  - name: a\n    guards:\n      min_size: 100\n      max_size: 10\n    where: {attribute: country, equals: KR}\n"}, ["compile"], "models/a.yml:5", "min_size 100 is above max_size 10"),
    # unknown top-level keys (item 5)
    ("unknown_top_level_key", {"models/a.yml": OK_SEGMENT + "segmnets: []\n"}, ["compile"], "models/a.yml:6", "did you mean 'segments'?"),
    ("or_missing_on_negative", {"models/a.yml": "segments:\n  - name: a\n    where:\n      attribute: country\n      not_equals: KR\n      or_missing: true\n"}, ["compile"], "models/a.yml:6", "or_missing"),
]


@pytest.mark.parametrize(("files", "command", "location", "words"), [c[1:] for c in BROKEN], ids=[c[0] for c in BROKEN])
def test_user_mistake_is_one_clear_error(tmp_path: Path, files: dict[str, str], command: list[str], location: str, words: str) -> None:
    root = write_project(tmp_path / "p", {"models/sources.yml": SOURCES, **files})
    result = run_cli("--project-dir", str(root), *command)
    assert result.code == 2, result.output
    assert "Traceback" not in result.output
    assert location in result.err, result.err
    assert words in result.err, result.err
    assert len(result.err.strip().splitlines()) == 1, result.err


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--vars", "{not json"], "--vars is not valid JSON"),
        (["--vars", "[1, 2]"], "--vars must be a JSON object"),
        (["--target", "nope"], "target 'nope' not found"),
        (["run", "--as-of", "yesterday-ish"], "--as-of 'yesterday-ish' is not an ISO timestamp"),
        (["show", "no_such_segment"], "no segment named 'no_such_segment'"),
        (["run", "--select", "weird:thing"], "unknown selector method 'weird'"),
        (["run", "--select", "tag:nope+"], "no segment has the tag 'nope'"),
        (["frobnicate"], "No such command"),
        # did you mean: the closest name first (issue 11, item 2)
        (["rnu"], "No such command 'rnu'. Did you mean 'run'?"),
        (["show", "ok_segmnt"], "no segment named 'ok_segmnt' — did you mean 'ok_segment'?"),
        (["run", "--select", "tga:vip"], "did you mean 'tag:'?"),
        (["run", "--select", "state:modifed"], "did you mean 'state:modified'?"),
        (["--target", "dve"], "target 'dve' not found in profile 'segsql' — did you mean 'dev'?"),
        # a global option after the command, as dbt users type it, is still the global option
        (["ls", "--target", "dve"], "target 'dve' not found in profile 'segsql' — did you mean 'dev'?"),
        (["compile", "-t", "dve"], "target 'dve' not found"),
        (["run", "--vars={not json"], "--vars is not valid JSON"),
    ],
)
def test_bad_command_line_is_exit_2(tmp_path: Path, args: list[str], words: str) -> None:
    root = write_project(tmp_path / "p", {"models/sources.yml": SOURCES, "models/a.yml": OK_SEGMENT})
    if args[0].startswith("--") and len(args) == 2:
        args = [*args, "run"]
    result = run_cli("--project-dir", str(root), *args)
    assert result.code == 2, result.output
    assert words in result.err
    assert "Traceback" not in result.output


def test_explicit_profiles_dir_without_profiles_is_exit_2(tmp_path: Path) -> None:
    """A mistyped --profiles-dir must not silently fall back to another profiles.yml."""
    root = write_project(tmp_path / "p", {"models/sources.yml": SOURCES, "models/a.yml": OK_SEGMENT})
    result = run_cli("--project-dir", str(root), "--profiles-dir", str(tmp_path / "nowhere"), "run")
    assert result.code == 2, result.output
    assert "--profiles-dir" in result.err and "no profiles.yml there" in result.err
    assert "Traceback" not in result.output


@pytest.mark.parametrize("rel", ["models/a.yml", "models/macros/m.sql", "models/b.sql", "segsql_project.yml", "profiles.yml"])
def test_file_that_is_not_utf8_is_one_clear_error(tmp_path: Path, rel: str) -> None:
    root = write_project(tmp_path / "p", {"models/sources.yml": SOURCES, "models/ok.yml": OK_SEGMENT.replace("ok_segment", "ok")})
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_bytes(b"name: caf\xe9\n")
    result = run_cli("--project-dir", str(root), "run")
    assert result.code == 2, result.output
    assert f"{rel}: file is not UTF-8 text" in result.err
    assert len(result.err.strip().splitlines()) == 1, result.err


def test_compile_check_exits_1_on_error(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {"models/sources.yml": SOURCES, "models/a.yml": "segments:\n  - name: a\n    where: {attribute: nope, equals: 1}\n"})
    result = run_cli("--project-dir", str(root), "compile", "--check")
    assert result.code == 1
    assert "models/a.yml:3" in result.err


def test_debug_flag_shows_traceback(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {"models/sources.yml": SOURCES, "models/a.yml": "segments:\n  - name: a\n    where: {attribute: nope, equals: 1}\n"})
    result = run_cli("--project-dir", str(root), "--debug", "compile")
    assert result.code == 2
    assert "Traceback" in result.err
