"""The knowledge catalog: Runes learned from engineers' solutions, saved in Git, found again by their task.

It is a catalog like the others (the same store, versions, targets): Runes are entities tagged `rune`.
Its targets are `$FRACTAL_KNOWLEDGE_TARGETS` (comma-separated git_repository resource paths) or
`f/fractal/knowledge`.
"""

from __future__ import annotations

import os
import re
import time
from typing import Any

from f.fractal.catalog.items import catalog_rows, get, save
from f.fractal.catalog.search import Hit, index_for, terms, weight
from f.fractal.learning.sanitize import sanitize
from f.fractal.learning.smith import RUNE_TAG, rune
from f.fractal.model.errors import FractalError, InvalidInput
from f.fractal.model.item import TOOLS
from f.fractal.model.providers import PROVIDERS
from f.fractal.model.records import Found
from f.fractal.platform.workspace import actor
from f.fractal.tools.registry import TOOLS as REGISTERED
from f.fractal.tools.validate import validate_entity

DEFAULT_KNOWLEDGE = "f/fractal/knowledge"
MIN_CONFIDENCE = 0.5
DECISIVE_COVERAGE = 0.75  # share of a Rune's own task words (its values left out) the need must say
DECISIVE_LEAD = 1.2  # …and the Rune's score over the next one's
_GENERIC = frozenset(terms("install installer configure configurer setup enable ensure use using run keep"))
_HOST = re.compile(r"\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}\b")
_IP = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
_PORT = re.compile(r"\bports?\s+(\d{2,5})\b", re.IGNORECASE)
_PATH = re.compile(r"(?<![\w.])(/[A-Za-z0-9._/-]+)")


def knowledge_targets() -> list[str]:
    raw = os.environ.get("FRACTAL_KNOWLEDGE_TARGETS", DEFAULT_KNOWLEDGE)
    return [p.strip() for p in raw.split(",") if p.strip()]


def _solution(solution: Any) -> tuple[str, dict[str, str], list[str]]:
    """(tool, files, providers) from {tool, files, providers?} or a whole Entity."""
    if not isinstance(solution, dict):
        raise InvalidInput("solution must be {tool, files: {path: text}} or an Entity item")
    spec = solution.get("spec") if solution.get("kind") == "Entity" else solution
    if not isinstance(spec, dict):
        raise InvalidInput("an Entity solution needs a spec")
    tool, files, providers = spec.get("tool"), spec.get("files"), spec.get("providers") or []
    if tool not in REGISTERED:
        raise InvalidInput(f"solution tool {tool!r:.40} is not one Fractal runs", hint=f"use one of {', '.join(REGISTERED)}")
    if not isinstance(files, dict) or not files or not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        raise InvalidInput("solution files must be a non-empty {path: text} object")
    if not isinstance(providers, list) or any(p not in PROVIDERS for p in providers):
        raise InvalidInput(f"solution providers must be a list of {', '.join(PROVIDERS)}")
    return str(tool), dict(files), [str(p) for p in providers]


def submit(task: Any, solution: Any, *, author: str = "", tags: list[str] | None = None, confidence: float = 1.0,
           targets: list[str] | None = None) -> dict[str, Any]:
    """Sanitize, smith, validate and save a task/solution pair as a Rune; InvalidInput says why a pair is rejected."""
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0 <= confidence <= 1:
        raise InvalidInput("confidence must be a number from 0 to 1")
    if confidence < MIN_CONFIDENCE:
        raise InvalidInput(f"confidence {confidence} is below {MIN_CONFIDENCE}: only solutions engineers trust become knowledge")
    tool, files, providers = _solution(solution)
    clean = sanitize(task, tool, files)
    item = rune(clean.task, tool, clean.files, clean.secret_inputs, providers=providers,
                tags=[str(t) for t in (tags or []) if isinstance(t, str)])
    report = validate_entity(item, tool=tool)
    if not report["ok"]:
        first = report["errors"][0]
        raise InvalidInput(f"the solution does not pass the {tool} checks: {first.get('file') or 'files'}: {first['message']}",
                           hint="fix the solution so that it validates, then submit it again", data={"report": dict(report)})
    item["provenance"] = {"learned": {"task": clean.task, "author": author or actor(), "confidence": confidence,
                                      "sanitizer": clean.report(), "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
                          "validation": dict(report)}
    saved = save(item, targets or knowledge_targets())
    return {"rune": saved["ref"], "saved": saved, "inputs": sorted(item["spec"]["inputs"]["properties"]),
            "sanitizer": clean.report(), "validation": report}


def find(query: str, *, tool: str | None = None, provider: str | None = None, limit: int = 5,
         targets: list[str] | None = None) -> list[Hit]:
    """The Runes that best match a query, best first (BM25 over name, tags, description and inputs)."""
    if tool and tool not in TOOLS:
        raise InvalidInput(f"unknown tool {tool!r:.40}", hint=f"use one of {', '.join(TOOLS)}")
    if provider and provider not in PROVIDERS:
        raise InvalidInput(f"unknown provider {provider!r:.40}", hint=f"use one of {', '.join(PROVIDERS)}")
    rows = [r for r in catalog_rows(targets or knowledge_targets(), "Entity") if RUNE_TAG in (r.get("tags") or [])]
    return index_for(rows).search(query, limit, kinds=("Entity",), provider=provider, tool=tool) if rows else []


def decisive(need: str, tool: str | None, provider: str | None, targets: list[str] | None = None) -> tuple[Found, Hit] | None:
    """The Rune a need clearly asks for, or None (no knowledge catalog, nothing close enough, or a tie)."""
    try:
        hits = find(need, tool=tool, provider=provider, limit=2, targets=targets)
    except FractalError:
        return None  # no knowledge catalog here: generation goes on without it
    if not hits or (len(hits) > 1 and hits[0].score < DECISIVE_LEAD * hits[1].score):
        return None
    found = get(hits[0].row["ref"], targets or knowledge_targets())
    return (found, hits[0]) if identity_coverage(found, need) >= DECISIVE_COVERAGE else None


def identity_coverage(found: Found, need: str) -> float:
    """How much of what a Rune is (its task's words, without the values that became inputs) the need says."""
    text = str(found["item"]["metadata"].get("description") or "")
    for prop in (found["item"]["spec"].get("inputs") or {}).get("properties", {}).values():
        if isinstance(prop.get("default"), str) and prop["default"]:
            text = text.replace(prop["default"], " ")
    own, said = set(terms(text)), set(terms(need))

    def w(term: str) -> float:
        return 0.1 if term in _GENERIC else weight(term)

    total = sum(map(w, own))
    return sum(map(w, own & said)) / total if total else 0.0


def specifics(need: str) -> dict[str, list[Any]]:
    """Values a need states, by kind: hosts, addresses, ports, paths."""
    ips = _IP.findall(need)
    return {"host": [h for h in _HOST.findall(need.lower()) if h not in ips], "ip": ips,
            "port": [int(p) for p in _PORT.findall(need)], "path": _PATH.findall(need)}


def _kind(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return "port" if 1 <= value <= 65535 else None
    if not isinstance(value, str):
        return None
    if _IP.fullmatch(value):
        return "ip"
    if _HOST.fullmatch(value.lower()):
        return "host"
    return "path" if value.startswith("/") else None


def instantiate(found: Found, need: str) -> tuple[dict[str, Any], dict[str, str], dict[str, Any], list[str]]:
    """A Rune filled from a need: (inputs schema with the need's values as defaults, files, the values used,
    the need's specifics left unused)."""
    stated = specifics(need)
    spec = found["item"]["spec"]
    inputs = dict(spec.get("inputs") or {})
    props = {n: dict(p) for n, p in (inputs.get("properties") or {}).items()}
    files = dict(spec.get("files") or {})
    used: dict[str, Any] = {}
    for name, prop in props.items():
        kind = _kind(prop.get("default"))
        if kind and stated.get(kind):
            prop["default"] = used[name] = stated[kind].pop(0)
    if spec.get("tool") == "terraform" and used and "variables.tf" in files:
        files["variables.tf"] = _tf_defaults(files["variables.tf"], used)
    unused = [str(v) for values in stated.values() for v in values]
    return {**inputs, "properties": props}, files, used, unused


def _tf_defaults(text: str, values: dict[str, Any]) -> str:
    """variables.tf with these variables' defaults replaced (where Terraform reads an entity's inputs)."""
    for name, value in values.items():
        literal = f'"{value}"' if isinstance(value, str) else str(value)
        text = re.sub(rf'(variable\s+"{re.escape(name)}"\s*\{{[^}}]*?default\s*=\s*)("[^"]*"|[^\s}}]+)',
                      lambda m, lit=literal: m.group(1) + lit, text)  # type: ignore[misc]
    return text
