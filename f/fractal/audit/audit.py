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
from f.fractal.platform.secrets import mask

DIMENSIONS = ("history", "rules", *scanners.SCANNER_NAMES)
DEFAULT_TIMEOUT = 300.0
NO_ADVISORY_FEED = ("no dependency-vulnerability scanner with a reachable advisory feed is configured on this worker "
                    "(trivy's vulnerability database and pip-audit's feed must be downloaded; offline they report "
                    "'no known vulnerabilities', a false all-clear: trivy runs here for misconfigurations and secrets only)")


def check_dimensions(checks: list[str] | None) -> list[str]:
    if checks is not None and (not isinstance(checks, list) or not all(isinstance(c, str) for c in checks)):
        raise InvalidInput("checks must be a list of names", hint=f"choose among {', '.join(DIMENSIONS)} (empty = all)")
    unknown = [c for c in checks or () if c not in DIMENSIONS]
    if unknown:
        raise InvalidInput(f"unknown checks {unknown!r:.100}", hint=f"choose among {', '.join(DIMENSIONS)} (empty = all)")
    return list(checks or DIMENSIONS)


def audit(repo: str, ref: str = "", checks: list[str] | None = None, history_depth: int = 0,
          timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
    """Clone `repo` (URL, resource path or folder) at `ref` and audit it."""
    dimensions = check_dimensions(checks)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 3600:
        raise InvalidInput(f"timeout {timeout!r:.20} is not a number of seconds", hint="between 1 and 3600")
    started = time.perf_counter()
    with source.checkout(repo, ref, history_depth) as co:
        report = audit_checkout(co, dimensions, timeout)
    report["seconds"] = round(time.perf_counter() - started, 2)
    return report


def _search_secrets(co: source.Checkout, tree: structure.Tree) -> tuple[list[Finding], dict[str, Any], Unavailable | None]:
    """The history's every blob (the current files only, said as such, when there is no history)."""
    started = time.perf_counter()
    if co.git and co.head:
        found, blobs = history.scan_history(co.root)
        extent: dict[str, Any] = {"blobs": blobs, "commits": co.commits}
        missing = None
    else:
        found, extent = history.scan_files(co.root, tree.files), {"files": len(tree.files)}
        missing = Unavailable("secrets in history", history.TOOL,
                              "not a Git repository (or no commit): only the current files were searched")
    run = {"tool": history.TOOL, "status": "ok", "findings": len(found), **extent,
           "seconds": round(time.perf_counter() - started, 2)}
    return found, run, missing


def audit_checkout(co: source.Checkout, dimensions: list[str], timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
    """The report of a checked-out repository over the chosen dimensions, scrubbed of secret values."""
    tree = structure.Tree(co.root, source.tracked_files(co))
    findings: list[Finding] = []
    missing: list[Unavailable] = []
    tools: list[dict[str, Any]] = []
    if "history" in dimensions:
        found, run, gap = _search_secrets(co, tree)
        findings += found
        tools.append(run)
        missing += [gap] if gap else []
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
    in_history = co.git and bool(co.head) and ("history" in dimensions or "gitleaks" in ran)
    facts = score.Facts(tree, ordered, history_scanned=in_history, scanners_ran=ran,
                        secrets_scanned="history" in dimensions or bool({"detect-secrets", "gitleaks", "trivy"} & set(ran)))
    total, checks = score.evaluate(facts)
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
        return mask(value)
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
