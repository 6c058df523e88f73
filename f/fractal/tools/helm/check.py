"""Helm entities: one chart (Chart.yaml, values, templates), checked structurally, rendered when
`helm` is on the worker (`helm lint` and `helm template` per values file; skipped with the reason
otherwise: no Debian or PyPI package ships helm on these machines).
"""

from __future__ import annotations

import posixpath
import re
import tempfile
from pathlib import Path

import f.fractal.tools.kubernetes.check as kubernetes
from f.fractal.model.errors import InvalidInput
from f.fractal.platform.files import write_files
from f.fractal.platform.yamlio import load_untrusted
from f.fractal.tools.checks import Report, find_binary, run_tool

DEFAULT_FILE = "Chart.yaml"
RULES = (
    "Write one chart: Chart.yaml (apiVersion v2, name, version), values.yaml, values-<env>.yaml per environment, templates/.",
    "Templates read every setting from values; images pinned in values; hardened pod specs (limits, non-root, probes).",
)
_SEMVER = re.compile(r"^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$")
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def _load(path: str, text: str, report: Report) -> object:
    try:
        return load_untrusted(text, what=path)
    except InvalidInput as e:
        report.error(path, e.message)
        return None


def _check_chart(files: dict[str, str], report: Report) -> None:
    chart = _load(DEFAULT_FILE, files[DEFAULT_FILE], report)
    if not isinstance(chart, dict):
        report.error(DEFAULT_FILE, "Chart.yaml must be a mapping with apiVersion, name and version")
        return
    if chart.get("apiVersion") != "v2":
        report.error(DEFAULT_FILE, "apiVersion must be v2 (Helm 3)")
    if not isinstance(chart.get("name"), str) or not _NAME.match(chart["name"]):
        report.error(DEFAULT_FILE, "name must be a lowercase DNS name")
    if not _SEMVER.match(str(chart.get("version", ""))):
        report.error(DEFAULT_FILE, "version must be semver (e.g. 0.1.0)")


def _check_templates(files: dict[str, str], report: Report) -> None:
    templates = {p: t for p, t in files.items() if p.startswith("templates/")}
    if not templates:
        report.error("templates/", "a chart needs templates/ (e.g. templates/deployment.yaml)")
    for path, text in templates.items():
        if text.count("{{") != text.count("}}"):
            report.error(path, "unbalanced {{ }} template delimiters")


def _check_rendered(values: str, rendered: str, report: Report) -> None:
    """The manifests the chart renders with one values file, through the Kubernetes checker."""
    sub = Report()
    kubernetes.check({f"rendered/{values}": rendered}, sub)
    for e in sub.errors:
        report.error(values, f"rendered manifests: {e['message']}", None)
    for w in sub.warnings:
        report.warn(values, f"rendered manifests: {w['message']}")


def _render(files: dict[str, str], report: Report) -> None:
    helm = find_binary("helm")
    if helm is None:
        report.skipped("helm lint / helm template", "helm is not installed on this worker: the chart was checked "
                       "structurally only (its rendered manifests were not)")
        return
    report.ran("helm lint / helm template")
    report.ran("kubernetes checker on the rendered manifests")
    with tempfile.TemporaryDirectory(prefix="fractal-helm-") as tmp:
        root = Path(tmp) / "chart"
        write_files(root, files)
        for values in ["values.yaml", *sorted(p for p in files if posixpath.basename(p).startswith("values-"))]:
            lint = run_tool([helm, "lint", ".", "-f", values], cwd=root, timeout=60)
            if lint.returncode != 0:
                report.error(values, f"helm lint failed: {(lint.stderr or lint.stdout).strip()[-400:]}")
                continue
            rendered = run_tool([helm, "template", "check", ".", "-f", values], cwd=root, timeout=60)
            if rendered.returncode != 0:
                report.error(values, f"helm template failed: {(rendered.stderr or rendered.stdout).strip()[-400:]}")
            else:
                _check_rendered(values, rendered.stdout, report)


def check(files: dict[str, str], report: Report) -> None:
    if DEFAULT_FILE not in files:
        report.error("", "a helm entity is one chart: Chart.yaml at the root, values.yaml, templates/")
        return
    report.ran("chart structure")
    _check_chart(files, report)
    for path in (p for p in files if posixpath.basename(p).startswith("values") and p.endswith((".yaml", ".yml"))):
        if not isinstance(_load(path, files[path], report) or {}, dict):
            report.error(path, "a values file must be a mapping")
    if "values.yaml" not in files:
        report.error("values.yaml", "a chart needs values.yaml (the defaults)")
    _check_templates(files, report)
    if report.ok:
        _render(files, report)
