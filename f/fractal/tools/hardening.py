"""Hardening rules for container workloads, shared by the manifest checkers and the repository audit.

`Problem` is one broken rule (an id the fix is keyed to, a severity, what is wrong, how to fix it).
`workload_problems` reads one Kubernetes workload document: limits, pinned images, non-root,
probes, no privileged or host namespaces, secrets referenced (secretKeyRef), never inline.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from f.fractal.platform.secrets import scan_text

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod")
_SECRET_NAME = re.compile(r"(?i)(passw(or)?d|secret|token|api[_-]?key|private[_-]?key|credential)")


class Problem(NamedTuple):
    rule: str
    severity: str  # critical | high | medium | low | info
    message: str
    fix: str
    line: int | None = None


def image_unpinned(image: str) -> bool:
    """No tag, or :latest, and no digest (registry ports such as host:5000/app are not tags)."""
    if "@sha256:" in image:
        return False
    last = image.rsplit("/", 1)[-1]
    return ":" not in last or last.endswith(":latest")


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    """The pod spec of a workload ({} when it has none)."""
    spec = _mapping(doc.get("spec"))
    if doc.get("kind") == "Pod":
        return spec
    if doc.get("kind") == "CronJob":
        spec = _mapping(_mapping(spec.get("jobTemplate")).get("spec"))
    return _mapping(_mapping(spec.get("template")).get("spec"))


def _containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in (pod.get("containers") or []) + (pod.get("initContainers") or []) if isinstance(c, dict)]


def _plain_secret_env(container: dict[str, Any]) -> list[str]:
    names = []
    for env in container.get("env") or []:
        if isinstance(env, dict) and isinstance(env.get("value"), str) and env["value"]:
            name = str(env.get("name", ""))
            if _SECRET_NAME.search(name) or any(True for _ in scan_text(f"{name}={env['value']}")):
                names.append(name)
    return names


def workload_problems(doc: dict[str, Any]) -> list[Problem]:
    """Hardening problems of one workload (empty for other kinds)."""
    if doc.get("kind") not in WORKLOAD_KINDS:
        return []
    name = f"{doc['kind']} {(doc.get('metadata') or {}).get('name', '?')}"
    pod = pod_spec(doc)
    pod_ctx = _mapping(pod.get("securityContext"))
    out: list[Problem] = []
    if pod.get("hostNetwork") or pod.get("hostPID") or pod.get("hostIPC"):
        out.append(Problem("K8S-HOST-NAMESPACE", "high", f"{name} shares the node's network/PID/IPC namespace",
                           "remove hostNetwork/hostPID/hostIPC"))
    for c in _containers(pod):
        where = f"{name}, container {c.get('name', '?')}"
        ctx = _mapping(c.get("securityContext"))
        limits = _mapping(_mapping(c.get("resources")).get("limits"))
        if not {"cpu", "memory"} <= set(limits):
            out.append(Problem("K8S-NO-LIMITS", "medium", f"{where} has no CPU and memory limits",
                               "set resources.requests and resources.limits (cpu, memory)"))
        image = c.get("image")
        if isinstance(image, str) and image_unpinned(image):
            out.append(Problem("K8S-IMAGE-UNPINNED", "medium", f"{where} uses an unpinned image ({image.rsplit('/', 1)[-1]})",
                               "pin a version tag or a digest (image: app:1.4.2 or app@sha256:…)"))
        if ctx.get("privileged"):
            out.append(Problem("K8S-PRIVILEGED", "high", f"{where} is privileged", "remove securityContext.privileged"))
        if not (ctx.get("runAsNonRoot") or pod_ctx.get("runAsNonRoot")) or ctx.get("runAsUser") == 0:
            out.append(Problem("K8S-ROOT", "medium", f"{where} may run as root",
                               "set securityContext.runAsNonRoot: true and a non-zero runAsUser"))
        if ctx.get("allowPrivilegeEscalation") is not False:
            out.append(Problem("K8S-PRIV-ESCALATION", "low", f"{where} allows privilege escalation",
                               "set securityContext.allowPrivilegeEscalation: false"))
        if doc["kind"] not in ("Job", "CronJob") and c in (pod.get("containers") or []) and not (
                c.get("livenessProbe") and c.get("readinessProbe")):
            out.append(Problem("K8S-NO-PROBES", "low", f"{where} has no liveness and readiness probes",
                               "add livenessProbe and readinessProbe"))
        for env_name in _plain_secret_env(c):
            out.append(Problem("K8S-PLAIN-SECRET-ENV", "high", f"{where}: env {env_name} holds a plaintext value",
                               "reference a Secret: valueFrom.secretKeyRef"))
    return out
