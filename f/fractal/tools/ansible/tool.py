"""The Ansible tool: its checkers and its runner, as one registry entry."""

from __future__ import annotations

import f.fractal.tools.ansible.check as check
import f.fractal.tools.ansible.run as run
from f.fractal.tools.base import Tool

TOOL = Tool.bind("ansible", "Ansible", check, run)
