# extra_requirements:
# detect-secrets==1.5.0
"""Fractal: change an entity draft by dialogue; returns the next validated draft and a readable diff."""

from typing import Any

from f.fractal.generation.generator import refine


def main(
    draft: dict[str, Any],
    message: str,
    conversation: list[dict[str, Any]] | None = None,
    llm: str = "",
    attempts: int = 3,
) -> dict[str, Any]:
    return refine(draft, message, conversation=conversation, llm=llm or None, attempts=attempts)
