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
