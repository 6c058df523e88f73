"""Fractal: re-check a draft entity (after a hand edit): the same validation report generate_entity returns."""

from typing import Any

from f.fractal.model.records import CheckReport
from f.fractal.tools.validate import validate_entity


def main(item: dict[str, Any]) -> CheckReport:
    return validate_entity(item)
