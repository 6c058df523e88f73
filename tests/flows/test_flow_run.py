"""The local flow runner and composite runs.

End-to-end tests run real Ansible on localhost (the `local` provider) through run_item, with real
bare Git repos as catalogs, and lint every flow they produce with the pinned `wmill lint`. The
runner's unit tests use small Python script steps of their own (no stand-in for any tool).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from support.compose_catalog import entity_flows, lint_flows, pipe, runnable, string_inputs
from support.items import entity

import f.fractal.catalog.items as catalog
from f.fractal.flows.interpreter import FlowRunner
from f.fractal.model.errors import InvalidInput, NotFound
from f.fractal.run_item import main as run_item

pytestmark = pytest.mark.slow
STR = {"type": "string"}


def _find(steps: list[dict[str, Any]], *path: str) -> dict[str, Any]:
    for part in path:
        step = next(s for s in steps if s["id"] == part)
        steps = step.get("steps", [])
    return step


@pytest.fixture
def estate(make_target: Any) -> list[str]:
    """Three levels: meta-pipeline estate ⊃ meta-pipeline platform ⊃ pipelines ⊃ Ansible entities."""
    targets = [make_target("catalog")]
    for item in runnable():
        catalog.save(item, targets)
    catalog.save(
        pipe(
            "Pipeline",
            "app-setup",
            [
                {"id": "workdir", "ref": "entity:app-workdir@1.0.0", "inputs": {"base_dir": {"from": "inputs.base_dir"}}},
                {
                    "id": "config",
                    "ref": "entity:app-config@1.0.0",
                    "inputs": {"workdir": {"from": "steps.workdir.outputs.workdir"}, "greeting": "bonjour"},
                },
                {
                    "id": "sum",
                    "ref": "entity:file-checksum@1.0.0",
                    "inputs": {"config_path": {"from": "steps.config.outputs.config_path"}},
                },
            ],
            inputs=string_inputs("base_dir", required=("base_dir",)),
            outputs={
                "workdir": {"from": "steps.workdir.outputs.workdir", "type": "string"},
                "config_path": {"from": "steps.config.outputs.config_path", "type": "string"},
                "checksum": {"from": "steps.sum.outputs.checksum", "type": "string"},
            },
        ),
        targets,
    )
    catalog.save(
        pipe(
            "Pipeline",
            "app-report",
            [
                {
                    "id": "report",
                    "ref": "entity:checksum-report@1.0.0",
                    "inputs": {"checksum": {"from": "inputs.checksum"}, "report_dir": {"from": "inputs.report_dir"}},
                },
            ],
            inputs=string_inputs("checksum", "report_dir", required=("checksum", "report_dir")),
            outputs={"report_path": {"from": "steps.report.outputs.report_path"}},
        ),
        targets,
    )
    catalog.save(
        pipe(
            "Pipeline",
            "motd",
            [
                {
                    "id": "motd",
                    "ref": "entity:local-motd@1.0.0",
                    "inputs": {"motd_dir": {"from": "inputs.motd_dir"}, "message": {"from": "inputs.message"}},
                },
            ],
            inputs=string_inputs("motd_dir", "message", required=("motd_dir",)),
            outputs={"motd_path": {"from": "steps.motd.outputs.motd_path"}},
        ),
        targets,
    )
    catalog.save(
        pipe(
            "MetaPipeline",
            "platform",
            [
                {"id": "setup", "ref": "pipeline:app-setup@1.0.0", "inputs": {"base_dir": {"from": "inputs.base_dir"}}},
                {
                    "id": "report",
                    "ref": "pipeline:app-report@1.0.0",
                    "inputs": {"checksum": {"from": "steps.setup.outputs.checksum"}, "report_dir": {"from": "inputs.report_dir"}},
                },
            ],
            inputs=string_inputs("base_dir", "report_dir", required=("base_dir", "report_dir")),
            outputs={
                "workdir": {"from": "steps.setup.outputs.workdir"},
                "checksum": {"from": "steps.setup.outputs.checksum"},
                "config_path": {"from": "steps.setup.outputs.config_path"},
                "report_path": {"from": "steps.report.outputs.report_path"},
            },
        ),
        targets,
    )
    catalog.save(
        pipe(
            "MetaPipeline",
            "estate",
            [
                {
                    "id": "platform",
                    "ref": "meta-pipeline:platform@1.0.0",
                    "inputs": {"base_dir": {"from": "inputs.base_dir"}, "report_dir": {"from": "inputs.report_dir"}},
                },
                {
                    "id": "welcome",
                    "ref": "pipeline:motd@1.0.0",
                    "inputs": {"motd_dir": {"from": "steps.platform.outputs.workdir"}, "message": "written three levels down"},
                },
            ],
            inputs=string_inputs("base_dir", "report_dir", required=("base_dir", "report_dir")),
            outputs={
                "checksum": {"from": "steps.platform.outputs.checksum"},
                "report_path": {"from": "steps.platform.outputs.report_path"},
                "motd_path": {"from": "steps.welcome.outputs.motd_path"},
            },
        ),
        targets,
    )
    return targets


def test_three_levels_compile_lint_clean_and_run_end_to_end_with_real_ansible(estate: list[str], tmp_path: Path) -> None:
    flows = entity_flows("meta-pipeline:estate", estate)
    assert set(flows) == {
        "f/fractal_flows/meta_pipeline_platform_v1_0_0",
        "f/fractal_flows/pipeline_app_setup_v1_0_0",
        "f/fractal_flows/pipeline_app_report_v1_0_0",
        "f/fractal_flows/pipeline_motd_v1_0_0",
        "f/fractal_flows/meta_pipeline_estate_v1_0_0",
    }
    report = lint_flows(flows, tmp_path / "lint")
    assert report["success"] and report["validFiles"] == 5, report

    base, reports = tmp_path / "work", tmp_path / "reports"
    base.mkdir()
    result = run_item("meta-pipeline:estate", "local", {"base_dir": str(base), "report_dir": str(reports)}, "apply", estate)

    assert result["status"] == "success", (result["error"], result["failed_step"])
    conf = base / "demo-app" / "app.conf"
    assert conf.read_text() == "greeting=bonjour\n", "a literal reached the entity two levels down"
    digest = hashlib.sha256(conf.read_bytes()).hexdigest()
    assert (reports / "report.txt").read_text() == f"sha256 {digest}\n", (
        "pipeline → pipeline output wiring inside a meta-pipeline"
    )
    assert (base / "demo-app" / "motd").read_text() == "written three levels down\n", "meta → pipeline wiring at the top level"
    assert result["outputs"] == {
        "checksum": digest,
        "report_path": str(reports / "report.txt"),
        "motd_path": str(base / "demo-app" / "motd"),
    }
    assert result["provider"] == "local" and result["ref"] == "meta-pipeline:estate@1.0.0" and not result["failed_step"]

    # one entry per step at every level
    ran = [s["id"] for s in result["steps"] if s["status"] != "skipped"]  # the teardown steps are skipped in apply
    assert ran == ["platform", "welcome", "result"]
    inner = _find(result["steps"], "platform")["steps"]
    assert [s["id"] for s in inner if s["status"] != "skipped"] == ["setup", "report", "result"]
    leaf = _find(result["steps"], "platform", "setup", "sum")
    assert leaf["type"] == "script" and leaf["result"]["status"] == "success" and leaf["result"]["outputs"]["checksum"] == digest
    assert leaf["result"]["provider"] == "local" and leaf["result"]["version"] == "1.0.0"
    assert _find(result["steps"], "welcome", "motd")["result"]["inputs"]["motd_dir"] == str(base / "demo-app")
    # 5 entity runs + the result steps of app-setup, app-report, motd, platform and estate
    assert result["timings"]["scripts"] == 10


def test_a_failing_step_stops_its_pipeline_and_is_named(estate: list[str], tmp_path: Path) -> None:
    fail = entity(
        "always-fails",
        files={
            "site.yml": "- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n"
            "    - name: Break on purpose\n      ansible.builtin.fail:\n        msg: broken\n"
        },
    )
    catalog.save(fail, estate)
    catalog.save(
        pipe(
            "Pipeline",
            "broken",
            [
                {"id": "boom", "ref": "entity:always-fails@1.0.0"},
                {"id": "after", "ref": "entity:local-motd@1.0.0", "needs": ["boom"],  # ordered without a wire
                 "inputs": {"motd_dir": {"from": "inputs.motd_dir"}}},
            ],
            inputs=string_inputs("motd_dir", required=("motd_dir",)),
        ),
        estate,
    )
    catalog.save(
        pipe(
            "MetaPipeline",
            "broken-estate",
            [
                {"id": "first", "ref": "pipeline:motd@1.0.0", "inputs": {"motd_dir": {"from": "inputs.motd_dir"}}},
                {"id": "broken", "ref": "pipeline:broken@1.0.0", "needs": ["first"],
                 "inputs": {"motd_dir": {"from": "inputs.after_dir"}}},
            ],
            inputs=string_inputs("motd_dir", "after_dir", required=("motd_dir", "after_dir")),
        ),
        estate,
    )
    first, after = tmp_path / "first", tmp_path / "after"
    first.mkdir()
    after.mkdir()

    result = run_item("meta-pipeline:broken-estate", "local", {"motd_dir": str(first), "after_dir": str(after)}, "apply", estate)

    assert result["status"] == "failed" and result["failed_step"] == "broken.boom"
    assert "step boom (entity:always-fails@1.0.0) failed" in result["error"] and "Break on purpose" in result["error"]
    assert (first / "motd").exists() and not (after / "motd").exists(), "the step after the failure did not run"
    broken = _find(result["steps"], "broken")
    assert broken["status"] == "failed" and [s["id"] for s in broken["steps"]] == ["boom"]
    assert [s["id"] for s in result["steps"]] == ["first", "broken"]
    assert lint_flows(entity_flows("meta-pipeline:broken-estate", estate), tmp_path / "lint")["success"]


def test_steps_that_can_run_together_run_in_a_parallel_branch(estate: list[str], tmp_path: Path) -> None:
    catalog.save(
        pipe(
            "Pipeline",
            "twins",
            [
                {
                    "id": "left",
                    "ref": "entity:local-motd@1.0.0",
                    "inputs": {"motd_dir": {"from": "inputs.left"}, "message": "L"},
                },
                {
                    "id": "right",
                    "ref": "entity:local-motd@1.0.0",  # no needs, no wire to left: independent of it
                    "inputs": {"motd_dir": {"from": "inputs.right"}, "message": "R"},
                },
                {
                    "id": "sum",
                    "ref": "entity:file-checksum@1.0.0",
                    "inputs": {"config_path": {"from": "steps.right.outputs.motd_path"}},
                },
            ],
            inputs=string_inputs("left", "right", required=("left", "right")),
            outputs={"checksum": {"from": "steps.sum.outputs.checksum"}},
        ),
        estate,
    )
    flows = entity_flows("pipeline:twins", estate)
    flow = flows["f/fractal_flows/pipeline_twins_v1_0_0"]
    assert (
        flow["value"]["modules"][0]["value"]["type"] == "branchall" and flow["value"]["modules"][0]["value"]["parallel"] is True
    )
    after = flow["value"]["modules"][1]["value"]["input_transforms"]["inputs"]["expr"]
    assert 'results.together_1[1].outputs["motd_path"]' in after, "a wire reads the branch's result by index"
    assert lint_flows(flows, tmp_path / "lint")["success"]
    left, right = tmp_path / "l", tmp_path / "r"
    left.mkdir()
    right.mkdir()
    result = run_item("pipeline:twins", "local", {"left": str(left), "right": str(right)}, "apply", estate)
    assert result["status"] == "success", result["error"]
    assert result["outputs"]["checksum"] == hashlib.sha256(b"R\n").hexdigest()
    branches = _find(result["steps"], "together_1")["steps"]
    assert [b["steps"][0]["id"] for b in branches] == ["left", "right"]


def test_launches_are_refused_before_anything_runs(estate: list[str], tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="unknown provider 'mars'"):  # (one that fits alone is taken when none is given)
        run_item("pipeline:motd", "mars", {"motd_dir": str(tmp_path)}, "apply", estate)
    with pytest.raises(InvalidInput, match="provider exoscale does not fit"):
        run_item("pipeline:motd", "exoscale", {"motd_dir": str(tmp_path)}, "apply", estate)
    with pytest.raises(InvalidInput, match="needs motd_dir"):
        run_item("pipeline:motd", "local", {}, "apply", estate)
    with pytest.raises(InvalidInput, match="has no input 'colour'"):
        run_item("pipeline:motd", "local", {"motd_dir": str(tmp_path), "colour": "red"}, "apply", estate)
    with pytest.raises(InvalidInput, match="bad mode"):
        run_item("pipeline:motd", "local", {"motd_dir": str(tmp_path)}, "explode", estate)
    assert not (tmp_path / "motd").exists()


def test_a_secret_input_of_a_composite_never_appears_in_its_result(
    estate: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = "hunter2-swordfish-77"
    secret = {"type": "string", "format": "password", "description": "an API token"}
    inputs = string_inputs("motd_dir", required=("motd_dir", "api_token"))
    inputs["properties"]["api_token"] = secret
    wired = {"motd_dir": {"from": "inputs.motd_dir"}, "message": {"from": "inputs.api_token"}}
    steps = [{"id": "motd", "ref": "entity:local-motd@1.0.0", "inputs": wired}]
    catalog.save(pipe("Pipeline", "tokened", steps, inputs=inputs), estate)
    result = run_item("pipeline:tokened", "local", {"motd_dir": str(tmp_path), "api_token": token}, "apply", estate)
    assert result["status"] == "success", result["error"]
    assert (tmp_path / "motd").read_text() == f"{token}\n", "the step received the real value"
    assert result["inputs"] == {"motd_dir": str(tmp_path), "api_token": "***"}
    assert token not in json.dumps(result), "masked everywhere: inputs, step results, log"
    assert token not in capsys.readouterr().err


def test_check_mode_reaches_every_step_and_changes_nothing(estate: list[str], tmp_path: Path) -> None:
    result = run_item("pipeline:motd", "local", {"motd_dir": str(tmp_path)}, "check", estate)
    assert result["status"] == "success" and result["mode"] == "check"
    assert _find(result["steps"], "motd")["result"]["mode"] == "check"
    assert not (tmp_path / "motd").exists()


# ------------------------------------------------------------------ the runner on its own small scripts


def _flow(modules: list[dict[str, Any]], schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"summary": "test", "value": {"modules": modules}, "schema": schema or {"type": "object", "properties": {}}}


def _script(step_id: str, path: str, **transforms: Any) -> dict[str, Any]:
    return {"id": step_id, "value": {"type": "script", "path": path, "input_transforms": transforms}}


def _js(expr: str) -> dict[str, str]:
    return {"type": "javascript", "expr": expr}


SCRIPTS = {
    "f/test/add": lambda a, b: a + b,
    "f/test/echo": lambda value=None: value,
    "f/test/boom": lambda: 1 / 0,
}


def test_runner_supports_branches_loops_identity_and_transforms(tmp_path: Path) -> None:
    flow = _flow(
        [
            _script("a", "f/test/add", a=_js("flow_input.x"), b={"type": "static", "value": 10}),
            {
                "id": "pick",
                "value": {
                    "type": "branchone",
                    "default": [_script("never", "f/test/echo", value=_js("'default'"))],
                    "branches": [
                        {"expr": "results.a > 10", "modules": [_script("big", "f/test/echo", value=_js("'big ' + results.a"))]}
                    ],
                },
            },
            {
                "id": "each",
                "value": {
                    "type": "forloopflow",
                    "skip_failures": False,
                    "iterator": _js("[1, 2, 3]"),
                    "modules": [
                        _script(
                            "sq",
                            "f/test/add",
                            a=_js("flow_input.iter.value * flow_input.iter.value"),
                            b=_js("flow_input.iter.index"),
                        )
                    ],
                },
            },
            {
                "id": "count",
                "value": {
                    "type": "whileloopflow",
                    "skip_failures": False,
                    "modules": [
                        {
                            **_script("n", "f/test/echo", value=_js("flow_input.iter.index")),
                            "stop_after_if": {"expr": "result >= 2", "skip_if_stopped": False},
                        }
                    ],
                },
            },
            {"id": "skip", "skip_if": {"expr": "true"}, "value": {"type": "identity"}},
            {"id": "same", "value": {"type": "identity"}},
            {
                "id": "both",
                "value": {
                    "type": "branchall",
                    "parallel": True,
                    "branches": [
                        {"modules": [_script("l", "f/test/echo", value=_js("results.pick"))]},
                        {"modules": [_script("r", "f/test/echo", value=_js("results.each"))]},
                    ],
                },
            },
            {**_script("soft", "f/test/boom"), "continue_on_error": True},
            _script(
                "last",
                "f/test/echo",
                value=_js("({both: results.both, soft: results.soft.error.step_id, prev: previous_result.error.message})"),
            ),
        ],
        {"type": "object", "properties": {"x": {"type": "integer", "default": 5}}, "required": ["x"]},
    )
    out = FlowRunner(scripts=SCRIPTS).run(flow, {"x": 7})
    assert out["status"] == "ok", out
    assert out["result"] == {"both": ["big 17", [1, 5, 11]], "soft": "soft", "prev": "ZeroDivisionError: division by zero"}
    records = {r.id: r for r in out["steps"]}
    assert records["count"].steps and len(records["count"].steps) == 3
    assert records["skip"].status == "skipped" and records["pick"].steps[0].id == "branch_0"
    assert lint_flows({"f/test/runner_features": flow}, tmp_path / "lint")["success"]
    assert FlowRunner(scripts=SCRIPTS).run(flow, {})["result"]["both"][0] == "big 15", "the schema default fills x"


def test_runner_errors_are_clear(tmp_path: Path) -> None:
    failing = _flow(
        [_script("one", "f/test/echo", value=_js("1")), _script("two", "f/test/boom"), _script("three", "f/test/echo")]
    )
    out = FlowRunner(scripts=SCRIPTS).run(failing, {})
    assert out["status"] == "failed" and out["failed_step"] == "two" and "ZeroDivisionError" in out["error"]
    assert [r.id for r in out["steps"]] == ["one", "two"]
    bad_expr = FlowRunner(scripts=SCRIPTS).run(_flow([_script("x", "f/test/echo", value=_js("flow_input.nope.deeper"))]), {})
    assert bad_expr["failed_step"] == "x" and "TypeError" in bad_expr["error"]
    runaway = FlowRunner(scripts=SCRIPTS).run(
        _flow([_script("x", "f/test/echo", value=_js("(() => { while (true) {} })()"))]), {}
    )
    assert runaway["status"] == "failed" and "interrupted" in runaway["error"]
    raw = FlowRunner().run(
        _flow([{"id": "r", "value": {"type": "rawscript", "language": "bun", "content": "x", "input_transforms": {}}}]), {}
    )
    assert "rawscript steps are not run" in raw["error"]
    with pytest.raises(InvalidInput, match="needs x"):
        FlowRunner().run(_flow([], {"type": "object", "properties": {"x": STR}, "required": ["x"]}), {})
    with pytest.raises(InvalidInput, match="must be one of"):
        FlowRunner().run(_flow([], {"type": "object", "properties": {"p": {"type": "string", "enum": ["a"]}}}), {"p": "b"})
    nowhere = FlowRunner(flows=lambda p: (_ for _ in ()).throw(NotFound(f"no flow {p}"))).run(
        _flow([{"id": "sub", "value": {"type": "flow", "path": "f/x/y", "input_transforms": {}}}]), {}
    )
    assert nowhere["failed_step"] == "sub" and "no flow f/x/y" in nowhere["error"]
    broken = {"summary": "broken", "value": {"modules": [{"id": "a", "value": {"type": "scriptt", "path": "f/x"}}]}}
    report = lint_flows({"f/test/broken": broken}, tmp_path / "lint-broken")
    assert report["returncode"] == 1 and report["success"] is False, "wmill lint really checks the flows it is given"
