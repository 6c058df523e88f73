"""What a tool is, for the rest of the pack: one record per tool, listed once in tools.registry.

A tool lives in one folder, `tools/<tool>/`: `files.py` (its file layout: which file is the entry
point), `check.py` (its own checkers), `run.py` (preflight + execute a run) and `tool.py`, which
binds them into a `Tool` with `Tool.bind(name, title, check, run, …)`. Checks and runs read an
entity's files through the same `files.py`, so a draft that validates is a draft the runner can start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from f.fractal.tools.checks import Report
from f.fractal.tools.runs import Outcome, Run

Files = dict[str, str]
Interface = tuple[dict[str, Any], dict[str, Any]]  # (inputs JSON Schema, outputs)


class CheckModule(Protocol):
    """What a tool's `check.py` provides (module constants, read-only here)."""

    @property
    def DEFAULT_FILE(self) -> str: ...

    @property
    def RULES(self) -> tuple[str, ...]: ...

    def check(self, files: Files, report: Report, /) -> None: ...


class RunModule(Protocol):
    """What a tool's `run.py` provides (`norun.refuse` for a tool without a runner)."""

    def preflight(self, run: Run, /) -> None: ...

    def execute(self, run: Run, workdir: Path, /) -> Outcome: ...


@dataclass(frozen=True)
class Tool:
    name: str
    title: str
    default_file: str  # what a new entity of this tool starts from
    rules: tuple[str, ...]  # what a model is told when it writes this tool's files
    check: Callable[[Files, Report], None]  # the tool's own checkers: findings into the report
    preflight: Callable[[Run], None]  # refuse a run before anything executes (no side effect)
    execute: Callable[[Run, Path], Outcome]  # run in a fresh private folder; a failure is an Outcome
    interface: Callable[[Files], Interface] | None = None  # inputs/outputs read from the files, where the tool declares them
    provider_credential: bool = True  # a run needs the provider's credential (a secret binding does not)

    @classmethod
    def bind(cls, name: str, title: str, checks: CheckModule, runs: RunModule, *,
             interface: Callable[[Files], Interface] | None = None, provider_credential: bool = True) -> Tool:
        """The record of a tool from its folder's `check` and `run` modules."""
        return cls(name, title, checks.DEFAULT_FILE, checks.RULES, checks.check, runs.preflight, runs.execute,
                   interface, provider_credential)
