# Worker requirements, generated from requirements.txt by scripts/worker_requirements.py (do not edit):
# requirements:
#ansible-core==2.19.14
#ansible-lint==26.10.1
#ansible-runner==2.4.3
#detect-secrets==1.5.0
#fastjsonschema==2.22.3
#lark==1.3.1
#python-hcl2==8.1.4
#PyYAML==6.0.3
#requests==2.34.2
#wmill==1.850.0

"""Fractal: teach Fractal an engineer's solution: sanitized, smithed into a Rune (a parametrised entity
template) or an Orb (a parametrised pipeline), enhanced and saved in the knowledge catalog, where generation,
composition and agents find it again. solution {ref} learns a saved catalog item."""

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
