"""Fractal: audit a repository — findings from real scanners, secrets through the whole history, its structure and a GitOps score."""

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
