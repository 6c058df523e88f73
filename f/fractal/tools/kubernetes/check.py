"""Kubernetes entities: multi-document YAML manifests, checked for shape and basic schema sanity.

Every document is a mapping with apiVersion, kind (served at the expected group/version for the
common kinds), metadata.name (a DNS-1123 name); workloads have containers with name and image,
selectors matching their pod labels; Services have ports; PVCs a storage request; CronJobs a
5-field schedule. A `Secret` with data is refused: values live in Windmill, bound by a secret
entity. A server-side dry run needs a cluster: the run's `check` mode does it.
"""

from __future__ import annotations

import re
from typing import Any

from f.fractal.model.errors import InvalidInput
from f.fractal.platform.yamlio import load_untrusted
from f.fractal.tools.checks import Report

DEFAULT_FILE = "manifests.yaml"
RULES = (
    "Write Kubernetes manifests as YAML files (several documents separated by ---), e.g. manifests.yaml.",
    "Each document has apiVersion, kind, metadata.name (lowercase DNS name) and, when namespaced, metadata.namespace.",
    "Use current API versions (apps/v1, networking.k8s.io/v1, batch/v1); pin image tags (no :latest).",
    "Workload selectors must match the pod template labels; set resource requests and limits.",
    "Never write a Secret with data: reference a Secret created from a Windmill resource (secretKeyRef).",
)

API_VERSIONS: dict[str, tuple[str, ...]] = {
    "Namespace": ("v1",), "ConfigMap": ("v1",), "Secret": ("v1",), "Service": ("v1",), "ServiceAccount": ("v1",),
    "PersistentVolumeClaim": ("v1",), "PersistentVolume": ("v1",), "ResourceQuota": ("v1",), "LimitRange": ("v1",),
    "Pod": ("v1",), "Deployment": ("apps/v1",), "StatefulSet": ("apps/v1",), "DaemonSet": ("apps/v1",),
    "ReplicaSet": ("apps/v1",), "Job": ("batch/v1",), "CronJob": ("batch/v1",), "Ingress": ("networking.k8s.io/v1",),
    "NetworkPolicy": ("networking.k8s.io/v1",), "Role": ("rbac.authorization.k8s.io/v1",),
    "RoleBinding": ("rbac.authorization.k8s.io/v1",), "ClusterRole": ("rbac.authorization.k8s.io/v1",),
    "ClusterRoleBinding": ("rbac.authorization.k8s.io/v1",), "HorizontalPodAutoscaler": ("autoscaling/v2",),
    "PodDisruptionBudget": ("policy/v1",), "StorageClass": ("storage.k8s.io/v1",),
}
_API_RE = re.compile(r"^(?:[a-z0-9]([a-z0-9.-]*[a-z0-9])?/)?v\d+(?:(?:alpha|beta)\d+)?$")
_KIND_RE = re.compile(r"^[A-Z][A-Za-z0-9]{0,62}$")
_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
_LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_QUANTITY = re.compile(r"^\d+(\.\d+)?(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P|m)?$")
_CRON = re.compile(r"^(@(hourly|daily|weekly|monthly|yearly)|(\S+\s+){4}\S+)$")
_DOC_SPLIT = re.compile(r"^---[ \t]*$", re.M)
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod")


def documents(text: str, path: str) -> list[tuple[int, Any, str]]:
    """(first line, parsed document, parse error) for each YAML document, lines counted in the whole file."""
    out, line = [], 1  # a chunk after the first starts on its --- line
    for chunk in _DOC_SPLIT.split(text):
        try:
            doc = load_untrusted(chunk, what=path)
            if doc is not None:
                out.append((line + len(chunk) - len(chunk.lstrip("\n")), doc, ""))
        except InvalidInput as e:
            m = re.search(r"line (\d+)", e.message)
            out.append((line + int(m.group(1)) - 1 if m else line, None, " ".join(e.message.split())[:300]))
        line += chunk.count("\n")
    return out


def check(files: dict[str, str], report: Report) -> None:
    manifests = {p: t for p, t in files.items() if p.endswith((".yaml", ".yml"))}
    if not manifests:
        report.error("", f"a Kubernetes entity needs YAML manifests, e.g. {DEFAULT_FILE}")
        return
    report.ran("yaml parse")
    seen: set[tuple[str, str, str]] = set()
    count = 0
    for path, text in manifests.items():
        for line, doc, problem in documents(text, path):
            count += 1
            if problem:
                report.error(path, problem, line)
                continue
            key = _check_doc(path, line, doc, report)
            if key and key in seen:
                report.error(path, f"{key[0]} {key[2]} is defined twice", line)
            if key:
                seen.add(key)
    report.ran("manifest schema")
    if not count and not report.errors:
        report.error(DEFAULT_FILE, "the manifests hold no document")


def _check_doc(path: str, line: int, doc: Any, report: Report) -> tuple[str, str, str] | None:
    def err(message: str) -> None:
        report.error(path, message, line)

    if not isinstance(doc, dict):
        err("each document must be a mapping with apiVersion, kind and metadata")
        return None
    api, kind, meta = doc.get("apiVersion"), doc.get("kind"), doc.get("metadata")
    if not isinstance(kind, str) or not _KIND_RE.match(kind):
        err(f"kind {kind!r:.40} is missing or not a CamelCase kind")
        return None
    if not isinstance(api, str) or not _API_RE.match(api):
        err(f"{kind}: apiVersion {api!r:.60} is missing or malformed (e.g. apps/v1)")
    elif kind in API_VERSIONS and api not in API_VERSIONS[kind]:
        err(f"{kind} is served as {' or '.join(API_VERSIONS[kind])}, not {api}")
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str) or not _NAME_RE.match(meta["name"]):
        err(f"{kind}: metadata.name is missing or not a lowercase DNS-1123 name")
        return None
    namespace = meta.get("namespace", "")
    if namespace and (not isinstance(namespace, str) or not _LABEL_RE.match(namespace)):
        err(f"{kind} {meta['name']}: metadata.namespace {namespace!r:.60} is not a DNS label")
    name = f"{kind} {meta['name']}"
    for problem in _kind_problems(kind, doc.get("spec"), doc):
        err(f"{name}: {problem}")
    for warning in _image_warnings(kind, doc.get("spec")):
        report.warn(path, f"{name}: {warning}", line)
    return kind, str(namespace), meta["name"]


def _shape(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    names = {list: "a list", dict: "a mapping", str: "a string", int: "a number", float: "a number"}
    return names.get(type(value), type(value).__name__)


def _mapping(value: Any, where: str, problems: list[str]) -> dict[str, Any]:
    """value when it is a mapping; else {} — and a problem unless it is absent (None)."""
    if isinstance(value, dict):
        return value
    if value is not None:
        problems.append(f"{where} must be a mapping, not {_shape(value)}")
    return {}


def _sequence(value: Any, where: str, problems: list[str]) -> list[Any]:
    """value when it is a list; else [] — and a problem unless it is absent (None)."""
    if isinstance(value, list):
        return value
    if value is not None:
        problems.append(f"{where} must be a list, not {_shape(value)}")
    return []


def _pod_spec(kind: str, spec: dict[str, Any], problems: list[str]) -> tuple[dict[str, Any], str]:
    """The pod spec of a workload and where it sits (e.g. spec.template.spec)."""
    if kind == "Pod":
        return spec, "spec"
    where = "spec"
    if kind == "CronJob":
        job = _mapping(spec.get("jobTemplate"), "spec.jobTemplate", problems)
        spec, where = _mapping(job.get("spec"), "spec.jobTemplate.spec", problems), "spec.jobTemplate.spec"
    template = _mapping(spec.get("template"), f"{where}.template", problems)
    return _mapping(template.get("spec"), f"{where}.template.spec", problems), f"{where}.template.spec"


def _containers(kind: str, spec: dict[str, Any], problems: list[str]) -> list[Any]:
    pod, where = _pod_spec(kind, spec, problems)
    return _sequence(pod.get("containers"), f"{where}.containers", problems)


def _kind_problems(kind: str, raw_spec: Any, doc: dict[str, Any]) -> list[str]:
    if kind == "Secret":
        return ["a Secret with data would put a value in Git; bind the value with a secret entity and "
                "create the Secret at run time"] if doc.get("data") or doc.get("stringData") else []
    problems: list[str] = []
    spec = _mapping(raw_spec, "spec", problems)
    if problems:
        return problems
    if kind in WORKLOADS:
        problems = _workload_problems(kind, spec) if raw_spec is not None else ["spec is missing"]
    elif kind == "Service":
        problems = _service_problems(spec)
    elif kind == "PersistentVolumeClaim":
        resources = _mapping(spec.get("resources"), "spec.resources", problems)
        storage = _mapping(resources.get("requests"), "spec.resources.requests", problems).get("storage")
        if not problems and not (isinstance(storage, str) and _QUANTITY.match(storage)):
            problems.append("spec.resources.requests.storage must be a quantity such as 10Gi")
    elif kind == "Ingress":
        rules = _sequence(spec.get("rules"), "spec.rules", problems)
        backend = _mapping(spec.get("defaultBackend"), "spec.defaultBackend", problems)
        if not problems and not rules and not backend:
            problems.append("spec.rules must list at least one rule")
    return list(dict.fromkeys(problems))


def _service_problems(spec: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    ports = _sequence(spec.get("ports"), "spec.ports", problems)
    if problems:
        return problems
    if spec.get("type") != "ExternalName" and not ports:
        return ["spec.ports must list at least one port"]
    for i, p in enumerate(ports):
        if not isinstance(p, dict):
            problems.append(f"spec.ports[{i}] must be a mapping such as {{port: 80}}, not {_shape(p)}")
        elif not isinstance(p.get("port"), int) or isinstance(p["port"], bool) or not 0 < p["port"] < 65536:
            problems.append(f"port {p.get('port')!r:.40} must be an integer 1..65535")
    return problems


def _workload_problems(kind: str, spec: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    if kind == "CronJob" and not (isinstance(spec.get("schedule"), str) and _CRON.match(spec["schedule"].strip())):
        problems.append("spec.schedule must be a 5-field cron expression")
    shape_problems: list[str] = []
    containers = _containers(kind, spec, shape_problems)
    problems += shape_problems
    if not containers and not shape_problems:
        problems.append("the pod spec must list at least one container")
    if any(not isinstance(c, dict) or not c.get("name") or not c.get("image") for c in containers):
        problems.append("every container needs a name and an image")
    if kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"):
        problems += _selector_problems(spec)
        if "replicas" in spec and (not isinstance(spec["replicas"], int) or spec["replicas"] < 0):
            problems.append("spec.replicas must be a non-negative integer")
    return problems


def _selector_problems(spec: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    selector = _mapping(spec.get("selector"), "spec.selector", problems)
    wanted = _mapping(selector.get("matchLabels"), "spec.selector.matchLabels", problems)
    template = _mapping(spec.get("template"), "spec.template", problems)
    meta = _mapping(template.get("metadata"), "spec.template.metadata", problems)
    labels = _mapping(meta.get("labels"), "spec.template.metadata.labels", problems)
    if problems:
        return problems
    if not wanted:
        return ["spec.selector.matchLabels is required"]
    if any(labels.get(k) != v for k, v in wanted.items()):
        return ["spec.selector.matchLabels must match spec.template.metadata.labels"]
    return []


def _image_warnings(kind: str, spec: Any) -> list[str]:
    if kind not in WORKLOADS:
        return []
    warnings = []
    for c in _containers(kind, spec if isinstance(spec, dict) else {}, []):
        image = str(c.get("image", "")) if isinstance(c, dict) else ""
        if image and (":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest")) and "@sha256:" not in image:
            warnings.append(f"image {image} is not pinned to a tag")
        if isinstance(c, dict) and not c.get("resources"):
            warnings.append(f"container {c.get('name')} has no resource requests/limits")
    return warnings
