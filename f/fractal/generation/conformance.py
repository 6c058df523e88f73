"""Conformance: does a draft do what the need asked? The need's requested objects and values, checked in the files.

    check(need, tool, files, inputs) → Conformance(errors, unused)

`errors` are what a right draft cannot miss: a requested object (an HPA, a DaemonSet, a DBaaS service,
a load balancer) or a stated value (a size, a count, a port, a zone, a CIDR, an IP, an image, a URL,
a path, a schedule, an instance type, a GPU model, a price cap, a KEY=value setting) absent from the
files. They are fed back to a model as errors; an offline draft reports them. `unused` lists every
specific the files do not carry (errors included), each as {kind, text, value, required}, so nothing
the user said is dropped without a word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from f.fractal.generation.specifics import Specific, extract, unused
from f.fractal.model.errors import InvalidInput
from f.fractal.platform.yamlio import load_untrusted

REQUIRED = frozenset(("size", "count", "range", "port", "zone", "cidr", "ip", "image", "url", "path", "schedule",
                      "instance_type", "gpu", "setting", "price", "host", "object"))
TERRAFORM_OBJECTS = ("exoscale_",)


@dataclass
class Conformance:
    errors: list[str] = field(default_factory=list)
    unused: list[dict[str, Any]] = field(default_factory=list)


def kinds(files: dict[str, str]) -> list[str]:
    """The Kubernetes kinds the YAML files define (documents that do not parse are the validator's business)."""
    kinds: list[str] = []
    for path, text in files.items():
        if not path.endswith((".yaml", ".yml")):
            continue
        for chunk in re.split(r"(?m)^---[ \t]*$", text):
            try:
                doc = load_untrusted(chunk, what=path)
            except InvalidInput:  # the tool's checker reports it
                doc = None
            docs = doc if isinstance(doc, list) else [doc]
            kinds += [d["kind"] for d in docs if isinstance(d, dict) and isinstance(d.get("kind"), str)]
    return kinds


def _snake(kind: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", kind).lower()


def object_present(obj: str, tool: str, files: dict[str, str], kinds: list[str]) -> bool | None:
    """Whether a requested object is in the files; None when it does not apply to this tool."""
    if obj.startswith(TERRAFORM_OBJECTS):
        if tool != "terraform":
            return None
        return any(re.search(rf'resource\s+"{re.escape(obj)}"', t) for p, t in files.items() if p.endswith(".tf"))
    if tool == "kubernetes":
        return obj in kinds
    if tool == "terraform":
        tf = "\n".join(t for p, t in files.items() if p.endswith(".tf"))
        if "kubernetes_" not in tf:
            return None
        return f"kubernetes_{_snake(obj)}" in tf or f"kind: {obj}" in tf or f'"{obj}"' in tf
    return None


def _object_error(s: Specific, kinds: list[str]) -> str:
    found = f"the manifests define {', '.join(dict.fromkeys(kinds))}" if kinds else "the files define none"
    return f"the need asks for {s.value} ({s.text!r}) but {found}: add a {s.value}"


def check(need: str, tool: str, files: dict[str, str], inputs: dict[str, Any] | None = None) -> Conformance:
    """What the need asks that the files lack (see the module doc)."""
    out = Conformance()
    specifics = extract(need)
    defined = kinds(files) if tool == "kubernetes" else []
    missing = [s for s in unused(specifics, files, inputs) if s.kind != "object"]
    for s in specifics:
        if s.kind == "object":
            present = object_present(str(s.value), tool, files, defined)
            if present is False:
                out.errors.append(_object_error(s, defined))
                out.unused.append({**s.to_dict(), "required": True})
    for s in missing:
        required = s.kind in REQUIRED
        if required:
            out.errors.append(f"the need states {s.text!r} ({s.kind}) but no file carries it: use it, or say why not")
        out.unused.append({**s.to_dict(), "required": required})
    return out


def summary(need: str, tool: str | None = None) -> list[str]:
    """The need's specifics restated as requirements, for a model's prompt."""
    lines = []
    for s in extract(need):
        if s.kind == "object":
            lines.append(f"- it must define a {s.value} (the need says {s.text!r})")
        else:
            lines.append(f"- {s.kind} {s.text!r} must appear in the files" + (" (as a variable default or literal)"
                                                                                if tool == "terraform" else ""))
    return lines

