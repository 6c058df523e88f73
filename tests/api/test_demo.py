"""`scripts/fractal demo`: the whole chain on embedded defaults (real Git, real Ansible, offline generator
and composer; no LLM, no stand-in), in a fresh workspace folder."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from support.cli import run_cli
from support.git import git_out

pytestmark = pytest.mark.slow


def test_demo_runs_the_fractal_chain(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    done = run_cli("demo", "--home", str(home), env={"FRACTAL_HOME": str(home)}, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert "entity:welcome-motd@1.0.0  (offline generator" in out
    assert "= pipeline:app-setup@1.0.0: entity:app-workdir@1.0.0 → entity:app-config@1.0.0 → entity:file-checksum@1.0.0" in out
    assert "wired app_report.checksum ← steps.app_setup.outputs.checksum" in out
    assert "wmill lint: passed" in out and "Result: success" in out
    for app in ("entity_composer", "pipeline_composer", "meta_pipeline_composer", "catalog_explorer", "repository_audit"):
        assert f"http://127.0.0.1:8765/apps/{app}/" in out
    conf = home / "run" / "apps" / "demo-app" / "app.conf"
    assert (home / "run" / "reports" / "report.txt").read_text() == f"sha256 {hashlib.sha256(conf.read_bytes()).hexdigest()}\n"
    for repo in ("catalog", "catalog_mirror"):
        tree = git_out(home / "repos" / f"{repo}.git", "ls-tree", "-r", "--name-only", "main")
        assert "meta-pipelines/app-platform/flow.yaml" in tree and "pipelines/app-setup/README.md" in tree
    readme = git_out(home / "repos" / "catalog.git", "show", "main:meta-pipelines/app-platform/README.md")
    assert "```mermaid" in readme and "pipeline:app-report@1.0.0" in readme and "Providers that fit every member: local" in readme
