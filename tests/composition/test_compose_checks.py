"""Composite checks at save time, against real bare repos: each bad composite is refused with a
precise message and nothing is written (the remote's branch does not move)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from support.compose_catalog import lint_flows
from support.git import git_out
from support.items import entity

import f.fractal.catalog.items as catalog
import f.fractal.flows.compile as flowgen
import f.fractal.model.composite as composite
from f.fractal.model.errors import InvalidInput

STR = {"type": "string"}


def pipe(name: str, steps: list[dict[str, Any]], **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "fractal/v1", "kind": "Pipeline", "metadata": {"name": name}, "spec": {"steps": steps, **spec}}


def meta(name: str, steps: list[dict[str, Any]], **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "fractal/v1", "kind": "MetaPipeline", "metadata": {"name": name}, "spec": {"steps": steps, **spec}}


@pytest.fixture
def cat(make_target: Any, tmp_path: Path) -> dict[str, Any]:
    target = make_target("a")
    io = {"type": "object", "properties": {"hosts": {"type": "array"}, "label": STR}, "required": ["hosts"]}
    catalog.save(
        entity(
            "vm",
            tool="terraform",
            providers=["exoscale"],
            files={"main.tf": "# vm\n"},
            outputs={"ips": {"type": "array"}, "name": {"type": "string"}},
        ),
        [target],
    )
    catalog.save(entity("web", tool="ansible", providers=[], inputs=io, outputs={"url": {"type": "string"}}), [target])
    catalog.save(entity("gpu", tool="terraform", providers=["runpod"], files={"main.tf": "# gpu\n"}), [target])
    catalog.save(entity("motd", inputs={"type": "object", "properties": {"motd_dir": STR}, "required": ["motd_dir"]}), [target])
    return {"t": [target], "remote": tmp_path / "remotes" / "a.git"}


def _refused(cat: dict[str, Any], item: dict[str, Any], *fragments: str) -> InvalidInput:
    head = git_out(cat["remote"], "rev-parse", "main")
    with pytest.raises(InvalidInput) as info:
        catalog.save(item, cat["t"])
    for fragment in fragments:
        assert fragment in info.value.message, info.value.message
    assert git_out(cat["remote"], "rev-parse", "main") == head, "nothing may be written"
    return info.value


def test_a_good_pipeline_is_pinned_gets_its_providers_and_flow(cat: dict[str, Any], tmp_path: Path) -> None:
    item = pipe(
        "site",
        [
            {"id": "vm", "ref": "entity:vm@latest"},
            {"id": "web", "ref": "entity:web@1.0.0", "inputs": {"hosts": {"from": "steps.vm.outputs.ips"}, "label": "x"}},
        ],
    )
    saved = catalog.save(item, cat["t"])
    stored = catalog.get(saved["ref"], cat["t"])["item"]
    assert stored["spec"]["steps"][0]["ref"] == "entity:vm@1.0.0", "@latest is pinned at save"
    assert stored["spec"]["providers"] == ["exoscale"]
    flow = yaml.safe_load(stored["spec"]["files"]["flow.yaml"])
    assert flow["schema"]["properties"]["provider"]["enum"] == ["exoscale"]
    assert "flow.yaml" in git_out(cat["remote"], "ls-tree", "-r", "--name-only", "main", "pipelines/site/")
    readme = git_out(cat["remote"], "show", "main:pipelines/site/README.md")
    assert "entity:vm@1.0.0" in readme and "exoscale" in readme and "```mermaid" in readme
    assert catalog.save(stored, cat["t"])["targets"][0]["status"] == "unchanged", "compilation is deterministic"
    assert lint_flows({flowgen.flow_path(saved["ref"]): flow}, tmp_path / "lint")["success"]


def test_a_cycle_at_any_depth_is_refused(cat: dict[str, Any]) -> None:
    catalog.save(pipe("base", [{"id": "m", "ref": "entity:motd@1.0.0", "inputs": {"motd_dir": "/tmp"}}]), cat["t"])
    catalog.save(meta("inner", [{"id": "b", "ref": "pipeline:base@1.0.0"}]), cat["t"])
    catalog.save(meta("outer", [{"id": "i", "ref": "meta-pipeline:inner@1.0.0"}]), cat["t"])
    error = _refused(
        cat,
        meta("inner", [{"id": "b", "ref": "pipeline:base@1.0.0"}, {"id": "o", "ref": "meta-pipeline:outer@1.0.0"}]),
        "cycle",
        "meta-pipeline:inner → meta-pipeline:outer → meta-pipeline:inner",
    )
    assert error.data["errors"]
    _refused(
        cat,
        meta("self", [{"id": "b", "ref": "pipeline:base@1.0.0"}, {"id": "me", "ref": "meta-pipeline:inner@1.0.0"}])
        | {"metadata": {"name": "inner"}},
        "cannot contain itself",
    )


def test_a_cycle_between_steps_is_refused(cat: dict[str, Any]) -> None:
    steps = [
        {"id": "a", "ref": "entity:motd@1.0.0", "needs": ["b"], "inputs": {"motd_dir": "/x"}},
        {"id": "b", "ref": "entity:motd@1.0.0", "needs": ["a"], "inputs": {"motd_dir": "/y"}},
    ]
    _refused(cat, pipe("loop", steps), "steps form a cycle: a → b → a")


def test_members_that_need_different_providers_get_a_slot_each(cat: dict[str, Any]) -> None:
    """Provider bindings per member: a fixed provider is checked against each member it binds; members
    that share no provider get one launch slot each, every slot a dropdown of what fits."""
    saved = catalog.save(pipe("mixed", [{"id": "vm", "ref": "entity:vm@1.0.0"}, {"id": "gpu", "ref": "entity:gpu@1.0.0"}]),
                         cat["t"])
    stored = catalog.get(saved["ref"], cat["t"])["item"]
    schema = yaml.safe_load(stored["spec"]["files"]["flow.yaml"])["schema"]
    assert schema["properties"]["provider_vm"]["enum"] == ["exoscale"]
    assert schema["properties"]["provider_gpu"]["enum"] == ["runpod"] and "provider" not in schema["properties"]
    assert stored["spec"]["providers"] == ["exoscale", "runpod"]
    _refused(
        cat,
        pipe("fixed", [{"id": "vm", "ref": "entity:vm@1.0.0"}], provider="local"),
        "provider local does not fit step vm (it fits exoscale)",
    )
    _refused(
        cat,
        pipe("stepfixed", [{"id": "vm", "ref": "entity:vm@1.0.0", "provider": "runpod"}]),
        "provider runpod does not fit step vm (it fits exoscale)",
    )
    _refused(cat, pipe("nowhere", [{"id": "vm", "ref": "entity:vm@1.0.0", "provider": "mars"}]),
             "step vm: provider 'mars' is unknown")
    catalog.save(pipe("gpus", [{"id": "gpu", "ref": "entity:gpu@1.0.0"}]), cat["t"])
    catalog.save(pipe("vms", [{"id": "vm", "ref": "entity:vm@1.0.0"}]), cat["t"])
    both = catalog.save(meta("both", [{"id": "g", "ref": "pipeline:gpus@1.0.0"}, {"id": "v", "ref": "pipeline:vms@1.0.0"}]),
                        cat["t"])
    flow = yaml.safe_load(catalog.get(both["ref"], cat["t"])["item"]["spec"]["files"]["flow.yaml"])
    assert [flow["schema"]["properties"][s]["enum"] for s in ("provider_g", "provider_v")] == [["runpod"], ["exoscale"]]
    together = flow["value"]["modules"][0]["value"]  # g and v share no need or wire: one parallel branch each
    assert together["type"] == "branchall" and together["parallel"] is True
    calls = {m["id"]: m["value"]["input_transforms"]["provider"] for b in together["branches"] for m in b["modules"]}
    assert calls == {"g": {"type": "javascript", "expr": 'flow_input["provider_g"]'},
                     "v": {"type": "javascript", "expr": 'flow_input["provider_v"]'}}
    _refused(cat, meta("pinned", [{"id": "g", "ref": "pipeline:gpus@1.0.0", "provider": "exoscale"}]),
             "provider exoscale does not fit step g (provider of pipeline:gpus@1.0.0 fits runpod)")
    on_exoscale = catalog.list_items(cat["t"], provider="exoscale")["items"]
    assert [r["name"] for r in on_exoscale if r["kind"] != "Entity"] == ["both", "mixed", "vms"], "what really fits"
    assert {r["name"] for r in on_exoscale if r["kind"] == "Entity"} == {"vm", "web"}
    with pytest.raises(InvalidInput, match="unknown provider 'mars'"):
        catalog.list_items(cat["t"], provider="mars")


def test_an_unbound_required_input_is_refused(cat: dict[str, Any]) -> None:
    _refused(
        cat,
        pipe("nohosts", [{"id": "web", "ref": "entity:web@1.0.0"}]),
        "step web (entity:web@1.0.0): required input 'hosts' is not bound",
    )
    _refused(
        cat,
        pipe("undeclared", [{"id": "m", "ref": "entity:motd@1.0.0", "inputs": {"motd_dir": {"from": "inputs.dir"}}}]),
        "wired from inputs.dir, which is not declared in spec.inputs",
    )


@pytest.mark.parametrize(
    ("steps", "fragment"),
    [
        (
            [
                {"id": "vm", "ref": "entity:vm@1.0.0"},
                {"id": "web", "ref": "entity:web@1.0.0", "inputs": {"hosts": {"from": "steps.vm.outputs.name"}}},
            ],
            "type mismatch: steps.vm.outputs.name is string, expected array",
        ),
        (
            [
                {"id": "vm", "ref": "entity:vm@1.0.0"},
                {"id": "web", "ref": "entity:web@1.0.0", "inputs": {"hosts": {"from": "steps.vm.outputs.ip"}}},
            ],
            "declares no output 'ip' (its outputs: ips, name)",
        ),
        (
            [
                {"id": "web", "ref": "entity:web@1.0.0", "inputs": {"hosts": {"from": "steps.vm.outputs.ips"}}},
                {"id": "vm", "ref": "entity:vm@1.0.0", "needs": ["web"]},
            ],
            "steps form a cycle",
        ),
        (
            [
                {"id": "vm", "ref": "entity:vm@1.0.0", "needs": []},
                {"id": "web", "ref": "entity:web@1.0.0", "needs": [], "inputs": {"hosts": ["a"], "colour": 1}},
            ],
            "unknown input 'colour'",
        ),
        ([{"id": "web", "ref": "entity:web@1.0.0", "inputs": {"hosts": "not-a-list"}}], "literal 'not-a-list' is not array"),
        ([{"id": "x", "ref": "entity:nope@1.0.0"}], "entity:nope@1.0.0 is in none of the catalog targets"),
        ([{"id": "vm", "ref": "entity:vm@9.9.9"}], "entity:vm@9.9.9 is in none of the catalog targets"),
    ],
)
def test_bad_wiring_and_refs_are_refused(cat: dict[str, Any], steps: list[dict[str, Any]], fragment: str) -> None:
    _refused(cat, pipe("bad", steps), fragment)


def test_outputs_must_come_from_steps(cat: dict[str, Any]) -> None:
    steps = [{"id": "vm", "ref": "entity:vm@1.0.0"}]
    _refused(cat, pipe("out", steps, outputs={"x": {"from": "steps.vm.outputs.nope"}}), "output 'x'", "declares no output 'nope'")
    _refused(cat, pipe("out", steps, outputs={"x": {"from": "inputs.a"}}), "output 'x': bad source")


def test_a_required_input_wired_from_an_optional_composite_input_is_refused(cat: dict[str, Any]) -> None:
    steps = [{"id": "m", "ref": "entity:motd@1.0.0", "inputs": {"motd_dir": {"from": "inputs.dir"}}}]
    optional = {"type": "object", "properties": {"dir": STR}}
    _refused(
        cat,
        pipe("maybe", steps, inputs=optional),
        "step m (entity:motd@1.0.0): required input 'motd_dir' is not bound: inputs.dir is optional with no default",
    )
    with_default = {"type": "object", "properties": {"dir": {**STR, "default": "/tmp"}}}
    assert catalog.save(pipe("defaulted", steps, inputs=with_default), cat["t"])["ref"] == "pipeline:defaulted@1.0.0"
    assert catalog.save(pipe("required", steps, inputs={**optional, "required": ["dir"]}), cat["t"])["ref"]


def test_needs_or_wires_naming_an_unknown_step_are_errors_not_crashes(cat: dict[str, Any]) -> None:
    resolver = catalog.resolver(cat["t"])
    steps = [
        {"id": "a", "ref": "entity:motd@1.0.0", "inputs": {"motd_dir": "/x"}},
        {"id": "b", "ref": "entity:web@1.0.0", "needs": ["ghost"], "inputs": {"hosts": {"from": "steps.phantom.outputs.ips"}}},
    ]
    analysis = composite.analyze(pipe("lost", steps), resolver)
    assert analysis.errors == [
        "step b needs 'ghost', which is not a step here (steps: a, b)",
        "step b is wired from 'phantom', which is not a step here (steps: a, b)",
    ]


def test_the_checks_and_the_flow_layout_share_one_dependency_rule() -> None:
    steps = [
        {"id": "a", "ref": "entity:x@1.0.0"},
        {"id": "b", "ref": "entity:x@1.0.0", "needs": []},
        {"id": "c", "ref": "entity:x@1.0.0", "needs": ["a"], "inputs": {"v": {"from": "steps.b.outputs.o"}, "w": 1}},
        {"id": "d", "ref": "entity:x@1.0.0", "inputs": {"v": {"from": "steps.a.outputs.o"}}},
    ]
    # Only needs and wires order steps: d waits for a (its wire), not for c (the step before it).
    assert composite.step_deps(steps) == {"a": [], "b": [], "c": ["a", "b"], "d": ["a"]}
    assert [[s["id"] for s in level] for level in flowgen._levels(steps)] == [["a", "b"], ["c", "d"]]


def test_wired_names_reach_javascript_as_json_strings_never_as_code() -> None:
    """Defense in depth: the model refuses such names, but the compiler must not paste them into code either."""
    from f.fractal.flows.interpreter import Scope
    from f.fractal.model.composite import Slot

    name = 'x, "w": (globalThis.hacked = 1)'
    item = pipe("guarded", [{"id": "s", "ref": "entity:x@1.0.0", "inputs": {"v": {"from": f"inputs.{name}"}}}])
    flow = flowgen.compile_flow(item, {"entity:x@1.0.0": entity("x")}, [Slot("provider", ["local"], [("s", "")])])
    expr = flow["value"]["modules"][0]["value"]["input_transforms"]["inputs"]["expr"]
    assert expr == '({"v": flow_input["x, \\"w\\": (globalThis.hacked = 1)"]})'
    scope = Scope({name: "value"})
    assert scope.eval(expr) == {"v": "value"} and scope.eval("typeof globalThis.hacked") == "undefined"
    result_expr = flow["value"]["modules"][1]["value"]["input_transforms"]["steps"]["expr"]
    assert result_expr == '({"s": results.s})'
