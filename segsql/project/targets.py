"""Which settings each engine's profile target takes, checked before anything connects.

A misspelled key (`pasword`) would otherwise be silently ignored and surface later as a
confusing login failure, so every key is checked against the engine's list and every
required one must be present — each mistake is one message at the key's line.
"""

from __future__ import annotations

from typing import Any, NoReturn

from segsql.errors import Location, ProjectError
from segsql.project.yaml_lines import key_line
from segsql.util.engines import ENGINES
from segsql.util.suggest import suggest

#: Authenticators that log in with an OAuth or programmatic access token instead of a user's password.
TOKEN_AUTHENTICATORS = ("oauth", "programmatic_access_token")
#: Settings whose values are always secrets, wherever they came from.
SECRET_KEYS = ("password", "token", "private_key_passphrase")


def _set(settings: dict[str, Any], key: str) -> bool:
    return settings.get(key) not in (None, "")


def secret_values(settings: dict[str, Any]) -> frozenset[str]:
    """The values of secret settings, to redact even when written literally in profiles.yml."""
    return frozenset(str(settings[k]) for k in SECRET_KEYS if _set(settings, k))


#: dbt profile keys that segsql accepts and ignores, so a profiles.yml shared with dbt still loads.
DBT_KEYS_IGNORED = ("threads",)


def check_target(kind: str, name: str, settings: dict[str, Any], node: Any, loc: Location) -> None:
    """Raise a ProjectError at the offending line for an unknown, missing or conflicting setting."""
    allowed = ENGINES[kind].settings + DBT_KEYS_IGNORED
    target_line = loc.at(key_line(node, "type"))
    for key in settings:
        if key not in allowed:
            hint = suggest(key, allowed)
            raise ProjectError(f"unknown key {key!r} in {kind} target {name!r}", loc.at(key_line(node, key)), hint)
    for key in ENGINES[kind].required:
        if not _set(settings, key):
            raise ProjectError(f"{kind} target {name!r} needs `{key}`", target_line, f"add {key}: to the target")
    if kind == "snowflake":
        _check_snowflake_auth(name, settings, node, loc)


def _check_snowflake_auth(name: str, settings: dict[str, Any], node: Any, loc: Location) -> None:
    """Exactly one way to log in: password, key pair, or an authenticator (browser SSO, OAuth token)."""
    authenticator = str(settings.get("authenticator") or "").lower()
    where = loc.at(key_line(node, "type"))

    def fail(message: str, key: str, hint: str) -> NoReturn:
        raise ProjectError(f"snowflake target {name!r}: {message}", loc.at(key_line(node, key)) if key in settings else where, hint)

    if authenticator not in TOKEN_AUTHENTICATORS and not _set(settings, "user"):
        fail("needs `user`", "user", "add user: to the target")
    if authenticator in TOKEN_AUTHENTICATORS and not _set(settings, "token"):
        fail(f"authenticator {authenticator!r} needs `token`", "authenticator", "add token: \"{{ env_var('SNOWFLAKE_TOKEN') }}\"")
    if _set(settings, "token") and authenticator not in TOKEN_AUTHENTICATORS:
        fail("`token` is only used with an OAuth authenticator", "token", "add authenticator: oauth, or remove token")
    if _set(settings, "password") and _set(settings, "private_key_path"):
        fail("give either `password` or `private_key_path`, not both", "private_key_path", "remove one of them")
    for key in ("private_key_passphrase", "private_key_passphrase_env"):
        if _set(settings, key) and not _set(settings, "private_key_path"):
            fail(f"`{key}` needs `private_key_path`", key, "add private_key_path: or remove the passphrase")
    if _set(settings, "private_key_passphrase") and _set(settings, "private_key_passphrase_env"):
        fail("give either `private_key_passphrase` or `private_key_passphrase_env`, not both", "private_key_passphrase_env", "remove one of them")
    if not (authenticator or _set(settings, "password") or _set(settings, "private_key_path")):
        fail("has no way to log in", "password", "set password:, private_key_path: or authenticator: (externalbrowser, oauth)")
