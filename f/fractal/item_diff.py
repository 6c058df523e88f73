"""Fractal: what changed between two versions of an item: metadata, spec and files (unified diffs)."""

from typing import Any

from f.fractal.catalog.questions import diff


def main(ref: str, other: str, targets: list[str] | None = None) -> dict[str, Any]:
    return diff(ref, other, targets)
