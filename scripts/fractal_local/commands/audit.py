"""Audit commands: audit, migrate.

`scripts/fractal audit <repo> [--ref R] [--check C …] [--history N] [--json]` audits a repository
(folder, Git URL or git_repository resource path) through f/fractal/audit_repository and prints a
readable report (score, the checks that made it, findings by severity, what could not be checked).
`scripts/fractal migrate <repo> [--env E …] [--helm] [--save -t T …] [--json]` drafts its GitOps
migration through f/fractal/scaffold_migration, shows the drafts' validation and the score before →
after, and with --save saves them to the targets.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from fractal_local.cli import described
from fractal_local.commands.catalog import _targets, add_targets, emit
from fractal_local.runner import call

CHECKS = ("history", "rules", "checkov", "bandit", "detect-secrets", "gitleaks", "trivy", "hadolint")
SHOWN_FINDINGS = 30
MARKS = {"pass": "✓", "partial": "~", "fail": "✗", "not-applicable": "–"}


def render_audit(report: dict[str, Any], out: TextIO) -> None:
    w = out.write
    head = f" @ {report['head'][:12]}" if report.get("head") else ""
    w(f"Audit of {report['repo']}{head} ({report.get('commits', 0)} commits)\n")
    w(f"Score {report['score']}/100 (grade {report['grade']})\n")
    for group in report["groups"].values():
        w(f"  {group['title'].split(':')[0]:<45} {'n/a' if group['score'] is None else group['score']}\n")
    w("\nChecks (score out of 10, weight by risk)\n")
    for c in report["checks"]:
        score = "n/a" if c["score"] is None else f"{c['score']:g}/10"
        w(f"  {MARKS[c['status']]} {c['title']:<34} {score:>7}  [{c['risk']}]  {'; '.join(c['evidence'][:2])}\n")
    findings = report["findings"]
    counts = ", ".join(f"{n} {s}" for s, n in report["summary"].items()) or "none"
    w(f"\nFindings: {counts}\n")
    for f in findings[:SHOWN_FINDINGS]:
        where = f"{f['file']}:{f['line']}" if f.get("line") else f["file"]
        commit = f" @{f['commit']}" if f.get("commit") else ""
        w(f"  {f['severity'].upper():<8} {where}{commit}  {f['tool']} {f['rule']}: {f['message']}\n")
        if f.get("fix"):
            w(f"           fix: {f['fix'][:140]}\n")
    if len(findings) > SHOWN_FINDINGS:
        w(f"  … {len(findings) - SHOWN_FINDINGS} more (--json for all)\n")
    if report["unavailable"]:
        w("\nNot checked (unavailable — not clean)\n")
        for u in report["unavailable"]:
            w(f"  {u['dimension']} ({u['tool']}): {u['reason']}\n")
    tools = ", ".join(f"{t['tool']} {t['status']}" + (f" ({t['findings']})" if t["status"] == "ok" else "")
                      for t in report["tools"])
    w(f"\nTools: {tools}\n")


def render_migration(result: dict[str, Any], out: TextIO) -> None:
    w = out.write
    score = result["score"]
    w(f"Migration of {result['app']}: score {score['before']} → {score['after']} "
      f"(grade {score['grade_before']} → {score['grade_after']})\n")
    for change in score["changed"]:
        w(f"  {change['id']:<28} {change['before']} → {change['after']}\n")
    w("\nDrafts\n")
    for draft in result["drafts"]:
        name, report = draft["metadata"]["name"], result["validation"][draft["metadata"]["name"]]
        state = "valid" if report["ok"] else f"INVALID: {report['errors'][0]['message']}"
        files = len(draft["spec"]["files"])
        w(f"  {name:<40} {draft['spec']['tool']:<11} {files:>3} files → {result['placement'][name]:<22} {state}\n")
    steps = " → ".join(s["id"] for s in result["pipeline"]["spec"]["steps"])
    w(f"  pipeline:{result['pipeline']['metadata']['name']:<31} {steps}\n")
    for fix in result["dockerfile_fixes"]:
        w(f"\nDockerfile {fix['dockerfile']}: fixed {', '.join(fix['fixed'])}\n")
        for manual in fix["manual"]:
            w(f"  by hand: {manual['rule']}: {manual['reason']}\n")
    for old in result.get("superseded", []):
        w(f"\nsuperseded: {old['action']} {old['file']} (by {old['replaced_by']}): {old['reason']}\n")
    for warning in result["warnings"]:
        w(f"\nwarning: {warning}\n")
    for saved in (result.get("saved") or {}).get("saved", []):
        w(f"saved {saved['ref']}{' (pending: ' + ', '.join(saved['pending']) + ')' if saved['pending'] else ''}\n")


def cmd_audit(args: argparse.Namespace) -> int:
    report = call("f/fractal/audit_repository", {"repo": args.repo, "ref": args.ref or "", "checks": args.check or None,
                                                  "history": args.history, "timeout": args.timeout})
    emit(report) if args.json else render_audit(report, sys.stdout)
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    result = call("f/fractal/scaffold_migration", {
        "repo": args.repo, "ref": args.ref or "", "environments": args.env or None, "helm": args.helm,
        "registry": args.registry or "", "gitops_repo": args.gitops_repo or "", "name": args.name or "",
        "checks": args.check or None, "save": args.save, "targets": _targets(args)})
    emit(result) if args.json else render_migration(result, sys.stdout)
    return 0 if result["valid"] else 1


def register(sub: Any) -> None:
    p = described(sub, "audit", "audit a repository: findings, secrets in history, structure, GitOps score",
                  "scripts/fractal audit .", "scripts/fractal audit https://github.com/org/app --check rules --json")
    p.add_argument("repo", help="a folder, a Git URL or a git_repository resource path")
    p.add_argument("--ref", help="branch or tag (default: the default branch)")
    p.add_argument("--check", action="append", choices=CHECKS, help="run only these dimensions (repeat); default: all")
    p.add_argument("--history", type=int, default=0, help="commits of history to search for secrets (0 = all)")
    p.add_argument("--timeout", type=float, default=300, help="seconds each scanner may run")
    p.add_argument("--json", action="store_true", help="the whole report as JSON")
    p.set_defaults(func=cmd_audit)

    p = described(sub, "migrate", "scaffold a repository's GitOps migration as draft entities (and save them)",
                  "scripts/fractal migrate .", "scripts/fractal migrate . --env dev --env prod --save -t catalog")
    p.add_argument("repo", help="a folder, a Git URL or a git_repository resource path")
    p.add_argument("--ref", help="branch or tag (default: the default branch)")
    p.add_argument("--env", action="append", help="an environment (repeat); default: dev and prod")
    p.add_argument("--helm", action="store_true", help="one Helm chart instead of kustomize bases and overlays")
    p.add_argument("--registry", help="where CI pushes the images, e.g. ghcr.io/org")
    p.add_argument("--gitops-repo", help="the repository Argo CD pulls (default: the audited one when it is a URL)")
    p.add_argument("--name", help="the application's name (default: the repository's)")
    p.add_argument("--check", action="append", choices=CHECKS, help="dimensions of the before/after audits; default: all")
    p.add_argument("--save", action="store_true", help="save the drafts and the pipeline to the targets")
    add_targets(p)
    p.add_argument("--json", action="store_true", help="the whole result as JSON")
    p.set_defaults(func=cmd_migrate)
