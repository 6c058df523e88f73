"""The LLM repair loop — the LLM is SCRIPTED (tests/llm_server.ScriptedLLM on 127.0.0.1, replies in order, the
last one repeated); the parser, the validators and the conformance check are real.

A realistic mediocre model: the same Deployment whatever is asked, :latest images, wrong answer shapes.
"""

from __future__ import annotations

from typing import Any

import pytest
from support.llm_server import ScriptedLLM
from support.llm_server import entity_answer as answer

from f.fractal.generation.generator import GenerationFailed, generate, parse_answer

NEED = "a HorizontalPodAutoscaler for the web deployment between 2 and 10 replicas on k3s"
DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 10
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx:1.27
          resources:
            limits: {cpu: 500m, memory: 256Mi}
"""
HPA = """apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 10
"""


def reply(files: dict[str, str]) -> str:
    return answer("kubernetes", files, "k3s", "web-hpa")


def test_a_deployment_offered_for_an_hpa_is_fed_back_and_fixed(use_llm: object) -> None:
    with ScriptedLLM([reply({"manifests.yaml": DEPLOYMENT}), reply({"hpa.yaml": HPA})]) as server:
        result = generate(NEED, tool="kubernetes", provider="k3s", llm=server.config)
    first, second = result["attempts"]
    assert not first["ok"] and any("HorizontalPodAutoscaler" in e["message"] and "Deployment" in e["message"]
                                   for e in first["errors"])
    assert second["ok"] and "HorizontalPodAutoscaler" in result["draft"]["spec"]["files"]["hpa.yaml"]
    asks = server.user_turns()
    assert "Requirements read from the need" in asks[0] and "HorizontalPodAutoscaler" in asks[0]  # restated up front
    assert "HorizontalPodAutoscaler" in asks[1] and "did not pass" in asks[1]


def test_the_same_deployment_every_time_fails_clearly(use_llm: object) -> None:
    with ScriptedLLM([reply({"manifests.yaml": DEPLOYMENT})]) as server, pytest.raises(GenerationFailed) as e:
        generate(NEED, tool="kubernetes", provider="k3s", llm=server.config, attempts=2)
    assert all(not a["ok"] for a in e.value.data["attempts"]) and "HorizontalPodAutoscaler" in e.value.message


def test_warnings_are_fed_back_once_and_a_failed_fix_keeps_the_valid_draft(use_llm: object) -> None:
    latest = HPA + "---\n" + DEPLOYMENT.replace("nginx:1.27", "nginx:latest")
    fixed = HPA + "---\n" + DEPLOYMENT
    with ScriptedLLM([reply({"m.yaml": latest}), reply({"m.yaml": fixed})]) as server:
        result = generate(NEED, tool="kubernetes", provider="k3s", llm=server.config)
    assert [a["ok"] for a in result["attempts"]] == [True, True] and result["report"]["warnings"] == []
    assert "latest" in server.user_turns()[1] and "warnings" in server.user_turns()[1]
    with ScriptedLLM([reply({"m.yaml": latest}), "sorry, I cannot"]) as server:
        kept = generate(NEED, tool="kubernetes", provider="k3s", llm=server.config)
    assert len(kept["attempts"]) == 2 and "nginx:latest" in kept["draft"]["spec"]["files"]["m.yaml"]
    assert kept["report"]["ok"] and kept["report"]["warnings"]  # the valid draft, its warnings still reported


@pytest.mark.parametrize(("answer", "said"), [
    ('```json\n{"entity": "web", "manifests": "kind: HorizontalPodAutoscaler"}\n```', "keys entity, manifests"),
    ('{"name": "web", "yaml": "kind: Namespace"}', "keys name, yaml"),
    ('[1, 2]', "a list of 2 items"),
])
def test_a_wrong_answer_shape_is_told_what_was_received_and_what_is_expected(answer: str, said: str) -> None:
    with pytest.raises(ValueError) as e:
        parse_answer(answer, "terraform")
    assert said in str(e.value) and '"<path>": "<file text>"' in str(e.value)


def test_files_of_the_wrong_shape_are_described() -> None:
    from f.fractal.generation.generator import build_entity

    with pytest.raises(ValueError, match="it is a list of 1 items"):
        build_entity({"files": ["main.tf"]}, need="x", name=None, provider=None)


def test_an_unrelated_draft_lists_what_it_misses(use_llm: object) -> None:
    """Names are warnings (reported in `unused`), values are errors: a PVC of 50 GB named uploads."""
    pvc = ("apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\nspec:\n  accessModes: [ReadWriteOnce]\n"
           "  resources:\n    requests:\n      storage: 50Gi\n")
    with ScriptedLLM([reply({"pvc.yaml": pvc})]) as server:
        result = generate("a PVC of 50 GB named uploads on k3s", tool="kubernetes", provider="k3s", llm=server.config,
                          attempts=1)
    report: dict[str, Any] = result["report"]
    assert report["ok"] and [u["text"] for u in report["unused"]] == ["uploads"]
    assert any("uploads" in w["message"] for w in report["warnings"])


def test_every_check_runs_after_a_parse_error_where_it_still_can() -> None:
    """A broken main.tf does not hide an unpinned provider's literal key elsewhere, nor a wrong tool the manifests' errors."""
    from f.fractal.tools.validate import validate_files

    files = {"main.tf": 'resource "x" "y" {\n  a = \n}\n',
             "providers.tf": 'provider "exoscale" {\n  key = "EXOabcdef0123456789"\n}\n',
             "outputs.tf": 'output "ip" {\n  value = 1\n}\n'}
    report = validate_files("terraform", files)
    messages = " ".join(e["message"] for e in report["errors"] + report["warnings"])
    assert "invalid HCL" in messages and "hard-coded credential" in messages and "no description" in messages
    assert {s["check"] for s in report["checks_skipped"]} >= {"variables declared and used", "terraform fmt"}
    draft = {"apiVersion": "fractal/v1", "kind": "Entity", "metadata": {"name": "web"},
             "spec": {"tool": "kubernetes", "providers": ["local"], "files": {"m.yaml": "kind: Deployment\n"}}}
    from f.fractal.tools.validate import validate_entity

    wrong = validate_entity(draft, tool="terraform")
    assert any("terraform entity was asked" in e["message"] for e in wrong["errors"])
    assert any("apiVersion" in e["message"] for e in wrong["errors"])  # the manifests were still checked
