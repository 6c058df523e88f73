"""Compile a checked pipeline or meta-pipeline into a Windmill flow (OpenFlow), deterministically.

- Pipeline: one `script` step per member calling `f/fractal/run_item` with the pinned ref, the
  provider, the mode, the targets and the step's inputs as one JavaScript object, e.g.
  `({"hosts": results.cluster.outputs["ips"], "nodes": 3})`.
- Meta-pipeline: one `type: flow` step per member calling the member's own flow (at its pinned
  version's path) with its inputs, and the provider passed down unless the member fixes one.
- Steps that can run together (same depth in the DAG) go into a `branchall` with `parallel: true`;
  a wire into a step inside it reads `results.<branch module>[<branch index>]`.
- Every step stops the flow with an error naming it when its result's status is a failure.
- Destroy (`mode: destroy`, more than one step): the forward steps are skipped; `<id>_read` steps run
  each member in `plan` mode, in order, to read what exists (its outputs feed the next as in apply); a
  read that fails (a member half gone) does not stop anything (`continue_on_error`, no stop condition,
  wires read with `?.`). Then `<id>_teardown` steps destroy the members in reverse dependency order (a
  meta-pipeline's members do the same inside, so at every level), stopping at the first failure with
  the steps not torn down named.
- A last step, `f/fractal/pipeline_result`, returns `{status, outputs, steps}`: the composite's
  declared outputs and each step's status, so a parent reads `results.<step>.outputs.<name>`.
- Input schema: the composite's inputs, then `provider` (a dropdown of the providers that fit,
  absent when the composite fixes one), `mode` and `targets`.

Flow paths (`flow_path`): `f/fractal_flows/<kind>_<name>_v<major>_<minor>_<patch>`, one per pinned
version (parents call exactly the version they pin) — outside the pack's own `f/fractal/` folder, so
a `wmill sync push` of the pack never deletes them. Without a version: the operator's alias.
"""

from __future__ import annotations

import json
import re
from typing import Any

from f.fractal.model.composite import Analysis, Resolver, Slot, analyze, binding, label, slots_field, step_deps, stored_slots
from f.fractal.model.errors import InvalidInput
from f.fractal.model.item import KIND_SLUGS, SLUG_KINDS, Ref, parse_ref
from f.fractal.platform.yamlio import dump as dump_yaml

FLOW_FILE = "flow.yaml"
FLOW_FOLDER = "f/fractal_flows"
RUN_SCRIPT = "f/fractal/run_item"
RESULT_SCRIPT = "f/fractal/pipeline_result"
RESULT_STEP = "result"
MODES = ["apply", "plan", "check", "destroy"]
# run_item's and pipeline_result's success is "success" or "ok"; failed, timeout, canceled stop the flow
FAILED_EXPR = "result == null || !['success', 'ok'].includes(result.status)"
_PATH_RE = re.compile(r"^f/fractal_flows/(pipeline|meta_pipeline)_([a-z0-9_]+?)(?:_v(\d+)_(\d+)_(\d+))?$")


def flow_path(ref: Ref | str) -> str:
    """The Windmill path of a composite's flow: f/fractal_flows/pipeline_gpu_training_v1_2_0."""
    parsed = parse_ref(ref) if isinstance(ref, str) else ref
    base = f"{FLOW_FOLDER}/{parsed.slug.replace('-', '_')}_{parsed.name.replace('-', '_')}"
    return base if parsed.version == "latest" else f"{base}_v{parsed.version.replace('.', '_')}"


def ref_of_flow_path(path: str) -> Ref | None:
    """The composite ref a flow path names (None when the path is not a Fractal flow)."""
    m = _PATH_RE.match(path)
    if not m:
        return None
    version = ".".join(m.group(3, 4, 5)) if m.group(3) else "latest"
    return Ref(SLUG_KINDS[m.group(1).replace("_", "-")], m.group(2).replace("_", "-"), version)


def dump(flow: dict[str, Any]) -> str:
    return dump_yaml(flow)


# ------------------------------------------------------------------ expressions


def _js(value: Any) -> str:
    """A JSON literal is a JavaScript literal (ASCII-escaped, so U+2028 cannot break it)."""
    return json.dumps(value, ensure_ascii=True, sort_keys=True)


def _static(value: Any) -> dict[str, Any]:
    return {"type": "static", "value": value}


def _expr(expr: str) -> dict[str, Any]:
    return {"type": "javascript", "expr": expr}


def _wire_expr(source: str, where: dict[str, str], safe: bool = False) -> str:
    """A wire as JavaScript; names go in brackets as JSON strings, never pasted as code. `safe`: a producer
    that failed (a teardown's read step) gives undefined, not an error."""
    parts = source.split(".", 3)
    if parts[0] == "inputs":
        return f"flow_input[{_js(source.split('.', 1)[1])}]"
    return f"{where[parts[1]]}{'?.outputs?.' if safe else '.outputs'}[{_js(parts[3])}]"


def _inputs_expr(bound: dict[str, Any], where: dict[str, str], safe: bool = False) -> str:
    fields = []
    for name in sorted(bound):
        value = bound[name]
        source = value.get("from") if isinstance(value, dict) else None
        fields.append(f"{_js(name)}: {_wire_expr(source, where, safe) if isinstance(source, str) else _js(value)}")
    return "({" + ", ".join(fields) + "})"


# ------------------------------------------------------------------ layout of steps


def _levels(steps: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Steps grouped by DAG depth (composite.step_deps, as composite._order; the item is already checked)."""
    direct = step_deps(steps)
    depth: dict[str, int] = {}

    def level(sid: str) -> int:
        if sid not in depth:
            depth[sid] = 1 + max((level(d) for d in direct[sid]), default=-1)
        return depth[sid]

    grouped: dict[int, list[dict[str, Any]]] = {}
    for step in steps:
        grouped.setdefault(level(step["id"]), []).append(step)
    return [grouped[k] for k in sorted(grouped)]


def _unique_id(base: str, taken: set[str]) -> str:
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}_{n}"
    taken.add(candidate)
    return candidate


# ------------------------------------------------------------------ compile


def _slot_of(slots: list[Slot], step_id: str, member_slot: str) -> str:
    return next(slot.name for slot in slots if (step_id, member_slot) in slot.steps)


def _provider_transforms(item: dict[str, Any], step: dict[str, Any], member: dict[str, Any],
                         slots: list[Slot], member_slots: list[Slot]) -> dict[str, Any]:
    """The provider inputs of a step: its binding as a static value, else the launch slot that drives it.
    A pipeline step gets `provider`; a member flow gets one value per slot of its own."""
    fixed = binding(item, step)
    names = [""] if member["kind"] == "Entity" else [s.name for s in member_slots]
    out: dict[str, Any] = {}
    for member_slot in names:
        value = _static(fixed) if fixed else _expr(f"flow_input[{_js(_slot_of(slots, step['id'], member_slot))}]")
        out[member_slot or "provider"] = value
    return out


def _step_module(step: dict[str, Any], item: dict[str, Any], member: dict[str, Any], where: dict[str, str],
                 slots: list[Slot], member_slots: list[Slot], mode: dict[str, Any], safe: bool = False) -> dict[str, Any]:
    bound = step.get("inputs") or {}
    common = {"mode": mode, "targets": _expr("flow_input.targets")}
    providers = _provider_transforms(item, step, member, slots, member_slots)
    if item["kind"] == "Pipeline":
        transforms = {
            "ref": _static(step["ref"]),
            **providers,
            "inputs": _expr(_inputs_expr(bound, where, safe)),
            **common,
        }
        value: dict[str, Any] = {"type": "script", "path": RUN_SCRIPT, "input_transforms": transforms}
    else:
        transforms = {}
        for name in sorted(bound):
            v = bound[name]
            source = v.get("from") if isinstance(v, dict) else None
            transforms[name] = _expr(_wire_expr(source, where, safe)) if isinstance(source, str) else _static(v)
        transforms.update(providers)
        transforms.update(common)
        value = {"type": "flow", "path": flow_path(step["ref"]), "input_transforms": transforms}
    return {
        "id": step["id"],
        "summary": step.get("summary") or step["ref"],
        "value": value,
        "stop_after_if": {"expr": FAILED_EXPR, "skip_if_stopped": False,
                          "error_message": f"step {step['id']} ({step['ref']}) failed"},
    }


def _providers_expr(item: dict[str, Any], slots: list[Slot]) -> dict[str, Any]:
    """What the result reports as its provider: the one slot, else `slot=provider` pairs, else the fixed ones."""
    if len(slots) == 1 and slots[0].name == "provider":
        return _expr("flow_input.provider")
    if slots:
        return _expr("[" + ", ".join(f"{_js(s.name + '=')} + flow_input[{_js(s.name)}]" for s in slots) + "].join(', ')")
    fixed = sorted({binding(item, step) or "" for step in item["spec"]["steps"]} - {""})
    return _static(", ".join(fixed) or None)


def _result_module(item: dict[str, Any], step_ids: list[str], where: dict[str, str], taken: set[str],
                   slots: list[Slot], teardown: dict[str, str]) -> dict[str, Any]:
    outputs = {name: {"from": out["from"]} for name, out in (item["spec"].get("outputs") or {}).items()}
    steps_expr = "({" + ", ".join(f"{_js(sid)}: {where[sid]}" for sid in step_ids) + "})"
    # destroy skips the forward steps: their outputs read safely (undefined, so left out)
    outputs_expr = _inputs_expr(outputs, where, safe=bool(teardown))
    if teardown:  # destroy: each step's teardown result
        down = "({" + ", ".join(f"{_js(sid)}: results.{teardown[sid]}" for sid in step_ids) + "})"
        steps_expr = f"flow_input.mode === 'destroy' ? {down} : {steps_expr}"
    ref = f"{KIND_SLUGS[item['kind']]}:{item['metadata']['name']}"
    return {
        "id": _unique_id(RESULT_STEP, taken),
        "summary": "Collect the outputs and the status of every step",
        "value": {
            "type": "script",
            "path": RESULT_SCRIPT,
            "input_transforms": {
                "ref": _static(ref),
                "provider": _providers_expr(item, slots),
                "mode": _expr("flow_input.mode"),
                "outputs": _expr(outputs_expr),
                "steps": _expr(steps_expr),
            },
        },
    }


def _schema(item: dict[str, Any], slots: list[Slot]) -> dict[str, Any]:
    inputs = item["spec"].get("inputs") or {}
    props: dict[str, Any] = {k: dict(v) for k, v in (inputs.get("properties") or {}).items()}
    required = list(inputs.get("required") or [])
    for slot in slots:
        who = "every step" if slot.name == "provider" and len(slot.steps) == len(item["spec"]["steps"]) else \
            "steps " + ", ".join(dict.fromkeys(sid for sid, _ in slot.steps))
        props[slot.name] = {"type": "string", "enum": list(slot.choices),
                            "description": f"Where to run {who} (the providers that fit them)"}
        if len(slot.choices) == 1:
            props[slot.name]["default"] = slot.choices[0]
        required.append(slot.name)
    props["mode"] = {"type": "string", "enum": MODES, "default": "apply",
                     "description": "apply, plan/check (dry run) or destroy, passed to every step"}
    props["targets"] = {"type": "array", "items": {"type": "string"}, "default": [],
                        "description": "Catalog targets to read members from (git_repository resource paths); empty = default"}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
            "order": list(props), "properties": props, "required": required}


def compile_flow(item: dict[str, Any], members: dict[str, dict[str, Any]], slots: list[Slot],
                 member_slots: dict[str, list[Slot]] | None = None) -> dict[str, Any]:
    """The OpenFlow document of a checked composite (members: pinned ref → item; slots: its launch
    providers; member_slots: each member composite's own, default as the members store them)."""
    steps = item["spec"]["steps"]
    inner = member_slots if member_slots is not None else {}
    taken = {s["id"] for s in steps}
    where: dict[str, str] = {}
    modules: list[dict[str, Any]] = []
    down = len(steps) > 1  # destroy: a read pass forward, then the teardown in reverse
    forward_mode = _expr("flow_input.mode")

    def module(step: dict[str, Any], mode: dict[str, Any], at: dict[str, str], safe: bool = False) -> dict[str, Any]:
        member = members[step["ref"]]
        own = inner[step["ref"]] if step["ref"] in inner else stored_slots(member)
        return _step_module(step, item, member, at, slots, own, mode, safe)

    def forward(step: dict[str, Any]) -> dict[str, Any]:
        mod = module(step, forward_mode, where)
        if down:
            mod["skip_if"] = {"expr": "flow_input.mode === 'destroy'"}
        return mod

    levels = _levels(steps)
    for depth, group in enumerate(levels):
        if len(group) == 1:
            step = group[0]
            modules.append(forward(step))
            where[step["id"]] = f"results.{step['id']}"
            continue
        branch_id = _unique_id(f"together_{depth + 1}", taken)
        branches = [{"summary": s.get("summary") or s["ref"], "skip_failure": False,
                     "modules": [forward(s)]} for s in group]
        modules.append({"id": branch_id, "summary": f"Run {', '.join(s['id'] for s in group)} together",
                        "value": {"type": "branchall", "parallel": True, "branches": branches}})
        for index, step in enumerate(group):
            where[step["id"]] = f"results.{branch_id}[{index}]"
    teardown: dict[str, str] = {}
    if down:
        read: dict[str, str] = {}
        for step in [s for group in levels for s in group]:  # read what exists, in order; a failure stops nothing
            mod = module(step, _static("plan"), read, safe=True)
            mod["id"] = _unique_id(f"{step['id']}_read", taken)
            mod["summary"] = f"Read {step['id']} ({step['ref']}) before the teardown"
            mod["skip_if"] = {"expr": "flow_input.mode !== 'destroy'"}
            mod["continue_on_error"] = True
            del mod["stop_after_if"]
            read[step["id"]] = f"results.{mod['id']}"
            modules.append(mod)
        reverse = [s for group in reversed(levels) for s in reversed(group)]
        for i, step in enumerate(reverse):
            mod = module(step, _static("destroy"), read, safe=True)
            mod["id"] = teardown[step["id"]] = _unique_id(f"{step['id']}_teardown", taken)
            mod["summary"] = f"Tear down {step['id']} ({step['ref']})"
            mod["skip_if"] = {"expr": "flow_input.mode !== 'destroy'"}
            rest = ", ".join(s["id"] for s in reverse[i + 1 :]) or "none"
            mod["stop_after_if"]["error_message"] = (f"teardown stopped at step {step['id']} ({step['ref']}); "
                                                     f"not torn down: {rest}")
            modules.append(mod)
    modules.append(_result_module(item, [s["id"] for s in steps], where, taken, slots, teardown))
    meta = item["metadata"]
    kind = "Pipeline" if item["kind"] == "Pipeline" else "Meta-pipeline"
    return {
        "summary": f"{kind} {meta['name']}: {meta.get('description') or ''}".strip().rstrip(":")[:200],
        "description": (f"Compiled by Fractal from {KIND_SLUGS[item['kind']]}:{meta['name']}; "
                        f"members: {', '.join(s['ref'] for s in steps)}. Edit the catalog item, not this flow."),
        "value": {"modules": modules},
        "schema": _schema(item, slots),
    }


def write_flows(flows: dict[str, dict[str, Any]], root: Any) -> list[str]:
    """Write flows in windmill-cli's sync layout (`<path>__flow/flow.yaml`, nonDottedPaths) under `root`."""
    from pathlib import Path

    written = []
    for path, flow in flows.items():
        target = Path(root) / f"{path}__flow" / "flow.yaml"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(dump(flow))
        written.append(str(target))
    folder = Path(root) / FLOW_FOLDER / "folder.meta.yaml"
    if any(p.startswith(f"{FLOW_FOLDER}/") for p in flows) and not folder.exists():
        meta = {"summary": "Flows compiled by Fractal from catalog pipelines", "display_name": "fractal_flows",
                "owners": [], "extra_perms": {}}
        folder.write_text(dump_yaml(meta))
    return written


def prepare(item: dict[str, Any], resolver: Resolver) -> dict[str, Any]:
    """Check a normalized composite and return it pinned, with spec.providers and spec.files['flow.yaml']."""
    analysis = analyze(item, resolver)
    if analysis.errors:
        raise InvalidInput(
            f"cannot save {label(item)}: " + "; ".join(analysis.errors[:12]) + (" …" if len(analysis.errors) > 12 else ""),
            hint="fix the steps named above; nothing was written",
            data={"errors": analysis.errors},
        )
    return compiled(analysis)


def compiled(analysis: Analysis) -> dict[str, Any]:
    """The analysed item (no errors) with spec.providers and its flow attached: `prepare` without a second analysis."""
    out = analysis.item
    flow = compile_flow(out, analysis.members, analysis.slots, analysis.member_slots)
    out["spec"]["providers"] = analysis.fits
    out["spec"]["slots"] = slots_field(analysis.slots)
    out["spec"]["files"] = {**(out["spec"].get("files") or {}), FLOW_FILE: dump(flow)}
    return out
