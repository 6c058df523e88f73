"""Scaffold a repository's move to GitOps as draft catalog entities, each validated like a generated one.

For each service (a Dockerfile folder or a compose service): a kustomize base with hardened defaults
(requests and limits, non-root, read-only root filesystem, probes, secrets as secretKeyRef) and an
overlay per environment — or, when asked, one Helm chart with a values file per environment; Argo CD
Applications per service and environment plus an app-of-apps root; the Dockerfile fixes as diffs
keyed to the rule they fix; the CI workflow that validates it all (audit/workflows.py); and a
pipeline that applies the manifests then the root Application.

The drafts are meant to live in the application's repository under `deploy/` (`deploy/<service>/`,
`deploy/chart/`, `deploy/argocd/`), where the Applications point; `rescan` writes them there in a
copy of the repository, removes what the migration supersedes and audits it again, so the
before → after score shows what the move buys.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import f.fractal.audit.patches as patches
import f.fractal.audit.source as source
import f.fractal.audit.structure as structure
import f.fractal.audit.workflows as workflows
from f.fractal.audit.audit import audit_folder
from f.fractal.model.errors import InvalidInput
from f.fractal.model.item import normalize_item
from f.fractal.platform.files import write_files
from f.fractal.platform.secrets import scan_text
from f.fractal.platform.text import name_slug
from f.fractal.platform.yamlio import dump
from f.fractal.tools.hardening import image_unpinned
from f.fractal.tools.validate import validate_entity

DEPLOY = workflows.DEPLOY
NON_ROOT_UID = 10001
_SECRET_NAME = re.compile(r"(?i)passw|secret|token|api_?key|private_?key|credential")
_ENV_RE = re.compile(r"^[a-z][a-z0-9-]{0,19}$")


@dataclass
class Service:
    name: str
    image: str
    port: int = 8080
    env: dict[str, str] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)  # env names read from the Secret <name>-secrets
    dockerfile: str = ""


def slug(text: str, limit: int = 40) -> str:
    """A DNS-style name (service, application, item) from any text."""
    return name_slug(text, fallback="app", limit=limit, words=20)


def _compose_env(raw: Any) -> dict[str, str]:
    if isinstance(raw, dict):
        return {str(k): "" if v is None else str(v) for k, v in raw.items()}
    return {k: v for k, _, v in (str(e).partition("=") for e in raw or [])}


def _expose(tree: structure.Tree, dockerfile_path: str) -> int | None:
    m = re.search(r"(?im)^EXPOSE\s+(\d+)", tree.text(dockerfile_path) or "")
    return int(m.group(1)) if m else None


def plan_services(tree: structure.Tree, app: str, registry: str, tag: str) -> list[Service]:
    """The services to deploy, with a pinned image, a port and their environment split into values and secrets."""
    compose = tree.compose_services()
    out = []
    for found in structure.services(tree):
        name = slug(found["name"])
        svc = compose.get(found["name"], {})
        image = svc.get("image") if isinstance(svc.get("image"), str) else ""
        if not image or (found.get("dockerfile") and image_unpinned(image)):
            image = f"{registry.rstrip('/')}/{name}:{tag}"  # built from this repository: pinned to the audited commit
        elif image_unpinned(image) and image.split(":")[0] in patches.PINS:
            image = f"{image.split(':')[0]}:{patches.PINS[image.split(':')[0]]}"  # a known image: its current stable line
        exposed = _expose(tree, found["dockerfile"]) if found.get("dockerfile") else None
        port = (found.get("ports") or [None])[0] or exposed or 8080
        service = Service(name, image, int(port), dockerfile=found.get("dockerfile", ""))
        for key, value in _compose_env(svc.get("environment")).items():
            if _SECRET_NAME.search(key) or any(True for _ in scan_text(f"{key}={value}")):
                service.secrets.append(key)
            elif not value.startswith("$"):
                service.env[key] = value
        out.append(service)
    if not out:
        raise InvalidInput(f"{app}: no service found (no Dockerfile and no compose service)",
                           hint="the scaffold needs a Dockerfile or a compose file to know what to deploy")
    return out


# ------------------------------------------------------------------ manifests


def _labels(svc: Service, app: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": svc.name, "app.kubernetes.io/part-of": app}


def _container(svc: Service) -> dict[str, Any]:
    env: list[dict[str, Any]] = [{"name": k, "value": v} for k, v in sorted(svc.env.items())]
    env += [{"name": k, "valueFrom": {"secretKeyRef": {"name": f"{svc.name}-secrets", "key": slug(k)}}} for k in svc.secrets]
    container: dict[str, Any] = {
        "name": svc.name, "image": svc.image, "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": svc.port}],
    }
    if env:
        container["env"] = env
    container.update({
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}},
        "securityContext": {"runAsNonRoot": True, "runAsUser": NON_ROOT_UID, "allowPrivilegeEscalation": False,
                            "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]}},
        "livenessProbe": {"tcpSocket": {"port": "http"}, "initialDelaySeconds": 10, "periodSeconds": 10},
        "readinessProbe": {"tcpSocket": {"port": "http"}, "periodSeconds": 5},
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    })
    return container


def deployment(svc: Service, app: str) -> dict[str, Any]:
    labels = _labels(svc, app)
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": svc.name, "labels": labels},
        "spec": {
            "replicas": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": svc.name}},
            "template": {"metadata": {"labels": labels}, "spec": {
                "automountServiceAccountToken": False,
                "securityContext": {"runAsNonRoot": True, "runAsUser": NON_ROOT_UID, "runAsGroup": NON_ROOT_UID,
                                    "fsGroup": NON_ROOT_UID, "seccompProfile": {"type": "RuntimeDefault"}},
                "containers": [_container(svc)],
                "volumes": [{"name": "tmp", "emptyDir": {}}],
            }},
        },
    }


def service_object(svc: Service, app: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": svc.name, "labels": _labels(svc, app)},
            "spec": {"selector": {"app.kubernetes.io/name": svc.name},
                     "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}}


def kustomize_files(svc: Service, app: str, environments: list[str]) -> dict[str, str]:
    repo, _, tag = svc.image.rpartition(":")
    files = {
        "base/kustomization.yaml": dump({"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                                         "resources": ["deployment.yaml", "service.yaml"]}, indent_lists=True),
        "base/deployment.yaml": dump(deployment(svc, app), indent_lists=True),
        "base/service.yaml": dump(service_object(svc, app), indent_lists=True),
    }
    for env in environments:
        files[f"overlays/{env}/kustomization.yaml"] = dump({
            "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
            "resources": ["../../base"], "namespace": f"{app}-{env}",
            "labels": [{"pairs": {"app.kubernetes.io/instance": f"{svc.name}-{env}", "environment": env}}],
            "replicas": [{"name": svc.name, "count": 2 if env.startswith("prod") else 1}],
            "images": [{"name": repo, "newTag": tag}],
        }, indent_lists=True)
    return files


def application(name: str, repo_url: str, revision: str, path: str, namespace: str, helm_values: str = "") -> dict[str, Any]:
    source_: dict[str, Any] = {"repoURL": repo_url, "targetRevision": revision, "path": path}
    if helm_values:
        source_["helm"] = {"valueFiles": [helm_values]}
    return {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": name, "namespace": "argocd", "finalizers": ["resources-finalizer.argocd.argoproj.io"]},
        "spec": {"project": "default", "source": source_,
                 "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace},
                 "syncPolicy": {"automated": {"prune": True, "selfHeal": True}, "syncOptions": ["CreateNamespace=true"]}},
    }


def argocd_files(services: list[Service], app: str, environments: list[str], repo_url: str, revision: str,
                 helm: bool) -> dict[str, str]:
    files = {}
    for env in environments:
        if helm:
            files[f"apps/{app}-{env}.yaml"] = dump(application(f"{app}-{env}", repo_url, revision, f"{DEPLOY}/chart",
                                                               f"{app}-{env}", f"values-{env}.yaml"), indent_lists=True)
            continue
        for svc in services:
            files[f"apps/{svc.name}-{env}.yaml"] = dump(application(
                f"{svc.name}-{env}", repo_url, revision, f"{DEPLOY}/{svc.name}/overlays/{env}", f"{app}-{env}"),
                indent_lists=True)
    files["root.yaml"] = dump(application(f"{app}-root", repo_url, revision, f"{DEPLOY}/argocd/apps", "argocd"),
                              indent_lists=True)
    return files


_DEPLOYMENT_TEMPLATE = """{{- range $name, $svc := .Values.services }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  labels:
    app.kubernetes.io/name: {{ $name }}
    app.kubernetes.io/part-of: {{ $.Chart.Name }}
spec:
  replicas: {{ $.Values.replicas }}
  selector:
    matchLabels:
      app.kubernetes.io/name: {{ $name }}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {{ $name }}
    spec:
      automountServiceAccountToken: false
      securityContext:
        {{- toYaml $.Values.podSecurityContext | nindent 8 }}
      containers:
        - name: {{ $name }}
          image: {{ $svc.image }}
          ports:
            - name: http
              containerPort: {{ $svc.port }}
          {{- with $svc.env }}
          env:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          resources:
            {{- toYaml $.Values.resources | nindent 12 }}
          securityContext:
            {{- toYaml $.Values.containerSecurityContext | nindent 12 }}
          livenessProbe:
            tcpSocket:
              port: http
          readinessProbe:
            tcpSocket:
              port: http
          volumeMounts:
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: tmp
          emptyDir: {}
{{- end }}
"""
_SERVICE_TEMPLATE = """{{- range $name, $svc := .Values.services }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $name }}
spec:
  selector:
    app.kubernetes.io/name: {{ $name }}
  ports:
    - name: http
      port: 80
      targetPort: http
{{- end }}
"""


def helm_files(services: list[Service], app: str, environments: list[str]) -> dict[str, str]:
    values = {
        "replicas": 1,
        "services": {s.name: {"image": s.image, "port": s.port, "env": _container(s).get("env", [])} for s in services},
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}},
        "podSecurityContext": {"runAsNonRoot": True, "runAsUser": NON_ROOT_UID, "fsGroup": NON_ROOT_UID,
                               "seccompProfile": {"type": "RuntimeDefault"}},
        "containerSecurityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                     "capabilities": {"drop": ["ALL"]}},
    }
    files = {
        "Chart.yaml": dump({"apiVersion": "v2", "name": app, "description": f"{app}, scaffolded from its audit",
                            "type": "application", "version": "0.1.0", "appVersion": "0.1.0"}),
        "values.yaml": dump(values, indent_lists=True),
        "templates/deployment.yaml": _DEPLOYMENT_TEMPLATE,
        "templates/service.yaml": _SERVICE_TEMPLATE,
    }
    for env in environments:
        files[f"values-{env}.yaml"] = dump({"replicas": 2 if env.startswith("prod") else 1})
    return files


def dockerfile_files(tree: structure.Tree, services: list[Service]) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Patched Dockerfiles and their numbered diffs ({service}/{nn}-{rule}.diff), and what each fixes."""
    files: dict[str, str] = {}
    fixes: list[dict[str, Any]] = []
    for svc in services:
        if not svc.dockerfile:
            continue
        result = patches.patch(svc.dockerfile, tree.text(svc.dockerfile) or "")
        if not result.diffs:
            continue
        for number, (rule, diff) in enumerate(result.diffs, 1):
            files[f"{svc.name}/{number:02d}-{rule}.diff"] = diff
        files[f"{svc.name}/Dockerfile"] = result.text
        fixes.append({"service": svc.name, "dockerfile": svc.dockerfile, "fixed": [r for r, _ in result.diffs],
                      "manual": result.manual})
    return files, fixes


# ------------------------------------------------------------------ entities and pipeline


def environment_input(environments: list[str]) -> dict[str, Any]:
    return {"type": "object", "required": ["environment"],
            "properties": {"environment": {"type": "string", "enum": environments, "description": "the overlay to apply"}}}


def entity(name: str, tool: str, description: str, files: dict[str, str], tags: list[str], origin: dict[str, Any], *,
           placement: str, inputs: dict[str, Any] | None = None) -> dict[str, Any]:
    """A draft entity validated by its tool's checker; `placement`: where its files go in the application's repository."""
    draft = {
        "apiVersion": "fractal/v1", "kind": "Entity",
        "metadata": {"name": name, "description": description[:300], "tags": tags},
        "spec": {"tool": tool, "providers": [], "inputs": inputs or {"type": "object", "properties": {}}, "files": files},
    }
    report = validate_entity(draft)
    draft["provenance"] = {"generator": "scaffold", **origin, "placement": placement, "validation": report,
                           "time": datetime.now(UTC).isoformat(timespec="seconds")}
    return draft


def pipeline(app: str, drafts: list[dict[str, Any]], environments: list[str], origin: dict[str, Any]) -> dict[str, Any]:
    """Apply each service's overlay for the chosen environment, then the Argo CD Applications that keep it
    reconciled (with Helm, Argo CD renders the chart: the Applications alone). Dockerfile patches are reviewed, not run."""
    steps: list[dict[str, Any]] = []
    for draft in drafts:
        if draft["spec"]["tool"] == "kustomize":
            steps.append({"id": re.sub(r"[^a-z0-9_]", "_", draft["metadata"]["name"])[:40],
                          "ref": f"entity:{draft['metadata']['name']}@1.0.0",
                          "inputs": {"environment": {"from": "inputs.environment"}}})
    root = next(d for d in drafts if d["spec"]["tool"] == "argocd")
    steps.append({"id": "argocd", "ref": f"entity:{root['metadata']['name']}@1.0.0", "needs": [s["id"] for s in steps]})
    return normalize_item({
        "apiVersion": "fractal/v1", "kind": "Pipeline",
        "metadata": {"name": slug(f"{app}-gitops", 60), "description": f"Move {app} to GitOps: manifests per environment, "
                     "then the Argo CD Applications that keep them reconciled", "tags": ["gitops", "migration", "scaffold"]},
        "spec": {"inputs": environment_input(environments) if len(steps) > 1 else {"type": "object", "properties": {}},
                 "steps": [{k: v for k, v in s.items() if v} for s in steps]},
        "provenance": {"generator": "scaffold", **origin, "time": datetime.now(UTC).isoformat(timespec="seconds")},
    })


def check_environments(environments: list[str] | None) -> list[str]:
    envs = list(environments or ["dev", "prod"])
    bad = [e for e in envs if not isinstance(e, str) or not _ENV_RE.match(e)]
    if bad or len(set(envs)) != len(envs):
        raise InvalidInput(f"bad environments {envs!r:.100}", hint="distinct lowercase names such as dev, staging, prod")
    return envs


def drafts_for(tree: structure.Tree, *, app: str, environments: list[str], helm: bool, registry: str, tag: str,
               repo_url: str, revision: str, origin: dict[str, Any],
               rewritten: dict[str, str] | None = None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The draft entities (manifests, Argo CD, Dockerfile patches, CI workflows) and the Dockerfile fixes they carry;
    `rewritten`: existing workflows without their push deploys (workflows.superseded)."""
    services = plan_services(tree, app, registry, tag)
    tags = ["gitops", "scaffold", app]
    drafts = []
    if helm:
        drafts.append(entity(slug(f"{app}-chart", 60), "helm", f"Helm chart of {app} ({len(services)} services), "
                             f"values per environment ({', '.join(environments)}); lives in {DEPLOY}/chart",
                             helm_files(services, app, environments), tags, origin, placement=f"{DEPLOY}/chart"))
    else:
        for svc in services:
            name = slug(svc.name if svc.name.startswith(app) else f"{app}-{svc.name}", 50)
            drafts.append(entity(f"{name}-kustomize", "kustomize",
                                 f"{svc.name}: hardened kustomize base and overlays ({', '.join(environments)}); "
                                 f"lives in {DEPLOY}/{svc.name}; secrets from Secret {svc.name}-secrets",
                                 kustomize_files(svc, app, environments), tags, origin,
                                 placement=f"{DEPLOY}/{svc.name}", inputs=environment_input(environments)))
    drafts.append(entity(slug(f"{app}-argocd", 60), "argocd", f"Argo CD Applications of {app} per environment and the "
                         f"app-of-apps root; lives in {DEPLOY}/argocd",
                         argocd_files(services, app, environments, repo_url, revision, helm), tags, origin,
                         placement=f"{DEPLOY}/argocd"))
    drafts.append(entity(slug(f"{app}-ci", 60), "github-actions", f"CI of {app}: renders and validates the desired state "
                         "on every pull request, never deploys" + (f"; {', '.join(rewritten)} without push deploys"
                                                                    if rewritten else ""),
                         {workflows.CI_WORKFLOW: workflows.ci_workflow(helm), **(rewritten or {})}, tags, origin,
                         placement=".github"))
    docker, fixes = dockerfile_files(tree, services)
    if docker:
        drafts.append(entity(slug(f"{app}-dockerfile-patches", 60), "dockerfile",
                             f"Dockerfile fixes of {app} as diffs keyed to the rule fixed, to apply in order "
                             "(git apply at the repository's root)", docker, tags, origin, placement="."))
    return drafts, fixes


def placement(draft: dict[str, Any]) -> str:
    """Where a draft's files go in the application's repository (`.`: patches applied at its root)."""
    return str(draft["provenance"]["placement"])


def rescan(co: source.Checkout, drafts: list[dict[str, Any]], fixes: list[dict[str, Any]],
           dimensions: list[str], removed: list[str] | None = None) -> dict[str, Any]:
    """Audit a copy of the repository with the drafts in place, the Dockerfile fixes applied and the superseded
    files (`removed`) gone."""
    tmp = Path(tempfile.mkdtemp(prefix="fractal-scaffold-"))
    try:
        copy = tmp / "repo"
        if co.git:
            subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(co.root), str(copy)], check=True, capture_output=True)
        else:
            shutil.copytree(co.root, copy, ignore=shutil.ignore_patterns(".git"))
        for path in removed or []:
            (copy / path).unlink(missing_ok=True)
        for draft in drafts:
            if draft["spec"]["tool"] != "dockerfile":
                write_files(copy / placement(draft), draft["spec"]["files"])
            else:
                for fix in fixes:
                    patched = draft["spec"]["files"][f"{fix['service']}/Dockerfile"]
                    (copy / fix["dockerfile"]).write_text(patched, encoding="utf-8")
        if co.git:
            git = ["git", "-C", str(copy), "-c", "user.name=fractal", "-c", "user.email=fractal@localhost",
                   "-c", "commit.gpgsign=false"]
            subprocess.run([*git, "add", "-A"], check=True, capture_output=True)
            subprocess.run([*git, "commit", "-q", "-m", "scaffold", "--allow-empty"], check=True, capture_output=True)
        return audit_folder(copy, dimensions)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
