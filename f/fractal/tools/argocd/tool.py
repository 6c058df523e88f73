"""The Argo CD tool: Applications checked by their own rules, applied to the cluster like any
Kubernetes manifests (kubectl, into the namespace each Application names)."""

from __future__ import annotations

from f.fractal.tools.argocd.check import DEFAULT_FILE, RULES, check
from f.fractal.tools.argocd.run import execute, preflight
from f.fractal.tools.base import Tool

TOOL = Tool(
    name="argocd",
    title="Argo CD Applications",
    default_file=DEFAULT_FILE,
    rules=RULES,
    check=check,
    preflight=preflight,
    execute=execute,
)
