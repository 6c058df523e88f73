"""`scripts/fractal serve`, `ui`, `mcp`, `openapi`: the pack as an API, its operator UIs, its MCP tools."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any

from fractal_local.cli import described
from fractal_local.contracts import ROOT
from fractal_local.limits import Limits


def cmd_serve(args: argparse.Namespace) -> int:
    limits = Limits.read(os.environ, args.job_timeout, args.callback_host)
    return serve_until_interrupted(args.host, args.port, ui=args.ui, jobs=args.jobs, limits=limits)


def serve_until_interrupted(host: str = "127.0.0.1", port: int = 8765, ui: bool = True, jobs: int = 4,
                            limits: Limits | None = None) -> int:
    """Serve the API and the UIs (bundles built first when `ui`), print the URLs, run until Ctrl+C."""
    import uvicorn

    from fractal_local import apps
    from fractal_local.server import bind, build_app, config, load_routes

    token = os.environ.get("FRACTAL_API_TOKEN")
    if ui:
        for name in apps.APPS:  # build before listening, so the first page load is instant
            apps.build(name)
    sock = bind(host, port)
    host, port = sock.getsockname()[:2]
    auth = "bearer token required" if token else "no token: set FRACTAL_API_TOKEN to require one"
    limits = limits or Limits.read(os.environ)
    print(f"Fractal local API on http://{host}:{port} ({auth}); {jobs} jobs at once, each at most "
          f"{limits.timeout_s:g} s unless its script says; callback hosts: {', '.join(limits.callback_hosts) or 'none'}",
          file=sys.stderr)
    print(f"  OpenAPI  http://{host}:{port}/api/openapi.json    MCP  http://{host}:{port}/mcp", file=sys.stderr)
    if not ui:
        print("  POST /api/w/local/jobs/run_wait_result/p/f/fractal/<script>   e.g. list_items", file=sys.stderr)
        for route, script in sorted(load_routes().items()):
            print(f"  POST /api/r/{route:<28} → {script}", file=sys.stderr)
    print("Operator UIs (Windmill raw apps, built by `wmill app bundle`):", flush=True)
    for url in apps.urls(f"http://{host}:{port}"):
        print(f"  {url}", flush=True)
    uvicorn.Server(config(build_app(token, jobs, limits), host, port)).run(sockets=[sock])
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
    for name, ui, text, example in (
        ("serve", False, "answer Windmill's webhook URLs, the pack's routes, jobs and MCP over HTTP on this machine, and the UIs",
         "scripts/fractal serve --port 8765"),
        ("ui", True, "serve the operator UIs (entity, pipeline, meta-pipeline composers, catalog explorer) and print their URLs",
         "scripts/fractal ui"),
    ):
        p = described(sub, name, text, example)
        p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, this machine only)")
        p.add_argument("--port", type=int, default=8765, help="TCP port to listen on (default 8765; 0 picks a free one)")
        p.add_argument("--jobs", type=int, default=4, help="most jobs running at once; the others wait in the queue (default 4)")
        p.add_argument("--job-timeout", metavar="SECONDS", help="a job's time limit when its script sets none "
                       "(default $FRACTAL_JOB_TIMEOUT_S, else 3600)")
        p.add_argument("--callback-host", action="append", metavar="HOST[:PORT]",
                       help="a host job callbacks may reach: host, host:port or *.domain; repeat "
                            "(default $FRACTAL_CALLBACK_HOSTS, comma-separated; none)")
        p.set_defaults(func=cmd_serve, ui=ui)

    p = described(sub, "mcp", "serve the pack's tools to an AI agent over MCP on stdin/stdout",
                  "claude mcp add fractal -- scripts/fractal mcp")
    p.set_defaults(func=cmd_mcp)

    p = described(sub, "openapi", "write the API's OpenAPI 3.1 document (generated from the scripts' schemas)",
                  "scripts/fractal openapi --out resources/openapi.json")
    p.add_argument("--out", default=str(ROOT / "resources" / "openapi.json"),
                   help="file to write, or - for stdout (default resources/openapi.json)")
    p.set_defaults(func=cmd_openapi)
