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
    return (scanners.scanners_dir() / tool / "bin" / tool).is_file()


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
