"""Windmill's REST API as seen from inside a job: the job's base URL, token and workspace; flows, folders, flow jobs.

Answers are parsed by their content type, as Windmill sends them (backend/windmill-api): `Json` handlers
answer `application/json` (`flows/exists` → true/false, `get_result_maybe` → an object), `String` handlers
`text/plain` (`flows/create` → 201 and the path, `flows/update` → 200 and the path, `jobs/run/f/…` → 201
and the job id, `folders/create` → "Created folder <name>"), and errors are `text/plain` "<Kind>: <message>".
"""

from __future__ import annotations

import os
from typing import Any

from f.fractal.model.errors import ConfigError, FractalError

TIMEOUT_S = 30
_ready_folders: set[str] = set()  # folders known to exist in this job


def windmill_api() -> tuple[str, str, str]:
    """(base URL, token, workspace) of the job this runs in; ConfigError outside Windmill."""
    base = os.environ.get("BASE_INTERNAL_URL") or os.environ.get("WM_BASE_URL") or ""
    token, workspace = os.environ.get("WM_TOKEN", ""), os.environ.get("WM_WORKSPACE", "")
    if not (base and token and workspace):
        raise ConfigError("this runs inside Windmill (it needs BASE_INTERNAL_URL, WM_TOKEN and WM_WORKSPACE)",
                          hint="locally, `scripts/fractal compose --export DIR` writes the flows for `wmill sync push`")
    return base.rstrip("/"), token, workspace


def call(method: str, endpoint: str, body: Any = None) -> Any:
    """`endpoint` under /api/w/<workspace>/: the JSON value of a JSON answer, the text of a text answer.
    A refusal (HTTP ≥ 400) is a FractalError carrying Windmill's status and message in `data`."""
    import requests  # deferred: ~60 ms, only Windmill REST calls need it

    base, token, ws = windmill_api()
    url = f"{base}/api/w/{ws}/{endpoint}"
    try:
        response = requests.request(method, url, json=body, timeout=TIMEOUT_S, headers={"Authorization": f"Bearer {token}"})
    except requests.RequestException as e:
        raise FractalError(f"Windmill did not answer {method} {endpoint}: {type(e).__name__}") from None
    if response.status_code >= 400:
        raise FractalError(f"Windmill refused {method} {endpoint}: HTTP {response.status_code} {response.text[:300]}",
                           data={"status": response.status_code, "message": response.text[:300]})
    if "json" in response.headers.get("Content-Type", ""):
        return response.json()
    return response.text


def ensure_folder(name: str) -> str:
    """Create folder f/<name> unless it exists: 'exists' or 'created'; ConfigError naming the right it needs."""
    if name in _ready_folders or call("GET", f"folders/exists/{name}") is True:
        _ready_folders.add(name)
        return "exists"
    try:
        call("POST", "folders/create", {"name": name, "summary": "Created by the Fractal pack (compiled flows or playbooks)"})
    except FractalError as e:
        raise ConfigError(
            f"cannot create the Windmill folder f/{name}: {e.data.get('message') or e}",
            hint=f"creating a folder needs a user allowed to deploy in this workspace (an admin if deployment rules apply): "
                 f"have an admin create f/{name} once (Folders → New folder, or `wmill folder new {name}` then "
                 f"`wmill sync push`) and give the user or group running Fractal write access to it",
            data={"folder": f"f/{name}", **e.data},
        ) from None
    _ready_folders.add(name)
    return "created"


def push_flow(path: str, flow: dict[str, Any], message: str) -> str:
    """Create the flow at `path` (its folder first, when missing), or update it when it exists: 'created' or 'updated'."""
    folder = path.split("/")
    if folder[0] == "f" and len(folder) > 2:
        ensure_folder(folder[1])
    body = {"path": path, "summary": flow["summary"], "description": flow.get("description", ""), "value": flow["value"],
            "schema": flow.get("schema", {}), "deployment_message": message}
    if call("GET", f"flows/exists/{path}") is True:
        call("POST", f"flows/update/{path}", body)
        return "updated"
    call("POST", "flows/create", body)
    return "created"


def start_flow(path: str, args: dict[str, Any]) -> str:
    """Start the flow at `path`; its job id (Windmill answers it as text)."""
    return str(call("POST", f"jobs/run/f/{path}", args)).strip()


def job_links(job_id: str) -> dict[str, str]:
    """Where to follow a job: its page in Windmill's UI and the API endpoint that answers when it completed."""
    _base, _token, ws = windmill_api()
    public = (os.environ.get("WM_BASE_URL") or os.environ.get("BASE_INTERNAL_URL") or "").rstrip("/")
    return {"status_url": f"{public}/api/w/{ws}/jobs_u/completed/get_result_maybe/{job_id}",
            "job_url": f"{public}/run/{job_id}?workspace={ws}"}


def result_maybe(job_id: str) -> dict[str, Any]:
    """{completed, success, result, started} of a job (get_result_maybe)."""
    answer = call("GET", f"jobs_u/completed/get_result_maybe/{job_id}")
    return answer if isinstance(answer, dict) else {}


def flow_steps(job_id: str) -> list[dict[str, Any]]:
    """The steps of a flow job as Windmill's flow status reports them: id, status (Success, Failure, …), job."""
    job = call("GET", f"jobs_u/get/{job_id}")
    modules = ((job.get("flow_status") if isinstance(job, dict) else None) or {}).get("modules") or []
    return [{"id": m.get("id"), "status": m.get("type"), "job": m.get("job")} for m in modules]
