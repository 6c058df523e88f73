"""The Terraform tool: its checkers and its runner, as one registry entry."""

from __future__ import annotations

from f.fractal.tools.base import Tool
from f.fractal.tools.terraform.check import DEFAULT_FILE, RULES, check, interface
from f.fractal.tools.terraform.run import execute, preflight

TOOL = Tool(
    name="terraform",
    title="Terraform",
    default_file=DEFAULT_FILE,
    rules=RULES,
    check=check,
    preflight=preflight,
    execute=execute,
    interface=interface,
)
