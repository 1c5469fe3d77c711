"""Every command of the foundation through the real entry point: exit codes, JSON output, files."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

from tests.conftest import run_cli

AS_OF = "2026-11-22T12:00:00Z"
REPO = Path(__file__).resolve().parents[2]
EXAMPLE = """segments:
  - name: korean_vips
    description: VIP customers in Korea
    tags: [example]
    where:
      all:
        - {attribute: country, equals: KR}
        - {attribute: is_vip, equals: true}
"""


def _demo(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    result = run_cli("init", str(root))
    assert result.code == 0, result.output
    assert (root / "models" / "sources.yml").is_file()
    # the scaffold points at the user's tables; these tests run it on the demo shop instead
    shutil.copy(REPO / "models" / "sources.yml", root / "models" / "sources.yml")
    (root / "models" / "segments" / "first_segment.yml").unlink()
    (root / "models" / "segments" / "example.yml").write_text(EXAMPLE, encoding="utf-8")
    result = run_cli("--project-dir", str(root), "seed", "--demo", "--users", "300", "--format", "json")
    assert result.code == 0, result.output
    assert json.loads(result.out)["tables"]["users"] == 300
    return root


def test_python_dash_m_entry_point_runs_help_and_version() -> None:
    out = subprocess.run([sys.executable, "-m", "segsql", "--help"], capture_output=True, text=True, check=False)
    assert out.returncode == 0 and "compile" in out.stdout and "seed" in out.stdout
    version = subprocess.run([sys.executable, "-m", "segsql", "--version"], capture_output=True, text=True, check=False)
    assert version.returncode == 0 and "segsql" in version.stdout


def test_entry_point_error_is_exit_2_without_traceback(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "a.yml").write_text("segments:\n  - name: a\n    where: {attribute: x, equals: 1}\n")
    out = subprocess.run([sys.executable, "-m", "segsql", "--project-dir", str(tmp_path), "compile"], capture_output=True, text=True, check=False)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert "models/a.yml:3" in out.stderr


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    root = _demo(tmp_path)
    result = run_cli("init", str(root))
    assert result.code == 2 and "already holds a segsql project" in result.err


def test_run_show_ls_compile_on_a_fresh_project(tmp_path: Path) -> None:
    root = _demo(tmp_path)
    run = run_cli("--project-dir", str(root), "run", "--as-of", AS_OF, "--format", "json")
    assert run.code == 0, run.output
    report = json.loads(run.out)
    assert report["status"] == "success" and report["results"][0]["name"] == "korean_vips"
    size = report["results"][0]["size"]
    assert json.loads((root / "target" / "run_results.json").read_text())["run_id"] == report["run_id"]
    db = duckdb.connect(str(next(root.glob("*.duckdb"))))
    try:
        assert db.execute("SELECT COUNT(*) FROM main.seg_korean_vips").fetchone()[0] == size
    finally:
        db.close()

    show = run_cli("--project-dir", str(root), "show", "korean_vips", "--limit", "3", "--as-of", AS_OF, "--format", "json")
    assert show.code == 0
    shown = json.loads(show.out)
    assert shown["size"] == size and len(shown["members"]) == min(3, size)

    listing = run_cli("--project-dir", str(root), "ls", "--format", "json")
    assert listing.code == 0
    (row,) = json.loads(listing.out)
    assert row["name"] == "korean_vips" and row["table"] == "seg_korean_vips"
    assert row["cdi_extension_sql"] == "SELECT external_user_id FROM main.seg_korean_vips"

    compiled = run_cli("--project-dir", str(root), "compile", "--as-of", AS_OF, "--format", "json", "--check")
    assert compiled.code == 0, compiled.output
    files = json.loads(compiled.out)["files"]
    assert len(files) == 6
    assert (root / "target" / "compiled" / "snowflake" / "segments" / "korean_vips.sql").is_file()
    manifest = json.loads((root / "target" / "manifest.json").read_text())
    assert manifest["segments"]["korean_vips"]["table"] == "seg_korean_vips"


def test_text_output_of_run_is_a_table(tmp_path: Path) -> None:
    root = _demo(tmp_path)
    result = run_cli("--project-dir", str(root), "run", "--as-of", AS_OF)
    assert result.code == 0
    assert "korean_vips" in result.out and "entered" in result.out


def test_state_modified_selects_changed_definitions(tmp_path: Path) -> None:
    root = _demo(tmp_path)
    seg_file = root / "models" / "segments" / "example.yml"
    seg_file.write_text(seg_file.read_text() + "  - name: japanese\n    where: {attribute: country, equals: JP}\n")
    assert run_cli("--project-dir", str(root), "compile", "--dialect", "duckdb").code == 0
    state = tmp_path / "state"
    (root / "target").rename(state)
    seg_file.write_text(seg_file.read_text().replace("equals: JP", "equals: KR"))
    listing = run_cli("--project-dir", str(root), "ls", "--select", "state:modified", "--state", str(state), "--format", "json")
    assert listing.code == 0, listing.output
    assert [r["name"] for r in json.loads(listing.out)] == ["japanese"]


def test_selection_grammar(tmp_path: Path) -> None:
    root = _demo(tmp_path)
    seg_file = root / "models" / "segments" / "example.yml"
    seg_file.write_text(seg_file.read_text() + "  - name: base\n    tags: [core]\n    where: {attribute: age, gte: 18}\n  - name: derived\n    where: {segment: base}\n")

    def names(*args: str) -> list[str]:
        result = run_cli("--project-dir", str(root), "ls", "--format", "json", *args)
        assert result.code == 0, result.output
        return [r["name"] for r in json.loads(result.out)]

    assert names("--select", "tag:core") == ["base"]
    assert names("--select", "base+") == ["base", "derived"]
    assert names("--select", "+derived") == ["base", "derived"]
    assert names("--select", "path:models/segments", "--exclude", "korean_vips") == ["base", "derived"]

    for selector, message in [("tag:nope", "no segment has the tag 'nope'"), ("path:models/nowhere", "no segment is defined under"), ("++base", "malformed selector"), ("base++", "malformed selector")]:
        result = run_cli("--project-dir", str(root), "ls", "--select", selector)
        assert result.code == 2, result.output
        assert message in result.err and "Traceback" not in result.output


PROFILE_WITH_PROD = """
segsql:
  target: dev
  outputs:
    dev: {type: duckdb, path: "{{ env_var('SEGSQL_TEST_DB_PATH', 'from_default.duckdb') }}", schema: main}
    prod:
      type: snowflake
      account: "{{ env_var('SEGSQL_TEST_UNSET_ACCOUNT') }}"
      user: "{{ env_var('SEGSQL_TEST_UNSET_USER') }}"
"""


def test_only_the_chosen_target_is_rendered(tmp_path: Path, monkeypatch) -> None:
    root = _demo(tmp_path)
    (root / "profiles.yml").write_text(PROFILE_WITH_PROD)
    monkeypatch.delenv("SEGSQL_TEST_UNSET_ACCOUNT", raising=False)
    assert run_cli("--project-dir", str(root), "seed", "--demo", "--users", "50").code == 0
    assert (root / "from_default.duckdb").is_file()
    prod = run_cli("--project-dir", str(root), "--target", "prod", "run")
    assert prod.code == 2 and "SEGSQL_TEST_UNSET_ACCOUNT" in prod.err and "profiles.yml:8" in prod.err


def test_profiles_dir_and_home_lookup(tmp_path: Path, monkeypatch) -> None:
    root = _demo(tmp_path)
    profiles = (root / "profiles.yml").read_text()
    (root / "profiles.yml").unlink()
    elsewhere = tmp_path / "conf"
    elsewhere.mkdir()
    (elsewhere / "profiles.yml").write_text(profiles.replace("path: shop.duckdb", f"path: {root / 'shop.duckdb'}"))
    assert run_cli("--project-dir", str(root), "--profiles-dir", str(elsewhere), "run", "--dry-run").code == 0
    home = tmp_path / "home"
    (home / ".segsql").mkdir(parents=True)
    (home / ".segsql" / "profiles.yml").write_text((elsewhere / "profiles.yml").read_text())
    monkeypatch.setenv("HOME", str(home))
    assert run_cli("--project-dir", str(root), "run", "--dry-run").code == 0
    monkeypatch.setenv("HOME", str(tmp_path / "nowhere"))
    missing = run_cli("--project-dir", str(root), "run")
    assert missing.code == 2 and "no profiles.yml found" in missing.err


def test_history_of_an_ephemeral_segment_is_a_usage_error(tmp_path: Path) -> None:
    root = _demo(tmp_path)
    (root / "models" / "eph.yml").write_text("segments:\n  - name: eph\n    materialized: ephemeral\n    where: {attribute: age, gte: 18}\n", encoding="utf-8")
    result = run_cli("--project-dir", str(root), "history", "eph")
    assert result.code == 2, result.output
    assert "'eph' is ephemeral" in result.err and "Traceback" not in result.output

