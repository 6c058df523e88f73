"""The local HTTP server: the same URLs as Windmill, answered by the embedded runtime.

    POST /api/w/{ws}/jobs/run_wait_result/p/{script path}   run a script, answer its result
    POST /api/w/{ws}/jobs/run/p/{script path}               start it, answer the job id (text)
    GET  /api/w/{ws}/jobs_u/completed/get_result/{id}       the result of a started job
    GET  /api/w/{ws}/jobs_u/completed/get_result_maybe/{id} {completed, result}
    POST /api/r/{route}                                     the pack's HTTP routes (*.http_trigger.yaml)
    GET  /apps/<name>/                                      the operator UIs (fractal_local.apps)
    GET  /api/version                                       liveness

The request body is the JSON object of arguments. Errors are JSON ({error, message, hint}) with a
status that says what happened: 400 bad input, 404 not found, 409 conflict, 503 unreachable.
When $FRACTAL_API_TOKEN is set, every call needs `Authorization: Bearer <token>`.
"""

from __future__ import annotations

import hmac
import json
import os
import re
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

from f.fractal.model.errors import http_status
from f.fractal.platform.secrets import mask_answer
from fractal_local import apps
from fractal_local.runner import call, error_payload

ROOT = Path(__file__).resolve().parents[2]
MAX_BODY = 8 * 1024 * 1024
_JOB = re.compile(r"^/api/w/[^/]+/jobs/(run_wait_result|run)/p/(.+)$")
_RESULT = re.compile(r"^/api/w/[^/]+/jobs_u/completed/(get_result|get_result_maybe)/([0-9a-f-]{36})$")


def load_routes(root: Path = ROOT) -> dict[str, str]:
    """{route_path: script path} from the pack's HTTP triggers (POST, sync, scripts)."""
    routes = {}
    for file in sorted((root / "f").rglob("*.http_trigger.yaml")):
        spec = yaml.safe_load(file.read_text())
        if not spec.get("is_flow"):
            routes[spec["route_path"].strip("/")] = spec["script_path"]
    return routes


class Jobs:
    """Started jobs, kept in memory for the server's life."""

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(max_workers=4)
        self.futures: dict[str, Future[Any]] = {}
        self.lock = threading.Lock()

    def start(self, path: str, args: dict[str, Any]) -> str:
        job = str(uuid.uuid4())
        with self.lock:
            self.futures[job] = self.pool.submit(call, path, args)
        return job

    def get(self, job: str) -> Future[Any] | None:
        with self.lock:
            return self.futures.get(job)


def make_handler(token: str | None, routes: dict[str, str], jobs: Jobs) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "fractal-local"

        def log_message(self, fmt: str, *args: Any) -> None:
            if os.environ.get("FRACTAL_SERVER_LOG"):
                super().log_message(fmt, *args)

        def _send(self, status: int, payload: Any, text: bool = False) -> None:
            payload = mask_answer(payload, [token] if token else [])  # whatever a job printed: no credential leaves
            data = (payload if text else json.dumps(payload, default=str)).encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain" if text else "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _authorized(self) -> bool:
            if not token:
                return True
            given = self.headers.get("Authorization", "").removeprefix("Bearer ").strip()
            if hmac.compare_digest(given.encode(), token.encode()):
                return True
            self._send(
                401,
                {
                    "error": "unauthorized",
                    "message": "missing or wrong bearer token",
                    "hint": "send Authorization: Bearer $FRACTAL_API_TOKEN",
                },
            )
            return False

        def _args(self) -> dict[str, Any] | None:
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if not 0 <= length <= MAX_BODY:
                self._send(413, {"error": "invalid_input", "message": f"Content-Length must be 0 to {MAX_BODY} bytes"})
                return None
            try:
                args = json.loads(self.rfile.read(length) or b"{}")
            except json.JSONDecodeError as e:
                self._send(
                    400,
                    {"error": "invalid_input", "message": f"body is not JSON: {e}", "hint": "send a JSON object of arguments"},
                )
                return None
            if not isinstance(args, dict):
                self._send(400, {"error": "invalid_input", "message": "body must be a JSON object of arguments"})
                return None
            return args

        def _run(self, path: str, args: dict[str, Any]) -> None:
            try:
                self._send(200, call(path, args))
            except Exception as exc:
                payload = error_payload(exc)
                self._send(http_status(payload["error"]), payload)

        def do_GET(self) -> None:
            app_file = apps.asset(self.path)  # the operator UIs: static, no token (the API calls need one)
            if app_file is not None:
                status, kind, body = app_file
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            if self.path == "/api/version":
                self._send(200, "fractal-local", text=True)
                return
            if not self._authorized():
                return
            m = _RESULT.match(self.path)
            future = jobs.get(m.group(2)) if m else None
            if m is None or future is None:
                self._send(404, {"error": "not_found", "message": f"no such endpoint or job: {self.path}"})
                return
            if m.group(1) == "get_result_maybe" and not future.done():
                self._send(200, {"completed": False, "result": None})
                return
            try:
                result = future.result()
            except Exception as exc:
                payload = error_payload(exc)
                self._send(
                    http_status(payload["error"]),
                    payload if m.group(1) == "get_result" else {"completed": True, "result": payload},
                )
                return
            self._send(200, result if m.group(1) == "get_result" else {"completed": True, "result": result})

        def do_POST(self) -> None:
            if not self._authorized():
                return
            job = _JOB.match(self.path.split("?", 1)[0])
            route = self.path.split("?", 1)[0].removeprefix("/api/r/").strip("/") if self.path.startswith("/api/r/") else None
            if job is None and route not in routes:
                self._send(
                    404,
                    {"error": "not_found", "message": f"no endpoint {self.path}", "hint": f"routes: {', '.join(sorted(routes))}"},
                )
                return
            args = self._args()
            if args is None:
                return
            if job and job.group(1) == "run":
                self._send(201, jobs.start(job.group(2), args), text=True)
            else:
                self._run(job.group(2) if job else routes[route or ""], args)

    return Handler


def serve(host: str = "127.0.0.1", port: int = 8765, token: str | None = None) -> ThreadingHTTPServer:
    """A started server (serve_forever runs in a daemon thread); call .shutdown() to stop."""
    server = ThreadingHTTPServer((host, port), make_handler(token, load_routes(), Jobs()))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
