# Worker requirements, generated from requirements.txt by scripts/worker_requirements.py (do not edit):
# requirements:
#ansible-core==2.19.14
#ansible-lint==26.10.1
#ansible-runner==2.4.3
#detect-secrets==1.5.0
#fastjsonschema==2.22.3
#lark==1.3.1
#python-hcl2==8.1.4
#PyYAML==6.0.3
#quickjs==1.19.4
#requests==2.34.2
#wmill==1.850.0

"""Fractal: create or update a composite's Windmill flows (and its members' flows) through the REST API."""

from typing import Any

from f.fractal.catalog.items import get, resolver
from f.fractal.flows.compile import flow_path
from f.fractal.flows.plan import flows_for
from f.fractal.model.errors import InvalidInput
from f.fractal.model.item import parse_ref
from f.fractal.platform.windmill import push_flow, windmill_api


def flows_of(ref: str, targets: list[str] | None) -> tuple[str, dict[str, dict[str, Any]]]:
    """The pinned ref and every flow it needs, {path: flow}, members before the composite."""
    if parse_ref(ref).kind == "Entity":
        raise InvalidInput(f"{ref} is an entity: only pipelines and meta-pipelines have flows",
                           hint="entities run as steps through f/fractal/run_item")
    found = get(ref, targets)
    members = resolver(targets)
    members.seed(found)
    return found["ref"], flows_for(found, members)


def main(ref: str, targets: list[str] | None = None, alias: bool = True) -> dict[str, Any]:
    pinned, flows = flows_of(ref, targets)
    windmill_api()
    deployed = []
    for path, flow in flows.items():
        deployed.append({"path": path, "status": push_flow(path, flow, f"fractal: deploy {pinned}")})
    if alias:
        path = flow_path(parse_ref(pinned).pinned("latest"))
        deployed.append({"path": path, "status": push_flow(path, flows[flow_path(pinned)], f"fractal: deploy {pinned}")})
    return {"ref": pinned, "flow_path": flow_path(pinned), "flows": deployed}
