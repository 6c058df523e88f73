"""What a tool is, for the rest of the pack: one record per tool, listed once in tools.registry.

A tool lives in one folder, `tools/<tool>/`: `files.py` (its file layout: which file is the entry
point), `check.py` (its own checkers), `run.py` (preflight + execute a run) and `tool.py`, which
binds them into a `Tool`. Checks and runs read an entity's files through the same `files.py`, so a
draft that validates is a draft the runner can start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from f.fractal.tools.checks import Report
from f.fractal.tools.runs import Outcome, Run

Files = dict[str, str]
Interface = tuple[dict[str, Any], dict[str, Any]]  # (inputs JSON Schema, outputs)


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
