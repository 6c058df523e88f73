"""The kustomize tool (a base and overlays per environment): its checkers and its kubectl runner."""

from __future__ import annotations

import f.fractal.tools.kustomize.check as check
import f.fractal.tools.kustomize.run as run
from f.fractal.tools.base import Tool

TOOL = Tool.bind("kustomize", "Kustomize base and overlays", check, run)
