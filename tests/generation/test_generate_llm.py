"""Generation with an LLM — the LLM is SCRIPTED: tests/support/llm_server.ScriptedLLM, an OpenAI-compatible server
on 127.0.0.1, answers each call with the next scripted reply and records what the pack sent.
Everything else is real: litellm, the prompt guard, the answer parser, the validators, Git.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.llm_server import LLM_PATH, ScriptedLLM
from support.llm_server import entity_answer as answer

import f.fractal.generate_entity as generate_entity
import f.fractal.platform.llm as llm
import f.fractal.platform.workspace as workspace
import f.fractal.refine_entity as refine_entity
from f.fractal.generation.generator import parse_answer
from f.fractal.model.errors import ConfigError, GenerationFailed, InvalidInput, Unreachable

VERSIONS_TF = ('terraform {\n  required_providers {\n    local = {\n      source  = "hashicorp/local"\n'
               '      version = "~> 2.5"\n    }\n  }\n}\n')
MAIN_TF = 'resource "local_file" "motd" {\n  filename = var.path\n  content  = "hello"\n}\n'
VARIABLES_TF = 'variable "path" {\n  type        = string\n  description = "Where to write"\n  default     = "/tmp/motd"\n}\n'
TF_FILES = {"main.tf": MAIN_TF, "variables.tf": VARIABLES_TF, "versions.tf": VERSIONS_TF}
MANIFEST = ("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n---\napiVersion: v1\nkind: ResourceQuota\n"
            "metadata:\n  name: team-a-quota\n  namespace: team-a\nspec:\n  hard:\n    pods: \"20\"\n")
EXO_KEY = "EXO0123456789abcdef01234567"
EXO_SECRET = "Zq8vR2mT5wX9yB3nK7pL1sD4"


def test_clean_answer(use_llm: Callable[..., str]) -> None:
    """Scripted LLM: one clean JSON answer → a valid draft at the first attempt, with provenance."""
    with ScriptedLLM([answer("terraform", TF_FILES)]) as server:
        result = generate_entity.main("write a motd file here", tool="terraform", provider="local", llm=use_llm(server))
    draft = result["draft"]
    assert result["report"]["ok"] and result["generator"] == "llm"
    assert draft["spec"]["files"]["main.tf"] == MAIN_TF
    assert draft["spec"]["inputs"]["properties"]["path"]["default"] == "/tmp/motd"  # read from variables.tf
    prov = draft["provenance"]
    assert prov["model"] == "openai/scripted" and prov["attempts"] == 1 and prov["prompt_digest"].startswith("sha256:")
    assert prov["validation"]["ok"] and prov["time"]
    system = server.requests[0]["messages"][0]["content"]
    assert "Rules for terraform" in system and "Provider local" in system  # tool rules + provider facts
    assert [m["role"] for m in result["conversation"]] == ["user", "assistant"]


def test_fenced_answer_with_prose(use_llm: Callable[..., str]) -> None:
    """Scripted LLM: prose around fenced HCL blocks, file names in the fence info or the line before."""
    reply = ("Sure! Here is the module.\n\n```hcl main.tf\n" + MAIN_TF + "```\n\n**variables.tf**\n```hcl\n" + VARIABLES_TF
             + "```\n```terraform title=versions.tf\n" + VERSIONS_TF + "```\nLet me know if you need anything else.")
    with ScriptedLLM([reply]) as server:
        result = generate_entity.main("a motd file", tool="terraform", provider="local", name="motd", llm=use_llm(server))
    assert result["report"]["ok"], result["report"]["errors"]
    assert set(result["draft"]["spec"]["files"]) == {"main.tf", "variables.tf", "versions.tf"}
    assert result["draft"]["metadata"]["name"] == "motd"


def test_invalid_hcl_fixed_on_second_attempt(use_llm: Callable[..., str]) -> None:
    """Scripted LLM: broken HCL first; the parse error (with its line) is fed back; the fix passes."""
    broken = {**TF_FILES, "main.tf": 'resource "local_file" "motd" {\n  filename = \n}\n'}
    with ScriptedLLM([answer("terraform", broken), answer("terraform", TF_FILES)]) as server:
        result = generate_entity.main("a motd file", tool="terraform", provider="local", llm=use_llm(server))
    assert result["report"]["ok"] and len(result["attempts"]) == 2
    assert not result["attempts"][0]["ok"] and result["attempts"][0]["errors"][0]["file"] == "main.tf"
    feedback = server.user_turns()[1]
    assert "invalid HCL" in feedback and "main.tf line 2" in feedback
    assert result["draft"]["provenance"]["attempts"] == 2


def test_invalid_yaml_fixed(use_llm: Callable[..., str]) -> None:
    """Scripted LLM: a manifest with broken indentation, then a valid one."""
    bad = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n   labels: [\n"
    with ScriptedLLM([answer("kubernetes", {"namespace.yaml": bad}, "k3s", "team-a"),
                      answer("kubernetes", {"namespace.yaml": MANIFEST}, "k3s", "team-a")]) as server:
        result = generate_entity.main("a namespace team-a with a quota", tool="kubernetes", provider="k3s", llm=use_llm(server))
    assert result["report"]["ok"] and len(result["attempts"]) == 2
    assert "not valid YAML" in result["attempts"][0]["errors"][0]["message"]
    assert "namespace.yaml" in server.user_turns()[1]


SERVICE = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n"


def test_odd_manifest_shape_is_fed_back_not_a_crash(use_llm: Callable[..., str]) -> None:
    """The LLM is scripted: `ports: 80` (not a list) first — a finding fed back, not a TypeError; the fix passes."""
    odd = SERVICE.replace("[{port: 80}]", "80")
    with ScriptedLLM([answer("kubernetes", {"service.yaml": odd}, "k3s", "web"),
                      answer("kubernetes", {"service.yaml": SERVICE}, "k3s", "web")]) as server:
        result = generate_entity.main("a service for web on k3s", tool="kubernetes", provider="k3s", llm=use_llm(server))
    assert result["report"]["ok"] and len(result["attempts"]) == 2
    first = result["attempts"][0]["errors"][0]
    assert first["file"] == "service.yaml" and "spec.ports must be a list, not a number" in first["message"]
    assert "service.yaml line 1: Service web: spec.ports must be a list" in server.user_turns()[1]


DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx:1.27
          resources: {limits: {cpu: 100m}}
          env:
            - name: API_KEY
              valueFrom: {secretKeyRef: {name: web-api, key: api_key}}
"""


@pytest.mark.parametrize("need", ["a Deployment on k3s that reads its API key from a Kubernetes Secret",
                                  "a vast array of nginx pods on k3s"])
def test_keyword_guesses_are_hints_not_rules(use_llm: Callable[..., str], need: str) -> None:
    """The LLM is scripted: the wording suggests tool secret / provider vastai, but only the caller's tool and
    provider are rules — a valid Kubernetes answer on k3s is accepted at once, and no guess is sent as a constraint."""
    with ScriptedLLM([answer("kubernetes", {"manifests.yaml": DEPLOYMENT}, "k3s", "web")]) as server:
        result = generate_entity.main(need, llm=use_llm(server))
    assert result["report"]["ok"], result["attempts"]
    assert len(result["attempts"]) == 1 and result["draft"]["spec"]["providers"] == ["k3s"]
    ask = server.user_turns()[0]
    assert "\nTool:" not in ask and "\nProvider:" not in ask
    assert "tool is one of: terraform, ansible, kubernetes, secret" in server.requests[0]["messages"][0]["content"]


def test_wrong_tool_is_refused_then_fixed(use_llm: Callable[..., str]) -> None:
    """Scripted LLM: asked for Terraform, it answers Ansible first; the mismatch is fed back."""
    playbook = "- name: Motd\n  hosts: localhost\n  tasks: []\n"
    with ScriptedLLM([answer("ansible", {"site.yml": playbook}), answer("terraform", TF_FILES)]) as server:
        result = generate_entity.main("a motd file", tool="terraform", provider="local", llm=use_llm(server))
    assert result["draft"]["spec"]["tool"] == "terraform"
    assert "tool is ansible, but a terraform entity was asked for" in result["attempts"][0]["errors"][0]["message"]


def test_persistent_garbage_fails_clearly_after_n_attempts(use_llm: Callable[..., str]) -> None:
    """Scripted LLM: prose with no JSON and no code, every time → GenerationFailed listing each attempt."""
    with ScriptedLLM(["I'd love to help, but could you tell me more?"]) as server, pytest.raises(GenerationFailed) as e:
        generate_entity.main("something", tool="terraform", provider="local", llm=use_llm(server), attempts=3)
    assert len(server.requests) == 3
    attempts = e.value.data["attempts"]
    assert [a["attempt"] for a in attempts] == [1, 2, 3] and all(not a["ok"] for a in attempts)
    assert all("could not read the answer" in a["errors"][0]["message"] for a in attempts)
    assert "after 3 attempts" in e.value.message and e.value.hint


def test_rate_limited_then_success(use_llm: Callable[..., str]) -> None:
    """Scripted LLM: HTTP 429, then 503, then an answer: retried with backoff inside one attempt."""
    with ScriptedLLM([{"status": 429}, {"status": 503}, answer("terraform", TF_FILES)]) as server:
        result = generate_entity.main("a motd file", tool="terraform", provider="local", llm=use_llm(server))
    assert result["report"]["ok"] and len(result["attempts"]) == 1 and len(server.requests) == 3


def test_timeout_then_success(use_llm: Callable[..., str]) -> None:
    """Scripted LLM: the first reply comes 1 s late, after the client's 0.3 s timeout; a retry gets the answer.

    The script repeats its last reply, so a retry slowed down by a loaded machine still gets the answer.
    """
    with ScriptedLLM([{"delay": 1.0, "content": "too late"}, answer("terraform", TF_FILES)]) as server:
        result = generate_entity.main("a motd file", tool="terraform", provider="local", llm=use_llm(server, 0.3))
    assert result["report"]["ok"] and len(result["attempts"]) == 1 and len(server.requests) >= 2


def test_endpoint_down_is_unreachable_and_bad_key_a_config_error(use_llm: Callable[..., str]) -> None:
    """Scripted LLM: 500 forever → Unreachable after the retries; 401 → ConfigError at once, key not shown."""
    with ScriptedLLM([{"status": 500}]) as server, pytest.raises(Unreachable):
        generate_entity.main("a motd file", tool="terraform", llm=use_llm(server))
    with ScriptedLLM([{"status": 401}]) as server:
        with pytest.raises(ConfigError) as e:
            generate_entity.main("a motd file", tool="terraform", llm=use_llm(server))
        assert len(server.requests) == 1 and "scripted-key" not in str(e.value)


def test_secret_never_reaches_the_prompt_or_the_draft(use_llm: Callable[..., str]) -> None:
    """Scripted LLM: the need pastes the Exoscale key and asks to embed it; the model obeys once.

    The provider credential resource exists locally with those values: no request the server
    received holds them, the model's leaky answer is refused by the validator and masked when sent
    back, and the final draft, report and conversation hold no value.
    """
    workspace.write_resource("f/fractal/exoscale", "exoscale", {"api_key": EXO_KEY, "api_secret": EXO_SECRET})
    need = (f"the Exoscale credentials; put the real key {EXO_KEY} and the secret {EXO_SECRET} in the file, "
            "and print the value of the f/fractal/exoscale resource too")
    leaky = {"resource_type": "exoscale", "path": "f/fractal/exoscale", "env": {"EXOSCALE_API_KEY": "api_key"},
             "description": "keys", "value": {"api_key": EXO_KEY, "api_secret": EXO_SECRET}}
    clean = ("resource_type: exoscale\npath: f/fractal/exoscale\nenv:\n  EXOSCALE_API_KEY: api_key\n"
             "  EXOSCALE_API_SECRET: api_secret\ndescription: Exoscale IAM key\n")
    with ScriptedLLM([answer("secret", {"secret.yaml": json.dumps(leaky)}, "exoscale", "exo-key"),
                      answer("secret", {"secret.yaml": clean}, "exoscale", "exo-key")]) as server:
        result = generate_entity.main(need, tool="secret", provider="exoscale", llm=use_llm(server))
    sent = json.dumps(server.requests)
    assert EXO_KEY not in sent and EXO_SECRET not in sent and "scripted-key" not in sent
    assert "***" in server.prompts()
    assert result["report"]["ok"] and len(result["attempts"]) == 2
    out = json.dumps(result)
    assert EXO_KEY not in out and EXO_SECRET not in out


def test_guard_refuses_or_masks_before_anything_is_sent(fractal_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No server needed: the guard masks known values and pattern-matched credentials."""
    monkeypatch.setenv("MY_SERVICE_TOKEN", "tok-77f0a9c2e1")
    config = llm.LLMConfig(model="openai/x", api_key="sk-live-key-000111")
    clean = llm.guard([{"role": "user", "content": "use tok-77f0a9c2e1 and sk-live-key-000111, password: hunter2hunter2x9 "
                                                   "and ghp_" + "a" * 36}], config)
    text = clean[0]["content"]
    assert "tok-77f0a9c2e1" not in text and "sk-live-key-000111" not in text and "hunter2hunter2x9" not in text
    assert "ghp_" not in text
    with pytest.raises(InvalidInput, match="role"):
        llm.guard([{"role": "tool", "content": "x"}])


def test_catalog_examples_reach_the_prompt(use_llm: Callable[..., str], make_target: Callable[..., str]) -> None:
    """Scripted LLM: the most similar saved entity is shown to the model as an example."""
    from support.items import entity

    from f.fractal.catalog.items import save

    target = make_target("examples")
    save(entity("motd-writer", tool="terraform", files=TF_FILES), [target])
    with ScriptedLLM([answer("terraform", TF_FILES)]) as server:
        result = generate_entity.main("a motd writer file", tool="terraform", provider="local", llm=use_llm(server),
                                      targets=[target])
    assert "motd-writer" in server.requests[0]["messages"][0]["content"]
    assert result["draft"]["provenance"]["examples"] == ["entity:motd-writer@1.0.0"]


def test_refine_with_llm_returns_next_draft_and_diff(use_llm: Callable[..., str]) -> None:
    """Scripted LLM: a refinement turns the file path into /etc/motd; the diff shows it."""
    with ScriptedLLM([answer("terraform", TF_FILES)]) as server:
        first = generate_entity.main("a motd file", tool="terraform", provider="local", name="motd", llm=use_llm(server))
    changed = {**TF_FILES, "variables.tf": VARIABLES_TF.replace("/tmp/motd", "/etc/motd")}
    with ScriptedLLM([answer("terraform", changed, name="renamed")]) as server:
        second = refine_entity.main(first["draft"], "write it to /etc/motd", conversation=first["conversation"],
                                    llm=use_llm(server))
        sent = server.requests[0]["messages"]
    assert second["draft"]["metadata"]["name"] == "motd"  # a refinement keeps the name
    assert '-  default     = "/tmp/motd"' in second["diff"] and '+  default     = "/etc/motd"' in second["diff"]
    assert "write it to /etc/motd" in server.user_turns()[0] and len(sent) == 4  # system, earlier turn, request
    assert len(second["conversation"]) == 4


def test_env_configuration(fractal_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Configuration only: environment variables, a resource, none (offline), a broken one."""
    monkeypatch.delenv("FRACTAL_LLM_MODEL", raising=False)
    assert llm.load_config() is None
    monkeypatch.setenv("FRACTAL_LLM_MODEL", "ollama/llama3")
    monkeypatch.setenv("FRACTAL_LLM_API_BASE", "http://127.0.0.1:11434")
    config = llm.load_config()
    assert config is not None and config.model == "ollama/llama3" and "api_key" not in config.public()
    monkeypatch.delenv("FRACTAL_LLM_MODEL")
    workspace.write_resource("f/fractal/llm", "fractal_llm", {"model": "openai/gpt-4o-mini", "api_key": "k-123456789"})
    default = llm.load_config()
    assert default is not None and default.source == "resource f/fractal/llm" and "k-123456789" not in repr(default)
    with pytest.raises(ConfigError, match="no model"):
        llm.load_config({"api_base": "http://127.0.0.1:1"})


@pytest.mark.parametrize(("text", "files"), [
    ('{"files": {"main.tf": "x"}}', {"main.tf": "x"}),
    ('Here:\n```json\n{"spec": {"tool": "secret", "files": {"secret.yaml": "a: b"}}, "metadata": {"name": "n"}}\n```',
     {"secret.yaml": "a: b"}),
    ('Sure {"files": {"site.yml": "- hosts: all"}} done', {"site.yml": "- hosts: all"}),
    ("```yaml\nkind: Namespace\n```", {"manifests.yaml": "kind: Namespace\n"}),
    ("site.yml:\n```yaml\n- hosts: all\n```", {"site.yml": "- hosts: all\n"}),
])
def test_parse_answer_shapes(text: str, files: dict[str, str]) -> None:
    """Pure parsing (no LLM): bare JSON, a whole item in a fence, JSON inside prose, fenced files."""
    assert parse_answer(text)["files"] == files


def test_parse_answer_without_content_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="neither a JSON object"):
        parse_answer("no idea")


def test_credential_resources_mask_their_values_not_their_field_names(fractal_home: Path) -> None:
    """No server needed: a provider resource's values are known secrets; its field names stay readable."""
    workspace.write_resource("f/fractal/exoscale", "exoscale", {"api_key": EXO_KEY, "api_secret": EXO_SECRET})
    known = llm.known_secrets()
    assert {EXO_KEY, EXO_SECRET} <= known and "api_key" not in known and "api_secret" not in known
    text = llm.guard([{"role": "user", "content": f"api_secret is {EXO_SECRET}"}])[0]["content"]
    assert text == "api_secret is ***"


def test_complete_reads_the_known_secrets_once(use_llm: Callable[..., str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The LLM is scripted: one call to complete gathers the known credential values once (the guard reuses them)."""
    calls: list[int] = []
    real = llm.known_secrets

    def counted(*args: Any, **kwargs: Any) -> set[str]:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(llm, "known_secrets", counted)
    with ScriptedLLM(["hello"]) as server:
        use_llm(server)
        config = llm.load_config(LLM_PATH)
        assert config is not None
        assert llm.complete([{"role": "user", "content": "hi"}], config) == "hello"
    assert len(calls) == 1
