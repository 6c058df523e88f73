# Worker requirements, generated from requirements.txt by scripts/worker_requirements.py (do not edit):
# requirements:
#ansible-core==2.19.14
#ansible-lint==26.10.1
#ansible-runner==2.4.3
#detect-secrets==1.5.0
#fastjsonschema==2.22.3
#lark==1.3.1
#litellm==1.106.2
#python-hcl2==8.1.4
#PyYAML==6.0.3
#requests==2.34.2
#wmill==1.850.0

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
