"""Teardown in reverse (issue 12): `mode: destroy` on a composite destroys its members in reverse dependency
order at every level, after a read pass (plan) that hands each step the outputs it had at apply and
that nothing in it stops (a member half gone cannot be planned), and stops at the first failure of a
teardown, naming the steps not torn down.

The composites are checked and compiled for real, and their flows run in the real local flow runner;
the entity steps (`f/fractal/run_item`) are a RECORDING STAND-IN function that notes (ref, mode, inputs)
and answers like run_item (status, outputs) — it checks the order and modes the flow gives, not the tools.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from f.fractal.catalog.items import resolver as catalog_resolver
from f.fractal.flows.compile import RUN_SCRIPT, flow_path, prepare
from f.fractal.flows.interpreter import FlowRunner
from f.fractal.model.item import normalize_item

STR = {"type": "string"}
WIRE = "steps.net.outputs.net_id"


def _entity(name: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "fractal/v1", "kind": "Entity", "metadata": {"name": name, "version": "1.0.0"},
            "spec": {"tool": "ansible", "providers": ["local"], **spec}}


def _composite(kind: str, name: str, steps: list[dict[str, Any]]) -> dict[str, Any]:
    item = normalize_item({"apiVersion": "fractal/v1", "kind": kind, "metadata": {"name": name}, "spec": {"steps": steps}})
    item["metadata"]["version"] = "1.0.0"
    return item


@pytest.fixture
def compiled() -> dict[str, Any]:
    """meta `stack` = [pipeline `base` = [net → vm (wired from net)], pipeline `app` = [web]]."""
    members = catalog_resolver(None)
    members.seed({"ref": "entity:net@1.0.0", "item": _entity("net", outputs={"net_id": STR})})
    members.seed({"ref": "entity:vm@1.0.0", "item": _entity(
        "vm", inputs={"type": "object", "properties": {"net_id": STR}, "required": ["net_id"]}, outputs={"ip": STR})})
    members.seed({"ref": "entity:web@1.0.0", "item": _entity("web")})
    flows = {}
    for kind, name, steps in [
        ("Pipeline", "base", [{"id": "net", "ref": "entity:net@1.0.0"},
                              {"id": "vm", "ref": "entity:vm@1.0.0", "inputs": {"net_id": {"from": WIRE}}}]),
        ("Pipeline", "app", [{"id": "web", "ref": "entity:web@1.0.0"}]),
        ("MetaPipeline", "stack", [{"id": "base", "ref": "pipeline:base@1.0.0"}, {"id": "app", "ref": "pipeline:app@1.0.0"}]),
    ]:
        item = prepare(_composite(kind, name, steps), members)
        ref = f"{'pipeline' if kind == 'Pipeline' else 'meta-pipeline'}:{name}@1.0.0"
        members.seed({"ref": ref, "item": item})
        flows[flow_path(ref)] = yaml.safe_load(item["spec"]["files"]["flow.yaml"])
    return flows


def _run(flows: dict[str, Any], fail: tuple[str, str] | None = None,
         refuse: tuple[str, str] | None = None) -> tuple[dict[str, Any], list[tuple[str, str, Any]]]:
    calls: list[tuple[str, str, Any]] = []

    def run_item(ref: str, provider: str | None = None, inputs: dict[str, Any] | None = None, mode: str = "apply",
                 targets: list[str] | None = None) -> dict[str, Any]:
        name = ref.split(":")[1].split("@")[0]
        calls.append((name, mode, dict(inputs or {})))
        if refuse == (name, mode):  # run_item refusing before anything runs (an InvalidInput, a ConfigError …)
            raise RuntimeError(f"{name} cannot be planned")
        status = "failed" if fail == (name, mode) else "success"
        return {"status": status, "ref": ref, "provider": provider, "error": "boom" if status == "failed" else "",
                "outputs": {"net": {"net_id": "net-1"}, "vm": {"ip": "192.0.2.7"}}.get(name, {}) if status == "success" else {}}

    runner = FlowRunner(scripts={RUN_SCRIPT: run_item}, flows=flows.__getitem__)
    out = runner.run(flows[flow_path("meta-pipeline:stack@1.0.0")], {"mode": "destroy", "provider": "local", "targets": []})
    return out, calls


def test_destroy_runs_in_reverse_dependency_order_at_every_level(compiled: dict[str, Any]) -> None:
    out, calls = _run(compiled)
    assert out["status"] == "ok" and out["result"]["status"] == "success", out
    assert [(n, m) for n, m, _ in calls if m == "destroy"] == [("web", "destroy"), ("vm", "destroy"), ("net", "destroy")]
    assert {m for _, m, _ in calls} == {"plan", "destroy"}, "nothing is applied during a teardown"
    vm_down = next(i for n, m, i in calls if (n, m) == ("vm", "destroy"))
    assert vm_down == {"net_id": "net-1"}, "a step is destroyed with the inputs its producer hands over"
    assert set(out["result"]["steps"]) == {"base", "app"} and out["result"]["mode"] == "destroy"


def test_a_failed_teardown_stops_and_names_what_is_left(compiled: dict[str, Any]) -> None:
    out, calls = _run(compiled, fail=("vm", "destroy"))
    assert out["status"] == "failed"
    assert [(n, m) for n, m, _ in calls if m == "destroy"] == [("web", "destroy"), ("vm", "destroy")], "net is left alone"
    assert "teardown stopped at step vm (entity:vm@1.0.0); not torn down: net" in out["error"]
    assert out["failed_step"].startswith("base_teardown")


@pytest.mark.parametrize("broken", ["fail", "refuse"])
def test_a_member_that_cannot_be_planned_is_still_torn_down_in_reverse(compiled: dict[str, Any], broken: str) -> None:
    """The read pass before a teardown: net's plan fails (its resources half gone) or is refused; nothing stops,
    every member is destroyed in reverse order, vm without the net_id net could not hand over."""
    out, calls = _run(compiled, **{broken: ("net", "plan")})  # type: ignore[arg-type]
    assert out["status"] == "ok" and out["result"]["status"] == "success", out
    assert [(n, m) for n, m, _ in calls if m == "destroy"] == [("web", "destroy"), ("vm", "destroy"), ("net", "destroy")]
    assert next(i for n, m, i in calls if (n, m) == ("vm", "destroy")) == {}
    assert out["result"]["outputs"] == {}


def test_apply_runs_forward_only(compiled: dict[str, Any]) -> None:
    runner_calls = _run_apply(compiled)
    # base and app share no need or wire: they run in a parallel branch, so only net → vm is ordered
    assert sorted(runner_calls) == [("net", "apply"), ("vm", "apply"), ("web", "apply")]
    assert runner_calls.index(("net", "apply")) < runner_calls.index(("vm", "apply"))


def _run_apply(flows: dict[str, Any]) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []

    def run_item(ref: str, provider: str | None = None, inputs: dict[str, Any] | None = None, mode: str = "apply",
                 targets: list[str] | None = None) -> dict[str, Any]:
        seen.append((ref.split(":")[1].split("@")[0], mode))
        return {"status": "success", "outputs": {"net_id": "n"}}

    FlowRunner(scripts={RUN_SCRIPT: run_item}, flows=flows.__getitem__).run(
        flows[flow_path("meta-pipeline:stack@1.0.0")], {"mode": "apply", "provider": "local", "targets": []})
    return seen
