"""Checks on pipelines and meta-pipelines, run before anything is written (DESIGN §1).

`analyze(item, resolver)` collects every problem of a composite; `flows.compile.prepare` (what
`catalog.save` calls for every composite) raises them as one `InvalidInput` or attaches the flow. It
1. resolves every step's ref in the targets and pins `@latest` to the exact version;
2. refuses a cycle at any depth: a composite that contains itself (by name, through any chain of
   members) or steps whose `needs`/wiring loop; `needs` or a wire naming a step that is not there;
3. refuses an unbound required input (wiring it from an optional composite input without a default
   does not bind it), an input the member does not declare, a wire from a step that does not run
   before, an output the member does not declare, a wire whose types do not match;
4. checks providers per member: a step may fix its provider (`steps[].provider`), the composite may
   fix one for the steps that fix none (`spec.provider`); each fixed step must fit its binding; the
   others are launch slots (`slots_of`): one `provider` input while some provider fits them all,
   else one per group of steps that agree (`provider_<step>`); a slot nothing fits is refused;
then attaches `spec.providers` (every provider the composite runs on, fixed or chosen, at any depth),
`spec.slots` and the compiled Windmill flow as `spec.files['flow.yaml']`. Every problem is listed in
one `InvalidInput`.

Step order: a step runs after the steps in its `needs`; a step without `needs` runs after the step
before it in the list (`needs: []` makes it a root). A wire `{from: steps.<id>.outputs.<name>}`
also makes `<id>` upstream (`step_deps`, shared with the flow compiler).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import f.fractal.model.providers as provider_data
from f.fractal.model.errors import FractalError, InvalidInput, NotFound
from f.fractal.model.item import KIND_SLUGS
from f.fractal.model.records import Found

MAX_DEPTH = 20
_JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object", type(None): "null"}


class Resolver(Protocol):
    """What the checks need from a catalog: the item behind a ref (catalog.resolver.Resolver reads it)."""

    targets: list[str] | str | None

    def get(self, ref: str) -> Found:
        """{ref (pinned), item, target, commit} for a ref; raises NotFound."""
        ...


@dataclass
class Analysis:
    item: dict[str, Any]
    members: dict[str, dict[str, Any]] = field(default_factory=dict)  # pinned ref → item
    fits: list[str] = field(default_factory=list)  # every provider the composite runs on (spec.providers)
    slots: list[Slot] = field(default_factory=list)  # the providers chosen at launch
    member_slots: dict[str, list[Slot]] = field(default_factory=dict)  # pinned ref → a member composite's slots
    order: list[str] = field(default_factory=list)  # step ids, upstream first
    upstream: dict[str, set[str]] = field(default_factory=dict)  # step id → every step before it
    errors: list[str] = field(default_factory=list)


# ------------------------------------------------------------------ public API


def analyze(item: dict[str, Any], resolver: Resolver) -> Analysis:
    """Every check, collecting all problems instead of stopping at the first."""
    spec = dict(item["spec"])
    spec["steps"] = [dict(s) for s in spec.get("steps", [])]
    analysis = Analysis(item={**item, "spec": spec})
    _resolve(analysis, resolver)
    if analysis.errors:
        return analysis
    _check_cycles(analysis, resolver)
    _order(analysis)
    if analysis.errors:
        return analysis
    for step in spec["steps"]:
        _check_step(analysis, step)
    _check_outputs(analysis)
    _check_providers(analysis, resolver)
    return analysis


@dataclass
class Slot:
    """A provider chosen at launch: the flow input `name`, the (step id, member slot) pairs it drives
    (member slot "" = the step's own provider), and the providers that fit all of them."""

    name: str
    choices: list[str]
    steps: list[tuple[str, str]] = field(default_factory=list)


def binding(item: dict[str, Any], step: dict[str, Any]) -> str | None:
    """The provider a step is fixed to: its own, else the composite's; None = chosen at launch."""
    return step.get("provider") or item["spec"].get("provider") or None


def slots_of(item: dict[str, Any], resolver: Resolver, _seen: tuple[str, ...] = ()) -> list[Slot]:
    """The launch-time provider choices of a composite, at any depth. Steps fixed to a provider need
    none; the others share a slot while some provider fits them all (one `provider` slot for a
    composite whose members agree, as before), else get a slot of their own (`provider_<step>`): a
    K3s cluster on Exoscale, then workloads on k3s → two slots, each a dropdown of what fits."""
    key = label(item)
    if item["kind"] == "Entity" or key in _seen or len(_seen) > MAX_DEPTH:
        return []
    groups: list[Slot] = []
    for step in item["spec"].get("steps", []):
        if binding(item, step):
            continue
        member = resolver.get(step["ref"])["item"]
        units = [("", fits_of(member, resolver))] if member["kind"] == "Entity" else \
            [(slot.name, slot.choices) for slot in member_slots(member, resolver, (*_seen, key))]
        for member_slot, choices in units:
            group = next((g for g in groups if any(p in choices for p in g.choices)), None)
            if group is None:
                groups.append(Slot("", list(choices), [(step["id"], member_slot)]))
            else:
                group.choices = [p for p in group.choices if p in choices]
                group.steps.append((step["id"], member_slot))
    for group in groups:
        sid, member_slot = group.steps[0]
        suffix = member_slot.removeprefix("provider").strip("_") if sum(g.steps[0][0] == sid for g in groups) > 1 else ""
        group.name = "provider" if len(groups) == 1 else "_".join(p for p in ("provider", sid, suffix) if p)
    return groups


def member_slots(member: dict[str, Any], resolver: Resolver, _seen: tuple[str, ...] = ()) -> list[Slot]:
    """A saved composite's slots as stored (`spec.slots`), else computed (an item saved before slots:
    one `provider` slot unless it fixes its provider)."""
    if isinstance(member["spec"].get("slots"), list):
        return stored_slots(member)
    return slots_of(member, resolver, _seen)


def stored_slots(member: dict[str, Any]) -> list[Slot]:
    """A saved member's slots without a catalog: `spec.slots`, else (saved before slots) one `provider`
    slot over its `spec.providers` unless it fixes its provider."""
    spec = member["spec"]
    if member["kind"] == "Entity" or spec.get("provider"):
        return []
    stored = spec.get("slots")
    if isinstance(stored, list):
        return [Slot(str(s["name"]), list(s["choices"]), [(str(a), str(b)) for a, b in s["steps"]]) for s in stored]
    return [Slot("provider", list(spec.get("providers") or []), [(str(st["id"]), "") for st in spec.get("steps", [])])]


def slots_field(slots: list[Slot]) -> list[dict[str, Any]]:
    """Slots as stored in `spec.slots`."""
    return [{"name": s.name, "choices": list(s.choices), "steps": [list(x) for x in s.steps]} for s in slots]


def fits_of(item: dict[str, Any], resolver: Resolver, _seen: tuple[str, ...] = ()) -> list[str]:
    """Providers that fit an item: an entity's own (narrowed to its tool); for a composite, the ones it
    can run on: its single launch slot's choices plus the providers its steps fix, at any depth."""
    spec = item["spec"]
    if item["kind"] == "Entity":
        return provider_data.fitting(spec.get("providers"), spec.get("tool"))
    key = label(item)
    if key in _seen or len(_seen) > MAX_DEPTH:
        return []
    found = {p for slot in slots_of(item, resolver, _seen) for p in slot.choices} | _fixed(item, resolver, (*_seen, key))
    return [p for p in provider_data.PROVIDERS if p in found]


def _fixed(item: dict[str, Any], resolver: Resolver, seen: tuple[str, ...]) -> set[str]:
    """The providers a composite's steps fix, at any depth."""
    found: set[str] = set()
    for step in item["spec"].get("steps", []):
        found.update([binding(item, step) or ""])
        member = resolver.get(step["ref"])["item"]
        if member["kind"] != "Entity" and label(member) not in seen and len(seen) <= MAX_DEPTH:
            found |= _fixed(member, resolver, (*seen, label(member)))
    return found - {""}


# ------------------------------------------------------------------ resolution and cycles


def label(item: dict[str, Any]) -> str:
    return f"{KIND_SLUGS[item['kind']]}:{item['metadata']['name']}"


def _resolve(analysis: Analysis, resolver: Resolver) -> None:
    for step in analysis.item["spec"]["steps"]:
        try:
            found = resolver.get(step["ref"])
        except NotFound:
            analysis.errors.append(f"step {step['id']}: {step['ref']} is in none of the catalog targets")
            continue
        step["ref"] = found["ref"]
        analysis.members[found["ref"]] = found["item"]


def _check_cycles(analysis: Analysis, resolver: Resolver) -> None:
    root = label(analysis.item)
    for step in analysis.item["spec"]["steps"]:
        chain = _find_cycle(analysis.members[step["ref"]], resolver, (root,))
        if chain:
            analysis.errors.append(f"step {step['id']}: cycle {' → '.join(chain)} (a composite cannot contain itself)")


def _find_cycle(item: dict[str, Any], resolver: Resolver, path: tuple[str, ...]) -> tuple[str, ...] | None:
    name = label(item)
    if name in path:
        return (*path[path.index(name):], name)
    if item["kind"] == "Entity":
        return None
    if len(path) > MAX_DEPTH:
        return (*path, name, "… (deeper than 20 levels)")
    for step in item["spec"].get("steps", []):
        try:
            member = resolver.get(step["ref"])["item"]
        except FractalError:
            continue  # a stored composite whose member vanished: the run will say so
        chain = _find_cycle(member, resolver, (*path, name))
        if chain:
            return chain
    return None


def _wired_step(value: Any) -> str | None:
    source = _source(value)
    if source and source.startswith("steps."):
        return source.split(".")[1]
    return None


def _source(value: Any) -> str | None:
    if isinstance(value, dict) and isinstance(value.get("from"), str):
        return str(value["from"])
    return None


def step_deps(steps: list[dict[str, Any]]) -> dict[str, list[str]]:
    """The direct upstream step ids of each step: its `needs`, then the steps its inputs are wired
    from; nothing else, so independent steps run in parallel. Ids are not checked here (see `_order`)."""
    direct: dict[str, list[str]] = {}
    for step in steps:
        needs = step.get("needs") or []
        deps = [n for n in needs if isinstance(n, str)] if isinstance(needs, list) else []
        wired = (_wired_step(v) for v in (step.get("inputs") or {}).values())
        direct[step["id"]] = list(dict.fromkeys([*deps, *(w for w in wired if w)]))
    return direct


def _unknown_deps(steps: list[dict[str, Any]], direct: dict[str, list[str]]) -> list[str]:
    """Errors for `needs` or wires that name no step of this composite."""
    errors = []
    for step in steps:
        for dep in direct[step["id"]]:
            if dep not in direct:
                how = "needs" if dep in (step.get("needs") or []) else "is wired from"
                errors.append(f"step {step['id']} {how} {dep!r}, which is not a step here (steps: {', '.join(direct)})")
    return errors


def _order(analysis: Analysis) -> None:
    """Topological order of the steps; refuses an unknown step id and a loop in needs/wiring."""
    steps = analysis.item["spec"]["steps"]
    ids = [s["id"] for s in steps]
    direct = step_deps(steps)
    unknown = _unknown_deps(steps, direct)
    if unknown:
        analysis.errors.extend(unknown)
        return
    state: dict[str, int] = {}
    order: list[str] = []

    def visit(sid: str, trail: list[str]) -> bool:
        if state.get(sid) == 2:
            return True
        if state.get(sid) == 1:
            loop = [*trail[trail.index(sid):], sid]
            analysis.errors.append(f"steps form a cycle: {' → '.join(loop)}")
            return False
        state[sid] = 1
        ok = all(visit(dep, [*trail, sid]) for dep in direct[sid])
        state[sid] = 2
        order.append(sid)
        return ok

    for sid in ids:
        if not visit(sid, []):
            return
    analysis.order = order
    for sid in order:
        analysis.upstream[sid] = set(direct[sid]).union(*(analysis.upstream[d] for d in direct[sid]))


# ------------------------------------------------------------------ inputs, outputs, wiring


def types_of(schema: Any) -> set[str]:
    if not isinstance(schema, dict) or "type" not in schema:
        return set()
    declared = schema["type"]
    return set(declared) if isinstance(declared, list) else {str(declared)}


def compatible(source: set[str], dest: set[str]) -> bool:
    if not source or not dest:
        return True
    if "integer" in source and "number" in dest:
        return True
    return bool(source & dest)


SECRET_STRING = {"type": "string", "secret": True}
# Inputs every entity of a tool takes, declared or not: its runner reads them (the runner's contract).
RUNNER_INPUTS: dict[str, dict[str, dict[str, Any]]] = {
    "ansible": {"hosts": {"type": ["array", "string"], "description": "hosts to configure (inventory)"},
                "ssh_private_key": {**SECRET_STRING, "description": "SSH key to reach the hosts"}},
    "kubernetes": {"kubeconfig": {**SECRET_STRING, "description": "kubeconfig of the cluster (else the provider's)"},
                   "namespace": {"type": "string", "description": "namespace to apply into"}},
    "secret": {"values": {"type": "object", "secret": True, "description": "the credential's fields (apply)"}},
}


def runner_inputs(member: dict[str, Any]) -> dict[str, Any]:
    """The optional inputs an entity's runner reads that its schema does not declare (none for a composite)."""
    if member.get("kind") != "Entity":
        return {}
    declared = (member["spec"].get("inputs") or {}).get("properties") or {}
    return {n: s for n, s in RUNNER_INPUTS.get(member["spec"].get("tool") or "", {}).items() if n not in declared}


def member_inputs(member: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """(properties, required-without-default) of a member's input schema."""
    schema = member["spec"].get("inputs") or {}
    props = schema.get("properties") or {}
    required = {n for n in schema.get("required") or [] if "default" not in (props.get(n) or {})}
    return props, required


def _output_schema(analysis: Analysis, step_id: str, name: str) -> tuple[dict[str, Any] | None, str]:
    """The declared output `name` of step `step_id`'s member, or None and why not."""
    steps = {s["id"]: s for s in analysis.item["spec"]["steps"]}
    if step_id not in steps:
        return None, f"there is no step {step_id!r}"
    member = analysis.members[steps[step_id]["ref"]]
    outputs = member["spec"].get("outputs") or {}
    if name not in outputs:
        known = ", ".join(sorted(outputs)) or "none"
        return None, f"{steps[step_id]['ref']} (step {step_id}) declares no output {name!r} (its outputs: {known})"
    return outputs[name], ""


def _check_wire(analysis: Analysis, where: str, source: str, dest: dict[str, Any], step_id: str | None) -> None:
    parts = source.split(".")
    spec = analysis.item["spec"]
    if len(parts) == 2 and parts[0] == "inputs":
        props = (spec.get("inputs") or {}).get("properties") or {}
        if parts[1] not in props:
            analysis.errors.append(f"{where}: wired from inputs.{parts[1]}, which is not declared in spec.inputs")
        elif not compatible(types_of(props[parts[1]]), types_of(dest)):
            analysis.errors.append(f"{where}: type mismatch: inputs.{parts[1]} is {_fmt(props[parts[1]])}, expected {_fmt(dest)}")
        return
    if len(parts) == 4 and parts[0] == "steps" and parts[2] == "outputs":
        producer, name = parts[1], parts[3]
        if step_id is not None and producer not in analysis.upstream.get(step_id, set()):
            analysis.errors.append(f"{where}: wired from step {producer!r}, which does not run before step {step_id!r}")
            return
        schema, why = _output_schema(analysis, producer, name)
        if schema is None:
            analysis.errors.append(f"{where}: {why}")
        elif not compatible(types_of(schema), types_of(dest)):
            wire = f"steps.{producer}.outputs.{name}"
            analysis.errors.append(f"{where}: type mismatch: {wire} is {_fmt(schema)}, expected {_fmt(dest)}")
        return
    analysis.errors.append(f"{where}: bad wire {source!r}; use inputs.<name> or steps.<id>.outputs.<name>")


def _fmt(schema: dict[str, Any]) -> str:
    return "/".join(sorted(types_of(schema))) or "untyped"


def _check_step(analysis: Analysis, step: dict[str, Any]) -> None:
    member = analysis.members[step["ref"]]
    props, required = member_inputs(member)
    props = {**props, **runner_inputs(member)}
    bound = step.get("inputs") or {}
    where = f"step {step['id']} ({step['ref']})"
    for name, value in bound.items():
        if name not in props:
            analysis.errors.append(f"{where}: unknown input {name!r} (its inputs: {', '.join(sorted(props))})")
            continue
        dest = props.get(name) or {}
        source = _source(value)
        if source is not None:
            _check_wire(analysis, f"{where} input {name!r}", source, dest, step["id"])
        elif isinstance(value, dict) and "from" in value:
            analysis.errors.append(f"{where} input {name!r}: 'from' must be a string")
        elif types_of(dest) and not compatible({literal_type(value)}, types_of(dest)):
            analysis.errors.append(f"{where} input {name!r}: literal {value!r:.40} is not {_fmt(dest)}")
    for name in sorted(required - set(bound)):
        analysis.errors.append(
            f"{where}: required input {name!r} is not bound "
            f"(bind a literal, {{from: inputs.{name}}} or {{from: steps.<id>.outputs.<name>}})"
        )
    for name in sorted(required & set(bound)):
        optional = _optional_input(analysis, _source(bound[name]))
        if optional:
            analysis.errors.append(
                f"{where}: required input {name!r} is not bound: inputs.{optional} is optional with no default "
                f"(list {optional!r} in spec.inputs.required or give it a default)"
            )


def _optional_input(analysis: Analysis, source: str | None) -> str | None:
    """The composite input a wire reads when that input may be absent (not required, no default)."""
    parts = (source or "").split(".")
    if len(parts) != 2 or parts[0] != "inputs":
        return None
    inputs = analysis.item["spec"].get("inputs") or {}
    prop = (inputs.get("properties") or {}).get(parts[1])
    if not isinstance(prop, dict) or parts[1] in (inputs.get("required") or []) or "default" in prop:
        return None
    return parts[1]


def _check_outputs(analysis: Analysis) -> None:
    for name, out in (analysis.item["spec"].get("outputs") or {}).items():
        source = out.get("from") if isinstance(out, dict) else None
        if not source:
            analysis.errors.append(f"output {name!r}: needs from: steps.<id>.outputs.<name>")
        elif not source.startswith("steps."):
            analysis.errors.append(f"output {name!r}: bad source {source!r}; use steps.<id>.outputs.<name>")
        else:
            _check_wire(analysis, f"output {name!r}", source, out, None)


def _check_providers(analysis: Analysis, resolver: Resolver) -> None:
    """Each fixed step against its own binding; each launch slot must have a provider that fits."""
    item, known = analysis.item, provider_data.PROVIDERS
    for where, name in [("provider", item["spec"].get("provider")),
                        *((f"step {s['id']}: provider", s.get("provider")) for s in item["spec"]["steps"])]:
        if name and name not in known:
            analysis.errors.append(f"{where} {name!r} is unknown (known: {', '.join(known)})")
    if analysis.errors:
        return
    for step in item["spec"]["steps"]:
        fixed, member = binding(item, step), analysis.members[step["ref"]]
        if not fixed:
            continue
        if member["kind"] == "Entity":
            fits = fits_of(member, resolver)
            if fixed not in fits:
                analysis.errors.append(f"provider {fixed} does not fit step {step['id']} (it fits {', '.join(fits) or 'none'})")
            continue
        for slot in member_slots(member, resolver):
            if fixed not in slot.choices:
                analysis.errors.append(f"provider {fixed} does not fit step {step['id']} ({slot.name} of {step['ref']} "
                                       f"fits {', '.join(slot.choices) or 'none'})")
    analysis.slots = slots_of(item, resolver)
    analysis.member_slots = {ref: member_slots(m, resolver) for ref, m in analysis.members.items()}
    for slot in analysis.slots:
        if not slot.choices:
            who = ", ".join(sid + (f" ({ms})" if ms else "") for sid, ms in slot.steps)
            analysis.errors.append(f"no provider fits step {who}: fix its provider or change the member")
    analysis.fits = fits_of(item, resolver)


def refuse_unknown_inputs(where: str, given: Any, known: list[str] | set[str]) -> None:
    """InvalidInput naming every input `where` does not declare, each with the nearest declared name
    (a misspelled `mesage` must not silently run with the default `message`)."""
    unknown = sorted(set(given or {}) - set(known))
    if not unknown:
        return
    import difflib  # only on a refusal

    names = sorted(known)
    guesses = {n: difflib.get_close_matches(n, names, 1, 0.6) for n in unknown}
    said = ", ".join(f"{n!r}" + (f" (did you mean {g[0]!r}?)" if g else "") for n, g in guesses.items())
    raise InvalidInput(f"{where} has no input {said}", hint=f"its inputs: {', '.join(names) or '(none)'}",
                       data={"unknown": unknown, "did_you_mean": {n: g[0] for n, g in guesses.items() if g}})


def literal_type(value: Any) -> str:
    """The JSON Schema type of a literal value (a dict or anything unknown is an object)."""
    return _JSON_TYPES.get(type(value), "object")
