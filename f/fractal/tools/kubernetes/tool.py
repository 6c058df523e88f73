"""The Kubernetes manifests tool: its checkers and its runner, as one registry entry."""

from __future__ import annotations

import f.fractal.tools.kubernetes.check as check
import f.fractal.tools.kubernetes.run as run
from f.fractal.tools.base import Tool

TOOL = Tool.bind("kubernetes", "Kubernetes manifests", check, run)
