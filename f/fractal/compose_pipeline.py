# extra_requirements:
# detect-secrets==1.5.0
"""Fractal: compose a pipeline of catalog entities from a need (LLM or offline), with its gaps."""

from typing import Any

from f.fractal.composition.composer import run


def main(
    need: str,
    entity_refs: list[str] | None = None,
    provider: str | None = None,
    name: str = "",
    conversation: list[dict[str, Any]] | None = None,
    llm: str = "",
    targets: list[str] | None = None,
    save: bool = False,
) -> dict[str, Any]:
    return run("Pipeline", need, entity_refs, provider, name, conversation, llm, targets, save)
