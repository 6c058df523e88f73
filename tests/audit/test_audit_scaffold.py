"""Scaffolding the migration of the planted repository: every draft validates with its tool's checker
(kustomize overlays rendered by the real `kubectl kustomize` when kubectl is installed), the
Dockerfile diffs apply with the real `git apply`, the drafts and the pipeline save to two real
catalogs, and the rescanned scaffold scores higher than the repository did.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from support import audit_repos
from support.paths import ROOT

import f.fractal.catalog.items as catalog
import f.fractal.tools.dockerfile.check as dockerfile
from f.fractal.audit.audit import audit
from f.fractal.audit.migrate import save, scaffold
from f.fractal.flows.interpreter import FlowRunner
from f.fractal.model.errors import InvalidInput
from f.fractal.tools.checks import tool_environments
from f.fractal.tools.validate import validate_entity

FAST = ["history", "rules"]


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    repo, secrets, _leaked = audit_repos.planted(tmp_path_factory.mktemp("scaffold"))
    return repo, secrets


@pytest.fixture(scope="module")
def migration(planted: tuple[Path, list[str]]) -> dict[str, Any]:
    return scaffold(str(planted[0]), checks=FAST, environments=["dev", "staging", "prod"],
                    gitops_repo="https://git.example.com/shop/planted.git", registry="ghcr.io/shop")


def _by_tool(result: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for draft in result["drafts"]:
        out.setdefault(draft["spec"]["tool"], []).append(draft)
    return out


def test_every_draft_validates_like_a_generated_one(migration: dict[str, Any]) -> None:
    assert migration["valid"]
    tools = _by_tool(migration)
    assert set(tools) == {"kustomize", "argocd", "dockerfile", "github-actions"}
    assert {d["metadata"]["name"] for d in tools["kustomize"]} == {"planted-app-kustomize", "planted-db-kustomize"}
    for draft in migration["drafts"]:
        report = validate_entity(draft)  # again, from scratch: the draft as save_item would get it
        assert report["ok"], (draft["metadata"]["name"], report["errors"])
        assert draft["provenance"]["generator"] == "scaffold" and draft["provenance"]["validation"]["ok"]
    if shutil.which("kubectl"):
        assert "kubectl kustomize" in migration["validation"]["planted-app-kustomize"]["checks_run"]


def test_the_manifests_are_hardened_and_secrets_are_references(migration: dict[str, Any]) -> None:
    app = next(d for d in migration["drafts"] if d["metadata"]["name"] == "planted-app-kustomize")
    files = app["spec"]["files"]
    assert set(files) == {"base/kustomization.yaml", "base/deployment.yaml", "base/service.yaml",
                          *(f"overlays/{env}/kustomization.yaml" for env in ("dev", "staging", "prod"))}
    deployment = files["base/deployment.yaml"]
    for needle in ("limits:", "runAsNonRoot: true", "livenessProbe:", "readinessProbe:", "secretKeyRef:",
                   "image: ghcr.io/shop/app:", "containerPort: 8000"):
        assert needle in deployment
    assert "name: DATABASE_PASSWORD" in deployment and "value: db" in deployment  # DATABASE_HOST stays a value
    argocd = _by_tool(migration)["argocd"][0]["spec"]["files"]
    assert "root.yaml" in argocd and "apps/app-prod.yaml" in argocd
    assert "path: deploy/app/overlays/prod" in argocd["apps/app-prod.yaml"]
    assert "selfHeal: true" in argocd["root.yaml"] and "https://git.example.com/shop/planted.git" in argocd["root.yaml"]


def test_the_dockerfile_diffs_apply_in_order_with_git_apply(migration: dict[str, Any], planted: Any,
                                                            tmp_path: Path) -> None:
    files = _by_tool(migration)["dockerfile"][0]["spec"]["files"]
    diffs = sorted(p for p in files if p.endswith(".diff"))
    assert diffs == ["app/01-DF-IMAGE-UNPINNED.diff", "app/02-DF-ROOT-USER.diff"]
    copy = tmp_path / "copy"
    subprocess.run(["git", "clone", "-q", str(planted[0]), str(copy)], check=True)
    for name in diffs:
        (tmp_path / "p.diff").write_text(files[name])
        subprocess.run(["git", "-C", str(copy), "apply", str(tmp_path / "p.diff")], check=True, capture_output=True)
    patched = (copy / "app" / "Dockerfile").read_text()
    assert patched == files["app/Dockerfile"]
    assert {p.rule for p in dockerfile.problems(patched)} == {"DF-NO-HEALTHCHECK"}
    fix = migration["dockerfile_fixes"][0]
    assert fix["fixed"] == ["DF-IMAGE-UNPINNED", "DF-ROOT-USER"] and fix["manual"][0]["rule"] == "DF-NO-HEALTHCHECK"


def test_rescanning_the_scaffold_raises_the_score(migration: dict[str, Any]) -> None:
    score = migration["score"]
    assert score["after"] > score["before"]
    changed = {c["id"] for c in score["changed"]}
    assert {"environments-as-overlays", "pull-based-agent", "automated-reconciliation"} <= changed
    assert all(c["after"] >= c["before"] for c in score["changed"])


def test_no_secret_value_in_the_migration(migration: dict[str, Any], planted: Any) -> None:
    text = json.dumps(migration)
    assert not [s for s in planted[1] if s in text]


def test_the_drafts_and_the_pipeline_save_to_two_catalogs(migration: dict[str, Any], make_target: Any) -> None:
    targets = [make_target("a"), make_target("b")]
    result = save(json.loads(json.dumps(migration)), targets)
    assert result["ok"]
    refs = [s["ref"] for s in result["saved"]]
    assert refs[-1] == "pipeline:planted-gitops@1.0.0"
    for target in targets:
        pipeline = catalog.get("pipeline:planted-gitops", [target])["item"]
        steps = {s["id"]: s for s in pipeline["spec"]["steps"]}
        assert steps["argocd"]["needs"] == ["planted_app_kustomize", "planted_db_kustomize"]
        assert steps["planted_app_kustomize"]["inputs"] == {"environment": {"from": "inputs.environment"}}
        assert pipeline["spec"]["providers"] == ["k3s"]
        for ref in refs[:-1]:
            assert catalog.get(ref, [target])["item"]["spec"]["files"]


def test_helm_when_asked_and_from_a_previous_audit(planted: Any) -> None:
    before = audit(str(planted[0]), checks=FAST)
    result = scaffold(audit=before, helm=True, checks=FAST, environments=["dev", "prod"])
    assert result["score"]["before"] == before["score"] and result["score"]["after"] > before["score"]
    chart = _by_tool(result)["helm"][0]
    assert {"Chart.yaml", "values.yaml", "values-dev.yaml", "values-prod.yaml",
            "templates/deployment.yaml"} <= set(chart["spec"]["files"])
    report = result["validation"][chart["metadata"]["name"]]
    assert report["ok"] and "chart structure" in report["checks_run"]
    if shutil.which("helm") or (tool_environments() / "helm" / "bin" / "python").is_file():
        assert "kubernetes checker on the rendered manifests" in report["checks_run"]  # rendered per values file
    else:
        assert report["checks_skipped"][0]["reason"].startswith("helm is not installed on this worker")
    assert "kustomize" not in _by_tool(result)
    assert len(result["warnings"]) == 2  # placeholder Git URL and registry, said


def test_a_secret_in_a_dockerfile_is_removed_by_a_masked_diff(tmp_path: Path) -> None:
    repo = tmp_path / "svc"
    (repo / "api").mkdir(parents=True)
    token = "tok_" + audit_repos.fake_aws_key(3)[1]
    (repo / "api" / "Dockerfile").write_text(f"FROM node:latest\nENV API_TOKEN={token}\nCMD [\"node\", \"index.js\"]\n")
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    audit_repos.commit_all(repo, "api")
    result = scaffold(str(repo), checks=FAST)
    assert result["valid"] and token not in json.dumps(result)
    fix = result["dockerfile_fixes"][0]
    assert fix["fixed"] == ["DF-SECRET-ENV", "DF-IMAGE-UNPINNED", "DF-ROOT-USER"]
    assert any(m["rule"] == "DF-SECRET-ENV" and "***" in m["reason"] for m in fix["manual"])


@pytest.mark.parametrize(("kwargs", "message"), [
    ({}, "give repo or a previous audit"),
    ({"repo": ".", "environments": ["Prod"]}, "bad environments"),
    ({"repo": ".", "environments": ["dev", "dev"]}, "bad environments"),
    ({"audit": "not a report"}, "audit must be"),
])
def test_bad_scaffold_inputs_are_clear_errors(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        scaffold(**kwargs)


def test_a_repository_without_services_is_refused(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("docs\n")
    with pytest.raises(InvalidInput, match="no service found"):
        scaffold(str(tmp_path), checks=["rules"])


def test_the_chain_runs_as_a_flow_and_saves(planted: Any, make_target: Any) -> None:
    """f/fractal/audit_and_migrate__flow run by the pack's local flow runner, as Windmill would run it."""
    flow = yaml.safe_load((ROOT / "f" / "fractal" / "audit_and_migrate__flow" / "flow.yaml").read_text())
    targets = [make_target("a")]
    out = FlowRunner().run(flow, {"repo": str(planted[0]), "checks": FAST, "targets": targets})
    assert out["status"] == "ok", out.get("error")
    result = out["result"]
    assert result["score"]["after"] > result["score"]["before"] and result["saved"]["ok"]
    assert catalog.get("pipeline:planted-gitops", targets)["item"]["metadata"]["version"] == "1.0.0"
