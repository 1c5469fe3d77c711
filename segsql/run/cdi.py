"""Braze Cloud Data Ingestion rows (SPEC 5.2), built in Python from one run's changes.

Braze syncs every row with UPDATED_AT >= its watermark and applies several rows of one
user in no guaranteed order, so the table holds each user's latest state: a changed user's
rows are replaced by the old payload overlaid with this run's changes, cut into chunks of
at most 250 keys, each row with a distinct UPDATED_AT above every value already there.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

MAX_KEYS = 250
MAX_PAYLOAD_BYTES = 1_000_000
TICK = dt.timedelta(microseconds=1)
#: one encoder for every payload (json.dumps with options builds a new one per call)
_encode = json.JSONEncoder(separators=(",", ":"), sort_keys=True).encode


class CdiRow(NamedTuple):
    """A row of the CDI table (a tuple, so a million of them load without another copy)."""

    updated_at: dt.datetime
    external_id: str
    payload: str


def merge_payloads(old_rows: Iterable[tuple[str, str]], changes: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each changed user's full state: every old chunk merged, then this run's values on top.

    Merges into `changes` and returns it: a run that changes every member must not hold a
    second copy of every payload."""
    old: dict[str, dict[str, Any]] = {}
    for user, payload in old_rows:
        if user in changes and payload:
            old.setdefault(user, {}).update(json.loads(payload))
    for user, state in old.items():
        state.update(changes[user])
        changes[user] = state
    return changes


def chunk(payload: dict[str, Any]) -> list[str]:
    """Keys sorted and cut into JSON objects of at most 250 keys (and well under 1 MB)."""
    keys = sorted(payload)
    parts = [keys[i:i + MAX_KEYS] for i in range(0, len(keys), MAX_KEYS)] or [[]]
    texts = [_encode({k: payload[k] for k in part}) for part in parts]
    for text in texts:
        if len(text.encode()) >= MAX_PAYLOAD_BYTES:
            raise ValueError("a CDI payload chunk would exceed Braze's 1 MB row limit")
    return texts


def stamps(count: int, now: dt.datetime, latest: dt.datetime | None) -> list[dt.datetime]:
    """`count` consecutive microseconds ending at `now`, or just after `latest` if the clock is behind."""
    end = now
    if latest is not None and end < latest + count * TICK:
        end = latest + count * TICK
    return [end - (count - 1 - i) * TICK for i in range(count)]


def build_rows(merged: Mapping[str, dict[str, Any]], now: dt.datetime, latest: dt.datetime | None) -> list[CdiRow]:
    """The rows that replace every changed user's rows, with distinct increasing UPDATED_AT."""
    texts = [(user, text) for user in sorted(merged) for text in chunk(merged[user])]
    times = stamps(len(texts), now, latest)
    return [CdiRow(t, user, text) for t, (user, text) in zip(times, texts, strict=True)]
