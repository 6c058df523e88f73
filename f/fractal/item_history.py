# Worker requirements, generated from requirements.txt by scripts/worker_requirements.py (do not edit):
# requirements:
#fastjsonschema==2.22.3
#PyYAML==6.0.3
#requests==2.34.2
#wmill==1.850.0

"""Fractal: the versions of an item (saves and deletes, newest first) in each target, from Git."""

from typing import Any

from f.fractal.catalog.items import history


def main(ref: str, targets: list[str] | None = None, limit: int = 100) -> dict[str, Any]:
    return history(ref, targets, limit)
