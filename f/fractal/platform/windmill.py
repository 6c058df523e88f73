"""Windmill's REST API as seen from inside a job: the job's base URL, token and workspace, and flow pushes."""

from __future__ import annotations

import os
from typing import Any

from f.fractal.model.errors import ConfigError, FractalError

TIMEOUT_S = 30


def windmill_api() -> tuple[str, str, str]:
    """(base URL, token, workspace) of the job this runs in; ConfigError outside Windmill."""
    base = os.environ.get("BASE_INTERNAL_URL") or os.environ.get("WM_BASE_URL") or ""
    token, workspace = os.environ.get("WM_TOKEN", ""), os.environ.get("WM_WORKSPACE", "")
    if not (base and token and workspace):
        raise ConfigError("deploy_flow runs inside Windmill (it needs BASE_INTERNAL_URL, WM_TOKEN and WM_WORKSPACE)",
                          hint="locally, `scripts/fractal compose --export DIR` writes the flows for `wmill sync push`")
    return base.rstrip("/"), token, workspace


def call(method: str, url: str, token: str, body: dict[str, Any] | None = None) -> Any:
    import requests  # deferred: ~60 ms, only Windmill REST calls need it

    try:
        response = requests.request(method, url, json=body, timeout=TIMEOUT_S, headers={"Authorization": f"Bearer {token}"})
    except requests.RequestException as e:
        raise FractalError(f"Windmill did not answer {method} {url}: {type(e).__name__}") from None
    if response.status_code >= 400:
        raise FractalError(f"Windmill refused {method} {url}: HTTP {response.status_code} {response.text[:300]}")
    return response.json() if response.text.strip()[:1] in ("{", "[", "t", "f") else response.text


def push_flow(path: str, flow: dict[str, Any], message: str) -> str:
    """Create the flow at `path`, or update it when it exists: 'created' or 'updated'."""
    base, token, ws = windmill_api()
    api = f"{base}/api/w/{ws}/flows"
    body = {"path": path, "summary": flow["summary"], "description": flow.get("description", ""), "value": flow["value"],
            "schema": flow.get("schema", {}), "deployment_message": message}
    if call("GET", f"{api}/exists/{path}", token) is True:
        call("POST", f"{api}/update/{path}", token, body)
        return "updated"
    call("POST", f"{api}/create", token, body)
    return "created"
