"""SPEC 8.4 on every engine: consent channels gate what CDI says, never who is a member.

An independent model of the SPEC: CDI's value for a user and segment key is the member's
`true` / split group when it satisfies every listed channel and is not in the holdout, and
nothing otherwise. Each run must write exactly the users whose value changed (the entering
value, or the leaving value `false` / `null` for a user CDI saw as a member), so that the CDI
table replayed over the previous state gives the consenting membership.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from segsql.engines.base import Adapter
from segsql.run.materialize import RunResult, run_models
from segsql.run.session import Options, open_session
from tests.conftest import run_cli, write_project
from tests.run.test_activation import expected_group

PROJECT = "name: consent_test\nconsent:\n  email: {attribute: email_opt_in, equals: true}\n  push: {attribute: push_token, exists: true}\n"
SOURCES = "users: {table: main.users, id: external_id, attributes: {country: string, email_opt_in: boolean, push_token: string}}\n"
SEGMENTS = """\
segments:
  - name: newsletter
    channels: [email]
    where: {attribute: country, equals: KR}
  - name: promo
    channels: [email, push]
    where: {attribute: country, in: [KR, JP]}
    split:
      salt: cells_2026
      groups: {holdout: 20, variant_a: 40, variant_b: 40}
      holdout: holdout
  - name: koreans
    where: {attribute: country, equals: KR}
"""
FILES = {"segsql_project.yml": PROJECT, "models/sources.yml": SOURCES, "models/segments.yml": SEGMENTS}
COLUMNS = [("external_id", "VARCHAR"), ("country", "VARCHAR"), ("email_opt_in", "BOOLEAN"), ("push_token", "VARCHAR")]
User = tuple[str, str | None, bool | None, str | None]

# many users, so that every split group appears among consenting and non-consenting members
CROWD: list[User] = [(f"c{i}", "KR" if i % 3 else "JP", i % 4 != 0, "t" if i % 5 else None) for i in range(40)]
SNAPSHOTS: list[list[User]] = [
    # u1 enters without consent, u2 and u3 with it, u4 lacks push
    [("u1", "KR", False, "t"), ("u2", "KR", True, "t"), ("u3", "KR", True, "t"), ("u4", "JP", True, None), *CROWD],
    # u1 gives consent, u2 withdraws while a member, u3 leaves newsletter, u4 gets a push token
    [("u1", "KR", True, "t"), ("u2", "KR", False, "t"), ("u3", "JP", True, "t"), ("u4", "JP", True, "t"), *CROWD[::2]],
    # u1 withdraws, u2 regains it, u3 leaves promo too, u4's opt-in becomes missing
    [("u1", "KR", False, "t"), ("u2", "KR", True, "t"), ("u3", "US", True, "t"), ("u4", "JP", None, "t"), *CROWD[::2]],
    # u1 leaves while withdrawn (CDI has nothing to take back), the crowd changes consent
    [("u1", "US", False, "t"), ("u2", "KR", True, "t"), ("u4", "JP", True, ""), *[(u, c, not e, p) for u, c, e, p in CROWD[::2]]],
    # no change: nothing is written
    [("u1", "US", False, "t"), ("u2", "KR", True, "t"), ("u4", "JP", True, ""), *[(u, c, not e, p) for u, c, e, p in CROWD[::2]]],
]


def synced(users: list[User]) -> dict[str, dict[str, Any]]:
    """The model: per segment key, each user CDI must see as a member, with its value."""
    out: dict[str, dict[str, Any]] = {"newsletter": {}, "promo": {}, "koreans": {}}
    for user, country, email, push in users:
        emailable, pushable = email is True, push not in (None, "")
        if country == "KR":
            out["koreans"][user] = True
            if emailable:
                out["newsletter"][user] = True
        if country in ("KR", "JP") and emailable and pushable and expected_group(user) != "holdout":
            out["promo"][user] = expected_group(user)
    return out


def consenting(users: list[User]) -> dict[str, dict[str, bool]]:
    """Per gated segment, its members and whether they satisfy its channels."""
    out: dict[str, dict[str, bool]] = {"newsletter": {}, "promo": {}}
    for user, country, email, push in users:
        if country == "KR":
            out["newsletter"][user] = email is True
        if country in ("KR", "JP"):
            out["promo"][user] = email is True and push not in (None, "")
    return out


class ConsentHarness:
    def __init__(self, tmp_path: Path, adapter: Adapter):
        self.adapter = adapter
        self.root = write_project(tmp_path / "p", FILES)
        self.day = 0

    def run(self, users: list[User], **kwargs: Any) -> RunResult:
        self.adapter.load_rows("users", COLUMNS, users)
        self.day += 1
        session = open_session(Options(self.root), f"2026-06-{self.day:02d}T00:00:00Z", need_target=False)
        result = run_models(session, self.adapter, sorted(session.definitions.segments), **kwargs)
        assert result.ok, [(m.name, m.message) for m in result.models]
        return result

    def cdi(self) -> list[tuple[dt.datetime, str, dict[str, Any]]]:
        return [(r[0], str(r[1]), json.loads(r[2])) for r in self.adapter.fetch("SELECT UPDATED_AT, EXTERNAL_ID, PAYLOAD FROM main.cdi_segment_updates ORDER BY UPDATED_AT")]

    def members(self, name: str) -> set[str]:
        return {str(r[0]) for r in self.adapter.fetch(f"SELECT external_user_id FROM main.seg_{name}")}

    def consent_changes(self) -> list[tuple[str, str, str]]:
        """The consent rows of `segsql_changes` the last run appended."""
        rows = self.adapter.fetch(f"SELECT segment, external_user_id, change FROM main.segsql_changes WHERE change LIKE 'consent%' AND as_of = CAST('2026-06-{self.day:02d} 00:00:00' AS TIMESTAMP)")
        return sorted((str(a), str(b), str(c)) for a, b, c in rows)


def test_cdi_replayed_over_the_previous_state_gives_the_consenting_membership(tmp_path: Path, engine: Callable[[], Adapter]) -> None:
    h = ConsentHarness(tmp_path, engine())
    previous: dict[str, dict[str, Any]] = {"newsletter": {}, "promo": {}, "koreans": {}}
    previous_consent: dict[str, dict[str, bool]] = {"newsletter": {}, "promo": {}}
    ever: dict[str, set[str]] = {key: set() for key in previous}
    old_rows: list[tuple[dt.datetime, str, dict[str, Any]]] = []
    for users in SNAPSHOTS:
        h.run(users)
        want, consent = synced(users), consenting(users)
        rows = h.cdi()
        state: dict[str, dict[str, Any]] = {}
        for _, user, payload in rows:
            state.setdefault(user, {}).update(payload)
        for key in want:
            assert {u: p[key] for u, p in state.items() if p.get(key) not in (False, None)} == want[key], key
            ever[key] |= set(want[key])
            assert {u for u, p in state.items() if key in p} == ever[key], f"{key}: a user CDI never saw as a member gets nothing"
            leaving = None if key == "promo" else False
            assert all(p[key] == leaving for u, p in state.items() if key in p and u not in want[key])
        # exactly the users whose synced value changed are rewritten
        changed = {u for key in want for u in set(want[key]) | set(previous[key]) if want[key].get(u) != previous[key].get(u)}
        assert {u for r in rows if r not in old_rows for u in [r[1]]} == changed
        # the membership tables keep every member, consenting or not
        assert h.members("newsletter") == set(consent["newsletter"]) and h.members("promo") == set(consent["promo"])
        # the audit trail: members who stay and whose consent changed
        logged = sorted(
            (seg, u, "consent_given" if now else "consent_withdrawn")
            for seg in consent for u, now in consent[seg].items()
            if u in previous_consent[seg] and previous_consent[seg][u] != now
        )
        assert h.consent_changes() == logged
        previous, previous_consent, old_rows = want, consent, rows
    assert old_rows == h.cdi(), "the last run changed nothing and wrote nothing"
    given = h.adapter.fetch("SELECT external_user_id, change FROM main.segsql_changes WHERE segment = 'newsletter' AND external_user_id IN ('u1', 'u2') ORDER BY as_of, external_user_id, change")
    assert [tuple(map(str, r)) for r in given] == [
        ("u1", "entered"), ("u2", "entered"),
        ("u1", "consent_given"), ("u2", "consent_withdrawn"),
        ("u1", "consent_withdrawn"), ("u2", "consent_given"),
        ("u1", "exited"),
    ]


def test_resync_emits_only_consenting_members(tmp_path: Path, engine: Callable[[], Adapter]) -> None:
    h = ConsentHarness(tmp_path, engine())
    h.run(SNAPSHOTS[0])
    before = h.cdi()
    result = h.run(SNAPSHOTS[0], resync=True)
    want = synced(SNAPSHOTS[0])
    assert result.cdi_rows == len({u for key in want for u in want[key]})
    latest = {u: p for _, u, p in h.cdi() if (_, u, p) not in before}
    assert {u for u, p in latest.items() if "newsletter" in p} == set(want["newsletter"])
    assert "u1" not in latest or "newsletter" not in latest["u1"], "a member without consent is not re-emitted"


def test_channels_added_to_a_segment_withdraw_non_consenting_members(tmp_path: Path, engine: Callable[[], Adapter]) -> None:
    h = ConsentHarness(tmp_path, engine())
    plain = SEGMENTS.replace("    channels: [email]\n", "")
    (h.root / "models" / "segments.yml").write_text(plain)
    users = SNAPSHOTS[0]
    h.run(users)
    assert {u for _, u, p in h.cdi() if p.get("newsletter") is True} == {u for u, c, _, _ in users if c == "KR"}
    (h.root / "models" / "segments.yml").write_text(SEGMENTS)
    h.run(users)
    state: dict[str, dict[str, Any]] = {}
    for _, user, payload in h.cdi():
        state.setdefault(user, {}).update(payload)
    assert {u for u, p in state.items() if p.get("newsletter") is True} == set(synced(users)["newsletter"])
    assert state["u1"]["newsletter"] is False, "a member without consent now gets the leaving value"
    assert ("newsletter", "u1", "consent_withdrawn") in h.consent_changes()
    (h.root / "models" / "segments.yml").write_text(plain)  # and removed again: everyone is synced
    h.run(users)
    state = {}
    for _, user, payload in h.cdi():
        state.setdefault(user, {}).update(payload)
    assert state["u1"]["newsletter"] is True


@pytest.mark.parametrize(
    ("files", "where", "words"),
    [
        ({"models/segments.yml": SEGMENTS.replace("[email]", "[emial]")}, "models/segments.yml:3:", ["unknown channel 'emial'", "did you mean 'email'"]),
        ({"segsql_project.yml": "name: x\n", "models/segments.yml": SEGMENTS}, "models/segments.yml:3:", ["unknown channel 'email'", "consent:"]),
        ({"models/segments.yml": SEGMENTS.replace("  - name: koreans\n", "  - name: koreans\n    materialized: ephemeral\n    cdi: false\n    channels: [email]\n")}, "models/segments.yml:15:", ["ephemeral"]),
        ({"segsql_project.yml": PROJECT.replace("{attribute: email_opt_in, equals: true}", "{segment: koreans}")}, "segsql_project.yml:3:", ["reads segment 'koreans'"]),
        ({"segsql_project.yml": PROJECT.replace("{attribute: email_opt_in, equals: true}", "{attribute: email_optin, equals: true}")}, "segsql_project.yml:3:", ["unknown attribute 'email_optin'", "did you mean 'email_opt_in'"]),
        ({"segsql_project.yml": PROJECT.replace("  email:", "  E-mail:")}, "segsql_project.yml:3:", ["bad channel name"]),
        ({"segsql_project.yml": "consent: [email]\n"}, "segsql_project.yml:1:", ["`consent` must be a mapping"]),
    ],
)
def test_consent_mistakes_are_exit_2_at_their_line(tmp_path: Path, files: dict[str, str], where: str, words: list[str]) -> None:
    root = write_project(tmp_path / "p", {**FILES, **files})
    result = run_cli("--project-dir", str(root), "compile")
    assert result.code == 2, result.output
    assert where in result.output and "Traceback" not in result.output, result.output
    for word in words:
        assert word in result.output, result.output


def test_ls_shows_the_consenting_extension_query(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", FILES)
    result = run_cli("--project-dir", str(root), "ls", "--format", "json")
    assert result.code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.out)}
    assert "consented" in rows["promo"]["cdi_extension_sql"] and "holdout" in rows["promo"]["cdi_extension_sql"]
    assert "consented" not in rows["koreans"]["cdi_extension_sql"]
