"""The Terraform tool: its checkers and its runner, as one registry entry."""

from __future__ import annotations

import f.fractal.tools.terraform.check as check
import f.fractal.tools.terraform.run as run
from f.fractal.tools.base import Tool

TOOL = Tool.bind("terraform", "Terraform", check, run, interface=check.interface)
