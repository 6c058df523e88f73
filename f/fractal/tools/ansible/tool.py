"""The Ansible tool: its checkers and its runner, as one registry entry."""

from __future__ import annotations

from f.fractal.tools.ansible.check import DEFAULT_FILE, RULES, check
from f.fractal.tools.ansible.run import execute, preflight
from f.fractal.tools.base import Tool

TOOL = Tool(
    name="ansible",
    title="Ansible",
    default_file=DEFAULT_FILE,
    rules=RULES,
    check=check,
    preflight=preflight,
    execute=execute,
)
