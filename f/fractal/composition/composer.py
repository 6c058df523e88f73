"""Compose a pipeline (of entities) or a meta-pipeline (of pipelines and meta-pipelines) from a need.

    result = compose(need, kind="Pipeline", targets=…, llm=config_or_None, entity_refs=…, provider=…)
    result["draft"], result["gaps"], result["checks"], result["explanation"], result["conversation"]

1. **Retrieval** (f.fractal.retrieval) finds candidates among the catalog's items: per part of the
   need (split on "then", "puis", ",", "and", "et" …) and for the whole sentence.
2. **Choice**: offline, a need that clearly asks for a learned Orb (a pipeline template in the
   knowledge catalog, see f.fractal.learning) gets it, its inputs filled from the need, the Orb named
   in the provenance. Otherwise, with an LLM configured, the model chooses, orders and wires among
   the top candidates only (JSON answer), and its draft is checked (composite.analyze): the errors are fed back, at most
   `MAX_ATTEMPTS` times. Without one, the offline composer takes the best candidate of each part
   whose coverage of the part's words reaches `retrieval.MIN_COVERAGE`.
3. **Wiring** (both ways, for what the model left unbound): each input takes the output of an
   earlier step with the same (or a synonym) name and a compatible type — e.g. a Terraform step's
   `ips` feed an Ansible step's `hosts`; a step that consumes another's output is moved after it;
   what stays unbound becomes an input of the composite (shared by name). Every member output is
   exposed as an output of the composite.
4. **Gaps**: the parts no item covers, each with a ready request to fill it — `generate_entity`
   ({need, tool, provider, name}) for a pipeline, `compose_pipeline` ({need, provider, name}) for a
   meta-pipeline.

Refinement by dialogue: pass back `conversation` with a new `need` (the message). With an LLM the
model sees the whole exchange and its previous draft. Offline, the message is read as an edit of
the previous draft: "add …"/"ajoute …", "remove …"/"retire …"/"sans …", "on <provider>"/"sur …";
anything else composes afresh.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

import f.fractal.catalog.search as retrieval
import f.fractal.generation.offline as offline
import f.fractal.model.composite as composite
import f.fractal.platform.llm as llm
from f.fractal.catalog.items import resolver as catalog_resolver
from f.fractal.catalog.items import save as save_item
from f.fractal.catalog.items import search_index
from f.fractal.catalog.resolver import Resolver
from f.fractal.flows.compile import compiled
from f.fractal.learning.knowledge import decisive, fill_inputs
from f.fractal.model.errors import FractalError, InvalidInput
from f.fractal.model.item import NAME_RE, STEP_ID_RE, normalize_item, parse_ref, summary
from f.fractal.model.providers import PROVIDERS
from f.fractal.platform.text import fold, name_slug
from f.fractal.tools.registry import TOOLS

MAX_ATTEMPTS = 3
OFFLINE_MODEL = "fractal-offline-composer"
TOP_PER_PART = 6
TOP_OVERALL = 20
MAX_NEED_CHARS = 4000
MEMBER_KINDS = {"Pipeline": ("Entity",), "MetaPipeline": ("Pipeline", "MetaPipeline")}

_SPLIT = re.compile(
    r"\s*(?:;|\n|\.\s+|,\s*(?:and then|then|puis|ensuite|et puis|and|et)?\s*|\band then\b|\bthen\b|\bet puis\b|\bpuis\b"
    r"|\bensuite\b|\bfollowed by\b|\bsuivie? d[e']\s*|\bafter that\b|\+)\s*",
    re.IGNORECASE,
)
# Soft separators: a part after one is its own item when something covers it, else a detail of the part before.
_SOFT = re.compile(r"\s+(?:and|et|with|avec|plus)\s+", re.IGNORECASE)
_PROVIDER_WORDS = {
    "exoscale": "exoscale", "vast": "vastai", "vastai": "vastai", "runpod": "runpod", "localhost": "local",
    "local": "local", "locally": "local", "locale": "local", "k3s": "k3s",
}
_LOCAL_PHRASES = dict(offline.PROVIDER_WORDS)["local"]
_TOOL_WORDS = {
    "secret": ("key", "token", "password", "credential", "secret", "apikey"),
    "kubernetes": ("namespace", "deployment", "ingress", "manifest", "kubernetes", "helm", "quota", "configmap", "service"),
    "terraform": ("cluster", "instance", "volume", "network", "bucket", "gpu", "firewall", "loadbalancer", "dns", "database",
                  "pod", "node", "storage", "sks", "terraform"),
}
_BUILD_WORDS = {"install", "installer", "bootstrap", "setup"}  # « install K3s »: K3s is what is made, not where
_ON_K3S = re.compile(r"\b(?:on|sur|dans|in|onto|to|vers)\s+(?:(?:the|that|this|a|le|la|ce|cette|un)\s+)?(?:cluster\s+)?k3s\b")
_PRONOUNS = {"it", "them", "dessus", "dedans", "y", "there", "elles", "eux"}
_CLITIC = re.compile(r"\b(?:l'|l’)\w|\b(?:les|le|la)\s+\w+er\b")
_HANDS_OVER = {"kubeco", "host", "addres", "ssh"}  # output stems a « … on it » part runs on: a cluster or hosts
_K3S_CLUSTER = set(retrieval.terms("k3s cluster"))
RELATIVE_FLOOR = 0.25  # below this coverage nothing is taken, however far ahead
CLEAR_LEAD = 1.5  # a best hit this many times the runner-up's score is taken under MIN_COVERAGE
PROVIDER_BONUS = 1.25  # an item made for the part's provider beats an « any provider » one on a near tie
NEAR_TIE = 0.8  # a candidate this close to a part's best (same coverage) reads the part as well
_CLUSTER_KEYS = {"cluste", "kubeco", "kubern", "config"}  # inputs a kubeconfig feeds (stems)
# Names that mean the same thing when wiring an output into an input (canonical term → group).
_WIRE_SYNONYMS = {"addres": "host", "invent": "host", "hostna": "host", "endpoi": "url"}  # stems, see retrieval.terms


@dataclass
class Draft:
    kind: str
    steps: list[dict[str, Any]] = field(default_factory=list)
    members: dict[str, dict[str, Any]] = field(default_factory=dict)  # pinned ref → item
    gaps: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    providers: dict[str, str | None] = field(default_factory=dict)  # step id → the provider its part named


# ------------------------------------------------------------------ reading the need


def split_parts(need: str) -> list[tuple[str, bool]]:
    """(part, soft) pairs: strong separators (then, puis, ;, ,) cut parts; soft ones (and, with, et,
    avec) cut tentative parts; a part without a meaningful word is a detail of the one before."""
    out: list[tuple[str, bool]] = []
    for strong in _SPLIT.split(need):
        for i, part in enumerate(_SOFT.split(strong or "")):
            part = part.strip(" .,;:-")
            if not part:
                continue
            if out and not _content(part):
                out[-1] = (f"{out[-1][0]} {part}", out[-1][1])
            else:
                out.append((part, i > 0))
    return out or [(need.strip(), False)]


def split_need(need: str) -> list[str]:
    """The parts of a need: « un cluster K3s puis installer nginx, et un namespace » → 3 parts."""
    return [part for part, _soft in split_parts(need)]


def _content(text: str) -> list[str]:
    """Meaningful terms: no stop words, no weak verbs, no bare numbers."""
    return [t for t in retrieval.terms(text) if retrieval.weight(t) == 1.0 and not t.isdigit()]


def provider_in(text: str) -> str | None:
    """The provider a need names (exoscale, vastai, runpod, local), if exactly one; k3s only alone."""
    words = set(re.split(r"[^a-z0-9]+", fold(text)))
    named = {p for w, p in _PROVIDER_WORDS.items() if w in words}
    if _this_machine(text):
        named.add("local")
    if "vast" in words and "ai" in words:
        named.add("vastai")
    if len(named) > 1:
        named.discard("k3s")  # "a K3s cluster on Exoscale": the provider is Exoscale
    return named.pop() if len(named) == 1 else None


def guess_tool(text: str, provider: str | None, before: dict[str, Any] | None = None) -> str:
    """The tool a gap most likely needs, for its generate_entity request: its words, else what it runs
    on — « … on it » after a step that outputs a kubeconfig is Kubernetes, after one that outputs hosts
    or IPs it is Ansible; on k3s Kubernetes, locally Ansible, on a cloud Terraform where it has a provider."""
    found = set(retrieval.terms(text))
    if found & {t[: retrieval.STEM_LEN] for t in _TOOL_WORDS["secret"]}:
        return "secret"
    outputs = set(retrieval.terms(" ".join((before or {}).get("outputs") or []).replace("_", " ")))
    if before and _pronoun(text) and outputs & _HANDS_OVER:
        return "kubernetes" if "kubeco" in outputs else "ansible"
    for tool in ("kubernetes", "terraform"):
        if found & {t[: retrieval.STEM_LEN] for t in _TOOL_WORDS[tool]}:
            if tool == "terraform" and provider in ("local", "k3s") and "terraform" not in found:
                continue
            return tool
    if provider == "k3s":
        return "kubernetes"
    cloud = provider not in (None, "local") and "terraform" in PROVIDERS[provider].tools  # Vast.ai has no Terraform
    return "terraform" if cloud else "ansible"


def slug(text: str, limit: int = 40) -> str:
    """A composite's name from its need."""
    return name_slug(text, stop=retrieval.STOP, fallback="composed", limit=limit)


# ------------------------------------------------------------------ candidates


def candidates(index: retrieval.Searcher, need: str, kind: str, provider: str | None) -> list[retrieval.Hit]:
    """The best candidates for the whole need and for each part (on the part's provider), deduplicated, best first."""
    seen: dict[str, retrieval.Hit] = {}
    for part in [Part(need, False, provider), *part_providers(split_parts(need), provider)]:
        for hit in _search(index, part.text, TOP_PER_PART, kind, part.provider):
            if hit.row["ref"] not in seen or seen[hit.row["ref"]].score < hit.score:
                seen[hit.row["ref"]] = hit
    return sorted(seen.values(), key=lambda h: -h.score)[:TOP_OVERALL]


def _gap(kind: str, part: str, provider: str | None, why: str, before: dict[str, Any] | None = None) -> dict[str, Any]:
    name = slug(part)
    gap: dict[str, Any] = {"need": part, "reason": why}
    if kind == "Pipeline":
        tool = guess_tool(part, provider, before)
        gap["generate_entity"] = {"need": part, "tool": tool, "provider": provider, "name": name}
    else:
        gap["compose_pipeline"] = {"need": part, "provider": provider, "name": name}
    return gap


def _step_id(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9_]", "_", name.replace("-", "_"))[:36].strip("_") or "step"
    base = base if base[0].isalpha() else f"s_{base}"[:36]
    candidate, n = base, 1
    while candidate in taken or not STEP_ID_RE.match(candidate):
        n += 1
        candidate = f"{base}_{n}"
    taken.add(candidate)
    return candidate


@dataclass
class Part:
    """A part of the need: its text, whether a soft separator cut it, and the provider it runs on."""

    text: str
    soft: bool = False
    provider: str | None = None


def _this_machine(text: str) -> bool:
    """« on this machine », « sur cette machine », « my laptop »…: the local provider, as the offline generator
    reads it (without this, « machine » is only the synonym of a cloud instance and the part goes to Terraform)."""
    folded = fold(text)
    return any(offline.has(phrase, folded) for phrase in _LOCAL_PHRASES)


def _named(text: str) -> set[str]:
    words = set(re.split(r"[^a-z0-9]+", fold(text)))
    named = {p for w, p in _PROVIDER_WORDS.items() if w in words and p != "k3s"}
    if _this_machine(text):
        named.add("local")
    if "vast" in words and "ai" in words:
        named.add("vastai")
    if _ON_K3S.search(fold(text)) or (not named and words & {"k3s"} and not words & _BUILD_WORDS):
        named.add("k3s")
    return named


def part_providers(parts: list[tuple[str, bool]], fixed: str | None) -> list[Part]:
    """Each part's provider: the one it names, else the one of the part before (« …, then nginx on it »).
    A K3s cluster made on a cloud (« a K3s cluster on Exoscale ») runs there, and what follows runs on k3s."""
    out: list[Part] = []
    carry: str | None = None
    for text, soft in parts:
        if fixed:
            out.append(Part(text, soft, fixed))
            continue
        named = _named(text)
        own = named.pop() if len(named) == 1 else None
        out.append(Part(text, soft, own or carry))
        carry = "k3s" if own and own != "k3s" and set(retrieval.terms(text)) >= _K3S_CLUSTER else (own or carry)
    return out


def _pronoun(text: str) -> bool:
    folded = fold(text)
    return bool(set(re.split(r"[^a-z0-9']+", folded)) & _PRONOUNS or _CLITIC.search(folded))


def _accepted(hits: list[retrieval.Hit]) -> list[retrieval.Hit]:
    """The hits that cover a part: coverage over MIN_COVERAGE, or the best one when it is clearly ahead."""
    ok = [h for h in hits if h.coverage >= retrieval.MIN_COVERAGE]
    if hits and hits[0] not in ok and hits[0].coverage >= RELATIVE_FLOOR:
        runner_up = hits[1].score if len(hits) > 1 else 0.0
        if hits[0].score >= CLEAR_LEAD * runner_up:
            ok.insert(0, hits[0])
    return ok


def _search(index: retrieval.Searcher, text: str, k: int, kind: str, provider: str | None) -> list[retrieval.Hit]:
    """Hits for a part; among those that fit its provider, items made for it (not « any ») come first on a tie."""
    hits = index.search(text, k, kinds=MEMBER_KINDS[kind], provider=provider)
    if not provider:
        return hits

    def made_for(hit: retrieval.Hit) -> bool:
        row = hit.row
        return provider in (row.get("providers") or []) or row.get("provider") == provider

    return sorted(hits, key=lambda h: -h.score * (PROVIDER_BONUS if made_for(h) else 1.0))


def _feeds(producer: dict[str, Any], consumer: dict[str, Any]) -> int:
    """How well a producer's outputs feed a consumer's inputs, by name as the wiring matches them (best pair)."""
    return max((_match(out, {}, name, {}) for out in producer.get("outputs") or [] for name in consumer.get("inputs") or []),
               default=0)


def _handing_over(pick: retrieval.Hit, near: list[retrieval.Hit], after: retrieval.Hit, used: set[str]) -> retrieval.Hit:
    """Between readings of a part as good as each other (same coverage, score within NEAR_TIE), the one whose
    outputs feed the next step's inputs best: « instances, then a load balancer in front of them » are the
    instances whose `ips` the balancer takes, not a server pool's `server_ips`."""
    best = pick
    for hit in near:
        if (hit.row["ref"] not in used and hit.coverage >= pick.coverage and hit.score >= NEAR_TIE * pick.score
                and _feeds(hit.row, after.row) > _feeds(best.row, after.row)):
            best = hit
    if best is not pick:
        used.discard(pick.row["ref"])
        used.add(best.row["ref"])
    return best


def offline_choice(index: retrieval.Searcher, need: str, kind: str, provider: str | None) -> Draft:
    """Without an LLM: each part of the need gets the item that covers it best, each item one part
    (best coverage first, so « write the config, then checksum it » takes two different items);
    a part nothing covers is a gap. A soft part (« and … », « with … ») or a pronoun part (« expose
    it », « l'exposer ») that nothing covers is a detail of the part before."""
    draft = Draft(kind)
    parts: list[Part] = []
    for part in part_providers(split_parts(need), provider):
        found = _accepted(_search(index, part.text, 3, kind, part.provider))
        folded = part.soft or (_pronoun(part.text) and len(_content(part.text)) <= 1)
        if folded and parts and not found:
            parts[-1].text = f"{parts[-1].text} {part.text}"
        else:
            parts.append(part)
    hits = {i: _search(index, part.text, 5, kind, part.provider) for i, part in enumerate(parts)}
    pairs = sorted(((h.coverage, h.score, i, h) for i, hs in hits.items() for h in _accepted(hs)),
                   key=lambda p: (-p[0], -p[1], p[2]))
    chosen: dict[int, retrieval.Hit] = {}
    used: set[str] = set()
    for _cov, _score, i, hit in pairs:
        if i not in chosen and hit.row["ref"] not in used:
            chosen[i] = hit
            used.add(hit.row["ref"])
    for i in sorted(chosen):
        if i + 1 in chosen:
            chosen[i] = _handing_over(chosen[i], _accepted(hits[i]), chosen[i + 1], used)
    taken: set[str] = set()
    before: dict[str, Any] = {}  # the row of the step before, for a gap's tool
    for i, part in enumerate(parts):
        pick = chosen.get(i)
        if pick is None:
            covered = next(iter(_accepted(hits[i])), None)
            if covered is not None:  # its best item already serves another part
                draft.notes.append(f"{part.text!r} → {covered.row['ref']} (already a step)")
                continue
            best = hits[i][0] if hits[i] else None
            near = f" (nearest: {best.row['ref']}, coverage {best.coverage})" if best else ""
            what = "entity" if kind == "Pipeline" else "pipeline"
            draft.gaps.append(_gap(kind, part.text, part.provider, f"no catalog {what} covers this{near}", before))
            continue
        before = pick.row
        step = {"id": _step_id(pick.row["name"], taken), "ref": pick.row["ref"], "summary": part.text[:200]}
        draft.steps.append(step)
        draft.providers[step["id"]] = part.provider
        draft.notes.append(f"{part.text!r} → {pick.row['ref']} (coverage {pick.coverage:.2f}: {', '.join(pick.matched)})")
    return draft


# ------------------------------------------------------------------ wiring


def _keys(name: str) -> set[str]:
    return {_WIRE_SYNONYMS.get(t, t) for t in retrieval.terms(name.replace("_", " "))}


def _match(output: str, out_schema: dict[str, Any], input_name: str, in_schema: dict[str, Any]) -> int:
    """How well an output fits an input: 3 same name, 2 synonym names or a hand-off rule, 1 sharing a
    word, 0 not. Hand-offs: a kubeconfig feeds a kubeconfig or cluster input; hosts, IPs and ssh
    endpoints feed host (inventory) inputs; an id feeds an id of the same thing (network_id →
    private_network_id)."""
    if not composite.compatible(composite.types_of(out_schema), composite.types_of(in_schema)):
        return 0
    if output == input_name:
        return 3
    a, b = _keys(output), _keys(input_name)
    if a and a == b:
        return 2
    if "kubeco" in a:
        return 2 if b <= _CLUSTER_KEYS else 0
    if "host" in b and a & {"host", "ssh"}:
        return 2
    if "id" in a and "id" in b and a - {"id"} and a - {"id"} <= b:
        return 2
    return 1 if b and b <= a and b - {"name", "id", "path", "file", "folder"} else 0  # kubeconfig ← cluster_kubeconfig


def _producer(steps: list[dict[str, Any]], members: dict[str, dict[str, Any]], name: str, schema: dict[str, Any]) -> str | None:
    """`steps.<id>.outputs.<o>` of the best-matching output among these steps (nearest wins ties)."""
    best: tuple[int, int, str] | None = None
    for pos, step in enumerate(steps):
        for out, out_schema in (members[step["ref"]]["spec"].get("outputs") or {}).items():
            score = _match(out, out_schema or {}, name, schema)
            if score and (best is None or (score, pos) >= best[:2]):
                best = (score, pos, f"steps.{step['id']}.outputs.{out}")
    return best[2] if best else None


def _reorder(steps: list[dict[str, Any]], members: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Stable topological order: a step that consumes another's output (by name) runs after it."""
    deps: dict[int, set[int]] = {}
    for i, step in enumerate(steps):
        props, _required = composite.member_inputs(members[step["ref"]])
        unbound = [(n, s or {}) for n, s in props.items() if n not in (step.get("inputs") or {})]
        deps[i] = {j for j, other in enumerate(steps) if j != i and any(_producer([other], members, n, s) for n, s in unbound)}
    placed: list[int] = []
    while len(placed) < len(steps):
        ready = [i for i in range(len(steps)) if i not in placed and deps[i] <= set(placed)]
        placed.append(ready[0] if ready else next(i for i in range(len(steps)) if i not in placed))
    return [steps[i] for i in placed]


def wire(steps: list[dict[str, Any]], members: dict[str, dict[str, Any]], spec: dict[str, Any]) -> list[str]:
    """Bind every unbound input: an earlier step's output, else a composite input. Returns notes."""
    notes: list[str] = []
    props_out: dict[str, Any] = dict((spec.get("inputs") or {}).get("properties") or {})
    required_out: list[str] = list((spec.get("inputs") or {}).get("required") or [])
    for i, step in enumerate(steps):
        props, required = composite.member_inputs(members[step["ref"]])
        bound = step.setdefault("inputs", {})
        for name, schema in props.items():
            if name in bound:
                continue
            source = _producer(steps[:i], members, name, schema or {})
            if source:
                bound[name] = {"from": source}
                notes.append(f"{step['id']}.{name} ← {source}")
                continue
            own = name
            clash = not composite.compatible(composite.types_of(props_out.get(own)), composite.types_of(schema or {}))
            if own in props_out and clash:
                own = f"{step['id']}_{name}"
            props_out.setdefault(own, dict(schema or {}))
            bound[name] = {"from": f"inputs.{own}"}
            if name in required and own not in required_out:
                required_out.append(own)
        if not bound:
            step.pop("inputs")
    if props_out:
        spec["inputs"] = {"type": "object", "properties": props_out, "required": required_out}
    outputs: dict[str, Any] = dict(spec.get("outputs") or {})
    for step in steps:
        for name, out in (members[step["ref"]]["spec"].get("outputs") or {}).items():
            entry = {"from": f"steps.{step['id']}.outputs.{name}"}
            entry.update({k: v for k, v in (out or {}).items() if k in ("description", "type")})
            outputs[name] = entry
    if outputs:
        spec["outputs"] = outputs
    return notes


# ------------------------------------------------------------------ the LLM


SYSTEM_PROMPT = """You compose infrastructure {what} for Fractal from a catalog.
Choose ONLY among the candidate items listed (use their refs exactly, with the version), order them,
and wire inputs: a value is a literal, {{"from": "inputs.<name>"}} (an input of the {kind}) or
{{"from": "steps.<id>.outputs.<name>"}} (an output of an EARLIER step). Bind every required input.
Step ids: lowercase letters, digits, underscores. Steps run in list order unless "needs" says otherwise.
A step may fix its own "provider" (a cluster on exoscale, then workloads on k3s); leave the {kind}'s
provider null when its steps need different ones: each unfixed step is then chosen at launch.
Name the parts of the need that no candidate covers in "gaps" (tool: terraform|ansible|kubernetes|secret).
Answer with one JSON object only:
{{"name": "kebab-case", "description": "...", "provider": null or one of {providers},
  "steps": [{{"id": "...", "ref": "kind:name@x.y.z", "summary": "...", "inputs": {{...}}}}],
  "gaps": [{{"need": "...", "tool": "...", "provider": null}}], "explanation": "why these, in this order"}}"""


def _card(hit: retrieval.Hit, members: dict[str, dict[str, Any]]) -> dict[str, Any]:
    item = members.get(hit.row["ref"])
    spec = item["spec"] if item else {}
    props, required = composite.member_inputs(item) if item else ({}, set())
    return {
        "ref": hit.row["ref"], "description": hit.row.get("description", ""),
        "tool": hit.row.get("tool") or None, "providers": hit.row.get("providers") or hit.row.get("provider") or "any",
        "inputs": {n: {"type": (s or {}).get("type", "any"), "required": n in required} for n, s in props.items()},
        "outputs": {n: (o or {}).get("type", "any") for n, o in (spec.get("outputs") or {}).items()},
    }


def parse_answer(text: str) -> dict[str, Any]:
    """The JSON object in a model's answer (fenced or bare, prose around it allowed)."""
    chunks = re.findall(r"```(?:json)?\s*(\{.*?\})\s*```", text, re.DOTALL)
    if not chunks and "{" in text:
        chunks = [text[text.find("{") : text.rfind("}") + 1]]
    for chunk in chunks:
        try:
            value = json.loads(chunk)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    raise InvalidInput("the answer holds no JSON object", hint='answer with one JSON object: {"steps": [...], ...}')


def _answer_errors(answer: dict[str, Any]) -> list[str]:
    """Problems with the shape of the answer's top-level fields (steps are checked one by one)."""
    errors = []
    for key in ("name", "description", "provider", "explanation"):
        if answer.get(key) is not None and not isinstance(answer[key], str):
            errors.append(f"{key!r} must be a string or null, got {type(answer[key]).__name__}")
    if answer.get("gaps") is not None and not isinstance(answer["gaps"], list):
        errors.append(f"'gaps' must be a list, got {type(answer['gaps']).__name__}")
    return errors


def _step_errors(i: int, raw: Any) -> list[str]:
    """Problems with the shape of one answered step."""
    if not isinstance(raw, dict) or not isinstance(raw.get("ref"), str) or not isinstance(raw.get("id"), str):
        return [f"step {i} must be an object with a string id and ref"]
    errors = []
    if "inputs" in raw and not isinstance(raw["inputs"], dict):
        errors.append(f"step {raw['id']}: 'inputs' must be an object {{input: value}}, got {type(raw['inputs']).__name__}")
    if "needs" in raw and not (isinstance(raw["needs"], list) and all(isinstance(n, str) for n in raw["needs"])):
        errors.append(f"step {raw['id']}: 'needs' must be a list of step ids")
    if "summary" in raw and not isinstance(raw["summary"], str):
        errors.append(f"step {raw['id']}: 'summary' must be a string")
    return errors


def _gap_errors(i: int, gap: Any) -> list[str]:
    if not isinstance(gap, dict) or not isinstance(gap.get("need"), str):
        return [f"gap {i} must be an object with a string need"]
    bad = [k for k in ("tool", "provider") if gap.get(k) is not None and not isinstance(gap[k], str)]
    return [f"gap {i}: {', '.join(repr(k) for k in bad)} must be a string or null"] if bad else []


def _draft_from_answer(answer: dict[str, Any], kind: str, allowed: dict[str, dict[str, Any]]) -> tuple[Draft, list[str]]:
    """The model's steps and gaps, with the problems that can be named before the checks (shapes included)."""
    draft, errors = Draft(kind), _answer_errors(answer)
    steps = answer.get("steps")
    if not isinstance(steps, list) or not steps:
        errors.append("'steps' must be a non-empty list")
        steps = []
    for i, raw in enumerate(steps):
        problems = _step_errors(i, raw)
        if problems:
            errors += problems
            continue
        if raw["ref"] not in allowed:
            errors.append(f"step {raw['id']}: {raw['ref']} is not one of the candidates; use a listed ref exactly")
            continue
        step: dict[str, Any] = {"id": raw["id"], "ref": raw["ref"]}
        for key in ("summary", "needs", "inputs", "provider"):
            if key in raw and raw[key] is not None:
                step[key] = raw[key]
        draft.steps.append(step)
    gaps = answer["gaps"] if isinstance(answer.get("gaps"), list) else []
    for i, gap in enumerate(gaps):
        gap = {"need": gap} if isinstance(gap, str) else gap  # the offline composer's conversation lists needs
        problems = _gap_errors(i, gap)
        errors += problems
        if not problems:
            draft.gaps.append(gap)
    return draft, errors


# ------------------------------------------------------------------ assembling and checking


def _item(kind: str, name: str, description: str, provider: str | None, steps: list[dict[str, Any]]) -> dict[str, Any]:
    spec: dict[str, Any] = {"provider": provider, "steps": steps}
    return {"apiVersion": "fractal/v1", "kind": kind, "metadata": {"name": name, "description": description[:4000]}, "spec": spec}


def assemble(
    draft: Draft, name: str, description: str, provider: str | None, resolver: Resolver,
    inputs: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """Order, wire and check a draft: (item, errors). The item carries its flow when it checks out.
    `inputs`: the composite's own inputs (an Orb's), which its steps may already read."""
    if not draft.steps:
        return _item(draft.kind, name, description, provider, []), ["no catalog item covers any part of the need"]
    for step in draft.steps:
        found = resolver.get(step["ref"])
        step["ref"] = found["ref"]
        draft.members[found["ref"]] = found["item"]
    steps = _reorder(draft.steps, draft.members)
    item = _item(draft.kind, name, description, provider, steps)
    if inputs:
        item["spec"]["inputs"] = inputs
    draft.notes += wire(steps, draft.members, item["spec"])

    try:
        normalized = normalize_item(item)
    except FractalError as e:
        return item, [e.message]
    normalized["metadata"] = {k: v for k, v in normalized["metadata"].items() if v not in ("", [])}  # a draft has no version
    analysis = composite.analyze(normalized, resolver)
    if analysis.errors:
        return normalized, analysis.errors
    return compiled(analysis), []


@dataclass
class Request:
    need: str
    kind: str = "Pipeline"
    targets: list[str] | str | None = None
    refs: list[str] = field(default_factory=list)
    provider: str | None = None
    name: str = ""
    conversation: list[dict[str, str]] = field(default_factory=list)


def _check_request(req: Request) -> None:
    if not isinstance(req.need, str) or not req.need.strip():
        raise InvalidInput("need must be a non-empty sentence", hint='e.g. "a 3-node K3s cluster on Exoscale, then nginx on it"')
    if len(req.need) > MAX_NEED_CHARS:
        raise InvalidInput(f"need is {len(req.need)} characters, over {MAX_NEED_CHARS}")
    if req.kind not in MEMBER_KINDS:
        raise InvalidInput(f"kind must be Pipeline or MetaPipeline, got {req.kind!r:.40}")
    if req.provider and req.provider not in PROVIDERS:
        raise InvalidInput(f"unknown provider {req.provider!r:.40}", hint=f"use one of {', '.join(PROVIDERS)}")
    if req.name and not NAME_RE.match(req.name):
        raise InvalidInput(f"bad name {req.name!r:.60}", hint="kebab-case: lowercase letters, digits and dashes")
    if not isinstance(req.conversation, list) or not all(
        isinstance(m, dict) and m.get("role") in ("user", "assistant", "system") and isinstance(m.get("content"), str)
        for m in req.conversation
    ):
        raise InvalidInput("conversation must be a list of {role: user|assistant|system, content: str}")
    for ref in req.refs:
        if parse_ref(ref).kind not in MEMBER_KINDS[req.kind]:
            raise InvalidInput(f"{ref} cannot be a member of a {req.kind}",
                               hint=f"members are {', '.join(MEMBER_KINDS[req.kind])}")


def _previous_draft(conversation: list[dict[str, str]]) -> dict[str, Any] | None:
    for message in reversed(conversation):
        if message["role"] == "assistant":
            try:
                answer = parse_answer(message["content"])
            except InvalidInput:
                return None
            return answer if isinstance(answer.get("steps"), list) else None
    return None


def _previous_steps(previous: dict[str, Any]) -> list[dict[str, Any]]:
    """The previous draft's steps ({id, ref, summary}; wiring and order are redone); InvalidInput for a malformed one."""
    steps = []
    for i, raw in enumerate(previous["steps"]):
        if not (isinstance(raw, dict) and isinstance(raw.get("id"), str) and isinstance(raw.get("ref"), str)):
            raise InvalidInput(
                f"the previous draft in conversation has a malformed step {i} (an object with a string id and ref is expected)",
                hint="pass back the conversation a compose result returned, unchanged, or start a new conversation",
            )
        steps.append({k: raw[k] for k in ("id", "ref", "summary") if isinstance(raw.get(k), str)})
    return steps


_ADD = re.compile(r"^\s*(?:add|also|plus|ajoute[rz]?|ajout(?:e|er)? aussi)\b\s*(.*)$", re.IGNORECASE | re.DOTALL)
_REMOVE = re.compile(r"^\s*(?:remove|drop|without|delete|retire[rz]?|supprime[rz]?|enl[eè]ve[rz]?|sans)\b\s*(.*)$",
                     re.IGNORECASE | re.DOTALL)


def _offline_refine(req: Request, previous: dict[str, Any], index: retrieval.Searcher, provider: str | None) -> Draft | None:
    """Read the message as an edit of the previous draft, or None to compose afresh."""
    steps = _previous_steps(previous)
    added, removed = _ADD.match(req.need), _REMOVE.match(req.need)
    draft = Draft(req.kind, steps=steps)
    if added:
        extra = offline_choice(index, added.group(1), req.kind, provider)
        taken = {s["id"] for s in steps}
        for step in extra.steps:
            if all(s["ref"] != step["ref"] for s in steps):
                step["id"] = _step_id(step["id"], taken)
                steps.append(step)
        draft.gaps, draft.notes = extra.gaps, [f"added: {n}" for n in extra.notes]
        return draft
    if removed:
        words = set(_content(removed.group(1)))
        keep = [s for s in steps if not (words & set(retrieval.terms(f"{s['id']} {s['ref']} {s.get('summary', '')}")))]
        draft.steps = keep
        draft.notes = [f"removed: {s['ref']}" for s in steps if s not in keep]
        return draft
    if provider_in(req.need) and len(_content(req.need)) <= 2:
        draft.notes = [f"provider set to {provider}"]
        return draft
    return None


def _text(previous: dict[str, Any] | None, key: str) -> str:
    """A string field of the previous draft ('' when absent or not a string)."""
    value = (previous or {}).get(key)
    return value if isinstance(value, str) else ""


def compose(req: Request, llm_config: Any = None) -> dict[str, Any]:
    """Compose a draft for the request; `llm_config` is an f.fractal.llm.LLMConfig or None (offline)."""
    _check_request(req)
    t0 = time.perf_counter()
    resolver = catalog_resolver(req.targets)
    previous = _previous_draft(req.conversation)
    earlier = _text(previous, "provider")
    provider = req.provider or provider_in(req.need) or (earlier if earlier in PROVIDERS else None)
    index, size = search_index(req.targets)
    hits = candidates(index, req.need, req.kind, req.provider or (earlier if previous and earlier in PROVIDERS else None))
    name = req.name or (_text(previous, "name") if NAME_RE.match(_text(previous, "name")) else "") or slug(req.need)
    description = req.need if previous is None else f"{_text(previous, 'description')} — {req.need}".strip(" —")
    if llm_config is not None:
        kept = [s["ref"] for s in (previous or {}).get("steps", []) if isinstance(s, dict) and isinstance(s.get("ref"), str)]
        result = _compose_llm(req, llm_config, hits, resolver, provider, name, description, kept)
    else:
        learned = _compose_from_orb(req, resolver, provider, name, description) if previous is None and not req.refs else None
        result = learned or _compose_offline(req, index, hits, resolver, provider, name, description, previous)
    result["candidates"] = [{"ref": h.row["ref"], "score": h.score, "coverage": h.coverage} for h in hits]
    result["timings"] = {"catalog_rows": size, "seconds": round(time.perf_counter() - t0, 3)}
    return result


def _kind_name(ref: str) -> tuple[str, str]:
    parsed = parse_ref(ref)
    return parsed.kind, parsed.name


def _start_steps(req: Request, taken: set[str]) -> list[dict[str, Any]]:
    return [{"id": _step_id(parse_ref(r).name, taken), "ref": r} for r in req.refs]


def _compose_offline(
    req: Request, index: retrieval.Searcher, hits: list[retrieval.Hit], resolver: Resolver,
    provider: str | None, name: str, description: str, previous: dict[str, Any] | None,
) -> dict[str, Any]:
    started = time.perf_counter()
    draft = _offline_refine(req, previous, index, provider) if previous else None
    if draft is None:
        draft = offline_choice(index, req.need, req.kind, req.provider)
        given = {_kind_name(r) for r in req.refs}
        taken = {s["id"] for s in draft.steps if _kind_name(s["ref"]) not in given}
        draft.steps = _start_steps(req, taken) + [s for s in draft.steps if _kind_name(s["ref"]) not in given]
        named = {p for sid, p in draft.providers.items() if any(s["id"] == sid for s in draft.steps)}
        provider = req.provider or (named.pop() if len(named) == 1 else None)
    item, errors = assemble(draft, name, description, provider, resolver)
    explanation = "Offline composer (no LLM configured): " + ("; ".join(draft.notes) or "nothing matched")
    answer = {"name": name, "description": description, "provider": provider,
              "steps": item["spec"]["steps"], "gaps": [g["need"] for g in draft.gaps]}
    conversation = [*req.conversation, {"role": "user", "content": req.need},
                    {"role": "assistant", "content": json.dumps(answer, ensure_ascii=False)}]
    digest = hashlib.sha256(req.need.encode()).hexdigest()
    return _result(item, draft, errors, explanation, conversation,
                   llm.provenance("offline", OFFLINE_MODEL, req.need, digest, 1, started, kind=req.kind))


def _compose_from_orb(req: Request, resolver: Resolver, provider: str | None, name: str, description: str
                      ) -> dict[str, Any] | None:
    """Offline, a need that clearly asks for a learned Orb gets it: its steps and wiring, its inputs' defaults from
    the need's values of the same kind. None when no Orb is decisive or its members do not resolve here."""
    learned = decisive(req.need, None, req.provider, kind=req.kind)
    if learned is None:
        return None
    found, hit = learned
    spec = found["item"]["spec"]
    inputs, used, unused = fill_inputs(dict(spec.get("inputs") or {}), req.need)
    draft = Draft(req.kind, steps=[{k: v for k, v in s.items() if k in ("id", "ref", "summary", "inputs", "needs", "provider")}
                                   for s in spec.get("steps") or []])
    try:
        item, errors = assemble(draft, name, description, provider or spec.get("provider"), resolver, inputs=inputs)
    except FractalError:
        return None  # a member is not in this catalog
    if errors:
        return None
    explanation = (f"Offline composer (no LLM configured): the need matches the learned Orb {found['ref']} "
                   f"({', '.join(hit.matched)}), filled with {json.dumps(used, ensure_ascii=False)}"
                   + (f"; not carried: {', '.join(unused)}" if unused else ""))
    answer = {"name": name, "description": description, "provider": item["spec"].get("provider"),
              "steps": item["spec"]["steps"], "gaps": []}
    conversation = [*req.conversation, {"role": "user", "content": req.need},
                    {"role": "assistant", "content": json.dumps(answer, ensure_ascii=False)}]
    return _result(item, draft, [], explanation, conversation,
                   {"composer": "offline", "attempts": 1, "need": req.need, "orb": found["ref"], "params": used,
                    "unused_specifics": unused})


def _compose_llm(
    req: Request, config: Any, hits: list[retrieval.Hit], resolver: Resolver,
    provider: str | None, name: str, description: str, kept: list[str],
) -> dict[str, Any]:
    """The model chooses among the top candidates (plus the refs given and those of the draft being refined)."""
    allowed: dict[str, dict[str, Any]] = {}
    for ref in [*req.refs, *kept, *(h.row["ref"] for h in hits)]:
        found = resolver.get(ref)
        allowed[found["ref"]] = found["item"]
    listed = {h.row["ref"] for h in hits}
    extra = [retrieval.Hit(0.0, 0.0, [], summary(item)) for ref, item in allowed.items() if ref not in listed]
    cards = [_card(h, allowed) for h in [*extra, *hits]]
    what = "pipelines of entities" if req.kind == "Pipeline" else "meta-pipelines of pipelines"
    system = SYSTEM_PROMPT.format(what=what, kind=req.kind, providers=json.dumps(list(PROVIDERS)))
    facts = [f"Need: {req.need}", f"Provider: {provider or 'chosen at launch (null)'}", f"Suggested name: {name}"]
    if req.refs:
        facts.append(f"Start from these items: {', '.join(req.refs)}")
    facts.append("Candidates:\n" + "\n".join(json.dumps(c, ensure_ascii=False) for c in cards))
    history = [m for m in req.conversation if m["role"] != "system"]
    messages = [{"role": "system", "content": system}, *history, {"role": "user", "content": "\n".join(facts)}]
    started = time.perf_counter()

    def check(text: str, leaked: list[Any]) -> llm.Checked:
        try:
            answer = parse_answer(text)
            draft, errors = _draft_from_answer(answer, req.kind, allowed)
            errors = [f"answer line {e['line']}: {e['message']}" for e in leaked] + errors
            item: dict[str, Any] = {}
            if not errors:
                # an explicit null leaves each unfixed step to the launch (the need's provider may fit only some)
                chosen_provider = (answer["provider"] if answer.get("provider") in PROVIDERS
                                   else req.provider if "provider" in answer else provider)
                named = answer.get("name") or ""
                item_name = named if not req.name and NAME_RE.match(named) else name
                item, errors = assemble(draft, item_name, answer.get("description") or description, chosen_provider, resolver)
        except FractalError as e:
            errors, answer, item, draft = [e.message], {}, {}, Draft(req.kind)
        return llm.Checked((answer, draft, item), errors)

    def feedback(checked: llm.Checked, _attempt: int, _attempts: int, _warnings: bool) -> str:
        return "Your answer has these problems; answer again with the whole JSON:\n- " + "\n- ".join(checked.errors)

    out = llm.repair(messages, config, check, feedback, attempts=MAX_ATTEMPTS)
    if not out.checked.ok:
        raise InvalidInput(
            f"the model gave no valid {req.kind} in {MAX_ATTEMPTS} attempts: " + "; ".join(out.checked.errors)[:600],
            hint="rephrase the need, pass entity_refs to start from, or compose offline", data={"attempts": out.attempts},
        )
    answer, draft, item = out.checked.made
    draft.gaps = [_gap(req.kind, str(g["need"]), g.get("provider") or provider, "the model found no candidate for it")
                  | _tool_of(g, req.kind) for g in draft.gaps]
    conversation = [*req.conversation, {"role": "user", "content": req.need}, {"role": "assistant", "content": out.answer}]
    return _result(item, draft, [], str(answer.get("explanation") or ""), conversation,
                   llm.provenance("llm", config.model, req.need, out.digest, len(out.attempts), started, kind=req.kind,
                                  api_base=config.api_base, source=config.source))


def _tool_of(gap: dict[str, Any], kind: str) -> dict[str, Any]:
    if kind != "Pipeline" or gap.get("tool") not in TOOLS:
        return {}
    return {"generate_entity": {**_gap(kind, str(gap["need"]), gap.get("provider"), "")["generate_entity"], "tool": gap["tool"]}}


def _result(
    item: dict[str, Any], draft: Draft, errors: list[str], explanation: str,
    conversation: list[dict[str, str]], provenance: dict[str, Any],
) -> dict[str, Any]:
    if item:
        item["provenance"] = provenance
    return {
        "draft": item,
        "explanation": explanation,
        "gaps": draft.gaps,
        "checks": {"ok": not errors and bool(item.get("spec", {}).get("steps")), "errors": errors},
        "conversation": conversation,
    }


def run(
    kind: str, need: str, refs: list[str] | None, provider: str | None, name: str, conversation: list[dict[str, str]] | None,
    llm_resource: str, targets: list[str] | None, save: bool,
) -> dict[str, Any]:
    """What the compose_pipeline / compose_meta_pipeline scripts do: compose, then save when asked and clean."""
    config = None
    if llm_resource != "offline":
        config = llm.load_config(llm_resource or None)
    req = Request(need=need, kind=kind, targets=targets, refs=list(refs or []), provider=provider or None,
                  name=name or "", conversation=list(conversation or []))
    result = compose(req, config)
    if save:
        if result["gaps"] or not result["checks"]["ok"]:
            raise InvalidInput(
                f"the draft is not saved: {len(result['gaps'])} gap(s), {len(result['checks']['errors'])} error(s)",
                hint="fill the gaps (each has a ready request) or refine the draft, then save it",
                data={"gaps": result["gaps"], "errors": result["checks"]["errors"]},
            )

        result["saved"] = save_item(result["draft"], targets)
    return result
