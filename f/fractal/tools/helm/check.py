"""Helm entities: one chart (Chart.yaml, values, templates), checked structurally, then linted and
rendered per values file and the rendered manifests checked by the Kubernetes checker: with `helm`
when it is on the worker (the standard Windmill worker image has it), else with Helm's Go SDK from
its own environment (`helm-python-sdk`, made by `scripts/setup --scanners`: no Debian, PyPI or npm
package ships the helm binary); without either, structural checks only, said in checks_skipped.
"""

from __future__ import annotations

import json
import posixpath
import re
import tempfile
from pathlib import Path

import f.fractal.tools.kubernetes.check as kubernetes
from f.fractal.model.errors import InvalidInput
from f.fractal.platform.files import write_files
from f.fractal.platform.yamlio import load_untrusted
from f.fractal.tools.checks import Report, find_binary, run_tool, tool_environments

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


# Run by the helm environment's Python (scripts/scanners/helm.txt): Helm's Go SDK renders the chart with one values
# file over its defaults, offline (as `helm template -f <values>` does), and lints it.
SDK_RENDER = """
import json, sys
import helm_python as helm
chart, values = sys.argv[1], helm.values_from_yaml(open(sys.argv[2]).read())
lint = helm.lint(chart, values)
rendered = helm.Chart.load(chart).render(values, name="check")
print(json.dumps({"lint": lint.get("errors") or [], "manifests": "\\n---\\n".join(rendered[k] for k in sorted(rendered))}))
"""


def _values_files(files: dict[str, str]) -> list[str]:
    return ["values.yaml", *sorted(p for p in files if posixpath.basename(p).startswith("values-"))]


def _with_binary(helm: str, root: Path, values: str) -> tuple[str, str]:
    """(rendered manifests, error) from `helm lint` then `helm template`."""
    for argv in ([helm, "lint", ".", "-f", values], [helm, "template", "check", ".", "-f", values]):
        proc = run_tool(argv, cwd=root, timeout=60)
        if proc.returncode != 0:
            return "", f"helm {argv[1]} failed: {(proc.stderr or proc.stdout).strip()[-400:]}"
    return proc.stdout, ""


def _with_sdk(python: Path, root: Path, values: str) -> tuple[str, str]:
    """(rendered manifests, error) from Helm's Go SDK in its own environment."""
    proc = run_tool([str(python), "-c", SDK_RENDER, ".", values], cwd=root, timeout=60)
    if proc.returncode != 0:
        return "", f"helm template (Go SDK) failed: {(proc.stderr.strip().splitlines() or ['no output'])[-1].strip()[-400:]}"
    out = json.loads(proc.stdout)
    if out["lint"]:
        return "", f"helm lint (Go SDK) failed: {'; '.join(map(str, out['lint']))[:400]}"
    return str(out["manifests"]), ""


def _render(files: dict[str, str], report: Report) -> None:
    """Render per values file with the helm binary, else Helm's Go SDK (helm-python-sdk), then check the manifests."""
    binary, sdk = find_binary("helm"), tool_environments() / "helm" / "bin" / "python"
    if binary is None and not sdk.is_file():
        report.skipped("helm lint / helm template", "helm is not installed on this worker (nor Helm's Go SDK: "
                       "scripts/setup --scanners): the chart was checked structurally only, its manifests unrendered")
        return
    report.ran("helm lint / helm template" if binary else "helm lint / helm template (Helm Go SDK)")
    report.ran("kubernetes checker on the rendered manifests")
    with tempfile.TemporaryDirectory(prefix="fractal-helm-") as tmp:
        root = Path(tmp) / "chart"
        write_files(root, files)
        for values in _values_files(files):
            rendered, error = _with_binary(binary, root, values) if binary else _with_sdk(sdk, root, values)
            if error:
                report.error(values, error)
            else:
                _check_rendered(values, rendered, report)


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
