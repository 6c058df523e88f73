"""Fractal: delete an item from the catalog(s); refused while composites use it unless forced."""

from typing import Any

from f.fractal.catalog.items import delete


def main(ref: str, targets: list[str] | None = None, force: bool = False) -> dict[str, Any]:
    return delete(ref, targets, force)
