"""Fractal: teach Fractal an engineer's solution: sanitized, smithed into a Rune (a parametrised entity
template) and saved in the knowledge catalog, where generation and agents find it again."""

from typing import Any

from f.fractal.learning.knowledge import submit


def main(
    task: str,
    solution: dict[str, Any],
    author: str = "",
    tags: list[str] | None = None,
    confidence: float = 1.0,
    targets: list[str] | None = None,
) -> dict[str, Any]:
    return submit(task, solution, author=author, tags=tags, confidence=confidence, targets=targets or None)
