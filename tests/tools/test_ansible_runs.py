"""run_item on Ansible entities: real ansible-runner runs on localhost with the `local` provider.

Nothing is mocked: entities are saved to a real bare Git catalog and run by ref; the plays write
real files in a temp dir.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
from support.items import entity

import f.fractal.catalog.items as catalog
from f.fractal.model.errors import ConfigError, InvalidInput, NotFound
from f.fractal.run_item import main as run_item

pytestmark = pytest.mark.slow

WRITE_PLAY = """\
- name: Write files
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Write the greeting
      ansible.builtin.copy:
        dest: "{{ out_dir }}/greeting.txt"
        content: "{{ greeting }}\\n"
        mode: "0644"
    - name: Say it
      ansible.builtin.command: echo {{ greeting }}
      register: counted
      changed_when: false
      check_mode: false
    - name: Expose the path
      ansible.builtin.set_fact:
        greeting_path: "{{ out_dir }}/greeting.txt"
"""

INPUTS = {"type": "object", "required": ["out_dir"],
          "properties": {"out_dir": {"type": "string"}, "greeting": {"type": "string", "default": "hello fractal"}}}


def save(item: dict[str, Any]) -> str:
    result = catalog.save(item)
    assert result["ok"], result
    return str(result["ref"])


@pytest.fixture
def writer(make_target: Any) -> str:
    make_target("catalog")
    return save(entity("writer", inputs=INPUTS, files={"site.yml": WRITE_PLAY}, outputs={
        "greeting_path": {"description": "the file written"},
        "said": {"description": "what the command said", "from": "counted.stdout"},
        "never": {"description": "a declared output the play does not set"},
    }))


def test_apply_writes_files_and_captures_outputs(writer: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    result = run_item(writer, inputs={"out_dir": str(out)})
    assert result["status"] == "success", result["log"]
    assert result["rc"] == 0
    assert (out / "greeting.txt").read_text() == "hello fractal\n"
    assert result["outputs"]["greeting_path"] == str(out / "greeting.txt")
    assert result["outputs"]["said"] == "hello fractal"  # a registered value, read through `from`
    assert "never" not in result["outputs"] and any("never" in w for w in result["warnings"])
    assert result["inputs"] == {"out_dir": str(out), "greeting": "hello fractal"}  # defaults filled in
    assert (result["ref"], result["version"]) == ("entity:writer@1.0.0", "1.0.0")
    assert (result["provider"], result["mode"], result["tool"]) == ("local", "apply", "ansible")
    assert len(result["commit"]) == 40 and result["target"] == "f/fractal/catalog"
    assert "TASK [Write the greeting]" in result["log"]
    log_file = Path(result["log_file"])
    assert "TASK [Write the greeting]" in log_file.read_text()
    assert result["started"] < result["ended"] and result["duration_s"] > 0


def test_check_mode_changes_nothing(writer: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    result = run_item(writer, inputs={"out_dir": str(out)}, mode="check")
    assert result["status"] == "success", result["log"]
    assert result["mode"] == "check"
    assert not (out / "greeting.txt").exists()
    assert "changed: [localhost]" in result["log"]  # it says what it would change


def test_failing_play_is_a_failed_result_naming_the_task(make_target: Any, tmp_path: Path) -> None:
    make_target("catalog")
    play = WRITE_PLAY + "    - name: Break on purpose\n      ansible.builtin.command: /bin/false\n      changed_when: false\n"
    ref = save(entity("breaker", inputs=INPUTS, files={"site.yml": play}))
    result = run_item(ref, inputs={"out_dir": str(tmp_path)})
    assert result["status"] == "failed"
    assert result["rc"] != 0
    assert result["failed_task"]["task"] == "Break on purpose"
    assert result["failed_task"]["host"] == "localhost"
    assert "Break on purpose" in result["error"]
    assert (tmp_path / "greeting.txt").exists()  # the tasks before it ran


def test_refusals_happen_before_anything_runs(make_target: Any, tmp_path: Path, fractal_home: Path) -> None:
    make_target("catalog")
    ref = save(entity("local-only", inputs=INPUTS, files={"site.yml": WRITE_PLAY}))
    anywhere = save(entity("anywhere", providers=[], inputs=INPUTS, files={"site.yml": WRITE_PLAY}))
    cases: list[tuple[dict[str, Any], str]] = [
        ({"ref": ref, "provider": "exoscale", "inputs": {"out_dir": str(tmp_path)}}, "does not fit"),
        ({"ref": ref, "provider": "nowhere", "inputs": {"out_dir": str(tmp_path)}}, "unknown provider"),
        ({"ref": ref, "inputs": {}}, "out_dir"),
        ({"ref": ref, "inputs": {"out_dir": 3}}, "must be string"),
        ({"ref": ref, "inputs": {"out_dir": str(tmp_path)}, "mode": "yolo"}, "bad mode"),
        ({"ref": ref, "inputs": {"out_dir": str(tmp_path)}, "mode": "destroy"}, "no destroy playbook"),
        ({"ref": anywhere, "inputs": {"out_dir": str(tmp_path)}}, "does not fix a provider"),
    ]
    for args, message in cases:
        with pytest.raises(InvalidInput, match=message):
            run_item(**args)
    with pytest.raises(NotFound, match="in none of the targets"):
        run_item("entity:missing@1.0.0")
    assert not (tmp_path / "greeting.txt").exists()
    assert not list((fractal_home / "cache").glob("runs/*.log"))  # no run was even started


def test_provider_required_lists_the_choices(make_target: Any, tmp_path: Path) -> None:
    make_target("catalog")
    ref = save(entity("anywhere", providers=[], inputs=INPUTS, files={"site.yml": WRITE_PLAY}))
    with pytest.raises(InvalidInput) as caught:
        run_item(ref, inputs={"out_dir": str(tmp_path)})
    assert caught.value.data["choices"] == ["local", "k3s", "exoscale", "vastai", "runpod"]
    assert "local" in caught.value.hint


def test_missing_credentials_name_the_variable(make_target: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_target("catalog")
    monkeypatch.delenv("EXOSCALE_API_KEY", raising=False)
    monkeypatch.setenv("EXOSCALE_API_SECRET", "only-half-of-it")
    # a play for hosts (a play only for localhost drives the provider's API from the worker and needs none)
    ref = save(entity("on-exo", providers=["exoscale"], files={"site.yml": WRITE_PLAY.replace("hosts: localhost", "hosts: all")}))
    with pytest.raises(ConfigError, match="EXOSCALE_API_KEY") as caught:
        run_item(ref, inputs={"hosts": ["10.0.0.1"]})
    assert caught.value.data["missing_env"] == ["EXOSCALE_API_KEY"]
    assert "only-half-of-it" not in str(caught.value.to_dict())
    # With the credentials set, a non-local provider still needs the hosts to run on.
    monkeypatch.setenv("EXOSCALE_API_KEY", "EXOabcdef0123456789abcdef01")
    with pytest.raises(InvalidInput, match="'hosts'"):
        run_item(ref, inputs={})


SECRET_PLAY = """\
- name: Use a token
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Use the token
      ansible.builtin.copy:
        dest: "{{ out_dir }}/token.txt"
        content: "{{ api_token }}"
        mode: "0600"
    - name: Print it (a careless play)
      ansible.builtin.debug:
        msg: "token is {{ api_token }}"
    - name: Echo it as an output
      ansible.builtin.set_fact:
        echoed: "{{ api_token }}"
"""


def test_secret_input_never_reaches_result_log_or_git(
    make_target: Any, tmp_path: Path, fractal_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_target("catalog")
    system_tmp = tmp_path / "tmp"  # where the run's work dir is made: it must be gone afterwards
    system_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    inputs = {"type": "object", "required": ["out_dir", "api_token"], "properties": {
        "out_dir": {"type": "string"}, "api_token": {"type": "string", "password": True}}}
    ref = save(entity("uses-token", inputs=inputs, outputs={"echoed": {}}, files={"site.yml": SECRET_PLAY}))
    value = "tok-9f8e7d6c5b4a3210-zyx"
    result = run_item(ref, inputs={"out_dir": str(tmp_path), "api_token": value})
    assert result["status"] == "success", result["log"]
    assert (tmp_path / "token.txt").read_text() == value  # the play did get it
    assert value not in repr(result)
    assert result["inputs"]["api_token"] == "***" and result["outputs"]["echoed"] == "***"
    assert "token is ***" in result["log"]
    assert value not in Path(result["log_file"]).read_text()
    repo = tmp_path / "remotes" / "catalog.git"
    history = subprocess.run(["git", "-C", str(repo), "log", "--all", "-p"], capture_output=True, text=True, check=True).stdout
    assert "uses-token" in history and value not in history
    leftovers = subprocess.run(["grep", "-rl", value, str(fractal_home)], capture_output=True, text=True).stdout
    assert leftovers == ""  # no work dir, extra-vars file or artifact kept anywhere in the workspace
    assert list(system_tmp.iterdir()) == []  # nor in the system temp dir


def test_destroy_runs_the_destroy_playbook(make_target: Any, tmp_path: Path) -> None:
    make_target("catalog")
    destroy = ("- name: Remove\n  hosts: localhost\n  gather_facts: false\n  tasks:\n    - name: Remove it\n"
               "      ansible.builtin.file: {path: \"{{ out_dir }}/greeting.txt\", state: absent}\n")
    ref = save(entity("removable", inputs=INPUTS, files={"site.yml": WRITE_PLAY, "destroy.yml": destroy}))
    (tmp_path / "greeting.txt").write_text("x")
    result = run_item(ref, inputs={"out_dir": str(tmp_path)}, mode="destroy")
    assert result["status"] == "success", result["log"]
    assert "TASK [Remove it]" in result["log"]
    assert not (tmp_path / "greeting.txt").exists()


ENV_PLAY = """\
- name: Probe
  hosts: all
  connection: local
  gather_facts: false
  tasks:
    - name: Look at the environment
      ansible.builtin.set_fact:
        token_seen: "{{ lookup('env', 'WM_TOKEN') | length > 0 }}"
        unrelated_seen: "{{ lookup('env', 'FRACTAL_TEST_UNRELATED') | length > 0 }}"
        key_length: "{{ lookup('env', 'EXOSCALE_API_KEY') | length }}"
"""


def test_plays_get_an_allowlisted_environment(make_target: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker's job token (and anything else not allowlisted) never reaches a play; the
    provider's credential variables do."""
    make_target("catalog")
    key = "EXO0123456789abcdef01234567"
    monkeypatch.setenv("WM_TOKEN", "wm-job-token-must-not-reach-plays")  # WM_BASE_URL unset: still a local run
    monkeypatch.setenv("FRACTAL_TEST_UNRELATED", "must-not-reach-plays")
    monkeypatch.setenv("EXOSCALE_API_KEY", key)
    monkeypatch.setenv("EXOSCALE_API_SECRET", "exo-secret-value-9876543210")
    outputs = {"token_seen": {}, "unrelated_seen": {}, "key_length": {}}
    allow = [{"rule": "ansible-env-lookup", "reason": "test: proves what a play can see is allowlisted"}]
    ref = save(entity("env-probe", providers=["exoscale"], outputs=outputs, files={"site.yml": ENV_PLAY}, allow=allow))
    result = run_item(ref, inputs={"hosts": ["localhost"]})
    assert result["status"] == "success", result["log"]
    assert result["outputs"] == {"token_seen": False, "unrelated_seen": False, "key_length": len(key)}


def test_a_launch_uses_the_credential_resource_it_chose(make_target: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """run_item's `credentials` names the resource per credential type; without it the default path is read.
    list_providers lists the resources a launch can choose (paths only)."""
    import f.fractal.platform.workspace as workspace
    from f.fractal.list_providers import main as list_providers

    make_target("catalog")
    for var in ("EXOSCALE_API_KEY", "EXOSCALE_API_SECRET"):
        monkeypatch.delenv(var, raising=False)
    keys = {"f/fractal/exoscale": "EXO0123456789abcdef0123", "u/ops/exoscale_prod": "EXOfedcba9876543210fedcba98765"}
    for path, key in keys.items():
        workspace.write_resource(path, "exoscale", {"api_key": key, "api_secret": f"secret-of-{path}-0123456789"})
    outputs = {"key_length": {}}
    allow = [{"rule": "ansible-env-lookup", "reason": "test: shows which credential the play received"}]
    ref = save(entity("key-probe", providers=["exoscale"], outputs=outputs, files={"site.yml": ENV_PLAY}, allow=allow))

    offered = {r["name"]: r["credential"] for r in list_providers(ref)["providers"]}["exoscale"]
    assert offered["resources"] == sorted(keys) and offered["path"] == "f/fractal/exoscale"
    assert all(k not in repr(offered) for k in keys.values())
    chosen = run_item(ref, inputs={"hosts": ["localhost"]}, credentials={"exoscale": "u/ops/exoscale_prod"})
    assert chosen["status"] == "success", chosen["log"]
    assert chosen["outputs"]["key_length"] == len(keys["u/ops/exoscale_prod"])
    assert chosen["credentials"] == {"exoscale": "u/ops/exoscale_prod"}
    default = run_item(ref, inputs={"hosts": ["localhost"]})
    assert default["outputs"]["key_length"] == len(keys["f/fractal/exoscale"])

    with pytest.raises(InvalidInput, match="of type git_repository, not exoscale"):
        run_item(ref, inputs={"hosts": ["localhost"]}, credentials={"exoscale": "f/fractal/catalog"})
    with pytest.raises(InvalidInput, match="unknown credential type"):
        run_item(ref, inputs={"hosts": ["localhost"]}, credentials={"aws": "u/ops/aws"})
    with pytest.raises(ConfigError, match="u/ops/nothing is missing"):
        run_item(ref, inputs={"hosts": ["localhost"]}, credentials={"exoscale": "u/ops/nothing"})
