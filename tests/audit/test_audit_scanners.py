"""The external scanners run for real, each from its own pinned environment (.venv-scanners/<tool>,
made by `scripts/setup --scanners`); a test whose scanner is not installed is skipped with the
reason. A missing or timed-out scanner must be reported unavailable, never as zero findings.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from support import audit_repos
from support.paths import ROOT

import f.fractal.audit.scanners as scanners
from f.fractal.audit.audit import audit


def _pinned(tool: str) -> str:
    text = (ROOT / "scripts" / "scanners" / f"{tool}.txt").read_text()
    found = re.search(rf"(?m)^{re.escape(tool)}==(\S+)", text)
    assert found, f"scripts/scanners/{tool}.txt pins no version"
    return found.group(1)


def _installed(tool: str) -> bool:
    return (scanners.scanners_dir() / tool / ".fractal-setup").is_file()  # written once its install (and version) checked


needs = {t: pytest.mark.skipif(not _installed(t), reason=f"{t} not installed: run scripts/setup --scanners")
         for t in scanners.SCANNER_NAMES}


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], dict[str, Any]]:
    repo, secrets, _leaked = audit_repos.planted(tmp_path_factory.mktemp("scan"))
    installed = [t for t in scanners.SCANNER_NAMES if _installed(t)]
    if not installed:
        pytest.skip("no scanner installed: run scripts/setup --scanners")
    return repo, secrets, audit(str(repo), checks=["history", "rules", *installed])


def _tool(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in report["tools"] if t["tool"] == name)


@needs["checkov"]
def test_checkov_finds_the_open_security_group_and_the_root_container(planted: Any) -> None:
    _repo, _secrets, report = planted
    assert _tool(report, "checkov") | {"seconds": 0} == {"tool": "checkov", "status": "ok", "version": _pinned("checkov"),
                                                          "findings": _tool(report, "checkov")["findings"], "seconds": 0}
    found = {(f["rule"], f["file"]) for f in report["findings"] if f["tool"] == "checkov"}
    assert ("CKV_AWS_24", "infra/main.tf") in found  # port 22 open to 0.0.0.0/0
    assert ("CKV_DOCKER_3", "app/Dockerfile") in found  # no user
    assert ("CKV_K8S_13", "k8s/deployment.yaml") in found  # memory limits
    assert all(f["category"] == "misconfiguration" for f in report["findings"] if f["tool"] == "checkov")


@needs["bandit"]
def test_bandit_finds_the_shell_injection(planted: Any) -> None:
    _repo, _secrets, report = planted
    assert _tool(report, "bandit")["version"] == _pinned("bandit")
    shell = [f for f in report["findings"] if f["tool"] == "bandit" and f["rule"] == "B602"]
    assert shell and shell[0]["file"] == "app/app.py" and shell[0]["severity"] == "high" and shell[0]["category"] == "code"


@needs["detect-secrets"]
def test_detect_secrets_reads_the_tip_and_the_history_scan_finds_what_it_cannot(planted: Any) -> None:
    _repo, secrets, report = planted
    assert _tool(report, "detect-secrets")["status"] == "ok"
    assert not [f for f in report["findings"] if f["tool"] == "detect-secrets"]  # the tip holds no key any more
    assert [f for f in report["findings"] if f["tool"] == "fractal-history"]
    text = json.dumps(report)
    assert not [s for s in secrets if s in text]


def test_a_scanner_that_is_not_installed_is_unavailable_not_clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo, _secrets, _leaked = audit_repos.planted(tmp_path)
    monkeypatch.setenv("FRACTAL_SCANNERS_DIR", str(tmp_path / "empty"))
    report = audit(str(repo), checks=["rules", "checkov", "bandit"])
    missing = {u["tool"]: u for u in report["unavailable"]}
    assert set(missing) >= {"checkov", "bandit"}
    assert "scripts/setup --scanners" in missing["checkov"]["reason"]
    assert {t["tool"]: t["status"] for t in report["tools"]}["checkov"] == "unavailable"
    assert next(c for c in report["checks"] if c["id"] == "static-analysis")["status"] == "not-applicable"


@needs["bandit"]
def test_a_scanner_that_times_out_is_unavailable(tmp_path: Path) -> None:
    repo, _secrets, _leaked = audit_repos.planted(tmp_path)
    report = audit(str(repo), checks=["bandit"], timeout=0.001)
    assert [u for u in report["unavailable"] if u["tool"] == "bandit" and "stopped" in u["reason"]]
    assert not [f for f in report["findings"] if f["tool"] == "bandit"]


@needs["gitleaks"]
def test_gitleaks_finds_the_key_removed_later_in_the_history_redacted(planted: Any) -> None:
    repo, secrets, report = planted
    assert _tool(report, "gitleaks")["version"] == next(s.binary for s in scanners.SCANNERS if s.tool == "gitleaks")
    leaks = [f for f in report["findings"] if f["tool"] == "gitleaks"]
    leaked = audit_repos.git(repo, "log", "--format=%H", "-n", "1", "--skip", "1").strip()
    assert leaks and {f["file"] for f in leaks} == {"app/settings.py"} and {f["commit"] for f in leaks} == {leaked[:12]}
    assert all(f["category"] == "secret" and f["severity"] == "critical" for f in leaks)
    assert not [s for s in secrets if s in json.dumps(report)]


@needs["trivy"]
def test_trivy_finds_misconfigurations_offline_and_vulnerabilities_stay_unavailable(planted: Any) -> None:
    _repo, _secrets, report = planted
    assert _tool(report, "trivy")["status"] == "ok"
    found = {(f["file"], f["category"]) for f in report["findings"] if f["tool"] == "trivy"}
    assert ("app/Dockerfile", "misconfiguration") in found and ("infra/main.tf", "misconfiguration") in found
    assert [u for u in report["unavailable"] if u["dimension"] == "dependency vulnerabilities" and "trivy" in u["reason"]]


@needs["hadolint"]
def test_hadolint_reads_the_dockerfiles(planted: Any) -> None:
    _repo, _secrets, report = planted
    rules = {(f["rule"], f["file"]) for f in report["findings"] if f["tool"] == "hadolint"}
    assert ("DL3007", "app/Dockerfile") in rules  # FROM python:latest


def test_a_binary_of_another_version_is_unavailable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stand-in binary that reports another version (what a stale or tampered environment looks like)."""
    repo, _secrets, _leaked = audit_repos.planted(tmp_path)
    fake = tmp_path / "scanners" / "hadolint" / "bin" / "hadolint"
    fake.parent.mkdir(parents=True)
    fake.write_text("#!/bin/sh\necho 'Haskell Dockerfile Linter 2.0.0'\necho '[]'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("FRACTAL_SCANNERS_DIR", str(tmp_path / "scanners"))
    report = audit(str(repo), checks=["hadolint"])
    reason = next(u["reason"] for u in report["unavailable"] if u["tool"] == "hadolint")
    assert "version 2.0.0" in reason and "2.15.1 is pinned" in reason


def test_the_optional_wheels_are_pinned_by_hash_with_their_binary_version() -> None:
    for scanner in scanners.SCANNERS:
        pins = (ROOT / "scripts" / "scanners" / f"{scanner.tool}.txt").read_text()
        if scanner.binary:
            assert "# optional" in pins and "--hash=sha256:" in pins, scanner.tool
            assert re.search(rf"(?m)^# version: {scanner.tool} .* = {re.escape(scanner.binary)}$", pins), scanner.tool


def test_every_list_of_checks_names_the_audit_dimensions() -> None:
    from fractal_local.commands.audit import CHECKS

    from f.fractal.audit.audit import DIMENSIONS

    assert CHECKS == DIMENSIONS
    for path in ("audit_repository.script.yaml", "scaffold_migration.script.yaml"):
        schema = yaml.safe_load((ROOT / "f" / "fractal" / path).read_text())["schema"]
        assert tuple(schema["properties"]["checks"]["items"]["enum"]) == DIMENSIONS, path

