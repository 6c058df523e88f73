"""`scripts/fractal serve`: Windmill's webhook URLs and the pack's HTTP routes, answered locally."""

from __future__ import annotations

import argparse
import os
import time
from typing import Any


def cmd_serve(args: argparse.Namespace) -> int:
    from fractal_local.server import load_routes, serve

    token = os.environ.get("FRACTAL_API_TOKEN")
    server = serve(args.host, args.port, token)
    host, port = str(server.server_address[0]), int(server.server_address[1])
    auth = "bearer token required" if token else "no token: set FRACTAL_API_TOKEN to require one"
    print(f"Fractal local API on http://{host}:{port} ({auth})")
    print("  POST /api/w/local/jobs/run_wait_result/p/f/fractal/<script>   e.g. list_items")
    for route, script in sorted(load_routes().items()):
        print(f"  POST /api/r/{route:<28} → {script}")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.shutdown()
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("serve", help="answer Windmill's webhook URLs and the pack's HTTP routes on this machine")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765)
    p.set_defaults(func=cmd_serve)
