"""The migration's CI and what it supersedes, on the planted repository: the raw manifests and the
push-deploy workflow are marked, the added workflow validates with the github-actions checker, and
its own steps — run here with bash as a GitHub runner would run them (the real `kubectl kustomize`,
the validation script against the pack's real HTTP server on 127.0.0.1) — pass on the scaffold and
fail on a broken overlay. The rescan with them applied scores higher.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from fractal_local.server import serve
from support import audit_repos

from f.fractal.audit.migrate import scaffold
from f.fractal.audit.workflows import CI_WORKFLOW
from f.fractal.platform.files import write_files
from f.fractal.tools.validate import validate_files

TOKEN = "ci-token-for-tests"


@pytest.fixture(scope="module")
def migration(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    repo, _secrets, _leaked = audit_repos.planted(tmp_path_factory.mktemp("ci"))
    return repo, scaffold(str(repo), checks=["history", "rules"], gitops_repo="https://git.example.com/shop/planted.git",
                          registry="ghcr.io/shop")


def _ci(result: dict[str, Any]) -> dict[str, Any]:
    return next(d for d in result["drafts"] if d["spec"]["tool"] == "github-actions")


def test_the_raw_manifests_and_the_push_deploy_are_superseded(migration: Any) -> None:
    _repo, result = migration
    marked = {s["file"]: s for s in result["superseded"]}
    assert set(marked) == {"k8s/deployment.yaml", ".github/workflows/deploy.yml"}
    assert marked["k8s/deployment.yaml"]["action"] == "remove" and "Deployment" in marked["k8s/deployment.yaml"]["reason"]
    assert marked[".github/workflows/deploy.yml"]["action"] == "remove"  # its only run step was kubectl apply
    assert "kubectl apply" in marked[".github/workflows/deploy.yml"]["reason"]
    changed = {c["id"]: c for c in result["score"]["changed"]}
    assert changed["no-push-deploys"]["before"] == 0 and changed["no-push-deploys"]["after"] == 10
    assert changed["ci-validation"]["after"] == 10


def test_the_ci_workflow_validates_and_never_deploys(migration: Any) -> None:
    _repo, result = migration
    draft = _ci(result)
    assert result["validation"][draft["metadata"]["name"]]["ok"]
    assert result["placement"][draft["metadata"]["name"]] == ".github"
    workflow = yaml.safe_load(draft["spec"]["files"][CI_WORKFLOW])
    runs = " ".join(s.get("run", "") for s in workflow["jobs"]["validate"]["steps"])
    assert "kubectl kustomize" in runs and "/api/r/fractal/entities/check" in runs
    pushing = {**draft["spec"]["files"], "workflows/deploy.yml": "on: push\njobs:\n  d:\n    runs-on: x\n"
               "    steps:\n      - run: helm upgrade --install app deploy/chart\n"}
    report = validate_files("github-actions", pushing)
    assert not report["ok"] and any("deploys by push" in e["message"] for e in report["errors"])


def _run_steps(workflow: str, repo: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Every `run` step of the workflow's job, in order, with bash -e as a runner does (checkout is the repo itself)."""
    steps = yaml.safe_load(workflow)["jobs"]["validate"]["steps"]
    script = "\n".join(s["run"] for s in steps if "run" in s)
    return subprocess.run(["bash", "-e", "-c", script], cwd=repo, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.skipif(not shutil.which("kubectl"), reason="kubectl not installed (the render step runs kubectl kustomize)")
def test_the_ci_steps_pass_on_the_scaffold_and_fail_on_a_broken_overlay(migration: Any, fractal_home: Path,
                                                                        tmp_path: Path) -> None:
    repo, result = migration
    copy = tmp_path / "app"
    subprocess.run(["git", "clone", "-q", str(repo), str(copy)], check=True)
    for draft in result["drafts"]:
        if draft["spec"]["tool"] != "dockerfile":
            write_files(copy / result["placement"][draft["metadata"]["name"]], draft["spec"]["files"])
    for marked in result["superseded"]:
        (copy / marked["file"]).unlink()
    server = serve("127.0.0.1", 0, token=TOKEN)
    try:
        env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "CHECK_TOKEN": TOKEN,  # the step's env, from vars/secrets
               "CHECK_URL": f"http://127.0.0.1:{server.server_address[1]}"}
        workflow = _ci(result)["spec"]["files"][CI_WORKFLOW]
        passed = _run_steps(workflow, copy, env)
        assert passed.returncode == 0, passed.stdout + passed.stderr
        for line in ("kustomize deploy/app: ok", "argocd deploy/argocd: ok", "kubernetes rendered: ok",
                     "github-actions .github: ok"):
            assert line in passed.stdout
        assert (copy / "rendered" / "app-prod.yaml").read_text().count("kind: Deployment") == 1
        base = copy / "deploy" / "app" / "base" / "deployment.yaml"
        base.write_text(base.read_text().replace("allowPrivilegeEscalation: false", "privileged: true"))
        failed = _run_steps(workflow, copy, env)
        assert failed.returncode != 0 and "kustomize deploy/app: FAILED" in failed.stdout, failed.stdout + failed.stderr
        assert "::error file=deploy/app/base/deployment.yaml::" in failed.stdout
    finally:
        server.shutdown()
