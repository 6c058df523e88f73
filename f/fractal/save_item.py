# extra_requirements:
# detect-secrets==1.5.0
"""Fractal: save an item to one or more Git catalogs (validated, secret-free, versioned, tagged)."""

from typing import Any, Literal

from f.fractal.catalog.items import save


def main(
    item: dict[str, Any],
    targets: list[str] | None = None,
    expected_version: str | None = None,
    bump: Literal["patch", "minor", "major"] = "patch",
    conflict: Literal["fail", "overwrite"] = "fail",
    force: bool = False,
) -> dict[str, Any]:
    return save(item, targets, expected_version, bump, conflict, force)
