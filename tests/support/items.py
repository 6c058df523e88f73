"""Minimal items for tests."""

from __future__ import annotations

from typing import Any

import yaml

from support.paths import ROOT


def entity(name: str, **spec: Any) -> dict[str, Any]:
    """A minimal valid Entity (ansible on local unless overridden)."""
    body: dict[str, Any] = {
        "tool": "ansible",
        "providers": ["local"],
        "files": {"site.yml": "- name: Test play\n  hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks: []\n"},
    }
    body.update(spec)
    return {
        "apiVersion": "fractal/v1",
        "kind": "Entity",
        "metadata": {"name": name, "description": f"{name} entity"},
        "spec": body,
    }


def quick_entity(name: str) -> dict[str, Any]:
    """A valid Entity whose save-time checks take milliseconds (Kubernetes; an Ansible one runs ansible-lint)."""
    sample = yaml.safe_load((ROOT / "resources" / "samples" / "k3s-namespace.yaml").read_text())
    return entity(name, **sample["spec"])
