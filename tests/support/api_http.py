"""A small HTTP client for the API tests (urllib, loopback only)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

TOKEN = "api-token-for-tests"


def call(url: str, body: Any = None, *, method: str = "", token: str | None = TOKEN,
         headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """(status, answer): JSON decoded when the answer is JSON, else text."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method or ("POST" if data is not None else "GET"),
                                     headers={"Content-Type": "application/json", **(headers or {})})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, kind, text = response.status, response.headers.get("Content-Type", ""), response.read().decode()
    except urllib.error.HTTPError as e:
        status, kind, text = e.code, e.headers.get("Content-Type", ""), e.read().decode()
    return status, json.loads(text) if kind.startswith("application/json") else text
