"""Kustomize entities: a base and overlays per environment, rendered with `kubectl kustomize`.

Checks every kustomization (YAML, kind, resources that exist among the entity's files), the base's
manifests with the Kubernetes checker, the workloads with the hardening rules (high severity is an
error; limits, non-root and probes missing are warnings), then renders each overlay with
`kubectl kustomize` when kubectl is on the worker (skipped with the reason otherwise).
"""

from __future__ import annotations

import posixpath
import tempfile
from pathlib import Path
from typing import Any

import f.fractal.tools.hardening as hardening
import f.fractal.tools.kubernetes.check as kubernetes
from f.fractal.platform.files import write_files
from f.fractal.tools.checks import Report, find_binary, run_tool, yaml_mapping

DEFAULT_FILE = "base/kustomization.yaml"
KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
RULES = (
    "Write a base (base/kustomization.yaml listing the manifests) and one overlay per environment "
    "(overlays/<env>/kustomization.yaml with resources: [../../base]).",
    "Overlays change the environment with kustomize fields (namespace, replicas, images, labels), never copies of the base.",
    "Workloads in the base are hardened: resource requests and limits, runAsNonRoot, probes, secrets as secretKeyRef.",
)


def _is_kustomization(path: str) -> bool:
    return posixpath.basename(path) in KUSTOMIZATION_NAMES


def kustomization_dirs(files: dict[str, str]) -> list[str]:
    return sorted(posixpath.dirname(p) for p in files if _is_kustomization(p))


def _check_kustomization(path: str, text: str, files: dict[str, str], report: Report) -> None:
    doc = yaml_mapping(report, path, text, "a kustomization is a mapping (resources, namespace, images, …)")
    if doc is None:
        return
    if doc.get("kind", "Kustomization") != "Kustomization":
        report.error(path, f"kind is {doc.get('kind')!r:.40}, expected Kustomization")
    folder = posixpath.dirname(path)
    dirs = set(kustomization_dirs(files))
    for resource in doc.get("resources") or []:
        target = posixpath.normpath(posixpath.join(folder, str(resource)))
        if "://" in str(resource):
            report.warn(path, f"remote resource {resource} is fetched at render time: vendor it for a reproducible build")
        elif target not in files and target not in dirs:
            report.error(path, f"resource {resource} is neither a file nor a kustomization of this entity")


def _render(files: dict[str, str], report: Report) -> None:
    kubectl = find_binary("kubectl")
    if kubectl is None:
        report.skipped("kubectl kustomize", "kubectl is not installed on this worker")
        return
    report.ran("kubectl kustomize")
    with tempfile.TemporaryDirectory(prefix="fractal-kustomize-") as tmp:
        root = Path(tmp)
        write_files(root, files)
        for folder in kustomization_dirs(files):
            proc = run_tool([kubectl, "kustomize", folder or "."], cwd=root, timeout=60)
            if proc.returncode != 0:
                report.error(posixpath.join(folder, "kustomization.yaml"),
                             f"kubectl kustomize failed: {proc.stderr.strip()[-400:]}")


def _hardening(files: dict[str, str], report: Report) -> None:
    report.ran("workload hardening")
    for path, text in files.items():
        if not path.endswith((".yaml", ".yml")) or _is_kustomization(path):
            continue
        for _line, doc, _problem in kubernetes.documents(text, path):
            if isinstance(doc, dict):
                for p in hardening.workload_problems(doc):
                    (report.error if p.severity in ("critical", "high") else report.warn)(path, f"{p.rule}: {p.message}")


def check(files: dict[str, str], report: Report) -> None:
    kustomizations = {p: t for p, t in files.items() if _is_kustomization(p)}
    if not kustomizations:
        report.error("", f"a kustomize entity needs {DEFAULT_FILE} (and overlays/<env>/kustomization.yaml)")
        return
    report.ran("kustomization shape")
    for path, text in kustomizations.items():
        _check_kustomization(path, text, files, report)
    manifests: dict[str, Any] = {p: t for p, t in files.items() if p.endswith((".yaml", ".yml")) and not _is_kustomization(p)}
    if manifests:
        kubernetes.check(manifests, report)
        _hardening(manifests, report)
    if report.ok:
        _render(files, report)
