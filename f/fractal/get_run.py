# Worker requirements, generated from requirements.txt by scripts/worker_requirements.py (do not edit):
# requirements:
#detect-secrets==1.5.0
#fastjsonschema==2.22.3
#PyYAML==6.0.3
#requests==2.34.2
#wmill==1.850.0

"""Fractal: one run record by id: refs and commits, providers per step, masked inputs, status, steps, logs."""

from typing import Any

from f.fractal.execution.records import get


def main(run_id: str) -> dict[str, Any]:
    return get(run_id)
