"""compile_playbook: an Ansible entity as a Windmill-native .playbook.yml script.

No Windmill server runs here: the test checks the header Windmill parses (extra_vars, inventory,
credential) and runs the compiled plays with the real ansible-playbook, as Windmill's Ansible
runtime would (extra vars in, result.json out).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.items import entity
from support.paths import ROOT

import f.fractal.catalog.items as catalog
from f.fractal.compile_playbook import main as compile_playbook
from f.fractal.model.errors import InvalidInput

pytestmark = pytest.mark.slow


def test_compiled_playbook_runs_and_returns_outputs(make_target: Any, tmp_path: Path) -> None:
    make_target("catalog")
    sample = yaml.safe_load((ROOT / "resources" / "samples" / "local-motd.yaml").read_text())
    ref = catalog.save(sample)["ref"]
    result = compile_playbook(ref)
    assert result["script_path"] == "f/fractal_playbooks/local_motd"
    text = result["files"]["f/fractal_playbooks/local_motd.playbook.yml"]
    header, plays = list(yaml.safe_load_all(text))
    assert header == {"extra_vars": {
        "motd_dir": {"type": "string", "description": "Folder to write the file into"},
        "message": {"type": "string", "description": "The message", "default": "Welcome to Fractal"}}}
    meta = yaml.safe_load(result["files"]["f/fractal_playbooks/local_motd.script.yaml"])
    assert meta["schema"]["required"] == ["motd_dir"] and list(meta["schema"]["properties"]) == ["motd_dir", "message"]

    job = tmp_path / "job"  # what Windmill's runtime does: plays in a file, -e extra vars, cwd = the job dir
    job.mkdir()
    (job / "main.yml").write_text(yaml.safe_dump(plays))
    (job / "args.json").write_text(json.dumps({"motd_dir": str(tmp_path), "message": "compiled"}))
    bare = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "main.yml", "-e", "@args.json"],
                          cwd=job, capture_output=True, text=True)
    assert bare.returncode == 0, bare.stdout + bare.stderr
    assert (tmp_path / "motd").read_text() == "compiled\n"
    assert json.loads((job / "result.json").read_text()) == {"motd_path": f"{tmp_path}/motd"}


def test_provider_credential_and_inventory_in_the_header(make_target: Any) -> None:
    make_target("catalog")
    play = "- hosts: all\n  tasks:\n    - ansible.builtin.ping:\n"
    item = entity("exo-hosts", providers=["exoscale"], files={"site.yml": play}, outputs={"x": {"from": "r.stdout"}})
    ref = catalog.save(item)["ref"]
    header, plays = list(yaml.safe_load_all(compile_playbook(ref)["files"]["f/fractal_playbooks/exo_hosts.playbook.yml"]))
    assert header["inventory"] == [{"resource_type": "ansible_inventory"}]
    assert header["extra_vars"]["fractal_credential"] == {"type": "windmill_resource", "resource": "f/fractal/exoscale"}
    assert plays[0]["environment"] == {"EXOSCALE_API_KEY": "{{ fractal_credential.api_key }}",
                                       "EXOSCALE_API_SECRET": "{{ fractal_credential.api_secret }}"}
    assert "selectattr('r.stdout', 'defined')" in plays[-1]["tasks"][0]["ansible.builtin.copy"]["content"]


def test_deploy_locally_writes_the_script(make_target: Any, fractal_home: Path) -> None:
    make_target("catalog")
    ref = catalog.save(entity("plain"))["ref"]
    result = compile_playbook(ref, script_path="f/ops/plain_play", deploy=True)
    assert result["deployed"] == str(fractal_home / "f/ops/plain_play.playbook.yml")
    assert (fractal_home / "f/ops/plain_play.script.yaml").is_file()


def test_refusals(make_target: Any) -> None:
    make_target("catalog")
    tf = catalog.save(entity("tf", tool="terraform", files={"main.tf": "output \"x\" {\n  value = 1\n}\n"}))["ref"]
    with pytest.raises(InvalidInput, match="not an Ansible entity"):
        compile_playbook(tf)
    role = catalog.save(entity("with-role", files={"site.yml": "- hosts: localhost\n  roles: [r]\n",
                                                   "roles/r/tasks/main.yml": "- ansible.builtin.ping:\n"}))["ref"]
    with pytest.raises(InvalidInput, match=r"roles/r/tasks/main\.yml"):
        compile_playbook(role)


def test_an_output_source_is_a_variable_path_not_jinja(make_target: Any) -> None:
    """outputs.*.from is pasted into the compiled Jinja: anything but a variable path is refused."""
    make_target("catalog")
    injected = "a') | list }}{{ lookup('pipe','id') }}{{ ('"
    ref = catalog.save(entity("sneaky", outputs={"x": {"from": injected}}))["ref"]
    with pytest.raises(InvalidInput, match="'from' must be a variable path") as caught:
        compile_playbook(ref)
    assert "no expressions" in caught.value.hint
