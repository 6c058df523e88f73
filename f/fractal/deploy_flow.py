"""Fractal: create or update a composite's Windmill flows (and its members' flows) through the REST API."""

import os
from typing import Any

from f.fractal import catalog, composite, flowgen, flowrun
from f.fractal.errors import ConfigError, FractalError, InvalidInput
from f.fractal.model import parse_ref

TIMEOUT_S = 30


def windmill_api() -> tuple[str, str, str]:
    """(base URL, token, workspace) of the job this runs in; ConfigError outside Windmill."""
    base = os.environ.get("BASE_INTERNAL_URL") or os.environ.get("WM_BASE_URL") or ""
    token, workspace = os.environ.get("WM_TOKEN", ""), os.environ.get("WM_WORKSPACE", "")
    if not (base and token and workspace):
        raise ConfigError("deploy_flow runs inside Windmill (it needs BASE_INTERNAL_URL, WM_TOKEN and WM_WORKSPACE)",
                          hint="locally, `scripts/fractal compose --export DIR` writes the flows for `wmill sync push`")
    return base.rstrip("/"), token, workspace


def _call(method: str, url: str, token: str, body: dict[str, Any] | None = None) -> Any:
    import requests

    try:
        response = requests.request(method, url, json=body, timeout=TIMEOUT_S, headers={"Authorization": f"Bearer {token}"})
    except requests.RequestException as e:
        raise FractalError(f"Windmill did not answer {method} {url}: {type(e).__name__}") from None
    if response.status_code >= 400:
        raise FractalError(f"Windmill refused {method} {url}: HTTP {response.status_code} {response.text[:300]}")
    return response.json() if response.text.strip()[:1] in ("{", "[", "t", "f") else response.text


def push_flow(path: str, flow: dict[str, Any], message: str) -> str:
    """Create the flow at `path`, or update it when it exists: 'created' or 'updated'."""
    base, token, ws = windmill_api()
    api = f"{base}/api/w/{ws}/flows"
    body = {"path": path, "summary": flow["summary"], "description": flow.get("description", ""), "value": flow["value"],
            "schema": flow.get("schema", {}), "deployment_message": message}
    if _call("GET", f"{api}/exists/{path}", token) is True:
        _call("POST", f"{api}/update/{path}", token, body)
        return "updated"
    _call("POST", f"{api}/create", token, body)
    return "created"


def flows_of(ref: str, targets: list[str] | None) -> tuple[str, dict[str, dict[str, Any]]]:
    """The pinned ref and every flow it needs, {path: flow}, members before the composite."""
    if parse_ref(ref).kind == "Entity":
        raise InvalidInput(f"{ref} is an entity: only pipelines and meta-pipelines have flows",
                           hint="entities run as steps through f/fractal/run_item")
    found = catalog.get(ref, targets)
    resolver = composite.Resolver(targets)
    resolver.seed(found)
    return found["ref"], flows_for(found, resolver)


def flows_for(found: dict[str, Any], resolver: composite.Resolver) -> dict[str, dict[str, Any]]:
    """Every flow of an already resolved composite (what catalog.get returned), members before it."""
    root = flowrun.flow_of(found, resolver)
    members = flowrun.plan(root, resolver).flows
    ordered = dict(reversed(list(members.items())))  # deepest first: a parent's flow steps find their children
    ordered[flowgen.flow_path(found["ref"])] = root
    return ordered


def main(ref: str, targets: list[str] | None = None, alias: bool = True) -> dict[str, Any]:
    pinned, flows = flows_of(ref, targets)
    windmill_api()
    deployed = []
    for path, flow in flows.items():
        deployed.append({"path": path, "status": push_flow(path, flow, f"fractal: deploy {pinned}")})
    if alias:
        path = flowgen.flow_path(parse_ref(pinned).pinned("latest"))
        deployed.append({"path": path, "status": push_flow(path, flows[flowgen.flow_path(pinned)], f"fractal: deploy {pinned}")})
    return {"ref": pinned, "flow_path": flowgen.flow_path(pinned), "flows": deployed}
