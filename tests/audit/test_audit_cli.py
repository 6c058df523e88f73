"""`scripts/fractal audit` and `scripts/fractal migrate` as a user runs them (the real CLI process)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from support import audit_repos
from support.cli import run_cli


def test_audit_prints_a_readable_report_and_json(tmp_path: Path, fractal_home: Path) -> None:
    repo, secrets, leaked = audit_repos.planted(tmp_path)
    env = {"FRACTAL_HOME": str(fractal_home)}
    text = run_cli("audit", str(repo), "--check", "history", "--check", "rules", env=env)
    assert text.returncode == 0, text.stderr
    out = text.stdout
    assert "Score " in out and "/100 (grade F)" in out
    assert f"app/settings.py:1 @{leaked[:12]}" in out and "TF-OPEN-SECURITY-GROUP" in out
    assert "Not checked (unavailable — not clean)" in out and "dependency vulnerabilities" in out
    as_json = run_cli("audit", str(repo), "--check", "rules", "--json", env=env)
    assert as_json.returncode == 0 and json.loads(as_json.stdout)["grade"] == "F"
    assert not [s for s in secrets if s in out + as_json.stdout + text.stderr]


def test_migrate_saves_the_drafts_to_two_targets(tmp_path: Path, fractal_home: Path, make_target: Any) -> None:
    repo, _secrets, _leaked = audit_repos.planted(tmp_path)
    a, b = make_target("a"), make_target("b")
    env = {"FRACTAL_HOME": str(fractal_home)}
    result = run_cli("migrate", str(repo), "--check", "rules", "--save", "-t", a, "-t", b, env=env)
    assert result.returncode == 0, result.stderr
    assert "saved pipeline:planted-gitops@1.0.0" in result.stdout and "→" in result.stdout
    listed = run_cli("list", "--kind", "entity", "--json", "-t", b, env=env)
    names = {row["name"] for row in json.loads(listed.stdout)["items"]}
    assert names == {"planted-app-kustomize", "planted-db-kustomize", "planted-argocd", "planted-dockerfile-patches",
                     "planted-ci"}
    assert "superseded: remove k8s/deployment.yaml" in result.stdout
    bad = run_cli("migrate", str(tmp_path / "nowhere"), env=env)
    assert bad.returncode == 1 and json.loads(bad.stderr)["error"] == "not_found"
