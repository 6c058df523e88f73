"""The learning loop: task/solution pairs → sanitized → Runes in a knowledge catalog (a real bare Git repo)
→ found again and used by the offline generator. Real ansible-lint and Git; no LLM anywhere."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from typing import Any

import pytest

from f.fractal.find_solutions import main as find_solutions
from f.fractal.generation.generator import generate
from f.fractal.model.errors import InvalidInput
from f.fractal.submit_solution import main as submit_solution

CHRONY = """- name: Time sync with chrony
  hosts: all
  become: true
  tasks:
    - name: Install chrony
      ansible.builtin.package:
        name: chrony
        state: present
    - name: Use the pool
      ansible.builtin.lineinfile:
        path: /etc/chrony/chrony.conf
        regexp: '^pool '
        line: pool ntp.example.org iburst
    - name: Run chrony
      ansible.builtin.service:
        name: chrony
        state: started
        enabled: true
"""
DB_USER = """- name: Database user
  hosts: all
  become: true
  vars:
    db_name: shop
  tasks:
    - name: Write the client config
      ansible.builtin.copy:
        dest: /etc/shop/db.conf
        content: "user=shop\\n"
        mode: "0600"
      vars:
        db_password: CorrectHorseBatteryStaple
"""
TASK = "install and configure chrony with pool ntp.example.org"


@pytest.fixture
def knowledge(make_target: Callable[..., str], tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    target = make_target("knowledge")
    monkeypatch.setenv("FRACTAL_KNOWLEDGE_TARGETS", target)
    return target


def _history(tmp_path: Any) -> str:
    repo = tmp_path / "remotes" / "knowledge.git"
    return subprocess.run(["git", "-C", str(repo), "log", "-p", "--all"], capture_output=True, text=True, check=True).stdout


def test_a_learned_rune_makes_the_offline_generator_build_from_it(knowledge: str) -> None:
    need = "set up chrony time synchronisation using the pool ntp.example.org"
    with pytest.raises(InvalidInput, match="no template"):  # before: no template covers chrony
        generate(need, llm="offline")

    learned = submit_solution(TASK, {"tool": "ansible", "files": {"site.yml": CHRONY}}, author="ops@example.com")
    assert learned["rune"].startswith("entity:") and "pool" in learned["inputs"]

    after = generate(need, llm="offline")
    draft = after["draft"]
    assert after["report"]["ok"]
    assert draft["provenance"]["rune"] == learned["rune"]
    assert draft["spec"]["inputs"]["properties"]["pool"]["default"] == "ntp.example.org"
    assert "{{ pool }}" in draft["spec"]["files"]["site.yml"]

    other = generate("chrony time sync with the pool time.corp.example.net please", llm="offline")["draft"]
    assert other["provenance"]["rune"] == learned["rune"]
    assert other["spec"]["inputs"]["properties"]["pool"]["default"] == "time.corp.example.net"


def test_two_solutions_to_one_task_do_not_tie_the_offline_generator(knowledge: str) -> None:
    """Two engineers' chrony Runes both say what the need asks: the better-scored one is used (before: a tie
    between them made the offline generator refuse, and learning more pairs lowered the offline score)."""
    first = submit_solution(TASK, {"tool": "ansible", "files": {"site.yml": CHRONY}})
    second = submit_solution("configure and install chrony with pool time.example.net",
                             {"tool": "ansible", "files": {"site.yml": CHRONY.replace("ntp.example.org", "time.example.net")}})
    assert first["rune"].split("@")[0] != second["rune"].split("@")[0]  # two Runes, not two versions of one
    draft = generate("configure chrony with the pool clock.corp.lan", llm="offline")["draft"]
    assert draft["provenance"]["rune"] in (first["rune"], second["rune"])
    assert draft["spec"]["inputs"]["properties"]["pool"]["default"] == "clock.corp.lan"
    with pytest.raises(InvalidInput, match="no template"):  # a need that says neither still gets no Rune
        generate("install memcached with 64 MB of memory", llm="offline")


def test_find_solutions_ranks_the_rune_first_and_says_why(knowledge: str) -> None:
    submit_solution(TASK, {"tool": "ansible", "files": {"site.yml": CHRONY}})
    submit_solution("write the shop database client config", {"tool": "ansible", "files": {"site.yml": DB_USER}})
    found = find_solutions("keep the clocks in sync with chrony")["solutions"]
    assert found[0]["name"].startswith("chrony") and "chrony" in found[0]["why"]
    assert find_solutions("keep the clocks in sync with chrony", tool="terraform")["solutions"] == []


def test_a_password_in_a_solution_never_reaches_git(knowledge: str, tmp_path: Any) -> None:
    learned = submit_solution("write the shop database client config", {"tool": "ansible", "files": {"site.yml": DB_USER}})
    assert "vault_db_password" in learned["sanitizer"]["secret_inputs"]
    history = _history(tmp_path)
    assert "CorrectHorseBatteryStaple" not in history
    assert "db_password: '{{ vault_db_password }}'" in history  # an input, never the variable itself (a loop)


def test_a_secret_that_cannot_be_taken_out_refuses_the_pair_and_writes_nothing(knowledge: str, tmp_path: Any) -> None:
    leaky = CHRONY.replace("line: pool ntp.example.org iburst",
                           "line: 'curl -H \"Authorization: token ghp_0123456789abcdefghijABCDEFGHIJ012345\" x'")
    with pytest.raises(InvalidInput, match="secret"):
        submit_solution(TASK, {"tool": "ansible", "files": {"site.yml": leaky}})
    assert _history(tmp_path) == ""


@pytest.mark.parametrize(("task", "solution", "confidence", "message"), [
    ("", {"tool": "ansible", "files": {"site.yml": CHRONY}}, 1.0, "task must say"),
    (TASK, {"tool": "pulumi", "files": {"x": "y"}}, 1.0, "is not one Fractal runs"),
    (TASK, {"tool": "ansible", "files": {}}, 1.0, "non-empty"),
    (TASK, {"tool": "ansible", "files": {"site.yml": CHRONY}}, 0.2, "below"),
    (TASK, {"tool": "ansible", "files": {"site.yml": "- hosts: all\n  tasks: nope\n"}}, 1.0, "does not pass"),
])
def test_bad_pairs_are_refused_with_the_reason(knowledge: str, task: str, solution: dict[str, Any], confidence: float,
                                               message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        submit_solution(task, solution, confidence=confidence)


def test_terraform_literals_become_variables_with_their_defaults(knowledge: str) -> None:
    main_tf = ('resource "exoscale_compute_instance" "web" {\n  zone        = "ch-gva-2"\n  name        = "web"\n'
               '  disk_size   = 50\n  template_id = "tmpl-123"\n  type        = "standard.medium"\n}\n')
    versions = ('terraform {\n  required_providers {\n    exoscale = {\n      source  = "exoscale/exoscale"\n'
                '      version = "~> 0.62"\n    }\n  }\n}\n')
    learned = submit_solution("one web server on exoscale", {"tool": "terraform", "providers": ["exoscale"],
                                                             "files": {"main.tf": main_tf, "versions.tf": versions}})
    assert {"zone", "name", "disk_size", "template_id"} <= set(learned["inputs"])
    assert "type" not in learned["inputs"]  # instance types name the shape of the resource, not this use's value
