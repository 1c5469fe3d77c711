"""The demo project's funnels tell its story: every step non-empty and fewer users at each step."""

from __future__ import annotations

import itertools
from pathlib import Path

from segsql.demo.seed import seed_demo
from segsql.engines.duckdb import DuckDBAdapter
from segsql.reports.funnel import funnel_report
from segsql.run.session import Options, open_session

ROOT = Path(__file__).resolve().parents[2]
AS_OF = "2026-11-22T12:00:00Z"


def test_demo_funnels_have_non_empty_decreasing_steps(tmp_path: Path) -> None:
    session = open_session(Options(ROOT), AS_OF, need_target=False)
    assert {"browse_to_buy", "strict_onboarding", "same_product", "checkout_by_country"} <= set(session.definitions.funnels)
    with DuckDBAdapter(str(tmp_path / "demo.duckdb")) as adapter:
        seed_demo(adapter, users=1500, seed=42, as_of=session.as_of)
        for name, funnel in session.definitions.funnels.items():
            report = funnel_report(session, adapter, name, trends=funnel.trends is not None)
            by_value: dict[object, list[int]] = {}
            for row in sorted(report.steps, key=lambda r: r["step"]):
                by_value.setdefault(row["breakdown"], []).append(row["users"])
            counts = by_value[None] if funnel.breakdown is None else [sum(c) for c in zip(*by_value.values(), strict=True)]
            assert counts[-1] > 0, (name, counts)
            assert all(a > b for a, b in itertools.pairwise(counts)), (name, counts)
            assert funnel.description
            if funnel.breakdown is not None:
                assert len(by_value) >= 3, (name, list(by_value))
            if funnel.trends is not None:
                assert report.trends and sum(r["entered"] for r in report.trends) == counts[0]


def test_the_demo_funnel_unit_test_passes_and_the_readme_shows_it_and_its_failure(tmp_path: Path) -> None:
    import shutil

    from tests.conftest import run_cli

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shop = (ROOT / "models" / "funnels" / "shop.yml").read_text(encoding="utf-8")
    block = shop[shop.index("unit_tests:"):]
    assert "```yaml\n" + block + "```" in readme
    root = tmp_path / "demo"
    shutil.copytree(ROOT / "models", root / "models")
    shutil.copy(ROOT / "segsql_project.yml", root / "segsql_project.yml")
    passed = run_cli("--project-dir", str(root), "test", "--select", "browse_to_buy")
    assert passed.code == 0 and "PASS" in passed.out, passed.output
    (root / "models" / "funnels" / "shop.yml").write_text(shop.replace("u2: 2, u3: 0", "u2: 3, u3: 0"), encoding="utf-8")
    failed = run_cli("--project-dir", str(root), "test", "--select", "browse_to_buy")
    assert failed.code == 1
    shown = next(line for line in readme.splitlines() if line.startswith("error: models/funnels/shop.yml:"))
    assert shown in failed.err, failed.err
