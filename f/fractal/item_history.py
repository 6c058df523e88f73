"""Fractal: the versions of an item (saves and deletes, newest first) in each target, from Git."""

from typing import Any

from f.fractal.catalog.items import history


def main(ref: str, targets: list[str] | None = None, limit: int = 100) -> dict[str, Any]:
    return history(ref, targets, limit)
