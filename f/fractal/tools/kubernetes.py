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

from f.fractal.errors import InvalidInput
from f.fractal.validate import Report
from f.fractal.yamlio import load_untrusted

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


def _pod_spec(kind: str, spec: Any) -> Any:
    if kind == "Pod":
        return spec
    if kind == "CronJob":
        spec = ((spec or {}).get("jobTemplate") or {}).get("spec")
    return ((spec or {}).get("template") or {}).get("spec")


def _containers(kind: str, spec: Any) -> list[Any]:
    pod = _pod_spec(kind, spec)
    return list((pod or {}).get("containers") or []) if isinstance(pod, dict) else []


def _kind_problems(kind: str, spec: Any, doc: dict[str, Any]) -> list[str]:
    if kind == "Secret":
        return ["a Secret with data would put a value in Git; bind the value with a secret entity and "
                "create the Secret at run time"] if doc.get("data") or doc.get("stringData") else []
    if kind in WORKLOADS:
        return _workload_problems(kind, spec)
    if kind == "Service":
        ports = (spec or {}).get("ports") if isinstance(spec, dict) else None
        if (spec or {}).get("type") != "ExternalName" and not ports:
            return ["spec.ports must list at least one port"]
        return [f"port {p.get('port')!r} must be an integer 1..65535" for p in ports or []
                if not isinstance(p, dict) or not isinstance(p.get("port"), int) or not 0 < p["port"] < 65536]
    if kind == "PersistentVolumeClaim":
        storage = (((spec or {}).get("resources") or {}).get("requests") or {}).get("storage")
        ok = isinstance(storage, str) and _QUANTITY.match(storage)
        return [] if ok else ["spec.resources.requests.storage must be a quantity such as 10Gi"]
    if kind == "Ingress":
        ok = (spec or {}).get("rules") or (spec or {}).get("defaultBackend")
        return [] if ok else ["spec.rules must list at least one rule"]
    return []


def _workload_problems(kind: str, spec: Any) -> list[str]:
    if not isinstance(spec, dict):
        return ["spec is missing"]
    problems = []
    if kind == "CronJob" and not (isinstance(spec.get("schedule"), str) and _CRON.match(spec["schedule"].strip())):
        problems.append("spec.schedule must be a 5-field cron expression")
    containers = _containers(kind, spec)
    if not containers:
        problems.append("the pod spec must list at least one container")
    for c in containers:
        if not isinstance(c, dict) or not c.get("name") or not c.get("image"):
            problems.append("every container needs a name and an image")
    if kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"):
        wanted = ((spec.get("selector") or {}).get("matchLabels")) or {}
        labels = (((spec.get("template") or {}).get("metadata") or {}).get("labels")) or {}
        if not wanted:
            problems.append("spec.selector.matchLabels is required")
        elif any(labels.get(k) != v for k, v in wanted.items()):
            problems.append("spec.selector.matchLabels must match spec.template.metadata.labels")
        if "replicas" in spec and (not isinstance(spec["replicas"], int) or spec["replicas"] < 0):
            problems.append("spec.replicas must be a non-negative integer")
    return problems


def _image_warnings(kind: str, spec: Any) -> list[str]:
    if kind not in WORKLOADS:
        return []
    warnings = []
    for c in _containers(kind, spec):
        image = str((c or {}).get("image", "")) if isinstance(c, dict) else ""
        if image and (":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest")) and "@sha256:" not in image:
            warnings.append(f"image {image} is not pinned to a tag")
        if isinstance(c, dict) and not c.get("resources"):
            warnings.append(f"container {c.get('name')} has no resource requests/limits")
    return warnings
