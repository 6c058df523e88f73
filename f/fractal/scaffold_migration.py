"""Fractal: scaffold a repository's move to GitOps as validated draft entities and a pipeline; optionally save them."""

from typing import Any

from f.fractal.audit.migrate import save as save_migration
from f.fractal.audit.migrate import scaffold


def main(
    repo: str = "",
    audit: dict[str, Any] | None = None,
    ref: str = "",
    environments: list[str] | None = None,
    helm: bool = False,
    registry: str = "",
    gitops_repo: str = "",
    revision: str = "",
    name: str = "",
    checks: list[str] | None = None,
    save: bool = False,
    targets: list[str] | None = None,
) -> dict[str, Any]:
    result = scaffold(repo, audit or None, ref=ref, environments=environments or None, helm=helm, registry=registry,
                      gitops_repo=gitops_repo, revision=revision, name=name, checks=checks or None)
    if save:
        result["saved"] = save_migration(result, targets or None)
    return result
