"""MCP over stdio (`scripts/fractal mcp`) and streamable HTTP (`/mcp`), driven by the official SDK's client."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import anyio
from fractal_local.server import serve
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from support.items import entity
from support.paths import ROOT

TOKEN = "mcp-token-for-tests"


async def _exercise(client: Client, target: str) -> dict[str, Any]:
    """initialize (done by the client), tools/list, then a save, a list and a refused call."""
    tools = {t.name: t for t in (await client.list_tools()).tools}
    saved = await client.call_tool("save_item", {"item": entity("web"), "targets": [target]})
    listed = await client.call_tool("list_items", {"query": "web", "targets": [target]})
    refused = await client.call_tool("list_items", {"limit": "5", "targets": [target]})
    missing = await client.call_tool("item_history", {"ref": "entity:nope", "targets": [target]})
    return {"tools": tools, "saved": saved, "listed": listed, "refused": refused, "missing": missing}


def _check(seen: dict[str, Any]) -> None:
    tools = seen["tools"]
    assert len(tools) >= 15 and {"generate_entity", "run_item", "get_job", "cancel_job"} <= set(tools)
    assert tools["save_item"].input_schema["required"] == ["item"] and "expected_version" in tools["save_item"].input_schema[
        "properties"]
    assert "Use" in (tools["list_items"].description or "")
    assert not seen["saved"].is_error and seen["saved"].structured_content["ref"] == "entity:web@1.0.0"
    assert json.loads(seen["listed"].content[0].text)["total"] == 1
    refused = seen["refused"]
    assert refused.is_error and refused.structured_content["error"] == "invalid_input"
    assert refused.structured_content["data"]["argument"] == "limit"
    assert seen["missing"].is_error and seen["missing"].structured_content["error"] == "not_found"


def test_mcp_over_stdio(fractal_home: Path, make_target) -> None:  # type: ignore[no-untyped-def]
    target = make_target("a")
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'scripts'}"}
    params = StdioServerParameters(command=sys.executable, args=["-m", "fractal_local", "mcp"], env=env, cwd=str(ROOT))

    async def main() -> dict[str, Any]:
        async with Client(params, mode="legacy") as client:
            return await _exercise(client, target)

    _check(anyio.run(main))


def test_mcp_over_http_needs_the_token(fractal_home: Path, make_target) -> None:  # type: ignore[no-untyped-def]
    target = make_target("a")
    server = serve("127.0.0.1", 0, token=TOKEN)

    async def main() -> dict[str, Any]:
        http = create_mcp_http_client(headers={"Authorization": f"Bearer {TOKEN}"})
        async with http, Client(streamable_http_client(f"{server.url}/mcp", http_client=http)) as client:
            return await _exercise(client, target)

    async def without_token() -> int:
        http = create_mcp_http_client()
        async with http:
            answer = await http.post(f"{server.url}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
            return int(answer.status_code)

    try:
        _check(anyio.run(main))
        assert anyio.run(without_token) == 401
    finally:
        server.shutdown()
