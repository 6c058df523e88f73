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

"""Fractal: list and search catalog items across targets, filtered by kind, tool, provider and tags."""

from typing import Any, Literal

from f.fractal.catalog.items import list_items


def main(
    kind: Literal["", "entity", "pipeline", "meta-pipeline"] = "",
    query: str = "",
    tool: str = "",
    provider: str = "",
    tags: list[str] | None = None,
    targets: list[str] | None = None,
    limit: int = 50,
    offset: int = 0,
) -> dict[str, Any]:
    return list_items(targets, kind or None, query or None, tool or None, provider or None, tags, limit, offset)
