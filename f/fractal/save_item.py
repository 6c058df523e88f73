# Worker requirements, generated from requirements.txt by scripts/worker_requirements.py (do not edit):
# requirements:
#ansible-core==2.19.14
#ansible-lint==26.10.1
#ansible-runner==2.4.3
#detect-secrets==1.5.0
#fastjsonschema==2.22.3
#lark==1.3.1
#python-hcl2==8.1.4
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
    force: bool = False,
) -> dict[str, Any]:
    return save(item, targets, expected_version, bump, conflict, force)
