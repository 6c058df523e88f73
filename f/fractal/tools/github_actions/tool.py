"""The GitHub Actions tool: CI workflows checked for shape and for validation without push deploys. No
runner: the workflow runs in the application's repository (the scaffold's CI validation is one)."""

from __future__ import annotations

import f.fractal.tools.github_actions.check as check
import f.fractal.tools.github_actions.run as run
from f.fractal.tools.base import Tool

TOOL = Tool.bind("github-actions", "GitHub Actions workflows", check, run, provider_credential=False)
