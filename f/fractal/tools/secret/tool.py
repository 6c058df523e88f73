"""The Secret binding tool: its checkers and its runner, as one registry entry."""

from __future__ import annotations

from f.fractal.tools.base import Tool
from f.fractal.tools.secret.check import DEFAULT_FILE, RULES, check
from f.fractal.tools.secret.run import execute, preflight

TOOL = Tool(
    name="secret",
    title="Secret binding",
    default_file=DEFAULT_FILE,
    rules=RULES,
    check=check,
    preflight=preflight,
    execute=execute,
    provider_credential=False,
)
