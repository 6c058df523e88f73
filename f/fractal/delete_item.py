# Worker requirements, generated from requirements.txt by scripts/worker_requirements.py (do not edit):
# requirements:
#fastjsonschema==2.22.3
#PyYAML==6.0.3
#requests==2.34.2
#wmill==1.850.0

"""Fractal: delete an item from the catalog(s); refused while composites use it unless forced."""

from typing import Any

from f.fractal.catalog.items import delete


def main(ref: str, targets: list[str] | None = None, force: bool = False) -> dict[str, Any]:
    return delete(ref, targets, force)
