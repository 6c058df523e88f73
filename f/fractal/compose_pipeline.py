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
