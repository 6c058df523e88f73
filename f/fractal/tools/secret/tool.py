"""The Secret binding tool: its checkers and its runner, as one registry entry."""

from __future__ import annotations

import f.fractal.tools.secret.check as check
import f.fractal.tools.secret.run as run
from f.fractal.tools.base import Tool

TOOL = Tool.bind("secret", "Secret binding", check, run, provider_credential=False)
