"""The specifics of a need: every detail a user stated, read from the sentence (English or French).

    extract(need)              → [Specific(kind, text, value)]   # counts, sizes, ports, CIDRs, IPs, paths, …
    unused(specifics, files)   → the specifics the files do not carry
    normalize(text)            → lowercase, accent-free, number words as digits (what matching reads)

`text` is the need's own words (what a report quotes back), `value` the normalized value (a size in
GB, a port number, a cron line, a Kubernetes kind or a Terraform resource type for requested objects).
Reading is deliberately literal: a number is a count only next to a counted noun, and a version next
to an OS or product name ("Debian 12") is never a count; "to" is a preposition unless written "To".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from f.fractal.platform.text import fold

NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "single": 1, "a single": 1, "un seul": 1, "une seule": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "sept": 7,
    "huit": 8, "neuf": 9, "dix": 10,
}
COUNTED = {  # counted noun → what it counts
    "instance": "instances", "server": "instances", "serveur": "instances", "vm": "instances", "machine": "instances",
    "node": "nodes", "noeud": "nodes", "worker": "nodes", "agent": "nodes",
    "replica": "replicas", "replique": "replicas", "pod": "pods", "copie": "replicas", "copies": "replicas",
    "gpu": "gpus", "core": "cpus", "cpu": "cpus", "vcpu": "cpus", "coeur": "cpus",
}
VERSIONED = ("debian", "ubuntu", "rocky", "alma", "almalinux", "centos", "fedora", "windows server", "windows", "postgresql",
             "postgres", "mysql", "python", "node", "k3s", "kubernetes", "redis", "java", "php", "go", "rhel")
OBJECTS: list[tuple[str, str]] = [  # (pattern in normalized text, requested object: Kubernetes kind or Terraform type)
    (r"horizontalpodautoscaler|\bhpa\b|autoscaler|auto-?scal", "HorizontalPodAutoscaler"),
    (r"daemon ?set", "DaemonSet"),
    (r"config ?map", "ConfigMap"),
    (r"\bpvc\b|persistent ?volume ?claim|volume claim|volume persistant", "PersistentVolumeClaim"),
    (r"cron ?job", "CronJob"),
    (r"\bingress\b", "Ingress"),
    (r"stateful ?set", "StatefulSet"),
    (r"network ?policy", "NetworkPolicy"),
    (r"resource ?quota|\bquota\b", "ResourceQuota"),
    (r"\bdbaas\b|managed (?:postgres|postgresql|database|db)|(?:base|postgresql|postgres) (?:de donnees )?(?:geree|managee)"
     r"|(?:geree|managee) par exoscale", "exoscale_dbaas"),
    (r"load ?balancer|\bnlb\b|repartiteur de charge", "exoscale_nlb"),
    (r"instance ?pool|pool of \d+ instances|pool d'instances", "exoscale_instance_pool"),
    (r"\bsks\b", "exoscale_sks_cluster"),
]
SIZES = "micro|tiny|small|medium|large|extra-large|huge|mega|titan|jumbo"
SCHEDULE_WORDS = r"(?:every|each|toutes? les|chaque|tous les)"
_GB = {"t": 1000, "g": 1, "m": 0.001}
_WHOLE = r"(?<![\w.:/-]){}(?![\w/-]|\.\w)"  # a whole token in files text


@dataclass(frozen=True)
class Specific:
    kind: str   # count, range, size, port, cidr, ip, path, url, image, host, quoted, name, namespace, user, id, plan,
    text: str   # service, package, zone, gpu, instance_type, os, version, price, percent, setting, schedule, object
    value: Any

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text, "value": self.value}


def normalize(text: str) -> str:
    """Folded, number words as digits, quotes and brackets spaced out, one space between words, padded."""
    text = re.sub(r"[«»“”\"(),;!?]", " ", fold(text))
    for word, n in sorted(NUMBER_WORDS.items(), key=lambda kv: -len(kv[0])):
        text = re.sub(rf"\b{word}\b", str(n), text)
    return f" {' '.join(text.split())} "


# ------------------------------------------------------------------ reading


def _quoted(need: str) -> list[Specific]:
    found = re.findall(r'"([^"]{2,200})"|«\s*([^»]{2,200}?)\s*»|“([^”]{2,200})”|(?<![\w])\'([^\']{2,200})\'(?![\w])', need)
    return [Specific("quoted", text, text) for groups in found for text in groups if text]


def _literals(need: str) -> list[Specific]:
    """URLs, CIDRs, IPs, paths, images, host names, KEY=value settings: read from the original text (case kept)."""
    out: list[Specific] = []
    taken: list[tuple[int, int]] = []

    def add(kind: str, m: re.Match[str], value: Any = None) -> None:
        if not any(a <= m.start() < b for a, b in taken):
            out.append(Specific(kind, m.group(0).rstrip(".,"), m.group(0).rstrip(".,") if value is None else value))
            taken.append((m.start(), m.end()))

    for m in re.finditer(r"\b(?:https?|git|ssh)://[^\s\"'»,]+|\bgit@[\w.-]+:[\w./-]+", need):
        add("url", m)
    for m in re.finditer(r"\b\d{1,3}(?:\.\d{1,3}){3}/\d{1,2}\b", need):
        add("cidr", m)
    for m in re.finditer(r"\b\d{1,3}(?:\.\d{1,3}){3}\b", need):
        add("ip", m)
    for m in re.finditer(r"(?<![\w./:-])~?/[\w.@+-]+(?:/[\w.@+-]*)*", need):
        add("path", m)
    for m in re.finditer(r"\b[a-z0-9][a-z0-9._-]*(?:/[a-z0-9._-]+)*:[a-zA-Z0-9][\w.-]*", need):
        if re.search(r"[a-z]", m.group(0).split(":")[0]) and not re.match(r"^\d+:\d+", m.group(0)):
            add("image", m)
    for m in re.finditer(r"\b(?:[a-z0-9-]+\.)+(?:com|org|net|io|dev|ch|fr|de|eu|app|cloud|local|internal)\b", need):
        add("host", m)
    for m in re.finditer(r"\b([A-Z][A-Z0-9_]{1,40})=(\S+)", need):
        add("setting", m, {m.group(1): m.group(2).rstrip(".,")})
    return out


def _sizes(need: str, text: str) -> list[Specific]:
    out = []
    for m in re.finditer(r"(?<![\w.])(\d+(?:[.,]\d+)?)\s?(tb|tib|gb|gib|gi|g|mb|mib|mi|to|tio|go|gio|mo|mio)\b", text):
        unit = m.group(2)
        raw = re.search(rf"(?<![\w.]){re.escape(m.group(1))}\s?{unit}\b", need, re.I)
        written = raw.group(0) if raw else m.group(0)
        if unit in ("to", "tio", "go", "gio", "mo", "mio") and not written[-len(unit):][0].isupper():
            continue  # "443 to …": a preposition, not terabytes ("1 To" is)
        gb = float(m.group(1).replace(",", ".")) * _GB[unit[0]]
        out.append(Specific("size", written, int(gb) if gb >= 1 else gb))
    return out


def _number(token: str) -> int | None:
    return int(token) if token.isdigit() else None


def _counts(text: str) -> list[Specific]:
    """"N <noun>" with at most 3 words between; a version ("Debian 12") or a range ("2 to 10") is not a count."""
    out: list[Specific] = []
    tokens = text.split()
    for i, token in enumerate(tokens):
        hyphen = re.fullmatch(r"(\d+)-([a-z]+?)s?", token)
        if hyphen and hyphen.group(2) in COUNTED:  # "3-node"
            out.append(Specific("count", token, {"of": COUNTED[hyphen.group(2)], "n": int(hyphen.group(1))}))
            continue
        noun = token[:-1] if token.endswith("s") and token[:-1] in COUNTED else token
        if noun not in COUNTED:
            continue
        for j in range(i - 1, max(i - 5, -1), -1):
            n = _number(tokens[j])
            if n is None and (tokens[j] in FILLERS or tokens[j] in UNITS):
                break  # "15 minutes sur cette machine": not 15 machines
            if n is None:
                continue
            before = tokens[j - 1] if j else ""
            if before in VERSIONED or before in ("server", "v"):
                continue  # "Debian 12 instances": look further back
            if before in ("and", "et", "a", "to") and j > 1 and _number(tokens[j - 2]) is not None:
                break  # "2 to 10 pods": a range
            out.append(Specific("count", " ".join(tokens[j:i + 1]), {"of": COUNTED[noun], "n": n}))
            break
    for m in re.finditer(r"\b(?:between|entre|de|from)\s(\d+)\s(?:and|et|a|to)\s(\d+)\b", text):
        low, high = int(m.group(1)), int(m.group(2))
        if low < high:
            out.append(Specific("range", m.group(0).strip(), {"min": low, "max": high}))
    return out


def _ports(text: str) -> list[Specific]:
    out = []
    for m in re.finditer(r"\bports?\s(\d{1,5}(?:\s(?:and\s|et\s|or\s|ou\s|/\s?)?\d{1,5}\b)*)", text):
        for p in re.findall(r"\d+", m.group(1)):
            if 0 < int(p) < 65536:
                out.append(Specific("port", p, int(p)))
    return out


def _versions(need: str) -> list[Specific]:
    versioned = "|".join(VERSIONED)
    found = re.finditer(rf"\b((?:{versioned}))\s?(v?\d+(?:\.\d+)*(?:\+\w+)?)\b", fold(need))
    out = []
    for m in found:
        kind = "os" if m.group(1) in ("debian", "ubuntu", "rocky", "alma", "almalinux", "centos", "fedora", "windows",
                                       "windows server", "rhel") else "version"
        start, end = m.span()
        out.append(Specific(kind, need[start:end], m.group(0)))
    return out


def schedule(text: str) -> tuple[str, str] | None:
    """(the need's words, a cron line) for a stated schedule, else None."""
    m = re.search(rf"{SCHEDULE_WORDS}\s(\d+)\s?(?:minutes?|mins?)\b", text)
    if m:
        return m.group(0), f"*/{m.group(1)} * * * *"
    m = re.search(rf"{SCHEDULE_WORDS}\s(\d+)\s?(?:hours?|heures?|h)\b", text)
    if m:
        return m.group(0), f"0 */{m.group(1)} * * *"
    at = re.search(r"\b(?:at|a|vers)\s(\d{1,2})(?:\s?(am|pm)|[:h](\d{2})?)", text)
    hour, minute = (int(at.group(1)) % 12 + (12 if at.group(2) == "pm" else 0) if at.group(2) else int(at.group(1)),
                    int(at.group(3) or 0)) if at else (3, 0)
    if at and hour > 23:
        at, hour, minute = None, 3, 0
    span = f" {at.group(0)}" if at else ""
    for pattern, cron in (
        (r"every hour|hourly|toutes les heures|chaque heure", "0 * * * *"),
        (r"weekly|every week|hebdomadaire|chaque semaine|toutes les semaines", f"{minute} {hour} * * 0"),
        (r"daily|every day|nightly|every night|chaque jour|tous les jours|quotidien(?:ne)?|chaque nuit|toutes les nuits",
         f"{minute} {hour} * * *"),
    ):
        m = re.search(pattern, text)
        if m:
            return m.group(0) + (span if at and at.start() > m.start() else ""), cron
    return None


FILLERS = frozenset((
    "an", "the", "le", "la", "les", "l", "un", "une", "de", "du", "des", "d", "on", "sur", "for", "pour", "with", "avec",
    "in", "dans", "to", "of", "and", "et", "or", "ou", "account", "compte", "named", "called", "nomme", "nommee", "appele",
    "appelee", "running", "system", "systeme", "that", "qui", "is", "est", "my", "mon", "ma", "mes", "this", "cette",
    "ce", "cet", "its", "son", "sa", "new", "nouveau", "nouvelle", "dns", "runpod", "vast", "exoscale", "k3s", "all", "tous",
    "every", "each", "chaque", "from", "depuis", "by", "par", "quota", "paquets", "packages", "package", "paquet", "service",
    "cluster", "machine", "lecture", "read", "only", "seule", "kubernetes", "between", "entre", "at", "a", "vers", "into",
))
UNITS = frozenset(("minutes", "minute", "min", "hours", "hour", "heures", "heure", "h", "gb", "go", "to", "tb", "gi", "%",
                   "days", "jours", "seconds", "secondes", "ms", "mb", "mo"))
_NAME = r"([a-z0-9][a-z0-9_.-]{0,62}[a-z0-9]|[a-z0-9])"
NAMED: list[tuple[str, str]] = [  # (words before the name, kind)
    (r"(?:named|called|nommee?s?|appelee?s?)", "name"),
    (r"(?:namespace|espace de noms)(?: called| named| nomme)?", "namespace"),
    (r"(?:user|utilisateur)(?: account)?", "user"),
    (r"\bpods?(?: runpod)?", "id"),
    (r"\bplan", "plan"),
    (r"(?:record|enregistrement)(?: dns)?(?: for| pour)?", "name"),
    (r"(?:daemonset|configmap|cronjob|ingress|deploiement|deployment|statefulset)", "name"),
    (r"(?:service|daemon)", "service"),
]
_AFTER_NAMED = [
    (rf"\b{_NAME}\s(?:service|daemon)\b", "service"),
    (rf"\b(?:the|le|la)\s{_NAME}\s(?:deployment|deploiement)\b", "name"),
    (rf"\bmake sure\s{_NAME}\s(?:is|runs)\b", "service"),
    (rf"\b(?:keep|garder)\s(?:the\s|le\s)?{_NAME}\s(?:service\s)?(?:running|started|demarre|actif)\b", "service"),
    (r"\brunning\s([a-z0-9]+(?:-[a-z0-9]+)+)\b", "name"),
]


def _named(text: str) -> list[Specific]:
    """Names the need gives: "named web", "namespace staging", "user ops", "pod abc123", "the web deployment", …"""
    out = []
    for lead, kind in NAMED:
        for m in re.finditer(rf"\b{lead}\s{_NAME}\b", text):
            name = m.group(1)
            if name not in FILLERS and not (kind == "id" and not re.search(r"\d", name)):
                out.append(Specific(kind, name, name))
    for pattern, kind in _AFTER_NAMED:
        out += [Specific(kind, m.group(1), m.group(1)) for m in re.finditer(pattern, text) if m.group(1) not in FILLERS]
    return out


INSTALL = r"(?:install|installer|installe|add|ajouter)"


def _packages(text: str) -> list[Specific]:
    """What follows an install verb, up to the first filler: "install git, curl and htop on …"."""
    out = []
    leads = rf"\b{INSTALL}\s(?:(?:les|the)\s)?(?:(?:paquets?|packages?)\s)?|\b(?:python|pip)\b[^,;]*?\s(?:with|avec)\s"
    for m in re.finditer(rf"(?:{leads})((?:[a-z0-9][a-z0-9.+_-]*\s?)+)", text):
        for word in m.group(1).split():
            if word in ("and", "et", "also", "aussi"):
                continue
            if word in FILLERS or word in ("with", "then", "puis"):
                break
            out.append(Specific("package", word, word))
    return out


GPUS = r"rtx\s?4090|rtx\s?3090|rtx\s?a6000|\ba6000|\ba100|\bh100|\bl40s|\ba40\b|\bt4\b"


def _machines(need: str, text: str) -> list[Specific]:
    """Zones, GPU models and instance sizes."""
    out = [Specific("zone", m.group(0), m.group(0)) for m in re.finditer(r"\b[A-Za-z]{2}-[A-Za-z]{2,5}-\d\b", need)]
    out += [Specific("gpu", m.group(0), re.sub(r"rtx\s?", "", m.group(0))) for m in re.finditer(GPUS, text)]
    out += [Specific("instance_type", m.group(0), m.group(0)) for m in
            re.finditer(rf"\b(?:standard|cpu|memory|storage|gpu\d?)\.(?:{SIZES})\b", text)]
    nouns = "instances?|vms?|nodes?|noeuds?|servers?|serveurs?|machines?"
    if not any(s.kind == "instance_type" for s in out):
        m = re.search(rf"\b(?:taille|size|type)\s({SIZES})\b|\b({SIZES})\s(?:[a-z0-9.]+\s){{0,2}}(?:{nouns})\b", text)
        if m:
            size = m.group(1) or m.group(2)
            out.append(Specific("instance_type", size, f"standard.{size}"))
    return out


def _prices(need: str, text: str) -> list[Specific]:
    out = []
    for m in re.finditer(r"(?:\$\s?(\d+(?:[.,]\d+)?)|(\d+(?:[.,]\d+)?)\s?(?:\$|usd|dollars?|€|eur|euros?))", text):
        value = (m.group(1) or m.group(2)).replace(",", ".")
        out.append(Specific("price", value, float(value)))
    out += [Specific("percent", m.group(0), int(m.group(1))) for m in re.finditer(r"\b(\d{1,3})\s?%", need)]
    return out


def extract(need: str) -> list[Specific]:
    """Every specific the need states, in reading order of kinds (see the module doc)."""
    text = normalize(need)
    found = [*_quoted(need), *_literals(need), *_sizes(need, text), *_counts(text), *_ports(text), *_versions(need),
             *_named(text), *_packages(text), *_machines(need, text), *_prices(need, text)]
    when = schedule(text)
    if when:
        found.append(Specific("schedule", when[0], when[1]))
    for pattern, obj in OBJECTS:
        m = re.search(pattern, text)
        if m:
            found.append(Specific("object", m.group(0), obj))
    return _dedup(found)


def _dedup(found: list[Specific]) -> list[Specific]:
    out: list[Specific] = []
    for s in found:
        if not any(o.kind == s.kind and o.value == s.value for o in out):
            out.append(s)
    return out


# ------------------------------------------------------------------ checking files


def _forms(s: Specific) -> list[str]:
    """How a specific can appear in files: whole tokens to look for (folded)."""
    v = s.value
    if s.kind == "size":
        return [f"{v}gi", f"{v}g", str(v), f"{v}gb"]
    if s.kind == "count":
        return [str(v["n"])]
    if s.kind == "range":
        return [str(v["min"]), str(v["max"])]
    if s.kind == "price":
        return sorted({str(v), f"{v:.2f}", f"{v:g}"})
    if s.kind == "setting":
        return [fold(k) for k in v] + [fold(str(x)) for x in v.values()]
    return [fold(str(v))]


def carried(s: Specific, text: str) -> bool:
    """The specific is in the (folded) files text: every form needed (a range's both ends), one form otherwise."""
    forms = _forms(s)
    hits = [re.search(_WHOLE.format(re.escape(f)), text) is not None for f in forms]
    if s.kind in ("range", "setting"):
        return all(hits)
    if s.kind in ("quoted", "os", "version", "path", "url", "image", "object"):
        return any(f in text for f in forms)
    return any(hits)


def files_text(files: dict[str, str], inputs: dict[str, Any] | None = None) -> str:
    """What a draft says, folded: every file and the input defaults."""
    defaults = [json.dumps(p.get("default"), ensure_ascii=False) for p in ((inputs or {}).get("properties") or {}).values()
                if isinstance(p, dict) and "default" in p]
    return fold("\n".join([*files.values(), *defaults]))


def unused(specifics: list[Specific], files: dict[str, str], inputs: dict[str, Any] | None = None) -> list[Specific]:
    """The specifics the draft does not carry."""
    text = files_text(files, inputs)
    return [s for s in specifics if not carried(s, text)]
