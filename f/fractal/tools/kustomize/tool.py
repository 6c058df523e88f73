"""The kustomize tool (a base and overlays per environment): its checkers and its kubectl runner."""

from __future__ import annotations

from f.fractal.tools.base import Tool
from f.fractal.tools.kustomize.check import DEFAULT_FILE, RULES, check
from f.fractal.tools.kustomize.run import execute, preflight

TOOL = Tool(
    name="kustomize",
    title="Kustomize base and overlays",
    default_file=DEFAULT_FILE,
    rules=RULES,
    check=check,
    preflight=preflight,
    execute=execute,
)
