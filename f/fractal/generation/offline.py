"""The offline generator: a need in English or French → the best template, its parameters read from the sentence.

    pick(need, tool, provider) → (template, params)    # InvalidInput when nothing fits, with the closest ones
    extract(need, provider)   → {param: value}         # counts, sizes, zones, names, GPUs, images, ports, schedules …

Matching is keyword scoring over an accent-free, lowercase form of the need (numbers written as
words become digits); the provider named in the sentence (or given) narrows the templates, the tool
too. Parameters only replace a template's defaults for the parameters it declares.
"""

from __future__ import annotations

import re
from typing import Any

from f.fractal.generation.templates import TEMPLATES, Template
from f.fractal.model.errors import InvalidInput
from f.fractal.model.providers import PROVIDERS
from f.fractal.platform.text import fold

NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "single": 1, "a single": 1, "un seul": 1, "une seule": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "sept": 7,
    "huit": 8, "neuf": 9, "dix": 10,
}
PROVIDER_WORDS: list[tuple[str, tuple[str, ...]]] = [
    ("exoscale", ("exoscale",)),
    ("vastai", ("vast.ai", "vastai", "vast ai", "vast")),
    ("runpod", ("runpod", "run pod")),
    ("local", ("this machine", "cette machine", "localhost", "my machine", "ma machine", "this host", "cet hote", "mon poste",
               "my laptop", "en local", "locally", "localement", "local machine", "machine locale")),
    ("k3s", ("k3s", "kubernetes local", "local cluster", "cluster local")),
]
TOOL_WORDS: list[tuple[str, tuple[str, ...]]] = [
    ("terraform", ("terraform", " tf ", "hcl", "opentofu")),
    ("ansible", ("ansible", "playbook")),
    ("kubernetes", ("manifest", "manifeste", "kubectl", "k8s yaml", "kubernetes yaml", "yaml kubernetes")),
    ("secret", ("secret entity", "binding", "api key", "api-key", "cle api", "cle d'api", "credential", "identifiants", "token",
                "jeton", "kubeconfig")),
]
GPU_MODELS: dict[str, tuple[str, str]] = {  # pattern → (Vast.ai gpu_name, RunPod gpu_type_id)
    r"rtx\s?4090": ("RTX 4090", "NVIDIA GeForce RTX 4090"),
    r"rtx\s?3090": ("RTX 3090", "NVIDIA GeForce RTX 3090"),
    r"rtx\s?a6000|\ba6000": ("RTX A6000", "NVIDIA RTX A6000"),
    r"\ba100": ("A100 SXM4", "NVIDIA A100 80GB PCIe"),
    r"\bh100": ("H100 SXM", "NVIDIA H100 80GB HBM3"),
    r"\bl40s": ("L40S", "NVIDIA L40S"),
    r"\ba40\b": ("A40", "NVIDIA A40"),
    r"\bt4\b": ("Tesla T4", "NVIDIA Tesla T4"),
}
IMAGES = {"nginx": "nginx:1.27", "redis": "redis:7.4", "postgres": "postgres:16.4", "httpd": "httpd:2.4",
          "apache": "httpd:2.4", "caddy": "caddy:2.8", "busybox": "busybox:1.36", "grafana": "grafana/grafana:11.2.0"}
PACKAGES = ("nginx", "git", "curl", "htop", "vim", "jq", "tmux", "unzip", "make", "ufw", "fail2ban", "python3", "docker.io",
            "postgresql", "redis-server", "wget", "rsync", "numpy", "pandas", "torch", "jupyterlab", "transformers")
_CALLED = r"(?:named|called|nommee?|appelee?)\s"
_SIZES = "micro|tiny|small|medium|large|extra-large|huge|mega|titan|jumbo"
_COUNTED = r"(?:-|\s)?(?:x\s)?"
_PORT_WORD = re.compile(r"\bports?\b")
_NODE_NOUNS = r"(?:nodes?|noeuds?|instances?|servers?|serveurs?|vms?|machines?|workers?|agents?)"


def normalize(text: str) -> str:
    """Lowercase, accents removed, number words as digits, spaced punctuation kept."""
    text = fold(text)
    text = re.sub(r"[«»“”\"(),;!?]", " ", text)
    for word, n in sorted(NUMBER_WORDS.items(), key=lambda kv: -len(kv[0])):
        text = re.sub(rf"\b{word}\b", str(n), text)
    return f" {' '.join(text.split())} "


def has(word: str, text: str) -> bool:
    """A word or phrase present as a whole in normalized text."""
    return re.search(rf"(?<![a-z0-9]){re.escape(word.strip())}(?![a-z0-9])", text) is not None


def detect_providers(text: str) -> list[str]:
    return [name for name, words in PROVIDER_WORDS if any(has(w, text) for w in words)]


def detect_tool(text: str) -> str | None:
    return next((tool for tool, words in TOOL_WORDS if any(has(w, text) for w in words)), None)


# ------------------------------------------------------------------ parameters


def _int(pattern: str, text: str) -> int | None:
    m = re.search(pattern, text)
    return int(m.group(1)) if m else None


def _size_gb(text: str) -> int | None:
    m = re.search(r"\b(\d+(?:[.,]\d+)?)\s?(tb|to|tib|tio|gb|go|gib|gio|g)\b", text)
    if not m:
        return None
    value = float(m.group(1).replace(",", "."))
    return int(value * 1000 if m.group(2).startswith("t") else value)


def _zone(text: str, provider: str | None) -> str | None:
    names = [provider] if provider in PROVIDERS else list(PROVIDERS)
    for name in names:
        for region in PROVIDERS[name].regions:
            if region not in ("any", "local") and re.search(rf"\b{re.escape(region.lower())}\b", text):
                return region
    return None


def _name(text: str) -> str | None:
    m = re.search(r"\b(?:named|called|name|nommee?s?|appelee?s?|nom)\s+'?([a-z0-9][a-z0-9_-]{0,40})", text)
    return m.group(1).replace("_", "-").strip("-") if m else None


def _gpu(text: str) -> tuple[str, str] | None:
    return next((names for pattern, names in GPU_MODELS.items() if re.search(pattern, text)), None)


def _schedule(text: str) -> str | None:
    every = _int(r"(?:every|toutes les)\s(\d+)\s?(?:minutes?|min)\b", text)
    if every:
        return f"*/{every} * * * *"
    at = re.search(r"\b(?:at|a)\s(\d{1,2})(?:[:h](\d{2})?)?\s?(?:am|h|:)?", text)
    hour, minute = (int(at.group(1)), int(at.group(2) or 0)) if at and int(at.group(1)) < 24 else (3, 0)
    if re.search(r"every hour|hourly|toutes les heures|chaque heure", text):
        return "0 * * * *"
    if re.search(r"weekly|every week|hebdomadaire|chaque semaine|toutes les semaines", text):
        return f"{minute} {hour} * * 0"
    if re.search(r"daily|every day|nightly|every night|chaque jour|tous les jours|quotidien|chaque nuit|toutes les nuits", text):
        return f"{minute} {hour} * * *"
    return None


def _image(text: str) -> str | None:
    m = re.search(r"\bimage\s([a-z0-9][a-z0-9./_-]*:[a-z0-9._-]+)", text)
    if m:
        return m.group(1)
    return next((image for word, image in IMAGES.items() if re.search(rf"\b{word}\b", text)), None)


def extract(need: str, provider: str | None = None) -> dict[str, Any]:
    """Every parameter the sentence gives, by name (the template keeps those it declares)."""
    text = normalize(need)
    found: dict[str, Any] = {}
    count = _int(rf"\b(\d+){_COUNTED}(?:[a-z0-9.-]+\s)?{_NODE_NOUNS}\b", text)
    if count:
        found["node_count"] = found["instance_count"] = count
    replicas = _int(r"\b(\d+)\s?(?:replicas?|repliques?|copies|pods)\b", text)
    if replicas:
        found["replicas"] = replicas
    gpus = _int(r"\b(\d+)\s?x?\s?(?:gpus?\b|(?:rtx|a100|h100|a6000|l40s|a40|t4))", text)
    if gpus:
        found["gpu_count"] = gpus
    size = _size_gb(text)
    if size:
        found["size_gb"] = found["disk_size_gb"] = size
    simple = {
        "zone": _zone(text, provider), "name": _name(text), "schedule": _schedule(text), "image": _image(text),
        "port": _int(r"\bport\s(\d{2,5})\b", text),
        "namespace": _match(r"\b(?:namespace|espace de noms)\s([a-z0-9][a-z0-9-]{0,40})", text),
        "user": _word(rf"\b(?:user|utilisateur|account|compte)\s(?:{_CALLED})?([a-z_][a-z0-9_-]{{0,31}})\b", text),
        "record": _word(r"\b(?:record|enregistrement)\s(?:(?:for|pour|named|nomme)\s)?([a-z0-9][a-z0-9-]{0,40})\b", text),
        "host": _match(r"\b((?:[a-z0-9-]+\.)+(?:com|org|net|io|dev|ch|fr|de|eu|app|cloud|local))\b", text),
        "instance_type": _match(rf"\b((?:standard|cpu|memory|storage|gpu\d?)\.(?:{_SIZES}))\b", text),
        "service": _word(r"\b(?:service|daemon)\s([a-z][a-z0-9@_.-]{1,40})\b", text)
        or _word(r"\b([a-z][a-z0-9@_.-]{1,40})\s(?:service|daemon)\b", text),
        "pod_id": _match(r"\bpods?\s(?:[a-z]+\s){0,2}([a-z0-9]*\d[a-z0-9]*)\b", text),
    }
    found.update({k: v for k, v in simple.items() if v})
    word = _PORT_WORD.search(text)  # "port(s)" as a word: not support, transport, supporte
    ports = [int(p) for p in re.findall(r"\b(\d{2,5})\b", text[word.end():])] if word else []
    if ports:
        found["ports"] = [p for p in ports if 0 < p < 65536]
    gpu = _gpu(text)
    if gpu:
        found["gpu_type"] = gpu
    packages = [p for p in PACKAGES if re.search(rf"(?<![a-z0-9-]){re.escape(p)}(?![a-z0-9-])", text)]
    if packages:
        found["packages"] = packages
    if re.search(r"\b(start|demarrer|allumer|resume|relancer)\b", text):
        found["pod_action"] = "start"
    return found


def _match(pattern: str, text: str) -> str | None:
    m = re.search(pattern, text)
    return m.group(1) if m else None


_NOT_NAMES = frozenset((
    "a", "an", "the", "le", "la", "les", "un", "une", "de", "du", "des", "on", "sur", "for", "pour", "with", "avec", "in", "dans",
    "to", "account", "compte", "named", "called", "nomme", "nommee", "appele", "appelee", "running", "web", "system", "systeme",
))


def _word(pattern: str, text: str) -> str | None:
    """The first match that is a real name, not a filler word."""
    return next((m.group(1) for m in re.finditer(pattern, text) if m.group(1) not in _NOT_NAMES), None)


def fill(template: Template, found: dict[str, Any]) -> dict[str, Any]:
    """The template's parameters: its defaults, replaced by what the sentence gave."""
    params = dict(template.params)
    for key in params:
        if key in found:
            value = found[key]
            if key == "gpu_type":
                value = value[1] if template.provider == "runpod" else value[0]
            if key == "zone" and template.provider in PROVIDERS and value not in PROVIDERS[template.provider].regions:
                continue
            params[key] = value
        elif key == "zone" and template.provider in PROVIDERS and PROVIDERS[template.provider].default_region not in ("", "any"):
            params[key] = params[key] or PROVIDERS[template.provider].default_region
    if "domain" in params and "host" in found:
        params["domain"] = found["host"]
    if "name" in params and "name" not in found and "namespace" in found and template.tool == "kubernetes":
        params["name"] = found["namespace"]
    return params


# ------------------------------------------------------------------ matching


def _score(template: Template, text: str) -> int:
    return sum(3 if " " in w else 1 for w in template.words if has(w, text)) + sum(4 for w in template.strong if has(w, text))


def rank(need: str, tool: str | None = None, provider: str | None = None) -> list[tuple[int, Template]]:
    """Templates that fit the tool and provider, best first, with their scores."""
    text = normalize(need)
    tool = tool or detect_tool(text)
    named = [provider] if provider else detect_providers(text)
    ranked = []
    for t in TEMPLATES:
        if tool and t.tool != tool:
            continue
        if named and t.provider and t.provider not in named:
            continue
        score = _score(t, text)
        if score:
            bonus = 2 if t.provider and t.provider in named else 0
            ranked.append((score + bonus, t))
    ranked.sort(key=lambda st: -st[0])
    return ranked


def pick(need: str, tool: str | None = None, provider: str | None = None) -> tuple[Template, dict[str, Any]]:
    """The best template for a need and its parameters; InvalidInput naming what exists when none fits."""
    ranked = rank(need, tool, provider)
    if not ranked:
        near = [t.id for _s, t in rank(need)[:5]] or [t.id for t in TEMPLATES if (not tool or t.tool == tool)][:8]
        raise InvalidInput(
            f"the offline generator has no template for {need[:120]!r}" + (f" with tool {tool}" if tool else "")
            + (f" on {provider}" if provider else ""),
            hint=f"rephrase with a common need (closest templates: {', '.join(near)}), or configure an LLM for free-form needs",
            data={"closest": near},
        )
    template = ranked[0][1]
    return template, fill(template, extract(need, template.provider or provider))
