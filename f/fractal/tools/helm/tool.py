"""The Helm tool: one chart, checked structurally (rendered when helm is on the worker). No runner:
Argo CD renders and syncs the chart (run the argocd entity that points at it)."""

from __future__ import annotations

from f.fractal.tools.base import Tool
from f.fractal.tools.helm.check import DEFAULT_FILE, RULES, check
from f.fractal.tools.helm.run import execute, preflight

TOOL = Tool(
    name="helm",
    title="Helm chart",
    default_file=DEFAULT_FILE,
    rules=RULES,
    check=check,
    preflight=preflight,
    execute=execute,
)
