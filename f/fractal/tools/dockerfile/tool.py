"""The Dockerfile tool: Dockerfiles and reviewable patches, checked by the hardening rules. No runner:
a patch is applied by review in the application's repository (git apply), then CI builds the image."""

from __future__ import annotations

from f.fractal.tools.base import Tool
from f.fractal.tools.dockerfile.check import DEFAULT_FILE, RULES, check
from f.fractal.tools.dockerfile.run import execute, preflight

TOOL = Tool(
    name="dockerfile",
    title="Dockerfile and patches",
    default_file=DEFAULT_FILE,
    rules=RULES,
    check=check,
    preflight=preflight,
    execute=execute,
    provider_credential=False,
)
