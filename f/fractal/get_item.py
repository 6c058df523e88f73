"""Fractal: get an item by ref (entity:name@1.2.0, @latest by default) from the first target holding it."""

from typing import Any

from f.fractal.catalog.items import get


def main(ref: str, targets: list[str] | None = None) -> dict[str, Any]:
    return get(ref, targets)
