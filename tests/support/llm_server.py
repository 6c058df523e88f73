"""A scripted OpenAI-compatible chat server on 127.0.0.1 — the suite's only stand-in.

No model is reachable here, so tests that exercise the LLM path point litellm at this server
(`model="openai/scripted", api_base=server.url, api_key="x"`). It answers each
`POST /v1/chat/completions` with the next scripted reply and records every request body, so a test
can assert what the pack sent (e.g. that no secret value reached a prompt).

A reply is one of:
- a string: the assistant message content;
- a callable(request_body) -> str: computed from what the pack sent;
- {"status": 429 | 500 | …}: an HTTP error with an OpenAI-style error body;
- {"delay": seconds, "content": "…"}: answer late (to provoke the client's timeout).
When the script runs out, the last reply is repeated.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = str | dict[str, Any] | Callable[[dict[str, Any]], str]
LLM_PATH = "f/fractal/test_llm"  # where tests register the scripted server as a fractal_llm resource


def entity_answer(tool: str, files: dict[str, str], provider: str = "local", name: str = "motd-file") -> str:
    """A model's answer in the shape generation asks for: one JSON object with the entity's fields."""
    return json.dumps({"name": name, "description": f"a {tool} entity", "tool": tool, "providers": [provider], "files": files})


class ScriptedLLM:
    def __init__(self, replies: list[Reply]) -> None:
        self.replies = list(replies)
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    @property
    def config(self) -> dict[str, str]:
        """An LLM resource value pointing litellm at this server."""
        return {"model": "openai/scripted", "api_base": self.url, "api_key": "scripted-key"}

    def user_turns(self) -> list[str]:
        """The last user message of each request: the need, then each feedback the pack sent."""
        return [str([m for m in r["messages"] if m["role"] == "user"][-1]["content"]) for r in self.requests]

    def prompts(self) -> str:
        """Every message text the pack sent, joined: handy for 'not in' assertions."""
        return "\n".join(str(m.get("content", "")) for r in self.requests for m in r.get("messages", []))

    def __enter__(self) -> ScriptedLLM:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            self.requests.append(body)
            index = min(len(self.requests) - 1, len(self.replies) - 1)
            return self.replies[index]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        llm = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                reply = llm._next(body)
                if isinstance(reply, dict) and "status" in reply:
                    self._send(
                        int(reply["status"]),
                        {"error": {"message": "scripted error", "type": "scripted", "code": reply["status"]}},
                    )
                    return
                if isinstance(reply, dict):
                    time.sleep(float(reply.get("delay", 0)))
                    content = str(reply.get("content", ""))
                else:
                    content = reply(body) if callable(reply) else reply
                self._send(
                    200,
                    {
                        "id": f"chatcmpl-{len(llm.requests)}",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": body.get("model", "scripted"),
                        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
                        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                    },
                )

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        return Handler
