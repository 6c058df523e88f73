"""Re-check a draft entity (after a hand edit): the same validation report generate_entity returns."""

from __future__ import annotations

from typing import Any

from f.fractal.tools.validate import validate_entity


def main(item: dict[str, Any]) -> dict[str, Any]:
    return validate_entity(item)
