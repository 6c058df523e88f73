"""Minimal items for tests."""

from __future__ import annotations

from typing import Any


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
