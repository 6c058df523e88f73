# extra_requirements:
# detect-secrets==1.5.0
"""Fractal: turn a need in plain words into a validated entity draft (LLM with repair, or offline); optionally save it."""

from typing import Any

from f.fractal.catalog.items import save as save_item
from f.fractal.generation.generator import generate


def main(
    need: str,
    tool: str = "",
    provider: str = "",
    name: str = "",
    conversation: list[dict[str, Any]] | None = None,
    llm: str = "",
    attempts: int = 3,
    save: bool = False,
    targets: list[str] | None = None,
) -> dict[str, Any]:
    result = generate(need, tool=tool or None, provider=provider or None, name=name or None, conversation=conversation,
                      llm=llm or None, attempts=attempts, targets=targets or None)
    if save:
        result["saved"] = save_item(result["draft"], targets or None)
    return result
