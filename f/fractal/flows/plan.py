"""What a composite's run needs before any step: its flow and every member flow and entity, resolved.

`flow_of` reads a composite's stored flow (or compiles it); `plan` walks a flow at every depth and
resolves its member flows and the entities its `run_item` steps pin; `flows_for` lists every flow a
composite needs, members first (what a Windmill deploy pushes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from f.fractal.flows.compile import FLOW_FILE, RUN_SCRIPT, flow_path, prepare, ref_of_flow_path
from f.fractal.flows.interpreter import MAX_FLOW_DEPTH
from f.fractal.model.composite import Resolver
from f.fractal.model.errors import InvalidInput, NotFound
from f.fractal.model.records import Found
from f.fractal.platform.yamlio import load_trusted


def flow_of(found: Found, resolver: Resolver) -> dict[str, Any]:
    """The compiled flow of a resolved composite: its stored flow.yaml, else compiled now."""
    text = (found["item"]["spec"].get("files") or {}).get(FLOW_FILE)
    if text:
        flow: dict[str, Any] = load_trusted(text)
        return flow
    prepared = prepare(json.loads(json.dumps(found["item"])), resolver)
    return dict(load_trusted(prepared["spec"]["files"][FLOW_FILE]))


def _walk(modules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every module value at any depth of one flow (not into nested flows)."""
    out: list[dict[str, Any]] = []
    for module in modules:
        value = module["value"]
        out.append(value)
        inner = list(value.get("modules") or []) + list(value.get("default") or [])
        for branch in value.get("branches") or []:
            inner += branch.get("modules") or []
        out += _walk(inner)
    return out


@dataclass
class Plan:
    """Everything a composite run needs, resolved before any step runs."""

    flows: dict[str, dict[str, Any]] = field(default_factory=dict)  # flow path → flow
    entities: dict[str, Found] = field(default_factory=dict)  # pinned entity ref → catalog.get result


def plan(flow: dict[str, Any], resolver: Resolver, out: Plan | None = None, depth: int = 0) -> Plan:
    """Resolve every member flow and entity of a flow, at every depth; NotFound names the missing one."""
    out = out or Plan()
    if depth > MAX_FLOW_DEPTH:
        raise InvalidInput(f"flows nested deeper than {MAX_FLOW_DEPTH} levels")
    for value in _walk(flow["value"].get("modules", [])):
        if value.get("type") == "flow" and value["path"] not in out.flows:
            ref = ref_of_flow_path(value["path"])
            if ref is None:
                raise NotFound(f"{value['path']} is not a Fractal flow path",
                               hint="flow steps call f/fractal_flows/<kind>_<name>_v<version>")
            member = flow_of(resolver.get(str(ref)), resolver)
            out.flows[value["path"]] = member
            plan(member, resolver, out, depth + 1)
        elif value.get("type") == "script" and value.get("path") == RUN_SCRIPT:
            ref = (value.get("input_transforms") or {}).get("ref", {}).get("value")
            if isinstance(ref, str) and ref not in out.entities:
                out.entities[ref] = resolver.get(ref)
    return out


def flows_for(found: Found, resolver: Resolver) -> dict[str, dict[str, Any]]:
    """Every flow of an already resolved composite (what catalog.get returned), members before it."""
    root = flow_of(found, resolver)
    members = plan(root, resolver).flows
    ordered = dict(reversed(list(members.items())))  # deepest first: a parent's flow steps find their children
    ordered[flow_path(found["ref"])] = root
    return ordered
