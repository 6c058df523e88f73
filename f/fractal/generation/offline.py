"""The offline generator: a need in English or French → a template on decisive evidence, its parameters from the need.

    pick(need, tool, provider) → (template, params)    # NoTemplate when no template clearly fits, with the closest ones
    extract(need, provider)   → {param: value}         # parameters read from the need's specifics

A template answers only on decisive evidence: one of its required words is in the need, none of its
negative words, the provider it is made for is named (or implied: a zone, SKS, Kubernetes words; none
named means this machine), its score reaches MIN_SCORE, and no other template scores as high. A need
that mentions something no template produces (WireGuard, a Helm chart, an S3 bucket…) is refused.
Secret templates never count a provider name as a keyword: they need a credential word.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import f.fractal.generation.conformance as conformance
from f.fractal.generation.specifics import Specific, normalize
from f.fractal.generation.specifics import extract as read_specifics
from f.fractal.generation.templates import TEMPLATES, Template
from f.fractal.model.errors import NoTemplate
from f.fractal.model.providers import PROVIDERS
from f.fractal.platform.text import fold

__all__ = ["NoTemplate", "detect_providers", "detect_tool", "extract", "fill", "maker", "normalize", "pick", "rank"]

MIN_SCORE = 2
K8S_WORDS = ("k3s", "kubernetes", "k8s", "kubectl", "pvc", "ingress", "cronjob", "daemonset", "daemon set", "configmap",
             "config map", "hpa", "horizontalpodautoscaler", "autoscaler", "statefulset", "namespace", "espace de noms", "helm",
             "manifest", "manifeste", "replicas", "repliques")
PROVIDER_WORDS: list[tuple[str, tuple[str, ...]]] = [
    ("exoscale", ("exoscale", "sks", "sos", "exo")),
    ("vastai", ("vast.ai", "vastai", "vast ai")),
    ("runpod", ("runpod", "run pod")),
    ("local", ("this machine", "cette machine", "localhost", "my machine", "ma machine", "this host", "cet hote", "mon poste",
               "my laptop", "en local", "locally", "localement", "local machine", "machine locale")),
    ("k3s", K8S_WORDS),
]
TOOL_WORDS: list[tuple[str, tuple[str, ...]]] = [
    ("terraform", ("terraform", "tf", "hcl", "opentofu")),
    ("ansible", ("ansible", "playbook")),
    ("kubernetes", ("manifest", "manifeste", "kubectl", "k8s yaml", "kubernetes yaml", "yaml kubernetes")),
    ("secret", ("secret entity", "binding", "api key", "api-key", "cle api", "cle d'api", "credential", "credentials",
                "identifiants", "token", "jeton", "kubeconfig")),
]
UNSUPPORTED: list[tuple[str, str]] = [  # (pattern in the normalized need, what no template produces)
    (r"wireguard|\bvpn\b|ipsec|openvpn|reseau prive virtuel", "a VPN"),
    (r"\bhelm\b|cert-manager", "a Helm release"),
    (r"\blambda\b|serverless|\bendpoint\b|\baws\b|\bgcp\b|\bazure\b", "a serverless function or another cloud"),
    (r"rabbitmq|kafka|elasticsearch|opensearch|mongodb|mysql|mariadb|sentinel|\bvault\b", "that software"),
    (r"\bs3\b|\bbucket\b|\bsos\b|object storage|stockage objet", "an object-storage bucket"),
    (r"gitlab runner|runner gitlab|github runner|\brunner\b", "a CI runner"),
    (r"slack|\balert|\balerte|prometheus|alertmanager", "alerting"),
    (r"let'?s encrypt|letsencrypt|certificat|certificate|\btls\b", "TLS certificates"),
    (r"\bmigrat|\bmigrer\b", "a migration"),
    (r"\brotate\b|logrotate|rotation des (?:logs|journaux)", "log rotation"),
    (r"\bbackend\b", "a Terraform backend"),
    (r"\bwindows\b", "Windows machines"),
    (r"service account|compte de service|\brbac\b|\brole\b|\broles\b", "RBAC"),
]
GPU_MODELS: dict[str, tuple[str, str]] = {  # specifics' GPU value → (Vast.ai gpu_name, RunPod gpu_type_id)
    "4090": ("RTX 4090", "NVIDIA GeForce RTX 4090"),
    "3090": ("RTX 3090", "NVIDIA GeForce RTX 3090"),
    "a6000": ("RTX A6000", "NVIDIA RTX A6000"),
    "a100": ("A100 SXM4", "NVIDIA A100 80GB PCIe"),
    "h100": ("H100 SXM", "NVIDIA H100 80GB HBM3"),
    "l40s": ("L40S", "NVIDIA L40S"),
    "a40": ("A40", "NVIDIA A40"),
    "t4": ("Tesla T4", "NVIDIA Tesla T4"),
}
OS_TEMPLATES = {  # specifics' OS value → Exoscale template name
    "debian 11": "Linux Debian 11 (Bullseye) 64-bit", "debian 12": "Linux Debian 12 (Bookworm) 64-bit",
    "debian 13": "Linux Debian 13 (Trixie) 64-bit", "ubuntu 20.04": "Linux Ubuntu 20.04 LTS 64-bit",
    "ubuntu 22.04": "Linux Ubuntu 22.04 LTS 64-bit", "ubuntu 24.04": "Linux Ubuntu 24.04 LTS 64-bit",
}
IMAGES = {"nginx": "nginx:1.27", "redis": "redis:7.4", "postgres": "postgres:16.4", "httpd": "httpd:2.4",
          "apache": "httpd:2.4", "caddy": "caddy:2.8", "busybox": "busybox:1.36", "grafana": "grafana/grafana:11.2.0",
          "node-exporter": "prom/node-exporter:v1.8.2", "fluent-bit": "fluent/fluent-bit:3.1.9"}
SERVICE_PORTS = {"ssh": 22, "http": 80, "https": 443, "postgres": 5432, "postgresql": 5432, "k8s api": 6443}


def has(word: str, text: str) -> bool:
    """A word or phrase present as a whole in normalized text."""
    return re.search(rf"(?<![a-z0-9]){re.escape(word.strip())}(?![a-z0-9])", text) is not None


def detect_providers(text: str) -> list[str]:
    """Providers the (normalized) need names or implies: by name, by one of their zones, by Kubernetes words."""
    named = [name for name, words in PROVIDER_WORDS if any(has(w, text) for w in words)]
    for name, p in PROVIDERS.items():
        if name not in named and any(has(fold(r), text) for r in p.regions if r not in ("any", "local", "us", "eu", "asia")):
            named.append(name)
    return named


def detect_tool(text: str) -> str | None:
    return next((tool for tool, words in TOOL_WORDS if any(has(w, text) for w in words)), None)


# ------------------------------------------------------------------ parameters


def _first(specifics: list[Specific], *kinds: str) -> Any:
    return next((s.value for s in specifics if s.kind in kinds), None)


def _count(specifics: list[Specific], of: str) -> int | None:
    return next((s.value["n"] for s in specifics if s.kind == "count" and s.value["of"] == of), None)


def extract(need: str, provider: str | None = None) -> dict[str, Any]:
    """Every parameter the need gives, by template parameter name (the template keeps those it declares)."""
    text = normalize(need)
    specifics = read_specifics(need)
    found: dict[str, Any] = {}

    def put(key: str, value: Any) -> None:
        if value is not None and value != [] and key not in found:
            found[key] = value

    nodes = _count(specifics, "nodes") or _count(specifics, "instances")
    put("node_count", nodes)
    put("instance_count", _count(specifics, "instances") or nodes)
    put("replicas", _count(specifics, "replicas"))
    put("pods", _count(specifics, "pods"))
    span = _first(specifics, "range")
    if span:
        put("min_replicas", span["min"])
        put("max_replicas", span["max"])
    gpu = _first(specifics, "gpu")
    put("gpu_type", GPU_MODELS.get(str(gpu)))
    gpus = _count(specifics, "gpus") or _int(r"\b(\d+)\s?x?\s?(?:rtx|a100|h100|a6000|l40s|a40|t4)", text)
    put("gpu_count", gpus)
    size = _first(specifics, "size")
    if size:
        put("size_gb", max(1, round(size)))
        put("disk_size_gb", max(1, round(size)))
    zone = _first(specifics, "zone")
    regions = PROVIDERS[provider].regions if provider in PROVIDERS else ()
    put("zone", next((r for r in regions if zone and r.lower() == str(zone).lower()), zone))
    names = [s.value for s in specifics if s.kind == "name"]
    put("name", names[0] if names else None)
    put("label", names[0] if names else None)
    put("namespace", _first(specifics, "namespace"))
    put("user", _first(specifics, "user") or (names[0] if names and re.search(r"\b(?:user|utilisateur)\b", text) else None))
    put("record", names[0] if names and re.search(r"\b(?:record|enregistrement)\b", text) else None)
    put("service", _first(specifics, "service"))
    put("pod_id", _first(specifics, "id"))
    put("plan", _first(specifics, "plan"))
    put("schedule", _first(specifics, "schedule"))
    put("image", _first(specifics, "image") or next((i for w, i in IMAGES.items() if has(w, text)), None))
    ports = [s.value for s in specifics if s.kind == "port"]
    if not ports and re.search(r"firewall|pare-feu|security group|groupe de securite|allow|autoris", text):
        ports = [p for w, p in SERVICE_PORTS.items() if has(w, text)]  # "allow SSH": port 22
    put("ports", ports)
    put("port", ports[0] if ports else None)
    put("cidr", _first(specifics, "cidr"))
    put("ip_address", _first(specifics, "ip"))
    put("host", _first(specifics, "host"))
    put("domain", _first(specifics, "host"))
    put("instance_type", _first(specifics, "instance_type"))
    put("template", OS_TEMPLATES.get(str(_first(specifics, "os"))))
    for s in specifics:
        if s.kind == "version":  # "PostgreSQL 16", "k3s v1.31.4+k3s1"
            product, number = str(s.value).split(" ", 1) if " " in str(s.value) else (str(s.value), "")
            key = {"postgresql": "pg_version", "postgres": "pg_version", "k3s": "k3s_version"}.get(product)
            if key and number:
                put(key, number)
    put("packages", [s.value for s in specifics if s.kind == "package"])
    put("repo", _first(specifics, "url"))
    put("max_price", _first(specifics, "price"))
    quoted, path = _first(specifics, "quoted"), _first(specifics, "path")
    put("command", quoted or path)
    put("path", path)
    put("message", quoted)
    put("content", quoted)
    settings = [s.value for s in specifics if s.kind == "setting"]
    put("data", {k: v for d in settings for k, v in d.items()} or None)
    if re.search(r"\b(start|demarrer|allumer|resume|relancer)\b", text):
        put("pod_action", "start")
    elif re.search(r"\b(stop|arreter|eteindre|pause)\b", text):
        put("pod_action", "stop")
    return found


def _int(pattern: str, text: str) -> int | None:
    m = re.search(pattern, text)
    return int(m.group(1)) if m else None


def fill(template: Template, found: dict[str, Any]) -> dict[str, Any]:
    """The template's parameters: its defaults, replaced by what the need gave (when it fits the parameter)."""
    params = dict(template.params)
    region = PROVIDERS[template.provider].default_region if template.provider in PROVIDERS else ""
    for key, default in template.params.items():
        value = found.get(key)
        if key == "gpu_type" and isinstance(value, tuple):
            value = value[1] if template.provider == "runpod" else value[0]
        if key == "zone" and template.provider in PROVIDERS and value not in PROVIDERS[template.provider].regions:
            value = None
        if value is not None and _fits(value, default):
            params[key] = value
        elif key == "zone" and not params[key] and region not in ("", "any"):
            params[key] = region
    if template.tool == "kubernetes" and "name" in params and "name" not in found:
        for key in ("namespace", "service"):  # "a namespace called staging": the object is named by it
            if key in found and key not in template.params:
                params["name"] = found[key]
    return params


def _fits(value: Any, default: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, (int, float)):
        return isinstance(value, (int, float)) and (isinstance(default, float) or float(value).is_integer())
    if isinstance(default, list):
        return isinstance(value, list)
    if isinstance(default, dict):
        return isinstance(value, dict)
    return isinstance(value, str)


# ------------------------------------------------------------------ matching


def _score(template: Template, text: str) -> int:
    return sum(3 if " " in w else 1 for w in template.words if has(w, text)) + sum(4 for w in template.strong if has(w, text))


def _fits_provider(template: Template, named: list[str]) -> bool:
    if not template.provider:
        return True
    if named:
        return template.provider in named
    return template.provider == "local"  # none named: this machine


@functools.cache
def _made(template_id: str) -> tuple[dict[str, str], tuple[str, ...]]:
    """A template's files with its defaults, and the Kubernetes kinds they define."""
    template = next(t for t in TEMPLATES if t.id == template_id)
    files = template.build(dict(template.params))
    return files, tuple(conformance.kinds(files))


def _makes(template: Template, objects: list[str]) -> bool:
    """The template makes every requested object that applies to its tool (an HPA need is no Deployment's)."""
    files, kinds = _made(template.id)
    return all(conformance.object_present(obj, template.tool, files, list(kinds)) is not False for obj in objects)


def maker(obj: str, tool: str) -> Template | None:
    """The template of a tool that makes a requested object with the fewest others (a PVC alone, not a database)."""
    found = [t for t in TEMPLATES if t.tool == tool and conformance.object_present(obj, tool, *_made_pair(t)) is True]
    return min(found, key=lambda t: len(_made(t.id)[1]), default=None)


def _made_pair(template: Template) -> tuple[dict[str, str], list[str]]:
    files, kinds = _made(template.id)
    return files, list(kinds)


def rank(need: str, tool: str | None = None, provider: str | None = None) -> list[tuple[int, Template]]:
    """Templates with decisive evidence for the need, best first, with their scores."""
    text = normalize(need)
    objects = [str(s.value) for s in read_specifics(need) if s.kind == "object"]
    tool = tool or detect_tool(text)
    named = [provider] if provider else detect_providers(text)
    ranked = []
    for t in TEMPLATES:
        if (tool and t.tool != tool) or not _fits_provider(t, named):
            continue
        if not any(has(w, text) for w in t.required) or any(has(w, text) for w in t.avoid) or not _makes(t, objects):
            continue
        score = _score(t, text) + (2 if t.provider and t.provider in named else 0)
        if score >= MIN_SCORE:
            ranked.append((score, t))
    ranked.sort(key=lambda st: -st[0])
    return ranked


def _closest(text: str, tool: str | None) -> list[str]:
    scored = sorted(((_score(t, text), t.id) for t in TEMPLATES if not tool or t.tool == tool), key=lambda st: -st[0])
    return [tid for score, tid in scored[:5] if score] or [tid for _s, tid in scored[:5]]


def _refuse(need: str, why: str, closest: list[str], tool: str | None, provider: str | None) -> NoTemplate:
    where = (f" with tool {tool}" if tool else "") + (f" on {provider}" if provider else "")
    return NoTemplate(
        f"no offline template for {need[:120]!r}{where}: {why}",
        hint=f"configure an LLM (FRACTAL_LLM_MODEL or an f/fractal/llm resource) to draft it; closest templates: "
             f"{', '.join(closest)} (rephrase with what one of them makes to use it)",
        data={"closest": closest},
    )


def pick(need: str, tool: str | None = None, provider: str | None = None) -> tuple[Template, dict[str, Any]]:
    """The template for a need and its parameters; NoTemplate (naming the closest) unless the evidence is decisive."""
    text = normalize(need)
    closest = _closest(text, tool)
    for pattern, what in UNSUPPORTED:
        m = re.search(pattern, text)
        if m:
            raise _refuse(need, f"it asks for {what} ({m.group(0).strip()!r}), which no template produces", closest, tool,
                          provider)
    ranked = rank(need, tool, provider)
    if not ranked:
        raise _refuse(need, "no template has decisive evidence (its required words, its provider)", closest, tool, provider)
    if len(ranked) > 1 and ranked[0][0] == ranked[1][0]:
        tied = [t.id for s, t in ranked if s == ranked[0][0]]
        raise _refuse(need, f"{' and '.join(tied)} fit equally: say which", tied, tool, provider)
    template = ranked[0][1]
    return template, fill(template, extract(need, template.provider or provider))
