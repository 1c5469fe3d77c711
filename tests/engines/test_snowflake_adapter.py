"""SPEC 1 and 7: the Snowflake profile, as the connector receives it, for every way to log in.

`snowflake.connector.connect` is replaced by a spy that records its keyword arguments, so
these tests check exactly what a real Snowflake account would be sent. The run id in the
QUERY_TAG is checked end to end on fakesnow.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from segsql.engines.snowflake import SnowflakeAdapter
from segsql.project.config import Target
from tests.conftest import run_cli, write_project

pytest.importorskip("snowflake.connector")

SEGMENT = "segments:\n  - name: koreans\n    where: {attribute: country, equals: KR}\n"
SOURCES = "users:\n  table: MAIN.USERS\n  id: external_id\n  attributes: {country: string}\n"


class _Conn:
    def close(self) -> None:
        pass


@pytest.fixture
def connect_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    import snowflake.connector

    calls: list[dict[str, Any]] = []

    def spy(**kwargs: Any) -> _Conn:
        calls.append(kwargs)
        return _Conn()

    monkeypatch.setattr(snowflake.connector, "connect", spy)
    return calls


def _profile(lines: str) -> str:
    return "segsql:\n  target: prod\n  outputs:\n    prod:\n      type: snowflake\n" + "".join(f"      {line}\n" for line in lines.strip().splitlines())


@pytest.fixture
def connected(tmp_path: Path, connect_calls: list[dict[str, Any]]):
    """Connect with a profile and return (kwargs sent to the connector, the session)."""
    from segsql.run.session import Options, open_session

    def go(profile_lines: str) -> tuple[dict[str, Any], Any]:
        root = write_project(tmp_path / "p", {"profiles.yml": _profile(profile_lines), "models/sources.yml": SOURCES, "models/a.yml": SEGMENT})
        session = open_session(Options(root))
        session.connect().close()
        return connect_calls[-1], session

    return go


BASE = "account: xy12345.eu-central-1\nrole: SEGSQL_ROLE\nwarehouse: SEGMENTS_WH\ndatabase: ANALYTICS\nschema: SEGMENTS\n"


def test_password_login_sends_every_profile_field_and_a_utc_session(connected) -> None:
    kwargs, session = connected(BASE + "user: segsql_svc\npassword: s3cret-pw")
    assert {k: v for k, v in kwargs.items() if k != "session_parameters"} == {
        "account": "xy12345.eu-central-1", "user": "segsql_svc", "password": "s3cret-pw", "role": "SEGSQL_ROLE",
        "warehouse": "SEGMENTS_WH", "database": "ANALYTICS", "schema": "SEGMENTS",
    }
    params = kwargs["session_parameters"]
    assert params["TIMEZONE"] == "UTC"
    assert params["TIMESTAMP_TYPE_MAPPING"] == "TIMESTAMP_NTZ"
    assert json.loads(params["QUERY_TAG"]) == {"app": "segsql", "version": json.loads(params["QUERY_TAG"])["version"], "run_id": session.run_id}


def test_key_pair_login_with_a_passphrase_from_env_var(connected, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = tmp_path / "rsa_key.p8"
    key.write_text("-----BEGIN ENCRYPTED PRIVATE KEY-----\n", encoding="utf-8")
    monkeypatch.setenv("SEGSQL_TEST_PK_PASS", "pk-passphrase-123")
    kwargs, session = connected(BASE + f"user: segsql_svc\nprivate_key_path: {key}\nprivate_key_passphrase: \"{{{{ env_var('SEGSQL_TEST_PK_PASS') }}}}\"")
    assert kwargs["private_key_file"] == str(key)
    assert kwargs["private_key_file_pwd"] == "pk-passphrase-123"
    assert "password" not in kwargs
    assert "pk-passphrase-123" in session.project.target.secrets


def test_key_pair_passphrase_named_by_private_key_passphrase_env(connected, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = tmp_path / "rsa_key.p8"
    key.write_text("-----BEGIN PRIVATE KEY-----\n", encoding="utf-8")
    monkeypatch.setenv("SEGSQL_TEST_PK_PASS2", "other-passphrase")
    kwargs, _ = connected(BASE + f"user: segsql_svc\nprivate_key_path: {key}\nprivate_key_passphrase_env: SEGSQL_TEST_PK_PASS2")
    assert kwargs["private_key_file"] == str(key)
    assert kwargs["private_key_file_pwd"] == "other-passphrase"


def test_unencrypted_key_pair_sends_no_passphrase(connected, tmp_path: Path) -> None:
    key = tmp_path / "rsa_key.p8"
    key.write_text("-----BEGIN PRIVATE KEY-----\n", encoding="utf-8")
    kwargs, _ = connected(BASE + f"user: segsql_svc\nprivate_key_path: {key}")
    assert kwargs["private_key_file"] == str(key)
    assert "private_key_file_pwd" not in kwargs


def test_external_browser_sso(connected) -> None:
    kwargs, _ = connected(BASE + "user: ana@shop.example\nauthenticator: externalbrowser")
    assert kwargs["authenticator"] == "externalbrowser"
    assert kwargs["user"] == "ana@shop.example"
    assert "password" not in kwargs and "token" not in kwargs


def test_oauth_token(connected, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEGSQL_TEST_OAUTH", "oauth-token-abc")
    kwargs, session = connected(BASE + "authenticator: oauth\ntoken: \"{{ env_var('SEGSQL_TEST_OAUTH') }}\"")
    assert kwargs["authenticator"] == "oauth"
    assert kwargs["token"] == "oauth-token-abc"
    assert "oauth-token-abc" in session.project.target.secrets


def test_dbt_threads_key_is_accepted_and_ignored(connected) -> None:
    kwargs, _ = connected(BASE + "user: u1\npassword: pw\nthreads: 4")
    assert kwargs["user"] == "u1" and "threads" not in kwargs


def test_a_literal_password_is_a_secret_too(connected) -> None:
    _, session = connected(BASE + "user: u1\npassword: pw")
    assert "pw" in session.project.target.secrets


# (case, profile lines after `type: snowflake`, the line reported, words of the message)
BROKEN = [
    ("misspelled_key", "account: a\nuser: u\npasword: x", 8, "unknown key 'pasword'"),
    ("misspelled_key_hint", "account: a\nuser: u\npasword: x", 8, "did you mean 'password'?"),
    ("unknown_key", "account: a\nuser: u\npassword: x\nclient_session_keep_alive: true", 9, "unknown key 'client_session_keep_alive'"),
    ("missing_account", "user: u\npassword: x", 5, "needs `account`"),
    ("missing_user", "account: a\npassword: x", 5, "needs `user`"),
    ("no_way_to_log_in", "account: a\nuser: u\npassword: \"{{ env_var('SEGSQL_TEST_SURELY_UNSET_PW', '') }}\"", 8, "no way to log in"),
    ("oauth_without_token", "account: a\nauthenticator: oauth", 7, "needs `token`"),
    ("token_without_oauth", "account: a\nuser: u\ntoken: t", 8, "only used with an OAuth authenticator"),
    ("password_and_key", "account: a\nuser: u\npassword: x\nprivate_key_path: k.p8", 9, "either `password` or `private_key_path`"),
    ("passphrase_without_key", "account: a\nuser: u\npassword: x\nprivate_key_passphrase: y", 9, "needs `private_key_path`"),
]


@pytest.mark.parametrize(("case", "lines", "line", "words"), BROKEN, ids=[b[0] for b in BROKEN])
def test_profile_mistakes_are_one_message_at_the_line_exit_2(tmp_path: Path, case: str, lines: str, line: int, words: str) -> None:
    root = write_project(tmp_path / case, {"profiles.yml": _profile(lines), "models/sources.yml": SOURCES, "models/a.yml": SEGMENT})
    result = run_cli("--project-dir", str(root), "run")
    assert result.code == 2, result.output
    assert f"profiles.yml:{line}:" in result.err, result.err
    assert words in result.err
    assert "Traceback" not in result.output
    assert len(result.err.strip().splitlines()) == 1, result.err


def test_missing_key_file_and_unset_passphrase_variable_are_project_errors(tmp_path: Path, connect_calls: list[dict[str, Any]]) -> None:
    root = write_project(tmp_path / "k", {"profiles.yml": _profile("account: a\nuser: u\nprivate_key_path: /nonexistent/rsa_key.p8"), "models/sources.yml": SOURCES, "models/a.yml": SEGMENT})
    result = run_cli("--project-dir", str(root), "run")
    assert result.code == 2 and "profiles.yml:4:" in result.err and "is not a file" in result.err, result.output

    key = tmp_path / "rsa_key.p8"
    key.write_text("x", encoding="utf-8")
    root = write_project(tmp_path / "e", {"profiles.yml": _profile(f"account: a\nuser: u\nprivate_key_path: {key}\nprivate_key_passphrase_env: SEGSQL_TEST_SURELY_UNSET_PASS"), "models/sources.yml": SOURCES, "models/a.yml": SEGMENT})
    result = run_cli("--project-dir", str(root), "run")
    assert result.code == 2 and "SEGSQL_TEST_SURELY_UNSET_PASS" in result.err and "is not set" in result.err, result.output
    assert not connect_calls


def test_the_run_id_of_a_run_reaches_the_query_tag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fakesnow = pytest.importorskip("fakesnow")
    import snowflake.connector

    with fakesnow.patch(create_database_on_connect=True, create_schema_on_connect=True):
        seed = Target("segsql", "seed", "snowflake", {"account": "acct", "user": "u", "password": "pw-1234", "database": "TAGDB", "schema": "MAIN"})
        with SnowflakeAdapter.from_target(seed) as adapter:
            adapter.load_rows("users", [("external_id", "VARCHAR"), ("country", "VARCHAR")], [("u1", "KR"), ("u2", "JP")])
        sent: list[dict[str, Any]] = []
        patched = snowflake.connector.connect

        def spy(**kwargs: Any) -> Any:
            sent.append(kwargs)
            return patched(**kwargs)

        profile = _profile("account: acct\nuser: u\npassword: pw-1234\ndatabase: TAGDB\nschema: MAIN")
        root = write_project(tmp_path / "p", {"profiles.yml": profile, "models/sources.yml": SOURCES, "models/a.yml": SEGMENT})
        with monkeypatch.context() as patch:  # undone before fakesnow restores the real connect
            patch.setattr(snowflake.connector, "connect", spy)
            result = run_cli("--project-dir", str(root), "run", "--as-of", "2026-06-01T00:00:00Z", "--format", "json")
    assert result.code == 0, result.output
    run_id = json.loads((root / "target" / "run_results.json").read_text(encoding="utf-8"))["run_id"]
    assert [json.loads(k["session_parameters"]["QUERY_TAG"]).get("run_id") for k in sent] == [run_id]
