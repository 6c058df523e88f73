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

"""Fractal: turn a need in plain words into a validated entity draft (LLM with repair, or offline); optionally save it."""

from typing import Any

from f.fractal.generation.generator import generate, save_draft


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
        result["saved"] = save_draft(result["draft"], targets or None)
    return result
