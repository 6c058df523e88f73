"""GitHub Actions entities: CI workflows (`workflows/<name>.yml`, placed under the repository's `.github/`:
an item's file names never start with a dot), checked for shape and for
GitOps discipline: `on` and `jobs`; each job with `runs-on` and `steps`, each step a `run` or a
`uses`; actions pinned to a version, not a branch; and no push deploy (kubectl apply, helm upgrade,
compose up … against a target): in GitOps the agent pulls the desired state and CI validates it.
"""

from __future__ import annotations

import re
from typing import Any

from f.fractal.tools.checks import Report, yaml_mapping

DEFAULT_FILE = "workflows/ci.yml"
RULES = (
    "Write workflows as workflows/<name>.yml (they go under the repository's .github/) with on (pull_request, push) "
    "and jobs.",
    "Each job has runs-on and steps; each step a run script or a uses action pinned to a version (actions/checkout@v4).",
    "CI validates (lint, test, render, schema checks); it never deploys by push (no kubectl apply, helm upgrade): "
    "the GitOps agent pulls.",
    "Read credentials from ${{ secrets.NAME }}, never as values; grant the least permissions (permissions: contents: read).",
)
PUSH_DEPLOY = re.compile(r"\bkubectl\s+(apply|create|replace|set\s+image|rollout\s+restart)\b|\bhelm\s+(upgrade|install)\b"
                         r"|\bdocker[- ]compose\b[^\n]*\bup\b|\bdocker\s+stack\s+deploy\b"
                         r"|\bkustomize\s+build\b[^\n]*\|\s*kubectl")
_FLOATING_REF = re.compile(r"@(main|master|HEAD|latest)$")


def is_workflow(path: str) -> bool:
    """A workflow, named as in an entity (workflows/ci.yml) or in a repository (.github/workflows/ci.yml)."""
    return path.removeprefix(".github/").startswith("workflows/") and path.endswith((".yml", ".yaml"))


def _triggers(doc: dict[Any, Any]) -> Any:
    return doc.get("on", doc.get(True))  # YAML 1.1 reads a bare `on` key as true


def _check_step(path: str, where: str, step: Any, report: Report) -> None:
    if not isinstance(step, dict) or not (isinstance(step.get("run"), str) or isinstance(step.get("uses"), str)):
        report.error(path, f"{where}: a step is a mapping with run (a script) or uses (an action)")
        return
    uses = step.get("uses")
    if isinstance(uses, str) and not uses.startswith(("./", "docker://")) and ("@" not in uses or _FLOATING_REF.search(uses)):
        report.warn(path, f"{where}: action {uses} is not pinned to a version or commit")
    found = PUSH_DEPLOY.search(str(step.get("run") or ""))
    if found:
        report.error(path, f"{where}: '{found.group(0).strip()}' deploys by push; let the GitOps agent (Argo CD, Flux) "
                           "pull the desired state and keep CI to validation")


def _check_workflow(path: str, text: str, report: Report) -> None:
    doc = yaml_mapping(report, path, text, "a workflow is a mapping with on and jobs")
    if doc is None:
        return
    if not _triggers(doc):
        report.error(path, "on is missing: say which events run the workflow (pull_request, push)")
    jobs = doc.get("jobs")
    if not isinstance(jobs, dict) or not jobs:
        report.error(path, "jobs is missing or empty")
        return
    for name, job in jobs.items():
        if not isinstance(job, dict):
            report.error(path, f"job {name} must be a mapping with runs-on and steps")
            continue
        if "uses" in job:  # a reusable workflow call has neither runs-on nor steps
            continue
        if not job.get("runs-on"):
            report.error(path, f"job {name}: runs-on is missing")
        steps = job.get("steps")
        if not isinstance(steps, list) or not steps:
            report.error(path, f"job {name}: steps is missing or empty")
            continue
        for number, step in enumerate(steps, 1):
            _check_step(path, f"job {name} step {number}", step, report)


def check(files: dict[str, str], report: Report) -> None:
    workflows = {p: t for p, t in files.items() if is_workflow(p)}
    if not workflows:
        report.error("", f"a github-actions entity holds workflows under workflows/, e.g. {DEFAULT_FILE}")
        return
    report.ran("workflow shape")
    for path, text in workflows.items():
        _check_workflow(path, text, report)
