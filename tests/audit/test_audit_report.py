"""Auditing real Git repositories built by the tests (tests/audit/audit_repos.py): the planted
problems are found, the history secret with its commit, no secret value anywhere in the report,
and the well-structured control repository scores far higher. These use the pack's own rules and
history scan (no scanner environment needed); test_audit_scanners.py runs the external scanners.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from support import audit_repos
from support.git import GitDaemon

import f.fractal.audit.score as score
from f.fractal.audit.audit import audit
from f.fractal.model.errors import InvalidInput, NotFound, Unreachable

FAST = ["history", "rules"]


@pytest.fixture(scope="module")
def repos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("audit")
    planted, secrets, leaked = audit_repos.planted(tmp)
    control = audit_repos.control(tmp)
    return {"planted": planted, "secrets": secrets, "leaked": leaked, "control": control,
            "planted_report": audit(str(planted), checks=FAST), "control_report": audit(str(control), checks=FAST)}


def _rules(report: dict[str, Any]) -> set[tuple[str, str]]:
    return {(f["rule"], f["file"]) for f in report["findings"]}


def test_the_planted_problems_are_found(repos: dict[str, Any]) -> None:
    report = repos["planted_report"]
    found = _rules(report)
    assert ("DF-ROOT-USER", "app/Dockerfile") in found
    assert ("K8S-NO-LIMITS", "k8s/deployment.yaml") in found
    assert ("K8S-IMAGE-UNPINNED", "k8s/deployment.yaml") in found
    assert ("TF-OPEN-SECURITY-GROUP", "infra/main.tf") in found
    assert ("COMPOSE-IMAGE-UNPINNED", "docker-compose.yml") in found
    sg = next(f for f in report["findings"] if f["rule"] == "TF-OPEN-SECURITY-GROUP")
    assert sg["severity"] == "critical" and "22" in sg["message"] and sg["fix"]
    assert report["structure"]["compose_files"] == ["docker-compose.yml"]
    assert report["structure"]["terraform_modules"] == ["infra"]
    assert {s["name"] for s in report["structure"]["services"]} == {"app", "db"}


def test_the_key_removed_later_is_found_in_history_with_its_commit(repos: dict[str, Any]) -> None:
    secrets = [f for f in repos["planted_report"]["findings"] if f["category"] == "secret"]
    assert secrets, "the history scan missed the key"
    assert {f["file"] for f in secrets} == {"app/settings.py"}
    assert {f["commit"] for f in secrets} == {repos["leaked"][:12]}
    assert all("no longer in the tip" in f["message"] and f["severity"] == "critical" for f in secrets)
    assert not (repos["planted"] / "app" / "settings.py").read_text().count("AKIA")  # the tip holds no key


def test_no_secret_value_anywhere_in_the_report(repos: dict[str, Any]) -> None:
    text = json.dumps(repos["planted_report"])
    for value in repos["secrets"]:
        assert value not in text
        assert value[:12] not in text


def test_the_control_repository_scores_at_least_30_points_higher(repos: dict[str, Any]) -> None:
    planted, control = repos["planted_report"], repos["control_report"]
    assert control["score"] >= planted["score"] + 30, (planted["score"], control["score"])
    assert not [f for f in control["findings"] if f["severity"] in ("critical", "high")]
    by_id = {c["id"]: c for c in control["checks"]}
    assert by_id["pull-based-agent"]["status"] == "pass" and by_id["no-secrets-in-history"]["status"] == "pass"
    assert {c["id"] for c in planted["checks"] if c["status"] == "fail"} >= {
        "no-secrets-in-history", "network-exposure", "no-push-deploys", "pull-based-agent"}


def test_every_check_carries_evidence_and_the_score_follows_the_rubric(repos: dict[str, Any]) -> None:
    report = repos["planted_report"]
    applicable = [c for c in report["checks"] if c["score"] is not None]
    assert all(c["evidence"] and c["why"] for c in report["checks"])
    expected = round(100 * sum(c["weight"] * c["score"] for c in applicable) / sum(c["weight"] * 10 for c in applicable))
    assert report["score"] == expected
    assert {c["group"] for c in report["checks"]} == set(score.GROUPS)


def test_a_check_that_does_not_apply_leaves_the_denominator(tmp_path: Path) -> None:
    repo = tmp_path / "docs"
    repo.mkdir()
    (repo / "README.md").write_text("# Notes\n")
    (repo / "SECURITY.md").write_text("Report to security@example.com\n")
    report = audit(str(repo), checks=FAST)
    by_id = {c["id"]: c for c in report["checks"]}
    assert by_id["terraform-remote-state"]["status"] == "not-applicable"
    assert by_id["images-pinned"]["status"] == "not-applicable"
    applicable = [c for c in report["checks"] if c["score"] is not None]
    assert {c["id"] for c in applicable} == {"codeowners", "ci-validation", "no-secrets-in-history", "security-policy"}
    # SECURITY.md (low) and no secret (critical) pass; CODEOWNERS (low) and CI (medium) fail: 100·(2.5+10)/(2.5+10+2.5+5)
    assert report["score"] == round(100 * 12.5 / 20)
    assert {u["dimension"] for u in report["unavailable"]} == {"secrets in history"}  # a plain folder: its files only
    assert "current files only" in next(c for c in applicable if c["id"] == "no-secrets-in-history")["evidence"][0]


def test_dependency_vulnerabilities_are_unavailable_not_clean(repos: dict[str, Any]) -> None:
    missing = {u["dimension"]: u["reason"] for u in repos["planted_report"]["unavailable"]}
    assert "advisory feed" in missing["dependency vulnerabilities"]
    assert not [f for f in repos["planted_report"]["findings"] if f["category"] == "vulnerability"]


def test_history_depth_limits_the_search(repos: dict[str, Any]) -> None:
    shallow = audit(f"file://{repos['planted']}", checks=["history"], history_depth=1)
    assert shallow["commits"] == 1
    assert not [f for f in shallow["findings"] if f["category"] == "secret"]
    assert "the whole history" in next(c for c in shallow["checks"] if c["id"] == "no-secrets-in-history")["evidence"][0]


def test_a_git_url_and_a_resource_path_are_audited_like_a_folder(repos: dict[str, Any], git_daemon: GitDaemon,
                                                                  make_target: Any) -> None:
    bare = git_daemon.repo("shop")
    subprocess.run(["git", "-C", str(repos["planted"]), "push", "-q", str(bare), "main"], check=True)
    by_url = audit(git_daemon.url("shop"), checks=FAST)
    target = make_target("shop_repo", url=git_daemon.url("shop"))
    by_resource = audit(target, checks=FAST)
    for report in (by_url, by_resource):
        assert report["score"] == repos["planted_report"]["score"]
        assert _rules(report) == _rules(repos["planted_report"])


@pytest.mark.parametrize(("repo", "ref", "error"), [
    ("", "", InvalidInput),
    ("not a repository", "", InvalidInput),
    ("/no/such/folder", "", NotFound),
    ("https://user:s3cr3t-pass@127.0.0.1:9/x.git", "", Unreachable),
    ("file:///no/such/repo.git", "", Unreachable),
    (".", "--upload-pack=touch /tmp/x", InvalidInput),
    (".", "a..b", InvalidInput),
])
def test_bad_repositories_are_clear_errors(repo: str, ref: str, error: type[Exception]) -> None:
    with pytest.raises(error) as caught:
        audit(repo, ref=ref, checks=["rules"])
    assert "s3cr3t-pass" not in str(caught.value)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"checks": ["semgrep"]}, "unknown checks"),
    ({"checks": "rules"}, "list of names"),
    ({"timeout": 0}, "number of seconds"),
    ({"timeout": "soon"}, "number of seconds"),
])
def test_bad_options_are_refused_before_anything_runs(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        audit(".", **kwargs)
