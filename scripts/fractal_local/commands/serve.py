"""`scripts/fractal serve` / `ui`: Windmill's webhook URLs, the pack's HTTP routes and the operator UIs, locally."""

from __future__ import annotations

import argparse
import os
import time
from typing import Any


def cmd_serve(args: argparse.Namespace) -> int:
    return serve_until_interrupted(args.host, args.port, ui=args.ui)


def serve_until_interrupted(host: str = "127.0.0.1", port: int = 8765, ui: bool = True) -> int:
    """Serve the API and the UIs (bundles built first when `ui`), print the URLs, wait for Ctrl+C."""
    from fractal_local import apps
    from fractal_local.server import load_routes, serve

    token = os.environ.get("FRACTAL_API_TOKEN")
    if ui:
        for name in apps.APPS:  # build before listening, so the first page load is instant
            apps.build(name)
    server = serve(host, port, token)
    host, port = str(server.server_address[0]), int(server.server_address[1])
    auth = "bearer token required" if token else "no token: set FRACTAL_API_TOKEN to require one"
    print(f"Fractal local API on http://{host}:{port} ({auth})")
    if not ui:
        print("  POST /api/w/local/jobs/run_wait_result/p/f/fractal/<script>   e.g. list_items")
        for route, script in sorted(load_routes().items()):
            print(f"  POST /api/r/{route:<28} → {script}")
    print("Operator UIs (Windmill raw apps, built by `wmill app bundle`):")
    for url in apps.urls(f"http://{host}:{port}"):
        print(f"  {url}")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.shutdown()
    return 0


def register(sub: Any) -> None:
    for name, ui, text in (
        ("serve", False, "answer Windmill's webhook URLs and the pack's HTTP routes on this machine, and serve the UIs"),
        ("ui", True, "serve the operator UIs (entity, pipeline, meta-pipeline composers, catalog explorer) and print their URLs"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
        p.add_argument("--port", type=int, default=8765)
        p.set_defaults(func=cmd_serve, ui=ui)
