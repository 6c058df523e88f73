"""The knowledge catalog: Runes and Orbs learned from engineers' solutions, saved in Git, found again by their task.

It is a catalog like the others (the same store, versions, targets): Runes are entities tagged `rune`,
Orbs pipelines (or meta-pipelines) tagged `orb`. Its targets are the `knowledge_targets` setting
(`$FRACTAL_KNOWLEDGE_TARGETS` locally; default `f/fractal/knowledge`); an Orb's members resolve in the
default catalogs. Every submission, rejection (with its reason), template learned and use is noted in
the loop's ledger (f.fractal.learning.ledger); uses weigh the ranking.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

import f.fractal.learning.ledger as ledger
import f.fractal.platform.settings as settings
from f.fractal.catalog.items import catalog_rows, get, save
from f.fractal.catalog.search import Hit, index_for, terms, weight
from f.fractal.learning.enhance import enhance, fix_with_tool
from f.fractal.learning.sanitize import normalize_task, sanitize, sanitize_composite
from f.fractal.learning.smith import ORB_TAG, RUNE_TAG, orb, rune
from f.fractal.model.errors import FractalError, InvalidInput, PolicyViolation, SecretInItem
from f.fractal.model.item import TOOLS
from f.fractal.model.providers import PROVIDERS
from f.fractal.model.records import CheckReport, Found
from f.fractal.platform.workspace import actor
from f.fractal.tools.registry import TOOLS as REGISTERED
from f.fractal.tools.validate import checked

MIN_CONFIDENCE = 0.5
DECISIVE_COVERAGE = 0.75  # share of a template's own task words (its values left out) the need must say
DECISIVE_CANDIDATES = 3  # how many of the best hits are weighed
COMPOSITES = ("Pipeline", "MetaPipeline")
TAGS = {"Entity": RUNE_TAG, "Pipeline": ORB_TAG, "MetaPipeline": ORB_TAG}
_GENERIC = frozenset(terms("install installer configure configurer setup enable ensure use using run keep"))
_HOST = re.compile(r"\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}\b")
_IP = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
_PORT = re.compile(r"\bports?\s+(\d{2,5})\b", re.IGNORECASE)
_PATH = re.compile(r"(?<![\w.])(/[A-Za-z0-9._/-]+)")
_ZONES = frozenset(r for p in PROVIDERS.values() for r in p.regions if "-" in r)


def knowledge_targets() -> list[str]:
    return list(settings.load().knowledge_targets)


def _solution(solution: Any) -> tuple[str, dict[str, str], list[str]]:
    """(tool, files, providers) from {tool, files, providers?} or a whole Entity."""
    if not isinstance(solution, dict):
        raise InvalidInput("solution must be {tool, files: {path: text}}, an Entity or Pipeline item, or {ref}")
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


@dataclass
class _Stage:
    """Where a submission is, so that a rejection is counted with its reason."""

    now: str = "input"


def submit(task: Any, solution: Any, *, author: str = "", tags: list[str] | None = None, confidence: float = 1.0,
           targets: list[str] | None = None) -> dict[str, Any]:
    """Sanitize, smith, enhance, validate and save a task/solution pair as a Rune (a solution's files or an Entity),
    an Orb (a Pipeline or MetaPipeline) or either from a saved catalog item (`{ref}`: the task defaults to what its
    provenance says was asked); InvalidInput says why a pair is rejected."""
    ledger.note("received")
    stage = _Stage()
    try:
        result = _submit(task, solution, author, [str(t) for t in (tags or []) if isinstance(t, str)], confidence,
                         targets or knowledge_targets(), stage)
    except InvalidInput as e:
        reason = "policy" if isinstance(e, PolicyViolation) else "secret" if isinstance(e, SecretInItem) else stage.now
        ledger.note("rejected", reason=reason)
        raise
    ledger.note("learned", template=ledger.template_key(result["template"]), kind=result["kind"])
    return result


def _submit(task: Any, solution: Any, author: str, tags: list[str], confidence: Any, targets: list[str],
            stage: _Stage) -> dict[str, Any]:
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0 <= confidence <= 1:
        raise InvalidInput("confidence must be a number from 0 to 1")
    if confidence < MIN_CONFIDENCE:
        stage.now = "confidence"
        raise InvalidInput(f"confidence {confidence} is below {MIN_CONFIDENCE}: only solutions engineers trust become knowledge")
    source = ""
    if isinstance(solution, dict) and "ref" in solution and "kind" not in solution:
        task, solution, source = from_catalog(task, solution["ref"])
    text = normalize_task(task)
    learned = {"task": text, "author": author or actor(), "confidence": confidence,
               "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **({"source": source} if source else {})}
    if isinstance(solution, dict) and solution.get("kind") in COMPOSITES:
        return _submit_orb(text, solution, tags, learned, targets, stage)
    tool, files, providers = _solution(solution)
    stage.now = "secret"
    clean = sanitize(text, tool, files)
    stage.now = "input"
    item = rune(clean.task, tool, clean.files, clean.secret_inputs, providers=providers, tags=tags)
    item, changes = enhance(item, clean.secret_inputs)
    stage.now = "checks"
    item, report, fixed = _checked(item, tool)
    item["provenance"] = {"learned": {**learned, "sanitizer": clean.report(), "enhanced": changes + fixed},
                          "validation": dict(report)}
    stage.now = "save"
    saved = save(item, targets)
    return {"kind": "rune", "template": saved["ref"], "rune": saved["ref"], "saved": saved,
            "inputs": sorted(item["spec"]["inputs"]["properties"]), "sanitizer": clean.report(),
            "enhanced": changes + fixed, "validation": report}


def _checked(item: dict[str, Any], tool: str) -> tuple[dict[str, Any], CheckReport, list[dict[str, str]]]:
    """The item once its tool's checks pass, after its fixer where the checks found something to fix (the reports
    are cached by content, so the save's own checks do not run them again)."""
    report = checked(item)
    fixed_item, fixed = fix_with_tool(item, report)
    if fixed:
        again = checked(fixed_item)
        if again["ok"] or not report["ok"]:
            item, report = fixed_item, again
        else:
            fixed = []  # the fixer broke it: keep the solution as it was
    if not report["ok"]:
        first = report["errors"][0]
        raise InvalidInput(f"the solution does not pass the {tool} checks: {first.get('file') or 'files'}: {first['message']}",
                           hint="fix the solution so that it validates, then submit it again", data={"report": dict(report)})
    return item, report, fixed


def _submit_orb(task: str, solution: dict[str, Any], tags: list[str], learned: dict[str, Any], targets: list[str],
                stage: _Stage) -> dict[str, Any]:
    stage.now = "secret"
    item, clean = sanitize_composite(task, solution)
    stage.now = "input"
    template = orb(task, item, clean.secret_inputs, tags=tags)
    template["provenance"] = {"learned": {**learned, "sanitizer": clean.report()}}
    stage.now = "checks"  # the composite checks run at save: members resolve in the default catalogs
    saved = save(template, targets, members=list(settings.load().default_targets))
    return {"kind": "orb", "template": saved["ref"], "orb": saved["ref"], "saved": saved,
            "inputs": sorted(template["spec"]["inputs"]["properties"]), "sanitizer": clean.report(), "enhanced": []}


def from_catalog(task: Any, ref: Any) -> tuple[str, dict[str, Any], str]:
    """(task, item, pinned ref) for a saved catalog item: the task given, else what its provenance says was asked
    (the need, with the refinements asked since)."""
    if not isinstance(ref, str) or not ref:
        raise InvalidInput("solution.ref must be a catalog ref such as entity:web-server@1.2.0")
    found = get(ref)
    item = found["item"]
    prov = item.get("provenance") or {}
    said = task.strip() if isinstance(task, str) else ""
    need = str(prov.get("need") or "").replace(" / ", "; ")
    if not said and need and prov.get("refined_from"):  # an LLM refinement records only the change asked
        said = f"{item['metadata'].get('description', '')}; {need}".strip("; ")
    said = said or need
    if not said:
        raise InvalidInput(f"{found['ref']} records no need in its provenance", hint="give the task in words")
    return said, {k: v for k, v in item.items() if k != "provenance"}, str(found["ref"])


def find(query: str, *, tool: str | None = None, provider: str | None = None, limit: int = 5,
         targets: list[str] | None = None, kinds: tuple[str, ...] = ("Entity",)) -> list[Hit]:
    """The templates of these kinds that best match a query, best first: BM25 over name, tags, description and
    inputs, times the template's weight from its uses (see f.fractal.learning.ledger)."""
    if tool and tool not in TOOLS:
        raise InvalidInput(f"unknown tool {tool!r:.40}", hint=f"use one of {', '.join(TOOLS)}")
    if provider and provider not in PROVIDERS:
        raise InvalidInput(f"unknown provider {provider!r:.40}", hint=f"use one of {', '.join(PROVIDERS)}")
    rows = [r for r in catalog_rows(targets or knowledge_targets())
            if r.get("kind") in kinds and TAGS[r["kind"]] in (r.get("tags") or [])]
    if not rows:
        return []
    uses = ledger.uses()
    hits = index_for(rows).search(query, max(4 * limit, 20), kinds=kinds, provider=provider, tool=tool)
    weighted = [Hit(round(h.score * ledger.weight(uses.get(ledger.template_key(h.row["ref"]))), 4), h.coverage, h.matched,
                    h.row) for h in hits]
    return sorted(weighted, key=lambda h: (-h.score, h.row.get("name", "")))[:limit]


def decisive(need: str, tool: str | None, provider: str | None, targets: list[str] | None = None,
             kind: str = "Entity") -> tuple[Found, Hit] | None:
    """The template of this kind a need clearly asks for, or None (no knowledge catalog, or none the need says).

    A template qualifies when the need says what it is (identity_coverage: its own task words, its values left
    out). Among the best hits, the first that qualifies wins: by weighted score, then name — so two engineers'
    solutions to one task no longer tie, and a closer-scored template the need does not say is passed over.
    """
    try:
        hits = find(need, tool=tool, provider=provider, limit=DECISIVE_CANDIDATES, targets=targets, kinds=(kind,))
        for hit in hits:  # best weighted score first
            found = get(hit.row["ref"], targets or knowledge_targets())
            if identity_coverage(found, need) >= DECISIVE_COVERAGE:
                return found, hit
    except FractalError:
        pass  # no knowledge catalog here: generation goes on without it
    return None


def identity_coverage(found: Found, need: str) -> float:
    """How much of what a template is (its task's words, without the values that became inputs) the need says."""
    text = str(found["item"]["metadata"].get("description") or "")
    for prop in (found["item"]["spec"].get("inputs") or {}).get("properties", {}).values():
        default = prop.get("default")
        if isinstance(default, (str, int)) and not isinstance(default, bool) and str(default):
            text = text.replace(str(default), " ")  # a port is this use's value too
    own, said = set(terms(text)), set(terms(need))

    def w(term: str) -> float:
        return 0.1 if term in _GENERIC else weight(term)

    total = sum(map(w, own))
    return sum(map(w, own & said)) / total if total else 0.0


def specifics(need: str) -> dict[str, list[Any]]:
    """Values a need states, by kind: zones, hosts, addresses, ports, paths."""
    ips = _IP.findall(need)
    zones = [z for z in re.findall(r"\b[a-z]{2}-[a-z]{2,4}-\d\b", need.lower()) if z in _ZONES]
    return {"zone": zones, "host": [h for h in _HOST.findall(need.lower()) if h not in ips], "ip": ips,
            "port": [int(p) for p in _PORT.findall(need)], "path": _PATH.findall(need)}


def _kind(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return "port" if 1 <= value <= 65535 else None
    if not isinstance(value, str):
        return None
    if value in _ZONES:
        return "zone"
    if _IP.fullmatch(value):
        return "ip"
    if _HOST.fullmatch(value.lower()):
        return "host"
    return "path" if value.startswith("/") else None


def fill_inputs(inputs: dict[str, Any], need: str) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """A template's inputs schema with the need's values as defaults where an input's default is of their kind:
    (schema, the values used, the need's specifics left unused)."""
    stated = specifics(need)
    props = {n: dict(p) for n, p in (inputs.get("properties") or {}).items()}
    used: dict[str, Any] = {}
    for name, prop in props.items():
        kind = _kind(prop.get("default"))
        if kind and stated.get(kind):
            prop["default"] = used[name] = stated[kind].pop(0)
    unused = [str(v) for values in stated.values() for v in values]
    return {**inputs, "properties": props}, used, unused


def instantiate(found: Found, need: str) -> tuple[dict[str, Any], dict[str, str], dict[str, Any], list[str]]:
    """A Rune filled from a need: (inputs schema with the need's values as defaults, files, the values used,
    the need's specifics left unused)."""
    spec = found["item"]["spec"]
    inputs, used, unused = fill_inputs(dict(spec.get("inputs") or {}), need)
    files = dict(spec.get("files") or {})
    if spec.get("tool") == "terraform" and used and "variables.tf" in files:
        files["variables.tf"] = _tf_defaults(files["variables.tf"], used)
    return inputs, files, used, unused


def _tf_defaults(text: str, values: dict[str, Any]) -> str:
    """variables.tf with these variables' defaults replaced (where Terraform reads an entity's inputs)."""
    for name, value in values.items():
        literal = f'"{value}"' if isinstance(value, str) else str(value)
        text = re.sub(rf'(variable\s+"{re.escape(name)}"\s*\{{[^}}]*?default\s*=\s*)("[^"]*"|[^\s}}]+)',
                      lambda m, lit=literal: m.group(1) + lit, text)  # type: ignore[misc]
    return text
