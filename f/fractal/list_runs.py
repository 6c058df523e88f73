# Worker requirements, generated from requirements.txt by scripts/worker_requirements.py (do not edit):
# requirements:
#detect-secrets==1.5.0
#fastjsonschema==2.22.3
#PyYAML==6.0.3
#requests==2.34.2
#wmill==1.850.0

"""Fractal: list run records, newest first, filtered by item (or member) ref and status."""

from typing import Any, Literal

from f.fractal.execution.records import list_runs


def main(
    ref: str = "",
    status: Literal["", "success", "failed", "started"] = "",
    limit: int = 50,
    offset: int = 0,
) -> dict[str, Any]:
    return list_runs(ref or None, status or None, limit, offset)
