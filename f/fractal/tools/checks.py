"""What every tool checker shares: the report shape, binaries, running a checker process.

    {"ok": bool,
     "errors":   [{"file": "main.tf", "line": 12, "message": "…"}],   # line when known
     "warnings": [{"file": …, "message": …}],
     "checks_run": ["item schema", "secret scan", "hcl2 parse", …],
     "checks_skipped": [{"check": "terraform validate", "reason": "…"}]}

Checkers that need a binary say so: a missing required binary is a ConfigError, an optional one
(terraform) is a skipped check with its reason.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import f.fractal.platform.workspace as workspace
from f.fractal.model.errors import ConfigError, InvalidInput
from f.fractal.model.records import CheckReport, Finding
from f.fractal.platform.yamlio import load_untrusted

MAX_MESSAGE = 500
PACKAGED_COMMANDS = ("ansible-core", "ansible-lint")


@dataclass
class Report:
    """Collects findings; `to_dict()` is the published shape."""

    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    checks_run: list[str] = field(default_factory=list)
    checks_skipped: list[dict[str, str]] = field(default_factory=list)

    @staticmethod
    def _finding(file: str, message: str, line: int | None) -> Finding:
        found: Finding = {"file": file, "message": message[:MAX_MESSAGE]}
        if line:
            found["line"] = int(line)
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

    def to_dict(self) -> CheckReport:
        return {"ok": self.ok, "errors": self.errors, "warnings": self.warnings,
                "checks_run": self.checks_run, "checks_skipped": self.checks_skipped}


def yaml_mapping(report: Report, path: str, text: str, shape: str) -> dict[str, Any] | None:
    """The YAML mapping in `text`, or None with the error reported (`shape`: what the file should be)."""
    try:
        doc = load_untrusted(text, what=path)
    except InvalidInput as e:
        report.error(path, e.message)
        return None
    if not isinstance(doc, dict):
        report.error(path, shape)
        return None
    return doc



def command_dir() -> Path | None:
    """A folder of launchers for the commands of the Python packages the pack pins (ansible-core's
    ansible-playbook, ansible-lint …), each running this Python with the job's own packages. A Windmill
    worker installs packages without their commands on PATH, and a worker image's own Ansible may be
    another version: the pack's launchers come first. None when none of those packages is installed."""
    folder = workspace.cache_dir("bin", hashlib.sha256(sys.executable.encode()).hexdigest()[:12])
    wrote = False
    import importlib.metadata  # ~35 ms at import: only paid where launchers are written

    for package in PACKAGED_COMMANDS:
        try:
            points = importlib.metadata.distribution(package).entry_points
        except importlib.metadata.PackageNotFoundError:
            continue
        for point in points.select(group="console_scripts"):
            text = (f"#!{sys.executable}\nimport sys\nfrom {point.module} import {point.attr.split('.')[0]}\n"
                    f"sys.exit({point.attr}())\n")
            launcher = folder / point.name
            if not launcher.is_file() or launcher.read_text() != text:  # written aside, then renamed: never half-written
                fd, fresh = tempfile.mkstemp(dir=folder, prefix=f".{point.name}.")  # unique per process and thread
                with os.fdopen(fd, "w") as out:
                    out.write(text)
                os.chmod(fresh, 0o755)  # noqa: S103 (a launcher: executable by the job user, like a console script)
                os.replace(fresh, launcher)
            wrote = True
    return folder if wrote else None


def tool_environments() -> Path:
    """Where `scripts/setup --scanners` puts the tools that need an environment of their own (`<tool>/`, from
    scripts/scanners/<tool>.txt): $FRACTAL_SCANNERS_DIR, else `.venv-scanners` in the pack's checkout. A Windmill
    worker loads pack modules without `__file__`: the current folder stands for the checkout there."""
    here = globals().get("__file__")
    root = Path(here).resolve().parents[3] if here else Path.cwd()
    return Path(os.environ.get("FRACTAL_SCANNERS_DIR") or root / ".venv-scanners")


def find_binary(name: str) -> str | None:
    """A tool's executable: the pack's own launcher (its pinned package), next to this Python, then on PATH."""
    own = command_dir()
    if own and (own / name).is_file():
        return str(own / name)
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
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER", "PYTHONPATH")}
    own = command_dir()  # ansible-lint runs `ansible` itself: the launchers go first on PATH
    base["PATH"] = os.pathsep.join([*([str(own)] if own else []), str(Path(sys.executable).parent), base.get("PATH", "")])
    try:
        return subprocess.run(argv, cwd=cwd, env={**base, **(env or {})}, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise ConfigError(f"{Path(argv[0]).name} took over {timeout:.0f} s", hint="the worker is overloaded; retry") from e
