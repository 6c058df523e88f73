# Worker requirements, generated from requirements.txt by scripts/worker_requirements.py (do not edit):
# requirements:
#PyYAML==6.0.3
#requests==2.34.2
#wmill==1.850.0

"""Fractal: list the workspace's catalog targets (git_repository resources), what a save form's multi-select shows."""

from __future__ import annotations

from typing import Any

from f.fractal.platform.settings import load as load_settings
from f.fractal.platform.workspace import home, in_windmill
from f.fractal.platform.yamlio import load_untrusted


def _local_targets() -> list[dict[str, Any]]:
    found = []
    for file in sorted(home().glob("[fu]/**/*.resource.yaml")):
        doc = load_untrusted(file.read_text(encoding="utf-8"), what=str(file)) or {}
        if doc.get("resource_type") == "git_repository":
            path = str(file.relative_to(home())).removesuffix(".resource.yaml")
            found.append({"path": path, "description": str(doc.get("description") or "")})
    return found


def _windmill_targets() -> list[dict[str, Any]]:
    import wmill

    rows = wmill.Windmill().list_resources(resource_type="git_repository", per_page=1000)
    return [{"path": r["path"], "description": r.get("description") or ""} for r in rows]


def main() -> dict[str, Any]:
    defaults = list(load_settings().default_targets)
    rows = _windmill_targets() if in_windmill() else _local_targets()
    targets = [{**r, "default": r["path"] in defaults} for r in rows]
    return {"targets": targets, "default": defaults}
