"""OpenAPI 3.1 of the local API, generated from the scripts' `.script.yaml` (served at /api/openapi.json).

`scripts/fractal openapi` writes it to resources/openapi.json; a test checks that file for drift.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from f.fractal.model.errors import FractalError, http_status
from fractal_local import __version__
from fractal_local.contracts import ROOT, Script, scripts
from fractal_local.jobs import IdempotencyKeyReused

FILE = ROOT / "resources" / "openapi.json"
WS = "/api/w/{workspace}"
# The server's own error codes and their statuses; the pack's come from its error classes (errors.http_status).
SERVER_STATUS = {"unauthorized": 401, "method_not_allowed": 405, "timeout": 408, "canceled": 409, "payload_too_large": 413,
                 "unsupported_media_type": 415, "job_crashed": 500, "overloaded": 503, "job_timeout": 504,
                 IdempotencyKeyReused.code: IdempotencyKeyReused.http_status}


def error_codes() -> dict[str, int]:
    """Every error code the API answers, with its HTTP status."""
    codes, pending = {}, [FractalError]
    while pending:
        cls = pending.pop()
        codes[cls.code] = cls.http_status
        pending.extend(cls.__subclasses__())
    return dict(sorted({**codes, **SERVER_STATUS}.items()))


def status_of(code: str) -> int:
    return SERVER_STATUS.get(code) or http_status(code)


_ERRORS = {"400": "Invalid input: an argument does not fit the schema, the body is not a JSON object, or it is nested too "
                  "deeply (the error names the argument)",
           "401": "Missing or wrong `Authorization: Bearer` token", "404": "No such item, job or route",
           "409": "Conflict: the item changed since it was read (or the job was canceled)", "413": "Body over 8 MiB",
           "415": "Body is not application/json",
           "422": "Idempotency key reused for another request, or generation found no answer that passes the checks",
           "424": "Configuration missing (a resource, variable or binary)", "500": "Unexpected failure",
           "502": "A git command failed",
           "503": "A Git remote or service is unreachable (the change is kept for sync_catalog), or the queue is full",
           "504": "The job ran past its time limit and was stopped (canceled by timeout)"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{name}"}


def _errors(*codes: str) -> dict[str, Any]:
    return {c: {"description": _ERRORS[c], "content": {"application/json": {"schema": _ref("schemas/Error")}}}
            for c in codes}


_RUN_ERRORS = ("400", "401", "404", "409", "413", "415", "422", "424", "500", "502", "503", "504")
_JOB_PARAM = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}


def _body(script: Script) -> dict[str, Any]:
    return {"required": bool(script.required), "description": f"The arguments of {script.path}, as a JSON object.",
            "content": {"application/json": {"schema": script.schema}}}


def _result(script: Script) -> dict[str, Any]:
    return {"description": f"The result of {script.name}", "content": {"application/json": {"schema": {}}}}


def _run_operations(script: Script) -> dict[str, Any]:
    common = [_ref("parameters/Workspace"), _ref("parameters/IdempotencyKey"), _ref("parameters/CallbackUrl"),
              _ref("parameters/Timeout")]
    ops: dict[str, Any] = {
        f"{WS}/jobs/run_wait_result/p/{script.path}": {"post": {
            "operationId": f"run_wait_result_{script.name}", "tags": ["webhooks"], "summary": script.summary,
            "description": f"Runs {script.path} as a job and answers its result.\n\n{script.description}",
            "parameters": common, "requestBody": _body(script),
            "responses": {"200": _result(script), **_errors(*_RUN_ERRORS)}}},
        f"{WS}/jobs/run/p/{script.path}": {"post": {
            "operationId": f"run_{script.name}", "tags": ["jobs"], "summary": f"Start: {script.summary}",
            "description": f"Queues {script.path} as a job and answers its id at once (text/plain), as Windmill does.",
            "parameters": common, "requestBody": _body(script),
            "responses": {"201": {"description": "The job id", "content": {"text/plain": {"schema": {
                "type": "string", "format": "uuid"}}}}, **_errors("400", "401", "404", "413", "415", "422", "503")}}},
    }
    if script.route:
        ops[f"/api/r/{script.route}"] = {"post": {
            "operationId": script.name, "tags": ["routes"], "summary": script.summary, "description": script.description,
            "parameters": [_ref("parameters/IdempotencyKey"), _ref("parameters/CallbackUrl"), _ref("parameters/Timeout")],
            "requestBody": _body(script), "responses": {"200": _result(script), **_errors(*_RUN_ERRORS)}}}
    return ops


def _get(op: str, summary: str, ok: dict[str, Any], params: list[Any] | None = None, tag: str = "jobs",
         errors: tuple[str, ...] = ("401", "404")) -> dict[str, Any]:
    return {"get": {"operationId": op, "tags": [tag], "summary": summary, "parameters": params or [],
                    "responses": {"200": ok, **_errors(*errors)}}}


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _job_paths() -> dict[str, Any]:
    ws_id = [_ref("parameters/Workspace"), _JOB_PARAM]
    query = [_ref("parameters/Workspace")] + [
        {"name": n, "in": "query", "required": False, "description": d, "schema": s} for n, d, s in (
            ("script_path_exact", "Only jobs of this script path", {"type": "string"}),
            ("running", "Only running (true) or not running (false) jobs", {"type": "boolean"}),
            ("success", "Only successful (true) or failed (false) completed jobs", {"type": "boolean"}),
            ("status", "Only jobs in this status", {"type": "string", "enum": ["queued", "running", "success", "failure",
                                                                              "canceled"]}),
            ("created_after", "Only jobs created at or after this time (ISO 8601)", {"type": "string",
                                                                                      "format": "date-time"}),
            ("created_before", "Only jobs created at or before this time (ISO 8601)", {"type": "string",
                                                                                        "format": "date-time"}),
            ("per_page", "Most jobs to answer (default 100)", {"type": "integer", "minimum": 1, "maximum": 1000}))]
    return {
        f"{WS}/jobs_u/completed/get_result/{{id}}": _get(
            "get_result", "A completed job's result (its error, with the error's status, when it failed)",
            _json("The result", {}), ws_id, errors=("400", "401", "404", "409", "424", "500", "503", "504")),
        f"{WS}/jobs_u/completed/get_result_maybe/{{id}}": _get(
            "get_result_maybe", "Poll a job: {completed, result, success, started}",
            _json("The job's state", _ref("schemas/ResultMaybe")), ws_id),
        f"{WS}/jobs_u/get/{{id}}": _get("get_job", "A job: status, timings, callback state and, once completed, result",
                                        _json("The job", _ref("schemas/Job")), ws_id),
        f"{WS}/jobs_u/get_logs/{{id}}": _get("get_job_logs", "What the job printed so far", {
            "description": "The logs", "content": {"text/plain": {"schema": {"type": "string"}}}}, ws_id),
        f"{WS}/jobs_u/queue/cancel/{{id}}": {"post": {
            "operationId": "cancel_job", "tags": ["jobs"], "summary": "Cancel a queued or running job",
            "parameters": ws_id, "requestBody": {"required": False, "content": {"application/json": {"schema": {
                "type": "object", "properties": {"reason": {"type": "string"}}}}}},
            "responses": {"200": {"description": "Canceled", "content": {"text/plain": {"schema": {"type": "string"}}}},
                          **_errors("401", "404", "415")}}},
        f"{WS}/jobs/list": _get("list_jobs", "Jobs, newest first, filtered by script, status and creation time",
                                _json("The jobs", {"type": "array", "items": _ref("schemas/Job")}), query,
                                errors=("400", "401")),
    }


def _service_paths() -> dict[str, Any]:
    return {
        "/health": {"get": {"operationId": "health", "tags": ["service"], "security": [],
                            "summary": "Liveness and readiness: catalogs reachable, LLM configured or not",
                            "responses": {"200": _json("Ready", _ref("schemas/Health")),
                                          "503": _json("Alive but not ready", _ref("schemas/Health"))}}},
        "/metrics": _get("metrics", "Prometheus metrics", {"description": "Prometheus text exposition", "content": {
            "text/plain": {"schema": {"type": "string"}}}}, tag="service", errors=("401",)),
        "/api/version": {"get": {"operationId": "version", "tags": ["service"], "security": [], "summary": "The version",
                                 "responses": {"200": {"description": "Version", "content": {"text/plain": {
                                     "schema": {"type": "string"}}}}}}},
        "/api/openapi.json": {"get": {"operationId": "openapi", "tags": ["service"], "security": [],
                                      "summary": "This document", "responses": {"200": _json("OpenAPI 3.1", {
                                          "type": "object"})}}},
        "/mcp": {"post": {"operationId": "mcp", "tags": ["mcp"], "summary": "MCP (streamable HTTP transport)",
                          "description": "JSON-RPC messages of the Model Context Protocol: the same operations as tools.",
                          "requestBody": {"required": True, "content": {"application/json": {"schema": {
                              "type": "object"}}}},
                          "responses": {"200": {"description": "A JSON-RPC answer (JSON or an SSE stream)", "content": {
                              "application/json": {"schema": {"type": "object"}},
                              "text/event-stream": {"schema": {"type": "string"}}}},
                              "202": {"description": "Notification accepted"}, **_errors("401")}}},
        "/apps": {"get": {"operationId": "apps", "tags": ["apps"], "security": [],
                          "summary": "The operator UIs, linked (an HTML page)",
                          "responses": {"200": {"description": "HTML page", "content": {"text/html": {
                              "schema": {"type": "string"}}}}}}},
        "/apps/{asset}": {"get": {
            "operationId": "app_asset", "tags": ["apps"], "security": [],
            "summary": "An operator UI: its host page (<name>/), frame.html, bundle.js, bundle.css, runnables.json; "
                       "or host.js",
            "parameters": [{"name": "asset", "in": "path", "required": True, "schema": {"type": "string"},
                            "description": "e.g. entity_composer/ or entity_composer/bundle.js (may hold slashes)"}],
            "responses": {"200": {"description": "The asset", "content": {
                "text/html": {"schema": {"type": "string"}}, "text/javascript": {"schema": {"type": "string"}},
                "text/css": {"schema": {"type": "string"}}, "application/json": {"schema": {"type": "object"}}}},
                "404": {"description": "No such app or asset", "content": {"text/plain": {
                    "schema": {"type": "string"}}}}}}},
    }


_JOB_SCHEMA = {"type": "object", "required": ["id", "type", "script_path", "status"], "properties": {
    "id": {"type": "string", "format": "uuid"}, "type": {"type": "string", "enum": ["QueuedJob", "CompletedJob"]},
    "script_path": {"type": "string"},
    "status": {"type": "string", "enum": ["queued", "running", "success", "failure", "canceled"]},
    "running": {"type": "boolean"}, "success": {"type": "boolean"}, "canceled": {"type": "boolean"},
    "created_at": {"type": "string", "format": "date-time"},
    "started_at": {"type": ["string", "null"], "format": "date-time"},
    "ended_at": {"type": ["string", "null"], "format": "date-time"}, "duration_ms": {"type": ["integer", "null"]},
    "timeout_s": {"type": "number", "description": "Its time limit"},
    "canceled_by": {"type": "string", "enum": ["request", "timeout", "server"], "description": "When canceled"},
    "canceled_reason": {"type": "string"}, "callback": {"type": "object"}, "result": {}}}


def document() -> dict[str, Any]:
    paths: dict[str, Any] = {**_service_paths()}
    for script in scripts().values():
        paths.update(_run_operations(script))
    paths.update(_job_paths())
    return {
        "openapi": "3.1.0",
        "info": {"title": "Fractal local API", "version": __version__,
                 "description": "The pack's scripts over Windmill's own webhook URLs and the pack's HTTP routes, "
                                "answered by the local runtime (`scripts/fractal serve`). Every run is a job in a "
                                "process of its own. Arguments are checked against each script's schema."},
        "servers": [{"url": "http://127.0.0.1:8765"}],
        "security": [{"bearer": []}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "$FRACTAL_API_TOKEN, when the server has one"}},
            "parameters": {
                "Workspace": {"name": "workspace", "in": "path", "required": True, "schema": {"type": "string"},
                              "description": "Windmill workspace id (any value locally; passed to jobs as WM_WORKSPACE)"},
                "IdempotencyKey": {"name": "Idempotency-Key", "in": "header", "required": False,
                                   "schema": {"type": "string", "maxLength": 200},
                                   "description": "A retried request with the same key and body gets the first job's "
                                                  "answer instead of running again; another body with it is refused (422)."},
                "CallbackUrl": {"name": "callback_url", "in": "query", "required": False,
                                "schema": {"type": "string", "format": "uri"},
                                "description": "POST the job's final state (the Job object with its result) to this URL, "
                                               "retried 3 times with back-off, redirects not followed. Its host must be "
                                               "allowed by the server (FRACTAL_CALLBACK_HOSTS; none by default), "
                                               "else 400 invalid_input"},
                "Timeout": {"name": "timeout", "in": "query", "required": False,
                            "schema": {"type": "number", "exclusiveMinimum": 0},
                            "description": "Seconds the job may run, at most the script's own limit (Windmill's "
                                           "`timeout`) or the server's default; past it the job is stopped and "
                                           "canceled by timeout"},
            },
            "schemas": {
                "Error": {"type": "object", "required": ["error", "message"], "properties": {
                    "error": {"type": "string", "enum": list(error_codes()),
                              "description": "What went wrong, for programs"},
                    "message": {"type": "string"}, "hint": {"type": "string", "description": "What to do next"},
                    "data": {"type": "object", "description": "Details, e.g. {argument} for invalid input"}}},
                "Job": _JOB_SCHEMA,
                "ResultMaybe": {"type": "object", "required": ["completed"], "properties": {
                    "completed": {"type": "boolean"}, "started": {"type": "boolean"}, "success": {"type": "boolean"},
                    "result": {}}},
                "Health": {"type": "object", "required": ["status"], "properties": {
                    "status": {"type": "string", "enum": ["ok", "degraded"]}, "version": {"type": "string"},
                    "checks": {"type": "object"}}},
            },
        },
    }


def render() -> str:
    return json.dumps(document(), indent=2, ensure_ascii=False) + "\n"


def write(path: Path = FILE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(), encoding="utf-8")
    return path
