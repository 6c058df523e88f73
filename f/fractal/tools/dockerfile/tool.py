"""The Dockerfile tool: Dockerfiles and reviewable patches, checked by the hardening rules. No runner:
a patch is applied by review in the application's repository (git apply), then CI builds the image."""

from __future__ import annotations

import f.fractal.tools.dockerfile.check as check
import f.fractal.tools.dockerfile.run as run
from f.fractal.tools.base import Tool

TOOL = Tool.bind("dockerfile", "Dockerfile and patches", check, run, provider_credential=False)
