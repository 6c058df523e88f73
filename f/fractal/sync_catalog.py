"""Fractal: push what a target missed while it was unreachable (the outbox), then refresh its index."""

from typing import Any

from f.fractal.catalog.items import sync


def main(targets: list[str] | None = None) -> dict[str, Any]:
    return sync(targets)
