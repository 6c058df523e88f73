# Worker requirements, generated from requirements.txt by scripts/worker_requirements.py (do not edit):
# requirements:

"""Fractal: the last step of every compiled pipeline flow: the composite's outputs and each step's status."""

from typing import Any

SUCCESS = ("success", "ok")
_KEEP = ("status", "ref", "provider", "rc", "outputs", "error", "message", "failed_step")


def _brief(result: Any) -> dict[str, Any]:
    if not isinstance(result, dict):
        return {"status": "unknown", "result": result}
    return {k: result[k] for k in _KEEP if k in result}


def main(ref: str, provider: str | None = None, mode: str = "apply", outputs: dict[str, Any] | None = None,
         steps: dict[str, Any] | None = None) -> dict[str, Any]:
    briefs = {sid: _brief(r) for sid, r in (steps or {}).items()}
    failed = [sid for sid, r in briefs.items() if r.get("status") not in SUCCESS]
    return {
        "status": "failed" if failed else "success",
        "ref": ref,
        "provider": provider,
        "mode": mode,
        "outputs": {k: v for k, v in (outputs or {}).items() if v is not None},
        "steps": briefs,
        **({"failed_step": failed[0]} if failed else {}),
    }
