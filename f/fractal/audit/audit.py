"""Audit a repository: findings from every scanner in one model, secrets through the whole history,
the structure report and the GitOps score — `{score, grade, checks, findings, structure, tools,
unavailable}`. Every string of the report is scrubbed of secret values before it is returned.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import f.fractal.audit.history as history
import f.fractal.audit.rules as rules
import f.fractal.audit.scanners as scanners
import f.fractal.audit.score as score
import f.fractal.audit.source as source
import f.fractal.audit.structure as structure
from f.fractal.audit.findings import Finding, Unavailable, sort_findings
from f.fractal.model.errors import InvalidInput
from f.fractal.platform.secrets import redact

DIMENSIONS = ("history", "rules", *scanners.SCANNER_NAMES)
DEFAULT_TIMEOUT = 300.0
NO_ADVISORY_FEED = ("no dependency-vulnerability scanner with a reachable advisory feed is configured on this worker "
                    "(pip-audit and trivy need an online feed; offline they report 'no known vulnerabilities', "
                    "a false all-clear)")


def check_dimensions(checks: list[str] | None) -> list[str]:
    chosen = list(checks or DIMENSIONS)
    unknown = [c for c in chosen if c not in DIMENSIONS]
    if unknown or not isinstance(checks, list | type(None)):
        raise InvalidInput(f"unknown checks {unknown!r:.100}", hint=f"choose among {', '.join(DIMENSIONS)} (empty = all)")
    return chosen


def audit(repo: str, ref: str = "", checks: list[str] | None = None, history_depth: int = 0,
          timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
    """Clone `repo` (URL, resource path or folder) at `ref` and audit it."""
    dimensions = check_dimensions(checks)
    started = time.perf_counter()
    with source.checkout(repo, ref, history_depth) as co:
        report = audit_checkout(co, dimensions, timeout)
    report["seconds"] = round(time.perf_counter() - started, 2)
    return report


def audit_checkout(co: source.Checkout, dimensions: list[str], timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
    tree = structure.Tree(co.root, source.tracked_files(co))
    findings: list[Finding] = []
    missing: list[Unavailable] = []
    tools: list[dict[str, Any]] = []
    history_scanned = False
    if "history" in dimensions:
        if co.git and co.head:
            t0 = time.perf_counter()
            found, blobs = history.scan_history(co.root)
            findings += found
            history_scanned = True
            tools.append({"tool": history.TOOL, "status": "ok", "findings": len(found), "blobs": blobs,
                          "commits": co.commits, "seconds": round(time.perf_counter() - t0, 2)})
        else:
            found = history.scan_files(co.root, tree.files)
            findings += found
            tools.append({"tool": history.TOOL, "status": "ok", "findings": len(found), "files": len(tree.files)})
            missing.append(Unavailable("secrets in history", history.TOOL,
                                       "not a Git repository (or no commit): only the current files were searched"))
    if "rules" in dimensions:
        found = rules.scan(tree)
        findings += found
        tools.append({"tool": rules.TOOL, "status": "ok", "findings": len(found)})
    outcomes = scanners.run_all(tree, [d for d in dimensions if d in scanners.SCANNER_NAMES], timeout)
    for outcome in outcomes:
        findings += outcome.findings
        tools.append(outcome.summary())
    missing += scanners.unavailable(outcomes)
    shape = structure.report(tree)
    if shape["dependency_manifests"]:
        missing.append(Unavailable("dependency vulnerabilities", "none", NO_ADVISORY_FEED))
    ordered = sort_findings(findings)
    ran = [o.tool for o in outcomes if o.status == "ok"]
    secrets_scanned = "history" in dimensions or "detect-secrets" in ran
    total, checks = score.evaluate(score.Facts(tree, ordered, history_scanned, secrets_scanned, ran))
    report = {
        "repo": co.source, "head": co.head, "commits": co.commits,
        "score": total, "grade": score.grade(total), "groups": _groups(checks), "checks": checks,
        "summary": dict(Counter(f.severity for f in ordered)),
        "findings": [f.to_dict() for f in ordered],
        "structure": shape, "tools": tools, "unavailable": [u.to_dict() for u in missing],
    }
    return scrub(report)


def _groups(checks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out = {}
    for group, title in score.GROUPS.items():
        rows = [c for c in checks if c["group"] == group and c["score"] is not None]
        possible = sum(c["weight"] * 10 for c in rows)
        out[group] = {"title": title,
                      "score": round(100 * sum(c["weight"] * c["score"] for c in rows) / possible) if possible else None}
    return out


def scrub(value: Any) -> Any:
    """Every string of a nested value with secret patterns masked (a last guard before a report leaves)."""
    if isinstance(value, str):
        return redact(value, ())
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


def audit_folder(root: Path, dimensions: list[str] | None = None) -> dict[str, Any]:
    """Audit a folder as it is (a scaffolded copy, say): its Git history when it has one."""
    git = (root / ".git").exists()
    co = source.Checkout(root, str(root), git=git, head="HEAD" if git else "")
    return audit_checkout(co, check_dimensions(dimensions))
