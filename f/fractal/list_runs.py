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
