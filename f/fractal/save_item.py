# Worker requirements, generated from requirements.txt by scripts/worker_requirements.py (do not edit):
# requirements:
#fastjsonschema==2.22.3
#PyYAML==6.0.3
#requests==2.34.2
#wmill==1.850.0

"""Fractal: save an item to one or more Git catalogs (validated, secret-free, versioned, tagged)."""

from typing import Any, Literal

from f.fractal.catalog.items import save


def main(
    item: dict[str, Any],
    targets: list[str] | None = None,
    expected_version: str | None = None,
    bump: Literal["patch", "minor", "major"] = "patch",
    conflict: Literal["fail", "overwrite"] = "fail",
) -> dict[str, Any]:
    return save(item, targets, expected_version, bump, conflict)
