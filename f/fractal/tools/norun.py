"""The runner of a tool that has none yet: it refuses every run before anything executes, saying why."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from f.fractal.model.errors import InvalidInput
from f.fractal.tools.runs import Outcome, Run


def refuse(reason: str) -> tuple[Callable[[Run], None], Callable[[Run, Path], Outcome]]:
    """(preflight, execute) that refuse a run with `reason` as the hint."""

    def preflight(run: Run) -> None:
        raise InvalidInput(f"{run.ref}: entities of this tool have no runner", hint=reason)

    def execute(run: Run, workdir: Path) -> Outcome:
        preflight(run)
        return Outcome("failed", 1, error=reason)

    return preflight, execute
