"""Running `scripts/fractal` as a user would, through the venv's Python."""

from __future__ import annotations

import os
import subprocess
import sys

from support.paths import ROOT


def run_cli(
    *args: str, env: dict[str, str] | None = None, input: str | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run `scripts/fractal` through the venv's Python (the set-up already ran)."""
    full_env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'scripts'}", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "fractal_local", *args],
        cwd=ROOT,
        env=full_env,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
