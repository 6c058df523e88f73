"""The Argo CD tool: Applications checked by their own rules, applied to the cluster like any
Kubernetes manifests (kubectl, into the namespace each Application names)."""

from __future__ import annotations

import f.fractal.tools.argocd.check as check
import f.fractal.tools.argocd.run as run
from f.fractal.tools.base import Tool

TOOL = Tool.bind("argocd", "Argo CD Applications", check, run)
