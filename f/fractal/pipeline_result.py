# Worker requirements, generated from requirements.txt by scripts/worker_requirements.py (do not edit):
# requirements:
#PyYAML==6.0.3
#requests==2.34.2
#wmill==1.850.0

"""Fractal: the last step of every compiled pipeline flow: the composite's outputs and each step's status.
At the root flow of a run inside Windmill it also deletes the secret outputs the run's steps stored (a
kubeconfig handed from a cluster to its workloads): they live as long as the run."""

import os
from typing import Any

from f.fractal.platform.workspace import OUTPUT_STORE, flow_root, forget_outputs

SUCCESS = ("success", "ok")
_KEEP = ("status", "ref", "provider", "rc", "outputs", "error", "message", "failed_step")


def _brief(result: Any) -> dict[str, Any]:
    if not isinstance(result, dict):
        return {"status": "unknown", "result": result}
    return {k: result[k] for k in _KEEP if k in result}


def main(ref: str, provider: str | None = None, mode: str = "apply", outputs: dict[str, Any] | None = None,
         steps: dict[str, Any] | None = None) -> dict[str, Any]:
    root = flow_root()
    if root and root == os.environ.get("WM_FLOW_JOB_ID"):  # the run's own flow, not a member flow
        forget_outputs(f"{OUTPUT_STORE}/{root}/")
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
