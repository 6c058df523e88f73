# Worker requirements, generated from requirements.txt by scripts/worker_requirements.py (do not edit):
# requirements:
#fastjsonschema==2.22.3
#PyYAML==6.0.3
#requests==2.34.2
#wmill==1.850.0

"""Fractal: push what a target missed while it was unreachable (the outbox), then refresh its index."""

from typing import Any

from f.fractal.catalog.items import sync


def main(targets: list[str] | None = None) -> dict[str, Any]:
    return sync(targets)
