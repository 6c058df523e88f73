"""External scanners, each run as its own process from its own pinned environment, with a timeout.

`scripts/setup --scanners` creates `.venv-scanners/<tool>/` from `scripts/scanners/<tool>.txt`
(checkov must never share the pack's environment). A scanner that is not installed, times out or
fails is reported `unavailable` with the reason, never as zero findings. Scanners' messages are
rule titles and locations: code lines and secret values are never copied into a finding.
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

# A Windmill worker loads pack modules without `__file__` (see platform/workspace.py): the checkout, else the cwd.
_HERE = globals().get("__file__")
PACK_ROOT = Path(_HERE).resolve().parents[3] if _HERE else Path.cwd()
SETUP_HINT = "run scripts/setup --scanners on this worker"
_HIGH = re.compile(r"(?i)0\.0\.0\.0|::/0|root|privileged|user for the container|secret|admin|escalation|host (network|pid|ipc)")
_LOW = re.compile(r"(?i)description|healthcheck|probe|label|annotation|logging|monitoring")


def scanners_dir() -> Path:
    return Path(os.environ.get("FRACTAL_SCANNERS_DIR") or PACK_ROOT / ".venv-scanners")


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
    dist: str  # the distribution name in the scanner's environment (for its version)
    dimension: str  # what is unchecked when it is missing
    applies: Callable[[Tree], bool]
    argv: Callable[[Path, Path], list[str]]  # (executable's bin folder, repo root) → argv
    parse: Callable[[str], list[Finding]]
    ok_codes: tuple[int, ...] = (0, 1)

    def bin_dir(self) -> Path:
        return scanners_dir() / self.tool / "bin"

    def version(self) -> str:
        pattern = f"python*/site-packages/{self.dist.replace('-', '_')}-*.dist-info"
        for meta in sorted((scanners_dir() / self.tool / "lib").glob(pattern)):
            return meta.name.removesuffix(".dist-info").split("-")[1]
        return ""

    def run(self, tree: Tree, timeout: float) -> Outcome:
        if not self.applies(tree):
            return Outcome(self.tool, "not-applicable", reason="nothing this scanner reads")
        exe = self.bin_dir() / self.argv(self.bin_dir(), tree.root)[0]
        if not exe.is_file():
            return Outcome(self.tool, "unavailable", reason=f"{self.tool} is not installed on this worker ({SETUP_HINT})")
        env = {"PATH": f"{self.bin_dir()}:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8",
               "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true", "BC_SKIP_MAPPING": "TRUE", "PYTHONWARNINGS": "ignore"}
        argv = [str(exe), *self.argv(self.bin_dir(), tree.root)[1:]]
        started = time.perf_counter()
        try:
            proc = subprocess.run(argv, cwd=tree.root, env=env, capture_output=True, text=True, timeout=timeout,
                                  stdin=subprocess.DEVNULL)
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
        return Outcome(self.tool, "ok", tuple(found), self.version(), seconds)


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


SCANNERS = (
    Scanner("checkov", "checkov", "infrastructure misconfiguration (checkov)",
            lambda t: bool(t.dockerfiles or t.terraform_files or t.objects or t.workflows or t.kustomizations),
            lambda _b, root: ["checkov", "-d", ".", "-o", "json", "--quiet", "--compact", "--skip-download",
                              "--framework", "terraform,kubernetes,dockerfile,github_actions"],
            parse_checkov),
    Scanner("bandit", "bandit", "Python code security (bandit)", lambda t: any(p.endswith(".py") for p in t.files),
            lambda _b, _r: ["bandit", "-r", ".", "-f", "json", "-q", "-x", "./.git"], parse_bandit),
    Scanner("detect-secrets", "detect_secrets", "secrets in the tip (detect-secrets)", lambda t: bool(t.files),
            lambda _b, _r: ["detect-secrets", "scan"], parse_detect_secrets, ok_codes=(0,)),
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
