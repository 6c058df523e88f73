"""Composition with an LLM. THE LLM IS SCRIPTED: tests/support/llm_server.ScriptedLLM, an OpenAI-compatible
server on 127.0.0.1, answers in place of a model (the suite's only stand-in). Everything else is
real: litellm, the catalog of 36 entities in a bare Git repo, retrieval, the checks, wmill lint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.compose_catalog import all_entities, lint_flows, save_all
from support.llm_server import ScriptedLLM

import f.fractal.composition.composer as compose
from f.fractal.compose_pipeline import main as compose_pipeline
from f.fractal.model.errors import InvalidInput


@pytest.fixture
def targets(make_target: Any) -> list[str]:
    targets = [make_target("catalog")]
    save_all(targets)
    return targets


GOOD = {
    "name": "web-on-exoscale",
    "description": "Instances on Exoscale serving nginx",
    "provider": "exoscale",
    "steps": [
        {"id": "vms", "ref": "entity:exoscale-compute-instance@1.0.0", "summary": "the machines", "inputs": {"count": 2}},
        {"id": "web", "ref": "entity:nginx-webserver@1.0.0", "inputs": {"hosts": {"from": "steps.vms.outputs.ips"}}},
    ],
    "gaps": [{"need": "a CDN in front", "tool": "terraform", "provider": "exoscale"}],
    "explanation": "machines first, then nginx on their IPs",
}


def test_the_model_chooses_among_top_candidates_and_fixes_its_mistake(targets: list[str], tmp_path: Path) -> None:
    """Scripted LLM: first a ref that is not a candidate (with prose around), then a clean fenced answer."""
    wrong = {**GOOD, "steps": [{"id": "web", "ref": "entity:nginx@2.0.0"}]}
    replies = [f"Sure! Here it is: {json.dumps(wrong)} Hope it helps.", f"```json\n{json.dumps(GOOD)}\n```"]
    with ScriptedLLM(replies) as llm:
        request = compose.Request(need="two machines on Exoscale with nginx, behind a CDN", targets=targets)
        result = compose.compose(request, _config(llm))
    assert result["checks"]["ok"], result["checks"]
    spec = result["draft"]["spec"]
    assert [s["ref"] for s in spec["steps"]] == ["entity:exoscale-compute-instance@1.0.0", "entity:nginx-webserver@1.0.0"]
    assert spec["steps"][0]["inputs"]["count"] == 2 and spec["steps"][0]["inputs"]["zone"] == {"from": "inputs.zone"}, "autowired"
    assert spec["provider"] == "exoscale" and result["draft"]["metadata"]["name"] == "web-on-exoscale"
    assert result["explanation"] == "machines first, then nginx on their IPs"
    assert result["gaps"][0]["generate_entity"] == {
        "need": "a CDN in front",
        "tool": "terraform",
        "provider": "exoscale",
        "name": "cdn-front",
    }
    provenance = result["draft"]["provenance"]
    assert provenance["generator"] == "llm" and provenance["attempts"] == 2 and provenance["model"] == "openai/scripted"
    first, second = llm.requests
    prompt = first["messages"][-1]["content"]
    listed = [line for line in prompt.splitlines() if line.startswith('{"ref"')]
    assert 2 <= len(listed) <= compose.TOP_OVERALL < len(all_entities()), "only the top candidates reach the model"
    assert "entity:nginx-webserver@1.0.0" in prompt and "entity:cert-manager" not in prompt
    assert "entity:nginx@2.0.0 is not one of the candidates" in second["messages"][-1]["content"]
    assert "scripted-key" not in llm.prompts()
    report = lint_flows({"f/fractal_flows/pipeline_web_on_exoscale": yaml.safe_load(spec["files"]["flow.yaml"])}, tmp_path / "l")
    assert report["success"], report


def test_check_errors_are_fed_back_to_the_model(targets: list[str]) -> None:
    """Scripted LLM: a wire from an output that does not exist, then the fix."""
    bad = {
        **GOOD,
        "steps": [GOOD["steps"][0], {**GOOD["steps"][1], "inputs": {"hosts": {"from": "steps.vms.outputs.addresses"}}}],
    }
    with ScriptedLLM([json.dumps(bad), json.dumps(GOOD)]) as llm:
        result = compose.compose(compose.Request(need="machines then nginx on Exoscale", targets=targets), _config(llm))
    assert result["checks"]["ok"] and result["draft"]["provenance"]["attempts"] == 2
    assert "declares no output 'addresses' (its outputs: ips)" in llm.requests[1]["messages"][-1]["content"]


def test_a_malformed_answer_is_fed_back_not_a_crash(targets: list[str]) -> None:
    """Scripted LLM: first an answer whose fields have the wrong shapes, then a good one."""
    malformed = {
        **GOOD,
        "provider": ["exoscale"],
        "steps": [{**GOOD["steps"][0], "inputs": "count"}, {**GOOD["steps"][1], "needs": "vms"}],
        "gaps": 5,
    }
    with ScriptedLLM([json.dumps(malformed), json.dumps(GOOD)]) as llm:
        result = compose.compose(compose.Request(need="machines then nginx on Exoscale", targets=targets), _config(llm))
    assert result["checks"]["ok"] and result["draft"]["provenance"]["attempts"] == 2
    feedback = llm.requests[1]["messages"][-1]["content"]
    for problem in (
        "'provider' must be a string or null, got list",
        "'gaps' must be a list, got int",
        "step vms: 'inputs' must be an object {input: value}, got str",
        "step web: 'needs' must be a list of step ids",
    ):
        assert problem in feedback, feedback


def test_persistent_garbage_is_a_clear_failure_after_three_attempts(targets: list[str]) -> None:
    """Scripted LLM: never a usable answer."""
    with (
        ScriptedLLM(["I cannot do that.", "still no json", '{"steps": []}']) as llm,
        pytest.raises(InvalidInput, match="no valid Pipeline in 3 attempts") as info,
    ):
        compose.compose(compose.Request(need="machines then nginx", targets=targets), _config(llm))
    assert [a["attempt"] for a in info.value.data["attempts"]] == [1, 2, 3]
    assert "no JSON object" in info.value.data["attempts"][0]["errors"][0]
    assert len(llm.requests) == 3


def test_refinement_by_dialogue_sends_the_history(targets: list[str]) -> None:
    """Scripted LLM: a first draft, then a refined one after the operator's message."""
    refined = {
        **GOOD,
        "steps": [
            *GOOD["steps"],
            {"id": "metrics", "ref": "entity:node-exporter@1.0.0", "inputs": {"hosts": {"from": "steps.vms.outputs.ips"}}},
        ],
        "gaps": [],
    }
    with ScriptedLLM([json.dumps(GOOD), json.dumps(refined)]) as llm:
        first = compose.compose(compose.Request(need="machines then nginx on Exoscale", targets=targets), _config(llm))
        second = compose.compose(
            compose.Request(need="add node exporter monitoring", targets=targets, conversation=first["conversation"]),
            _config(llm),
        )
    assert [s["id"] for s in second["draft"]["spec"]["steps"]] == ["vms", "web", "metrics"]
    sent = [m["content"] for m in llm.requests[1]["messages"]]
    assert "machines then nginx on Exoscale" in sent[1] and json.dumps(GOOD) == sent[2] and "add node exporter" in sent[-1]
    assert len(second["conversation"]) == 4


def test_the_script_uses_the_configured_llm_resource(targets: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Scripted LLM, configured through FRACTAL_LLM_* like an operator would."""
    with ScriptedLLM([json.dumps({**GOOD, "gaps": []})]) as llm:
        monkeypatch.setenv("FRACTAL_LLM_MODEL", "openai/scripted")
        monkeypatch.setenv("FRACTAL_LLM_API_BASE", llm.url)
        monkeypatch.setenv("FRACTAL_LLM_API_KEY", "scripted-key")
        result = compose_pipeline("machines then nginx on Exoscale", targets=targets, save=True)
        offline = compose_pipeline("a compute instance on Exoscale then nginx on it", targets=targets, llm="offline")
    assert result["saved"]["ref"] == "pipeline:web-on-exoscale@1.0.0" and len(llm.requests) == 1
    assert offline["draft"]["provenance"]["generator"] == "offline"


def _config(llm: ScriptedLLM) -> Any:
    from f.fractal.platform.llm import load_config

    return load_config(llm.config)
