"""The server under load and abuse (bounded, loopback), and its health, metrics and OpenAPI answers."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import fractal_local.server as server
import pytest
from fractal_local import openapi
from fractal_local.server import Running, serve
from support.api_http import TOKEN, call


@pytest.fixture
def api(fractal_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Running]:
    monkeypatch.setattr(server, "HEADER_TIMEOUT_S", 0.5)
    running = serve("127.0.0.1", 0, token=TOKEN)
    yield running
    running.shutdown()


def _raw(api: Running, request: bytes, timeout: float = 10) -> bytes:
    with socket.create_connection(api.server_address, timeout=timeout) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def test_200_requests_at_concurrency_50_all_answer(api: Running) -> None:
    """Each request is a job (list_providers: no catalog, so the test stays short); bench/ measures list/get."""
    url = f"{api.url}/api/r/fractal/providers"
    with ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(lambda _: call(url, {}), range(200)))
    assert [status for status, _ in answers] == [200] * 200
    assert all(len(body["providers"]) == 5 for _, body in answers)


def test_bodies_that_are_too_deep_too_big_or_not_json_are_refused(api: Running) -> None:
    url = f"{api.url}/api/r/fractal/items/list"
    deep = b"[" * 5000 + b"]" * 5000
    head = f"POST /api/r/fractal/items/list HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
    answer = _raw(api, f"{head}Content-Type: application/json\r\nContent-Length: {len(deep)}\r\n"
                       "Connection: close\r\n\r\n".encode() + deep)
    assert answer.startswith(b"HTTP/1.1 400") and b"nests deeper" in answer
    answer = _raw(api, f"{head}Content-Length: {9 * 1024 * 1024}\r\nConnection: close\r\n\r\n{{}}".encode())
    assert answer.startswith(b"HTTP/1.1 413")
    status, error = call(url, None, method="POST", headers={"Content-Type": "text/plain"})
    assert status == 404 and "f/fractal/catalog" in error["message"]  # no body = no arguments: the default catalog
    answer = _raw(api, f"{head}Content-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}".encode())
    assert answer.startswith(b"HTTP/1.1 415")
    assert call(url, method="GET")[0] == 405
    assert call(f"{api.url}/api/nowhere")[0] == 404
    assert call(url, {}, token=None)[0] == 401
    assert call(url, {}, token=None, headers={"Authorization": TOKEN})[0] == 401  # a raw token, without Bearer


def test_a_silent_client_is_dropped(api: Running) -> None:
    """A connection that never sends a request head is closed after HEADER_TIMEOUT_S (0.5 s here)."""
    with socket.create_connection(api.server_address, timeout=10) as sock:
        sock.sendall(b"POST /api/r/fractal/items/list HTTP/1.1\r\nHost: x\r\n")  # and never the rest
        assert sock.recv(1024) == b""


def test_health_metrics_and_openapi(api: Running, make_target: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    status, health = call(f"{api.url}/health", token=None)
    assert status == 503 and health["checks"]["catalog:f/fractal/catalog"]["error"] == "not_found"
    assert health["checks"]["llm"]["configured"] is False and health["checks"]["worker"]["ok"]
    make_target("catalog")
    api.server.config.app.state.api.health_cache = None
    status, health = call(f"{api.url}/health", token=None)
    assert status == 200 and health["status"] == "ok"
    assert call(f"{api.url}/api/r/fractal/items/list", {})[0] == 200
    assert call(f"{api.url}/metrics", token=None)[0] == 401
    status, text = call(f"{api.url}/metrics")
    assert status == 200
    assert 'fractal_jobs_total{script="list_items",status="success"} 1.0' in text
    assert "fractal_outbox_pending 0.0" in text and 'fractal_http_requests_total{code="401",method="GET"}' in text
    status, doc = call(f"{api.url}/api/openapi.json", token=None)
    assert status == 200 and doc == json.loads(json.dumps(openapi.document()))
