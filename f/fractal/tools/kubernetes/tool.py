"""The Kubernetes manifests tool: its checkers and its runner, as one registry entry."""

from __future__ import annotations

from f.fractal.tools.base import Tool
from f.fractal.tools.kubernetes.check import DEFAULT_FILE, RULES, check
from f.fractal.tools.kubernetes.run import execute, preflight

TOOL = Tool(
    name="kubernetes",
    title="Kubernetes manifests",
    default_file=DEFAULT_FILE,
    rules=RULES,
    check=check,
    preflight=preflight,
    execute=execute,
)
