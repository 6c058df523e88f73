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
