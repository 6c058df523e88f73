"""The rest of the loop: Orbs in the composer, enhancement, uses that weigh the ranking, Runes as the LLM's
examples, learning from a saved draft, the loop's metrics. Real Git, ansible-lint, Ansible on localhost and
the local server; the only stand-in is the LLM (tests/support/llm_server.py, scripted: it answers with the
first example its prompt shows, as a model imitating it would)."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fractal_local.server import Running, serve
from support.api_http import TOKEN, call
from support.compose_catalog import TABLE, table_entity
from support.llm_server import ScriptedLLM

import f.fractal.catalog.items as catalog
import f.fractal.composition.composer as composer
import f.fractal.learning.ledger as ledger
from f.fractal.find_solutions import main as find_solutions
from f.fractal.generation.generator import generate, refine, save_draft
from f.fractal.model.errors import InvalidInput
from f.fractal.run_item import main as run_item
from f.fractal.submit_solution import main as submit_solution

MOTD = """- name: Message of the day
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Write the message
      ansible.builtin.copy:
        dest: {dest}
        content: "Welcome\\n"
        mode: "0644"
"""
DB_USER = """- name: Database client
  hosts: all
  tasks:
    - name: Write the client config
      ansible.builtin.copy:
        dest: /etc/shop/db.conf
        content: "password={{ db_password }}\\n"
        mode: "0600"
      vars:
        db_password: CorrectHorseBatteryStaple
"""
UNPOLISHED = """- name: Tidy the host
  hosts: all
  tasks:
    - package:
        name: htop
        state: present
    - name: refresh the cache
      command: /usr/bin/updatedb
"""


@pytest.fixture
def loop(make_target: Callable[..., str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A knowledge catalog and the default catalog, each a real bare repo."""
    knowledge, main = make_target("knowledge"), make_target("catalog")
    monkeypatch.setenv("FRACTAL_KNOWLEDGE_TARGETS", knowledge)
    return {"knowledge": knowledge, "catalog": main}


def _row(name: str) -> tuple[Any, ...]:
    return next(r for r in TABLE if r[0] == name)


def test_a_pipeline_becomes_an_orb_the_offline_composer_uses(loop: dict[str, str]) -> None:
    net, vms = (catalog.save(table_entity(_row(n)), [loop["catalog"]])["ref"]
                for n in ("exoscale-private-network", "exoscale-compute-instance"))
    need = "a private network then compute instances on exoscale in de-fra-1"
    request = composer.Request(need=need, targets=[loop["catalog"]])
    assert "orb" not in composer.compose(request)["draft"]["provenance"]  # before: the parts, one by one

    pipeline = {"apiVersion": "fractal/v1", "kind": "Pipeline", "metadata": {"name": "lab"},
                "spec": {"provider": "exoscale", "steps": [
                    {"id": "net", "ref": net, "inputs": {"zone": "ch-gva-2"}},
                    {"id": "vms", "ref": vms, "inputs": {"zone": "ch-gva-2", "count": 3}}]}}
    learned = submit_solution("a private network then compute instances on exoscale in ch-gva-2", pipeline)
    assert learned["kind"] == "orb" and learned["inputs"] == ["count", "zone"]

    result = composer.compose(request)
    draft = result["draft"]
    assert result["checks"]["ok"] and draft["provenance"]["orb"] == learned["orb"]
    assert draft["spec"]["inputs"]["properties"]["zone"]["default"] == "de-fra-1"  # the need's zone, the Orb's count
    assert draft["spec"]["inputs"]["properties"]["count"]["default"] == 3
    assert [s["inputs"]["zone"] for s in draft["spec"]["steps"]] == [{"from": "inputs.zone"}] * 2
    assert find_solutions("private network and instances on exoscale")["solutions"][0]["kind"] == "orb"


def test_enhance_applies_the_production_rules_and_ansible_lint_fix(loop: dict[str, str]) -> None:
    learned = submit_solution("tidy the host with htop", {"tool": "ansible", "files": {"site.yml": UNPOLISHED}})
    said = [f"{c['by']}: {c['what']}" for c in learned["enhanced"]]
    assert "rules: named the task 'Package htop'" in said
    assert any("capitalised the task name 'Refresh the cache'" in s for s in said)
    assert any("changed_when: true" in s for s in said)
    assert any(s.startswith("ansible-lint --fix: rewrote") and "fqcn" in s for s in said), said
    stored = catalog.get(learned["rune"], [loop["knowledge"]])["item"]
    site = stored["spec"]["files"]["site.yml"]
    assert "ansible.builtin.package:" in site and "ansible.builtin.command:" in site
    assert stored["provenance"]["learned"]["enhanced"] == learned["enhanced"]


def test_a_run_of_a_draft_from_a_rune_counts_as_a_use(loop: dict[str, str], tmp_path: Path) -> None:
    learned = submit_solution("write the message of the day to /srv/motd",
                              {"tool": "ansible", "providers": ["local"], "files": {"site.yml": MOTD.format(dest="/srv/motd")}})
    out = tmp_path / "motd"
    draft = generate(f"write the message of the day to {out}", llm="offline")["draft"]
    assert draft["provenance"]["rune"] == learned["rune"]
    saved = save_draft(draft, [loop["catalog"]])
    assert run_item(saved["ref"], provider="local", targets=[loop["catalog"]])["status"] == "success"
    assert out.read_text() == "Welcome\n"
    row = find_solutions("message of the day")["solutions"][0]
    assert row["uses"] == {"success": 1, "failed": 0} and row["weight"] == round(0.5 + 2 / 3, 3)
    assert "used 1x, 1 succeeded" in row["why"]


def test_uses_weigh_the_ranking(loop: dict[str, str]) -> None:
    marker = 'resource "terraform_data" "{name}" {{\n  input = "{value}"\n}}\n'
    for task, name in (("a marker for the web tier", "web"), ("a marker for the web tier and its cache", "cache")):
        submit_solution(task, {"tool": "terraform", "files": {"main.tf": marker.format(name=name, value=name)}})
    first = [s["ref"] for s in find_solutions("marker for the web tier")["solutions"]]
    for status in ("success", "failed", "failed", "failed"):  # as note_run records runs of the leader's drafts
        ledger.note("use", template=ledger.template_key(first[0]), status=status)
    after = find_solutions("marker for the web tier")["solutions"]
    assert len(first) == 2 and [s["ref"] for s in after] == first[::-1]
    assert after[1]["uses"] == {"success": 1, "failed": 3} and after[1]["weight"] == round(0.5 + 2 / 6, 3)


def _imitate(body: dict[str, Any]) -> str:
    """The scripted model: the first example of its prompt, as its answer (a placeholder play without one)."""
    system = body["messages"][0]["content"]
    found = re.search(r"```json\n(\{.*?\})\n```", system, re.DOTALL)
    if not found:
        return json.dumps({"name": "placeholder", "tool": "ansible", "files": {"site.yml": "- hosts: all\n  tasks: []\n"}})
    return found.group(1)


def test_runes_are_the_llm_prompts_examples_without_their_secret(loop: dict[str, str], tmp_path: Path) -> None:
    learned = submit_solution("write the shop database client config", {"tool": "ansible", "files": {"site.yml": DB_USER}})
    with ScriptedLLM([_imitate]) as llm:
        result = generate("write the shop database client config for the orders team", llm=llm.config, attempts=1)
        prompt = llm.requests[0]["messages"][0]["content"]
    assert "Learned templates" in prompt and "{{ db_password }}" in prompt
    assert "CorrectHorseBatteryStaple" not in llm.prompts()
    assert result["draft"]["provenance"]["runes"] == [learned["rune"]]


def test_a_refined_and_saved_draft_becomes_a_rune(loop: dict[str, str]) -> None:
    first = generate("a kubernetes namespace called staging on k3s", llm="offline")
    refined = refine(first["draft"], "call the namespace production")
    saved = save_draft(refined["draft"], [loop["catalog"]])
    with pytest.raises(InvalidInput, match="records no need"):
        _learn_without_need(loop)
    learned = submit_solution("", {"ref": saved["ref"]})
    prov = catalog.get(learned["rune"], [loop["knowledge"]])["item"]["provenance"]["learned"]
    assert prov["source"] == saved["ref"]
    assert prov["task"] == "a kubernetes namespace called staging on k3s; call the namespace production"


def _learn_without_need(loop: dict[str, str]) -> None:
    bare = table_entity(_row("exoscale-private-network"))
    ref = catalog.save(bare, [loop["catalog"]])["ref"]
    submit_solution("", {"ref": ref})


@pytest.fixture
def api(fractal_home: Path) -> Iterator[Running]:
    running = serve("127.0.0.1", 0, token=TOKEN)
    yield running
    running.shutdown()


def test_the_loop_counts_on_metrics(loop: dict[str, str], api: Running) -> None:
    terraform = {"tool": "terraform", "files": {"main.tf": 'resource "terraform_data" "marker" {\n  input = "lab"\n}\n'}}
    assert call(f"{api.url}/api/r/fractal/solutions/submit", {"task": "a marker", "solution": terraform})[0] == 200
    status, _ = call(f"{api.url}/api/r/fractal/solutions/submit", {"task": "a marker", "solution": terraform, "confidence": 0.1})
    assert status == 400
    token = "ghp_0123456789abcdefghijABCDEFGHIJ012345"
    leaky = {"tool": "terraform", "files": {"main.tf": f'resource "terraform_data" "x" {{\n  input = "{token}"\n}}\n'}}
    assert call(f"{api.url}/api/r/fractal/solutions/submit", {"task": "a marker", "solution": leaky})[0] == 400
    text = call(f"{api.url}/metrics")[1]
    assert "fractal_learning_pairs_received_total 3.0" in text
    assert 'fractal_learning_pairs_rejected_total{reason="confidence"} 1.0' in text
    assert 'fractal_learning_pairs_rejected_total{reason="secret"} 1.0' in text
    assert 'fractal_learning_templates{kind="rune"} 1.0' in text and 'fractal_learning_uses_total{status="success"} 0.0' in text


def test_terraform_fmt_is_reported_when_terraform_is_here(loop: dict[str, str]) -> None:
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not on this machine (the set-up does not install it)")
    ugly = 'resource "terraform_data" "marker" {\n  input = "lab"\n  triggers_replace = "x"\n}\n'
    learned = submit_solution("a marker", {"tool": "terraform", "files": {"main.tf": ugly}})
    assert any(c["by"] == "terraform fmt" for c in learned["enhanced"])
    assert any("variable input: type string" in c["what"] for c in learned["enhanced"])
