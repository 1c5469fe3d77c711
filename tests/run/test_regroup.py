"""Members who stay while their split group changes: the row is updated in place, on every engine.

A run rewrites only what changed (leavers deleted, newcomers inserted); a split added to a
segment, or removed from it, changes `split_group` of members who stay, and their
`entered_at` must survive it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from segsql.engines.base import Adapter
from tests.run.test_activation import Harness, expected_group

PLAIN = "segments:\n  - name: test_cells\n    where: {attribute: age, exists: true}\n"
SPLIT = PLAIN + "    split:\n      salt: cells_2026\n      groups: {holdout: 20, variant_a: 40, variant_b: 40}\n      holdout: holdout\n"


def _entered(h: Harness) -> dict[str, object]:
    return {str(r[0]): r[1] for r in h.adapter.fetch("SELECT external_user_id, entered_at FROM main.seg_test_cells")}


def test_a_split_added_and_removed_regroups_members_in_place(tmp_path: Path, engine: Callable[[], Adapter]) -> None:
    h = Harness(tmp_path, engine(), {"models/sources.yml": "users: {table: main.users, id: external_id, attributes: {country: string, age: number}}\n", "models/segments.yml": PLAIN})
    users = [(f"u{i}", "KR", 20.0 + i) for i in range(30)]
    h.load(users)
    assert h.run().ok
    entered = _entered(h)
    assert set(h.table("test_cells").values()) == {None}

    (h.root / "models" / "segments.yml").write_text(SPLIT)
    result = h.run()
    assert result.ok and (result.models[0].entered, result.models[0].exited) == (0, 0)
    assert h.table("test_cells") == {u: expected_group(u) for u, _, _ in users}
    assert _entered(h) == entered, "members who stay keep entered_at"
    latest = {}
    for _, user, payload in h.cdi():
        latest.setdefault(user, {}).update(payload)
    # a member now in the holdout is no longer synced: null, as when leaving a split segment
    assert {u: p["test_cells"] for u, p in latest.items()} == {u: None if expected_group(u) == "holdout" else expected_group(u) for u, _, _ in users}

    (h.root / "models" / "segments.yml").write_text(PLAIN)
    assert h.run().ok
    assert set(h.table("test_cells").values()) == {None}
    assert _entered(h) == entered
    assert h.adapter.fetch("SELECT COUNT(*) FROM main.segsql_changes WHERE change = 'exited'")[0][0] == 0
