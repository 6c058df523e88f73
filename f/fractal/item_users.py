"""Fractal: which pipelines and meta-pipelines use an item, directly or through other composites."""

from typing import Any

from f.fractal.catalog.questions import used_by


def main(ref: str, targets: list[str] | None = None) -> dict[str, Any]:
    return used_by(ref, targets)
