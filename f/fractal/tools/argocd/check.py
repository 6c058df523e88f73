"""Argo CD entities: `Application`s (one per service and environment) and an app-of-apps root.

Each document is an argoproj.io/v1alpha1 Application, ApplicationSet or AppProject with a name; an
Application has a project, a source (repoURL without credentials, a path or chart, a
targetRevision) and a destination (server or name, namespace). An Application without automated
sync, self-heal and prune is a warning: nothing would correct drift.
"""

from __future__ import annotations

import re
from typing import Any

import f.fractal.tools.kubernetes.check as kubernetes
from f.fractal.tools.checks import Report

DEFAULT_FILE = "root.yaml"
KINDS = ("Application", "ApplicationSet", "AppProject")
RULES = (
    "Write argoproj.io/v1alpha1 Applications, one per service and environment, and a root Application (app of apps) "
    "whose source path holds them.",
    "Each Application has spec.project, spec.source {repoURL, path, targetRevision} and spec.destination {server, namespace}.",
    "Sync automatically with selfHeal and prune (syncPolicy.automated); never put credentials in repoURL.",
)
_CREDENTIALS = re.compile(r"://[^/@\s]+:[^/@\s]+@")


def _application_problems(spec: dict[str, Any]) -> tuple[list[str], list[str]]:
    errors, warnings = [], []
    if not spec.get("project"):
        errors.append("spec.project is missing (use default or an AppProject)")
    sources = spec.get("sources") or ([spec["source"]] if isinstance(spec.get("source"), dict) else [])
    if not sources:
        errors.append("spec.source (repoURL, path, targetRevision) is missing")
    for source in sources:
        url = str(source.get("repoURL", ""))
        if not url:
            errors.append("spec.source.repoURL is missing")
        elif _CREDENTIALS.search(url):
            errors.append("spec.source.repoURL holds credentials: declare a repository Secret in Argo CD instead")
        if not (source.get("path") or source.get("chart")):
            errors.append("spec.source needs a path (manifests, kustomize) or a chart (Helm)")
        if not source.get("targetRevision"):
            warnings.append("spec.source.targetRevision is not set (HEAD of the default branch is tracked)")
    destination: dict[str, Any] = spec["destination"] if isinstance(spec.get("destination"), dict) else {}
    if not (destination.get("server") or destination.get("name")):
        errors.append("spec.destination needs a server or a cluster name")
    if not destination.get("namespace"):
        warnings.append("spec.destination.namespace is not set")
    auto = (spec.get("syncPolicy") or {}).get("automated")
    if not isinstance(auto, dict) or not (auto.get("selfHeal") and auto.get("prune")):
        warnings.append("syncPolicy.automated with selfHeal and prune is not set: drift would not be corrected")
    return errors, warnings


def check(files: dict[str, str], report: Report) -> None:
    manifests = {p: t for p, t in files.items() if p.endswith((".yaml", ".yml"))}
    if not manifests:
        report.error("", f"an argocd entity needs YAML Applications, e.g. {DEFAULT_FILE}")
        return
    report.ran("argocd application shape")
    for path, text in manifests.items():
        for line, doc, problem in kubernetes.documents(text, path):
            if problem:
                report.error(path, problem, line)
                continue
            api = str(doc.get("apiVersion", "")) if isinstance(doc, dict) else ""
            if not isinstance(doc, dict) or doc.get("kind") not in KINDS or not api.startswith("argoproj.io/"):
                got = doc.get("kind") if isinstance(doc, dict) else doc
                report.error(path, f"expected an argoproj.io Application, ApplicationSet or AppProject, got {got!r:.40}", line)
                continue
            name = (doc.get("metadata") or {}).get("name")
            if not isinstance(name, str) or not name:
                report.error(path, f"{doc['kind']}: metadata.name is missing", line)
                continue
            if doc["kind"] == "Application":
                errors, warnings = _application_problems(doc.get("spec") or {})
                for message in errors:
                    report.error(path, f"Application {name}: {message}", line)
                for message in warnings:
                    report.warn(path, f"Application {name}: {message}", line)
