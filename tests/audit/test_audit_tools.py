"""The checkers of the tools the migration drafts (kustomize, argocd, helm, dockerfile): each bad
shape is an error naming the file, each good one passes; and their registry entries run or refuse
honestly. kubectl renders the overlays for real where it is installed."""

from __future__ import annotations

import shutil

import pytest

import f.fractal.tools.dockerfile.check as dockerfile
from f.fractal.tools.checks import tool_environments
from f.fractal.tools.registry import TOOLS
from f.fractal.tools.validate import validate_files

BASE = {
    "base/kustomization.yaml": "resources: [deployment.yaml]\n",
    "base/deployment.yaml": """apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      securityContext: {runAsNonRoot: true, runAsUser: 10001}
      containers:
        - name: web
          image: nginx:1.27
          resources: {limits: {cpu: 500m, memory: 256Mi}}
          securityContext: {allowPrivilegeEscalation: false}
          livenessProbe: {tcpSocket: {port: 80}}
          readinessProbe: {tcpSocket: {port: 80}}
""",
    "overlays/prod/kustomization.yaml": "resources: [../../base]\nnamespace: web-prod\n",
}
APP = """apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: web-prod}
spec:
  project: default
  source: {repoURL: "https://git.example.com/web.git", path: deploy/web/overlays/prod, targetRevision: main}
  destination: {server: "https://kubernetes.default.svc", namespace: web-prod}
  syncPolicy: {automated: {prune: true, selfHeal: true}}
"""
CHART = {"Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n", "values.yaml": "replicas: 1\n",
         "templates/configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Chart.Name }}\n"}


@pytest.mark.parametrize(("tool", "files", "error"), [
    ("kustomize", BASE, None),
    ("kustomize", {**BASE, "overlays/prod/kustomization.yaml": "resources: [../../nowhere]\n"}, "neither a file nor"),
    ("kustomize", {"base/deployment.yaml": BASE["base/deployment.yaml"]}, "needs base/kustomization.yaml"),
    ("kustomize", {**BASE, "base/deployment.yaml": BASE["base/deployment.yaml"].replace(
        "{allowPrivilegeEscalation: false}", "{privileged: true}")}, "K8S-PRIVILEGED"),
    ("kustomize", {**BASE, "base/kustomization.yaml": "kind: Deployment\nresources: [deployment.yaml]\n"},
     "expected Kustomization"),
    ("argocd", {"root.yaml": APP}, None),
    ("argocd", {"root.yaml": APP.replace('server: "https://kubernetes.default.svc", ', "")}, "destination needs a server"),
    ("argocd", {"root.yaml": APP.replace("https://git.example.com", "https://bot:hunter2hunter2@git.example.com")},
     "holds credentials"),
    ("argocd", {"root.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"}, "expected an argoproj.io"),
    ("helm", CHART, None),
    ("helm", {**CHART, "Chart.yaml": "apiVersion: v1\nname: web\nversion: 1\n"}, "apiVersion must be v2"),
    ("helm", {k: v for k, v in CHART.items() if k != "values.yaml"}, "needs values.yaml"),
    ("helm", {**CHART, "templates/configmap.yaml": "name: {{ .Chart.Name }\n"}, "unbalanced"),
    ("dockerfile", {"Dockerfile": "FROM python:3.12-slim\nUSER 10001\nHEALTHCHECK CMD true\n"}, None),
    ("dockerfile", {"Dockerfile": "FROM python:3.12-slim\nCMD [\"python\"]\n"}, "DF-ROOT-USER"),
    ("dockerfile", {"Dockerfile": "FROM python:3.12\nUSER 1\nENV DB_PASSWORD=hunter2hunter2\n"}, "DF-SECRET-ENV"),
    ("dockerfile", {"app/01-DF-ROOT-USER.diff": "+USER 10001\n"}, "file headers"),
])
def test_checkers(tool: str, files: dict[str, str], error: str | None) -> None:
    report = validate_files(tool, files)
    if error is None:
        assert report["ok"], report["errors"]
    else:
        assert not report["ok"] and any(error in e["message"] for e in report["errors"]), report["errors"]


@pytest.mark.skipif(not shutil.which("kubectl"), reason="kubectl not installed")
def test_kubectl_renders_every_overlay_and_reports_a_broken_one() -> None:
    assert "kubectl kustomize" in validate_files("kustomize", BASE)["checks_run"]
    broken = {**BASE, "overlays/prod/kustomization.yaml": "resources: [../../base]\nreplicas: [{count: 2}]\n"}
    report = validate_files("kustomize", broken)
    assert any("kubectl kustomize failed" in e["message"] for e in report["errors"]), report


@pytest.mark.parametrize(("text", "rules"), [
    ("FROM python:latest\nUSER 10001\nHEALTHCHECK CMD true\n", {"DF-IMAGE-UNPINNED"}),
    ("FROM golang:1.23 AS build\nRUN go build\nFROM scratch\nCOPY --from=build /app /app\nUSER 10001\nHEALTHCHECK NONE\n", set()),
    ("FROM alpine:3.20\nUSER root\nHEALTHCHECK CMD true\n", {"DF-ROOT-USER"}),
    ("FROM alpine:3.20\nADD https://example.com/x.tgz /x\nRUN curl -s https://example.com/i.sh | sh\nUSER 1\nHEALTHCHECK NONE\n",
     {"DF-ADD-URL", "DF-PIPE-SHELL"}),
    ("FROM registry.local:5000/base\nUSER 1\nHEALTHCHECK NONE\n", {"DF-IMAGE-UNPINNED"}),
    ("FROM registry.local:5000/base@sha256:abc\nUSER 1\nHEALTHCHECK NONE\n", set()),
])
def test_dockerfile_rules(text: str, rules: set[str]) -> None:
    assert {p.rule for p in dockerfile.problems(text)} == rules


def test_the_new_tools_are_registered_with_an_honest_runner() -> None:
    assert {"kustomize", "argocd", "helm", "dockerfile"} <= set(TOOLS)
    assert TOOLS["argocd"].execute is TOOLS["kubernetes"].execute  # Applications are applied as manifests
    for name in ("helm", "dockerfile"):
        with pytest.raises(Exception, match="no runner"):
            TOOLS[name].preflight(type("Run", (), {"ref": f"entity:x-{name}@1.0.0"})())  # type: ignore[arg-type]


CHART_DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Chart.Name }}
spec:
  replicas: {{ .Values.replicas }}
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: nginx:1.27
          resources:
            limits:
              memory: 64Mi
"""
RENDERS = bool(shutil.which("helm") or (tool_environments() / "helm" / "bin" / "python").is_file())


@pytest.mark.skipif(not RENDERS, reason="neither helm nor Helm's Go SDK (scripts/setup --scanners) on this machine")
def test_helm_renders_each_values_file_and_checks_the_manifests() -> None:
    chart = {**CHART, "values-prod.yaml": "replicas: 3\n", "templates/deployment.yaml": CHART_DEPLOYMENT}
    report = validate_files("helm", chart)
    assert report["ok"], report["errors"]
    assert "kubernetes checker on the rendered manifests" in report["checks_run"]
    broken = validate_files("helm", {**chart, "templates/deployment.yaml": CHART_DEPLOYMENT.replace("containers", "containerz")})
    assert {e["file"] for e in broken["errors"]} == {"values.yaml", "values-prod.yaml"}
    assert all("at least one container" in e["message"] for e in broken["errors"])
    failing = validate_files("helm", {**chart, "templates/deployment.yaml": CHART_DEPLOYMENT + "{{ .Values.nope.deeper }}\n"})
    assert any("nil pointer" in e["message"] for e in failing["errors"]), failing["errors"]
