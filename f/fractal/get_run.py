"""Fractal: one run record by id: refs and commits, providers per step, masked inputs, status, steps, logs."""

from typing import Any

from f.fractal.execution.records import get


def main(run_id: str) -> dict[str, Any]:
    return get(run_id)
