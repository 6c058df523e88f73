"""A Terraform http state backend on 127.0.0.1, as Terraform's documentation and client describe the protocol
(developer.hashicorp.com/terraform/language/backend/http; internal/backend/remote-state/http/client.go):
- `GET <address>`: 200 with the state, or 404 when there is none;
- `POST <address>[?ID=<lock id>]`: store the state (200); while the state is locked only with the lock's ID
  (409 otherwise);
- `DELETE <address>`: drop the state (200);
- `LOCK <address>` with the lock info as JSON: 200 when taken, 423 with the holder's lock info when held;
- `UNLOCK <address>` with the lock info: 200 when released (409 for another holder's ID).
Every request needs HTTP basic auth with the server's user and password (401 otherwise). It stands in for
any such server (GitLab's Terraform state API, a small service) in the tests.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class StateServer:
    def __init__(self, user: str, password: str) -> None:
        self.auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.states: dict[str, bytes] = {}
        self.locks: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status)
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/state"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answer(self, method: str, path: str, lock_id: str, body: bytes, auth: str | None) -> tuple[int, bytes]:
        if auth != self.auth:
            return 401, b"unauthorized"
        held = self.locks.get(path)
        if method == "GET":
            return (200, self.states[path]) if path in self.states else (404, b"")
        if method == "POST":
            if held and held.get("ID") != lock_id:
                return 409, json.dumps(held).encode()
            self.states[path] = body
            return 200, b""
        if method == "DELETE":
            self.states.pop(path, None)
            return 200, b""
        info = json.loads(body or b"{}")
        if method == "LOCK":
            if held:
                return 423, json.dumps(held).encode()
            self.locks[path] = info
            return 200, b""
        if method == "UNLOCK":
            if held and held.get("ID") != info.get("ID"):
                return 409, json.dumps(held).encode()
            self.locks.pop(path, None)
            return 200, b""
        return 405, b""

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            timeout = 10

            def log_message(self, *args: Any) -> None:
                pass

            def _do(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                url = urlsplit(self.path)
                lock_id = parse_qs(url.query).get("ID", [""])[0]
                with server._lock:
                    status, data = server.answer(self.command, url.path, lock_id, body, self.headers.get("Authorization"))
                    server.requests.append((self.command, url.path, status))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = do_LOCK = do_UNLOCK = _do

        return Handler


@contextmanager
def running(user: str, password: str) -> Iterator[StateServer]:
    server = StateServer(user, password)
    try:
        yield server
    finally:
        server.close()
