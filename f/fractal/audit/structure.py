"""What a repository is made of: the files the rules and the score read, and the structure report.

`Tree` reads the tip once (text and YAML documents cached); `report` describes it: languages,
services, Dockerfiles, compose files, Helm charts, kustomizations, Kubernetes objects, Argo CD
applications, CI workflows, Terraform modules, lockfiles and policy files.
"""

from __future__ import annotations

import posixpath
from collections import Counter
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

MAX_FILE = 1024 * 1024
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

LANGUAGES = {
    ".py": "Python", ".js": "JavaScript", ".mjs": "JavaScript", ".ts": "TypeScript", ".tsx": "TypeScript", ".go": "Go",
    ".rs": "Rust", ".java": "Java", ".kt": "Kotlin", ".rb": "Ruby", ".php": "PHP", ".cs": "C#", ".c": "C", ".cpp": "C++",
    ".sh": "Shell", ".tf": "HCL", ".scala": "Scala", ".swift": "Swift",
}
LOCKFILES = {
    "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "poetry.lock", "Pipfile.lock", "uv.lock", "go.sum", "Cargo.lock",
    "Gemfile.lock", "composer.lock", ".terraform.lock.hcl", "requirements.lock", "pdm.lock",
}
MANIFESTS = {"package.json", "pyproject.toml", "Pipfile", "go.mod", "Cargo.toml", "Gemfile", "composer.json", "requirements.txt"}
COMPOSE_NAMES = ("docker-compose", "compose")
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod", "ReplicaSet")


def _is_dockerfile(path: str) -> bool:
    name = posixpath.basename(path)
    return name == "Dockerfile" or name.startswith("Dockerfile.") or name.endswith(".Dockerfile") or name == "Containerfile"


def _is_compose(path: str) -> bool:
    name = posixpath.basename(path)
    return name.startswith(COMPOSE_NAMES) and name.endswith((".yml", ".yaml"))


def _is_workflow(path: str) -> bool:
    return (path.startswith(".github/workflows/") and path.endswith((".yml", ".yaml"))) or path in (
        ".gitlab-ci.yml", "Jenkinsfile", ".circleci/config.yml", "azure-pipelines.yml", "bitbucket-pipelines.yml")


class Tree:
    """The tip's files under `root` (relative POSIX paths), read lazily and once."""

    def __init__(self, root: Path, files: list[str]) -> None:
        self.root = root
        self.files = sorted(files)
        self._texts: dict[str, str | None] = {}
        self._docs: dict[str, list[Any]] = {}

    def text(self, path: str) -> str | None:
        if path not in self._texts:
            full = self.root / path
            try:
                data = full.read_bytes() if full.is_file() and full.stat().st_size <= MAX_FILE else None
            except OSError:
                data = None
            self._texts[path] = None if data is None or b"\0" in data[:8000] else data.decode("utf-8", errors="replace")
        return self._texts[path]

    def docs(self, path: str) -> list[Any]:
        """The YAML documents of a file ([] when it is not valid YAML)."""
        if path not in self._docs:
            text = self.text(path) or ""
            try:
                self._docs[path] = [d for d in yaml.load_all(text, Loader=_Loader) if d is not None]
            except yaml.YAMLError:
                self._docs[path] = []
        return self._docs[path]

    def named(self, *names: str) -> list[str]:
        return [p for p in self.files if posixpath.basename(p) in names]

    @cached_property
    def yaml_files(self) -> list[str]:
        return [p for p in self.files if p.endswith((".yaml", ".yml"))]

    @cached_property
    def dockerfiles(self) -> list[str]:
        return [p for p in self.files if _is_dockerfile(p)]

    @cached_property
    def compose_files(self) -> list[str]:
        return [p for p in self.files if _is_compose(p)]

    @cached_property
    def workflows(self) -> list[str]:
        return [p for p in self.files if _is_workflow(p)]

    @cached_property
    def terraform_files(self) -> list[str]:
        return [p for p in self.files if p.endswith(".tf")]

    @cached_property
    def charts(self) -> list[str]:
        return [posixpath.dirname(p) or "." for p in self.named("Chart.yaml")]

    @cached_property
    def kustomizations(self) -> list[str]:
        return [posixpath.dirname(p) or "." for p in self.named("kustomization.yaml", "kustomization.yml", "Kustomization")]

    @cached_property
    def objects(self) -> list[tuple[str, dict[str, Any]]]:
        """(file, document) for every Kubernetes object outside Helm templates, compose files and workflows."""
        skip = set(self.compose_files) | set(self.workflows)
        out = []
        for path in self.yaml_files:
            if path in skip or "/templates/" in f"/{path}" or posixpath.basename(path).startswith("kustomization."):
                continue
            for doc in self.docs(path):
                if isinstance(doc, dict) and isinstance(doc.get("kind"), str) and isinstance(doc.get("apiVersion"), str):
                    out.append((path, doc))
        return out

    def objects_of(self, *kinds: str) -> list[tuple[str, dict[str, Any]]]:
        return [(p, d) for p, d in self.objects if d.get("kind") in kinds]

    def compose_services(self) -> dict[str, dict[str, Any]]:
        """Compose services by name (the first compose file that defines one wins)."""
        services: dict[str, dict[str, Any]] = {}
        for path in self.compose_files:
            docs = self.docs(path)
            body = docs[0].get("services") if docs and isinstance(docs[0], dict) else None
            for name, svc in (body or {}).items() if isinstance(body, dict) else ():
                if isinstance(svc, dict):
                    services.setdefault(str(name), {**svc, "_file": path})
        return services


def services(tree: Tree) -> list[dict[str, Any]]:
    """The deployable services: one per Dockerfile folder, plus compose services with an image or a build."""
    found: dict[str, dict[str, Any]] = {}
    for path in tree.dockerfiles:
        folder = posixpath.dirname(path)
        name = posixpath.basename(folder) if folder else posixpath.basename(str(tree.root)) or "app"
        found.setdefault(name, {"name": name, "dockerfile": path, "context": folder or "."})
    for name, svc in tree.compose_services().items():
        entry = found.setdefault(name, {"name": name})
        entry["compose"] = svc["_file"]
        if isinstance(svc.get("image"), str):
            entry["image"] = svc["image"]
        ports = [p for p in _ports(svc.get("ports")) if p]
        if ports:
            entry["ports"] = ports
    return sorted(found.values(), key=lambda s: s["name"])


def _ports(raw: Any) -> list[int]:
    """Container ports of a compose service (`"8080:80"` → 80)."""
    out = []
    for item in raw if isinstance(raw, list) else []:
        text = str(item.get("target", "")) if isinstance(item, dict) else str(item)
        last = text.split(":")[-1].split("/")[0]
        if last.isdigit():
            out.append(int(last))
    return out


def report(tree: Tree) -> dict[str, Any]:
    languages = Counter(LANGUAGES[ext] for ext in (posixpath.splitext(p)[1] for p in tree.files) if ext in LANGUAGES)
    objects = Counter(d["kind"] for _p, d in tree.objects)
    return {
        "files": len(tree.files),
        "languages": dict(languages.most_common()),
        "services": services(tree),
        "dockerfiles": tree.dockerfiles,
        "compose_files": tree.compose_files,
        "helm_charts": tree.charts,
        "kustomizations": tree.kustomizations,
        "kubernetes_objects": dict(objects.most_common()),
        "argocd_applications": [f"{p}:{(d.get('metadata') or {}).get('name', '?')}"
                                for p, d in tree.objects_of("Application", "ApplicationSet")],
        "ci_workflows": tree.workflows,
        "terraform_modules": sorted({posixpath.dirname(p) or "." for p in tree.terraform_files}),
        "lockfiles": [p for p in tree.files if posixpath.basename(p) in LOCKFILES],
        "dependency_manifests": [p for p in tree.files if posixpath.basename(p) in MANIFESTS],
    }
