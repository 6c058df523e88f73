# Worker requirements, generated from requirements.txt by scripts/worker_requirements.py (do not edit):
# requirements:
#PyYAML==6.0.3
#requests==2.34.2
#wmill==1.850.0

"""Fractal: list the workspace's catalog targets (git_repository resources), what a save form's multi-select shows."""

from __future__ import annotations

from typing import Any

from f.fractal.platform.settings import load as load_settings
from f.fractal.platform.workspace import list_resources


def main() -> dict[str, Any]:
    defaults = list(load_settings().default_targets)
    targets = [{**r, "default": r["path"] in defaults} for r in list_resources("git_repository")]
    return {"targets": targets, "default": defaults}
