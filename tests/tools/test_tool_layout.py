"""Checks and runs read a tool's files through the same layout (tools/<tool>/files.py): what validates can run.

Two disagreements found on main before the registry: a secret entity whose one file is binding.yaml,
and an Ansible entity with deploy.yml + verify.yml, both validated `ok` and could never run.
"""

from __future__ import annotations

import pytest

from f.fractal.model.errors import InvalidInput
from f.fractal.tools.ansible.files import playbook_name
from f.fractal.tools.secret.files import binding_file
from f.fractal.tools.validate import validate_files

BINDING = "resource_type: exoscale\npath: f/fractal/exoscale\nenv: {EXOSCALE_API_KEY: api_key}\ndescription: Exoscale key\n"
PLAY = "- name: p\n  hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n    - ansible.builtin.ping:\n"


def test_a_secret_binding_under_another_name_is_refused_by_the_check_as_by_the_run() -> None:
    files = {"binding.yaml": BINDING}
    report = validate_files("secret", files)
    assert not report["ok"]
    assert "has no secret.yaml" in report["errors"][0]["message"]
    with pytest.raises(InvalidInput, match=r"has no secret\.yaml"):
        binding_file(files)


def test_ansible_playbooks_without_an_entry_point_are_refused_by_the_check_as_by_the_run() -> None:
    files = {"deploy.yml": PLAY, "verify.yml": PLAY}
    report = validate_files("ansible", files)
    assert not report["ok"]
    assert "has no playbook" in report["errors"][0]["message"]
    assert "site.yml" in report["errors"][0]["message"]
    with pytest.raises(InvalidInput, match="has no playbook"):
        playbook_name(files, "apply")


def test_what_the_layout_accepts_the_run_starts_from() -> None:
    assert binding_file({"secret.yml": BINDING}) == "secret.yml"
    assert playbook_name({"deploy.yml": PLAY}, "apply") == "deploy.yml"  # one playbook: it is the entry
    assert playbook_name({"site.yml": PLAY, "verify.yml": PLAY}, "apply") == "site.yml"
