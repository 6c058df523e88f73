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

"""Fractal: get an item by ref (entity:name@1.2.0, @latest by default) from the first target holding it."""

from typing import Any

from f.fractal.catalog.items import get
from f.fractal.catalog.layout import item_readme


def main(ref: str, targets: list[str] | None = None) -> dict[str, Any]:
    found = get(ref, targets)
    return {**found, "readme": item_readme(found["item"])}  # the README the catalog writes beside the item
