# Worker requirements, generated from requirements.txt by scripts/worker_requirements.py (do not edit):
# requirements:
#ansible-lint==26.10.1
#detect-secrets==1.5.0
#fastjsonschema==2.22.3
#lark==1.3.1
#python-hcl2==8.1.4
#PyYAML==6.0.3
#requests==2.34.2
#wmill==1.850.0

"""Fractal: audit a repository — scanner findings, secrets through the whole history, its structure, a GitOps score."""

from typing import Any

from f.fractal.audit.audit import DEFAULT_TIMEOUT, audit


def main(
    repo: str,
    ref: str = "",
    checks: list[str] | None = None,
    history: int = 0,
    timeout: float = DEFAULT_TIMEOUT,
) -> dict[str, Any]:
    return audit(repo, ref, checks or None, history, timeout)
