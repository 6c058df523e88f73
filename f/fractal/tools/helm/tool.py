"""The Helm tool: one chart, checked structurally (rendered when helm is on the worker). No runner:
Argo CD renders and syncs the chart (run the argocd entity that points at it)."""

from __future__ import annotations

import f.fractal.tools.helm.check as check
import f.fractal.tools.helm.run as run
from f.fractal.tools.base import Tool

TOOL = Tool.bind("helm", "Helm chart", check, run)
