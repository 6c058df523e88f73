"""The local HTTP server (Starlette under uvicorn): Windmill's URLs, the pack's routes, jobs, MCP, health, metrics.

    POST /api/w/{ws}/jobs/run_wait_result/p/{script path}   run a script as a job, answer its result
    POST /api/w/{ws}/jobs/run/p/{script path}               start it, answer the job id (text, 201)
    GET  /api/w/{ws}/jobs_u/completed/get_result/{id}       the result of a started job
    GET  /api/w/{ws}/jobs_u/completed/get_result_maybe/{id} {completed, result, success, started}
    GET  /api/w/{ws}/jobs_u/get/{id}                        the job: status, timings, result
    GET  /api/w/{ws}/jobs_u/get_logs/{id}                   what it printed so far (text)
    POST /api/w/{ws}/jobs_u/queue/cancel/{id}               cancel it
    GET  /api/w/{ws}/jobs/list                              jobs, filtered by script, status, time
    POST /api/r/{route}                                     the pack's HTTP routes (*.http_trigger.yaml)
    GET  /apps/<name>/                                      the operator UIs (fractal_local.apps)
    POST /mcp                                               MCP, streamable HTTP
    GET  /health  /metrics  /api/version  /api/openapi.json

The request body is the JSON object of arguments (at most 8 MiB, nested at most 64 deep). Errors are
JSON ({error, message, hint}) with the status of its code (openapi.error_codes()). When
$FRACTAL_API_TOKEN is set, every call but /health, /api/version and /api/openapi.json needs
`Authorization: Bearer <token>`. Run calls take an `Idempotency-Key` header, a `callback_url` query (on an
allowed host, fractal_local.limits) and a `timeout` query (seconds, below the script's limit).

Extra routes: a module `fractal_local.apps`, when present, contributes `routes(api) -> list[BaseRoute]`
(Starlette routes or Mounts, e.g. `/apps/<name>/`) and may list `PUBLIC_PREFIXES` that need no token.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import importlib
import json
import os
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

import uvicorn
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

import f.fractal.platform.settings as settings
import f.fractal.platform.workspace as workspace
from f.fractal.model.errors import FractalError
from f.fractal.platform.secrets import mask_answer
from fractal_local import __version__, mcp_server, openapi
from fractal_local.contracts import routes as pack_routes
from fractal_local.jobs import Job, Jobs
from fractal_local.limits import Limits
from fractal_local.metrics import Metrics

MAX_BODY = 8 * 1024 * 1024
MAX_DEPTH = 64
MAX_QUEUED = 1000
BODY_TIMEOUT_S = 30.0
HEADER_TIMEOUT_S = 15.0
PUBLIC = ("/health", "/api/version", "/api/openapi.json")


class ApiError(Exception):
    def __init__(self, status: int, error: str, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.status, self.payload = status, {"error": error, "message": message, **({"hint": hint} if hint else {})}


class JSONAnswer(JSONResponse):
    def render(self, content: Any) -> bytes:
        return json.dumps(mask_answer(content), ensure_ascii=False, default=str).encode()  # no credential leaves


def status_of(payload: dict[str, Any]) -> int:
    return openapi.status_of(str(payload.get("error")))


def _depth(value: Any) -> int:
    """How deeply a parsed JSON value nests, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(node, dict):
            stack.extend((v, level + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, level + 1) for v in node)
    return deepest


async def read_json(request: Request, default: Any = None) -> Any:
    """The body as JSON: bounded in size, time and depth; 413, 408, 415 or 400 otherwise."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY:
        raise ApiError(413, "payload_too_large", f"the body is over {MAX_BODY} bytes", "send a smaller JSON object")
    chunks: list[bytes] = []

    async def collect() -> None:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY:
                raise ApiError(413, "payload_too_large", f"the body is over {MAX_BODY} bytes", "send a smaller JSON object")
            chunks.append(chunk)

    try:
        await asyncio.wait_for(collect(), BODY_TIMEOUT_S)
    except TimeoutError:
        raise ApiError(408, "timeout", f"the body did not arrive within {BODY_TIMEOUT_S:.0f} s") from None
    body = b"".join(chunks)
    if not body.strip():
        return default
    kind = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if kind != "application/json" and not kind.endswith("+json"):
        raise ApiError(415, "unsupported_media_type", f"the body is {kind}, not JSON",
                       "send Content-Type: application/json with a JSON object of arguments")
    value = None
    try:
        value = json.loads(body)
        too_deep = _depth(value) > MAX_DEPTH
    except RecursionError:  # deeper than the parser itself goes
        too_deep = True
    except (ValueError, UnicodeDecodeError) as e:
        raise ApiError(400, "invalid_input", f"body is not JSON: {e}"[:300], "send a JSON object of arguments") from None
    if too_deep:
        raise ApiError(400, "invalid_input", f"the body nests deeper than {MAX_DEPTH} levels", "flatten the arguments")
    return value


async def read_args(request: Request) -> dict[str, Any]:
    args = await read_json(request, {})
    if not isinstance(args, dict):
        raise ApiError(400, "invalid_input", "body must be a JSON object of arguments", """e.g. {"query": "k3s"}""")
    return args


class BearerAuth:
    """Strict `Authorization: Bearer <token>` on everything but the public paths."""

    def __init__(self, app: ASGIApp, token: str | None, public: Sequence[str]) -> None:
        self.app, self.token, self.public = app, (token or "").encode(), tuple(public)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.token or scope["path"] in PUBLIC or scope["path"].startswith(self.public):
            await self.app(scope, receive, send)
            return
        scheme, _, given = dict(scope["headers"]).get(b"authorization", b"").partition(b" ")
        if scheme.lower() == b"bearer" and hmac.compare_digest(given.strip(), self.token):
            await self.app(scope, receive, send)
            return
        answer = JSONAnswer({"error": "unauthorized", "message": "missing or wrong bearer token",
                             "hint": "send Authorization: Bearer $FRACTAL_API_TOKEN"}, 401,
                            headers={"WWW-Authenticate": "Bearer"})
        await answer(scope, receive, send)


class Api:
    """What the routes (and contributed apps) work with: the job runtime, the metrics, the settings."""

    def __init__(self, token: str | None, max_running: int, limits: Limits | None = None) -> None:
        self.token = token
        self.jobs = Jobs(max_running=max_running, limits=limits)
        self.metrics = Metrics(self.jobs)
        self.jobs.on_done.append(self.metrics.job_done)
        self.health_cache: tuple[float, dict[str, Any]] | None = None

    def submit(self, path: str, args: dict[str, Any], request: Request | None = None) -> Job:
        queued = sum(1 for j in self.jobs.live.values() if j.status == "queued")
        if queued >= MAX_QUEUED:
            raise ApiError(503, "overloaded", f"{queued} jobs are waiting", "retry later")
        headers = request.headers if request else {}
        query = request.query_params if request else {}
        return self.jobs.submit(path, args, callback_url=query.get("callback_url", ""),
                                idempotency_key=headers.get("idempotency-key", "")[:200], timeout=query.get("timeout"))

    async def run(self, path: str, args: dict[str, Any], request: Request | None = None) -> Job:
        return await self.jobs.wait(self.submit(path, args, request))


def outcome(job: Job) -> Response:
    if job.status == "success":
        return JSONAnswer(job.result)
    payload = job.error or {"error": "error", "message": "the job failed"}
    return JSONAnswer(payload, status_of(payload))


def _routes(api: Api, mcp_app: ASGIApp) -> list[BaseRoute]:
    jobs = api.jobs

    async def run_wait_result(request: Request) -> Response:
        return outcome(await api.run(request.path_params["path"], await read_args(request), request))

    async def run_async(request: Request) -> Response:
        job = api.submit(request.path_params["path"], await read_args(request), request)
        return PlainTextResponse(job.id, 201)

    async def get_result(request: Request) -> Response:
        return outcome(await jobs.wait(jobs.get(request.path_params["id"])))

    async def get_result_maybe(request: Request) -> Response:
        job = jobs.get(request.path_params["id"])
        return JSONAnswer({"completed": job.completed, "started": job.started_at is not None,
                           "success": job.status == "success", "result": job.outcome() if job.completed else None})

    async def get_job(request: Request) -> Response:
        return JSONAnswer(jobs.get(request.path_params["id"]).to_dict(with_result=True))

    async def get_logs(request: Request) -> Response:
        return PlainTextResponse(mask_answer(jobs.logs(request.path_params["id"])))

    async def cancel(request: Request) -> Response:
        body = await read_json(request, {})
        reason = str(body.get("reason", "")) if isinstance(body, dict) else ""
        job = await jobs.cancel(request.path_params["id"], reason)
        return PlainTextResponse(f"{job.id} {job.status}")

    async def list_jobs(request: Request) -> Response:
        q = request.query_params
        status = q.get("status", "")
        if q.get("running") == "true":
            status = "running"
        rows = jobs.list(q.get("script_path_exact", ""), status, _time(q.get("created_after")),
                         _time(q.get("created_before")), _int(q.get("per_page"), 100))
        if q.get("success") in ("true", "false"):
            rows = [j for j in rows if j.completed and (j.status == "success") == (q["success"] == "true")]
        return JSONAnswer([j.to_dict() for j in rows])

    def route_endpoint(path: str) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            return outcome(await api.run(path, await read_args(request), request))

        return endpoint

    async def health(request: Request) -> Response:
        report = await api_health(api)
        return JSONAnswer(report, 200 if report["status"] == "ok" else 503)

    async def version(request: Request) -> Response:
        return PlainTextResponse(f"fractal-local {__version__}")

    async def document(request: Request) -> Response:
        return JSONAnswer(openapi.document())

    async def metrics(request: Request) -> Response:
        return Response(api.metrics.render(), media_type=api.metrics.content_type)

    ws = "/api/w/{workspace}"
    found: list[BaseRoute] = [
        Route("/health", health), Route("/metrics", metrics),
        Route("/api/version", version), Route("/api/openapi.json", document),
        Route(f"{ws}/jobs/run_wait_result/p/{{path:path}}", run_wait_result, methods=["POST"]),
        Route(f"{ws}/jobs/run/p/{{path:path}}", run_async, methods=["POST"]),
        Route(f"{ws}/jobs_u/completed/get_result/{{id}}", get_result),
        Route(f"{ws}/jobs_u/completed/get_result_maybe/{{id}}", get_result_maybe),
        Route(f"{ws}/jobs_u/get/{{id}}", get_job), Route(f"{ws}/jobs_u/get_logs/{{id}}", get_logs),
        Route(f"{ws}/jobs_u/queue/cancel/{{id}}", cancel, methods=["POST"]),
        Route(f"{ws}/jobs/list", list_jobs),
        Route("/mcp", mcp_app, methods=["GET", "POST", "DELETE"]),
    ]
    found += [Route(f"/api/r/{route}", route_endpoint(script), methods=["POST"]) for route, script in pack_routes().items()]
    return found


def _time(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise ApiError(400, "invalid_input", f"bad time {value[:40]!r}", "use ISO 8601, e.g. 2026-01-31T12:00:00Z") from None


def _int(value: str | None, default: int) -> int:
    if not value:
        return default
    if not value.isdigit() or not 1 <= int(value) <= 1000:
        raise ApiError(400, "invalid_input", f"bad per_page {value[:20]!r}", "a whole number from 1 to 1000")
    return int(value)


async def api_health(api: Api) -> dict[str, Any]:
    """Liveness and readiness: the job worker, each default catalog (git ls-remote), the LLM setting. Cached 10 s."""
    if api.health_cache and time.monotonic() - api.health_cache[0] < 10:
        return api.health_cache[1]
    host = api.jobs.host
    checks: dict[str, Any] = {"worker": {"ok": bool(host and host.returncode is None)}}
    for target in settings.load().default_targets:
        checks[f"catalog:{target}"] = await _catalog_check(target)
    llm = bool(os.environ.get("FRACTAL_LLM_MODEL")) or workspace.resource_file("f/fractal/llm").is_file()
    checks["llm"] = {"ok": True, "configured": llm, **({} if llm else {"note": "offline templates only"})}
    status = "ok" if all(c["ok"] for c in checks.values()) else "degraded"
    report = {"status": status, "version": __version__, "checks": checks}
    api.health_cache = (time.monotonic(), report)
    return report


async def _catalog_check(target: str) -> dict[str, Any]:
    try:
        url = str(workspace.get_resource(target).get("url", ""))
    except FractalError as e:
        return {"ok": False, "error": e.code, "message": e.message}
    proc = await asyncio.create_subprocess_exec(
        "git", "ls-remote", "--heads", url, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        env={"PATH": os.environ.get("PATH", os.defpath), "GIT_TERMINAL_PROMPT": "0", "HOME": os.environ.get("HOME", "/")})
    try:
        rc = await asyncio.wait_for(proc.wait(), 5)
    except TimeoutError:
        proc.kill()
        return {"ok": False, "error": "unreachable", "message": "no answer within 5 s"}
    return {"ok": True} if rc == 0 else {"ok": False, "error": "unreachable", "message": f"git ls-remote exited {rc}"}


def _contributed(api: Api) -> tuple[list[BaseRoute], tuple[str, ...]]:
    """Routes and public prefixes from fractal_local.apps, when that module exists."""
    try:
        module = importlib.import_module("fractal_local.apps")
    except ModuleNotFoundError as e:
        if e.name == "fractal_local.apps":
            return [], ()
        raise
    return list(module.routes(api)), tuple(getattr(module, "PUBLIC_PREFIXES", ()))


async def _on_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, ApiError):
        return JSONAnswer(exc.payload, exc.status)
    if isinstance(exc, FractalError):
        return JSONAnswer(exc.to_dict(), status_of(exc.to_dict()))
    if isinstance(exc, HTTPException):
        error = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "error")
        hint = "see /api/openapi.json for the routes"
        return JSONAnswer({"error": error, "message": f"{exc.detail}: {request.method} {request.url.path}", "hint": hint},
                          exc.status_code, headers=exc.headers)
    return JSONAnswer({"error": "error", "message": f"{type(exc).__name__}: {str(exc)[:300]}"}, 500)


def build_app(token: str | None = None, max_running: int = 4, limits: Limits | None = None) -> Starlette:
    """The ASGI app. Its lifespan starts the job runtime and the MCP session manager."""
    api = Api(token, max_running, limits)
    security = TransportSecuritySettings(enable_dns_rebinding_protection=True,
                                         allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*"],
                                         allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"])
    sessions = StreamableHTTPSessionManager(app=mcp_server.build(api.jobs), security_settings=security,
                                            max_request_body_size=MAX_BODY)
    extra, public = _contributed(api)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await api.jobs.start()
        async with sessions.run():
            yield
        await api.jobs.stop()

    app = Starlette(routes=[*_routes(api, StreamableHTTPASGIApp(sessions)), *extra], lifespan=lifespan,
                    exception_handlers={Exception: _on_error, HTTPException: _on_error, ApiError: _on_error,
                                        FractalError: _on_error})
    app.state.api = api
    app.add_middleware(BearerAuth, token=token, public=public)
    app.add_middleware(api.metrics.middleware)
    return app


class _Protocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection that sends no complete request head in HEADER_TIMEOUT_S,
    with Nagle off (the head and body of an answer are two writes: without it a keep-alive client waits 40 ms)."""

    def connection_made(self, transport: Any) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
        self._head_timer = self.loop.call_later(HEADER_TIMEOUT_S, self._drop_if_silent)

    def _drop_if_silent(self) -> None:
        if self.cycle is None and not self.transport.is_closing():
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._head_timer.cancel()
        super().connection_lost(exc)


def config(app: ASGIApp, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(app, host=host, port=port, http=_Protocol, lifespan="on", log_level="warning",
                          access_log=bool(os.environ.get("FRACTAL_SERVER_LOG")), backlog=2048, limit_concurrency=1000,
                          timeout_keep_alive=5, timeout_graceful_shutdown=5)


class Running:
    """A server started in a thread: `.server_address` (host, port), `.url`, `.shutdown()`."""

    def __init__(self, server: uvicorn.Server, sock: socket.socket) -> None:
        self.server, self.sock = server, sock
        self.server_address: tuple[str, int] = sock.getsockname()[:2]
        self.url = f"http://{self.server_address[0]}:{self.server_address[1]}"
        self.thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        self.thread.start()
        while not server.started and self.thread.is_alive():
            time.sleep(0.01)
        if not server.started:
            raise RuntimeError("the local server did not start")

    def shutdown(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)
        self.sock.close()


def bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


def serve(host: str = "127.0.0.1", port: int = 8765, token: str | None = None, max_running: int = 4,
          limits: Limits | None = None) -> Running:
    """A started server in a background thread (tests, benches); call .shutdown() to stop."""
    sock = bind(host, port)
    return Running(uvicorn.Server(config(build_app(token, max_running, limits), host, port)), sock)


def load_routes() -> dict[str, str]:
    """{route_path: script path} of the pack's HTTP triggers."""
    return pack_routes()

