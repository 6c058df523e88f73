"""`scripts/fractal serve`, `scripts/fractal mcp`, `scripts/fractal openapi`: the pack as an API."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any

from fractal_local.cli import described
from fractal_local.contracts import ROOT


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from fractal_local.server import bind, build_app, config, load_routes

    token = os.environ.get("FRACTAL_API_TOKEN")
    sock = bind(args.host, args.port)
    host, port = sock.getsockname()[:2]
    auth = "bearer token required" if token else "no token: set FRACTAL_API_TOKEN to require one"
    print(f"Fractal local API on http://{host}:{port} ({auth}); {args.jobs} jobs at once", file=sys.stderr)
    print(f"  OpenAPI  http://{host}:{port}/api/openapi.json    MCP  http://{host}:{port}/mcp", file=sys.stderr)
    print("  POST /api/w/local/jobs/run_wait_result/p/f/fractal/<script>   e.g. list_items", file=sys.stderr)
    for route, script in sorted(load_routes().items()):
        print(f"  POST /api/r/{route:<28} → {script}", file=sys.stderr)
    uvicorn.Server(config(build_app(token, args.jobs), host, port)).run(sockets=[sock])
    return 0


def cmd_mcp(args: argparse.Namespace) -> int:
    from fractal_local.mcp_server import serve_stdio

    asyncio.run(serve_stdio())
    return 0


def cmd_openapi(args: argparse.Namespace) -> int:
    from pathlib import Path

    from fractal_local import openapi

    if args.out == "-":
        sys.stdout.write(openapi.render())
    else:
        print(openapi.write(Path(args.out)))
    return 0


def register(sub: Any) -> None:
    p = described(sub, "serve", "answer Windmill's webhook URLs, the pack's routes, jobs and MCP over HTTP on this machine",
                  "scripts/fractal serve --port 8765")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=8765, help="TCP port to listen on (default 8765; 0 picks a free one)")
    p.add_argument("--jobs", type=int, default=4, help="most jobs running at once; the others wait in the queue (default 4)")
    p.set_defaults(func=cmd_serve)

    p = described(sub, "mcp", "serve the pack's tools to an AI agent over MCP on stdin/stdout",
                  "claude mcp add fractal -- scripts/fractal mcp")
    p.set_defaults(func=cmd_mcp)

    p = described(sub, "openapi", "write the API's OpenAPI 3.1 document (generated from the scripts' schemas)",
                  "scripts/fractal openapi --out resources/openapi.json")
    p.add_argument("--out", default=str(ROOT / "resources" / "openapi.json"),
                   help="file to write, or - for stdout (default resources/openapi.json)")
    p.set_defaults(func=cmd_openapi)
