"""Validate an entity with its tool's own checker: one report shape for every tool.

    {"ok": bool,
     "errors":   [{"file": "main.tf", "line": 12, "message": "…"}],   # line when known
     "warnings": [{"file": …, "message": …}],
     "checks_run": ["item schema", "secret scan", "hcl2 parse", …],
     "checks_skipped": [{"check": "terraform validate", "reason": "…"}]}

Each tool is a module `f.fractal.tools.<tool>` exposing `DEFAULT_FILE`, `RULES` (what the
generator tells a model) and `check(files, report)`; adding a tool is adding such a module.
Checkers that need a binary say so: a missing required binary is a ConfigError, an optional one
(terraform) is a skipped check with its reason. A checker that trips on a shape it did not foresee
(TypeError/AttributeError) gives a `malformed <tool> files` error, never a crash.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from f.fractal import providers
from f.fractal.errors import ConfigError, InvalidInput
from f.fractal.model import normalize_item
from f.fractal.secret_scan import find_secrets

TOOLS = ("terraform", "ansible", "kubernetes", "secret")
MAX_MESSAGE = 500


@dataclass
class Report:
    """Collects findings; `to_dict()` is the published shape."""

    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    checks_run: list[str] = field(default_factory=list)
    checks_skipped: list[dict[str, str]] = field(default_factory=list)

    @staticmethod
    def _finding(file: str, message: str, line: int | None) -> dict[str, Any]:
        found: dict[str, Any] = {"file": file}
        if line:
            found["line"] = int(line)
        found["message"] = message[:MAX_MESSAGE]
        return found

    def error(self, file: str, message: str, line: int | None = None) -> None:
        self.errors.append(self._finding(file, message, line))

    def warn(self, file: str, message: str, line: int | None = None) -> None:
        self.warnings.append(self._finding(file, message, line))

    def ran(self, check: str) -> None:
        self.checks_run.append(check)

    def skipped(self, check: str, reason: str) -> None:
        self.checks_skipped.append({"check": check, "reason": reason})

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "errors": self.errors, "warnings": self.warnings,
                "checks_run": self.checks_run, "checks_skipped": self.checks_skipped}


def tool_module(tool: str) -> ModuleType:
    """The checker module of a tool; InvalidInput for a tool without one."""
    if tool not in TOOLS:
        raise InvalidInput(f"no validator for tool {tool!r:.40}", hint=f"use one of {', '.join(TOOLS)}")
    return importlib.import_module(f"f.fractal.tools.{tool}")


def validate_files(tool: str, files: dict[str, str]) -> dict[str, Any]:
    """Check a tool's files alone (no item around them)."""
    report = Report()
    _check_files(tool, files, report)
    return report.to_dict()


def _check_files(tool: str, files: dict[str, str], report: Report) -> None:
    if not files:
        report.error("", f"the entity has no files; a {tool} entity needs at least {tool_module(tool).DEFAULT_FILE}")
        return
    try:
        tool_module(tool).check(files, report)
    except (TypeError, AttributeError) as e:  # a shape the checker did not foresee: a finding, not a crash
        report.error("", f"malformed {tool} files: {type(e).__name__}: {e}")


def validate_entity(item: Any, *, tool: str | None = None, provider: str | None = None) -> dict[str, Any]:
    """Validate a draft Entity: the item schema, tool and providers, no secret, then the tool's checker."""
    report = Report()
    report.ran("item schema")
    try:
        item = normalize_item(item)
    except InvalidInput as e:
        report.error("fractal.yaml", e.message)
        return report.to_dict()
    if item["kind"] != "Entity":
        report.error("fractal.yaml", f"kind is {item['kind']}, expected Entity")
        return report.to_dict()
    spec = item["spec"]
    _check_tool_and_providers(spec, tool, provider, report)
    report.ran("secret scan")
    for found in find_secrets(spec, "spec"):
        file = found["path"].split(".", 2)[2] if found["path"].startswith("spec.files.") else "fractal.yaml"
        report.error(file, f"plaintext {found['kind']} at {found['path']}: reference a Windmill resource or variable instead")
    if spec["tool"] in TOOLS and not report.errors:
        _check_files(spec["tool"], spec.get("files") or {}, report)
    return report.to_dict()


def _check_tool_and_providers(spec: dict[str, Any], tool: str | None, provider: str | None, report: Report) -> None:
    report.ran("tool and providers")
    if tool and spec["tool"] != tool:
        report.error("fractal.yaml", f"the entity's tool is {spec['tool']}, but a {tool} entity was asked for")
    if spec["tool"] not in TOOLS:
        report.error("fractal.yaml", f"tool {spec['tool']} has no generator or validator yet; use one of {', '.join(TOOLS)}")
    names = spec.get("providers") or []
    if provider and names and provider not in names:
        report.error("fractal.yaml", f"providers are {', '.join(names)}, but the entity was asked for {provider}")
    for name in names:
        known = providers.PROVIDERS.get(name)
        if known is None:
            report.error("fractal.yaml", f"unknown provider {name}; use one of {', '.join(providers.PROVIDERS)}")
        elif spec["tool"] not in known.tools:
            supported = ", ".join(known.tools)
            report.error("fractal.yaml", f"provider {name} does not support {spec['tool']} (it supports {supported})")


# ------------------------------------------------------------------ helpers for the tool checkers


def find_binary(name: str) -> str | None:
    """A tool's executable: next to this Python (the venv) first, then on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(name)


def require_binary(name: str, package: str) -> str:
    found = find_binary(name)
    if found is None:
        raise ConfigError(f"{name} is not installed on this worker, so the files cannot be checked",
                          hint=f"install {package} (pinned in requirements.txt) into the worker's Python environment")
    return found



def run_tool(
    argv: list[str], cwd: Path, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a checker with a scrubbed, offline-friendly environment; a timeout becomes a ConfigError."""
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER")}
    base["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{base.get('PATH', '')}"
    try:
        return subprocess.run(argv, cwd=cwd, env={**base, **(env or {})}, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise ConfigError(f"{Path(argv[0]).name} took over {timeout:.0f} s", hint="the worker is overloaded; retry") from e
