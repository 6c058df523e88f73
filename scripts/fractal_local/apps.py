"""The operator UIs served locally: the same Windmill raw-app bundles, behind a host page playing Windmill.

    GET /apps/                        the apps, linked
    GET /apps/<name>/                 host page: an iframe with the app + apps/host/host.js, which answers
                                      the app's bridge messages (backend, backendAsync, waitJob, getJob)
                                      by running jobs on this server's Windmill URLs (same origin)
    GET /apps/<name>/frame.html       the app's page: <div id="root"> + bundle.js + bundle.css
    GET /apps/<name>/bundle.js|.css   `wmill app bundle f/fractal/<name>__raw_app` (built on first use,
                                      cached by content digest)
    GET /apps/<name>/runnables.json   {runnable id: script path} from the app's backend/<id>.yaml
    GET /apps/host.js                 the host script

`asset(url)` answers any of these for a plain HTTP handler (`server.py` calls it first in do_GET);
`routes(api)` + `PUBLIC_PREFIXES` are what an ASGI server mounts (Starlette imported lazily).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
from html import escape
from pathlib import Path
from typing import Any

import yaml

from f.fractal.model.errors import ConfigError, NotFound

ROOT = Path(__file__).resolve().parents[2]
APPS = ("entity_composer", "pipeline_composer", "meta_pipeline_composer", "catalog_explorer", "repository_audit")
HOST = ROOT / "apps" / "host"
_BUILD_LOCK = threading.Lock()
_TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html", ".json": "application/json"}


def app_dir(name: str) -> Path:
    return ROOT / "f" / "fractal" / f"{name}__raw_app"


def runnables(name: str) -> dict[str, str]:
    """The app's path runnables: {id: script path}, as Windmill reads backend/<id>.yaml."""
    found = {}
    for file in sorted((app_dir(name) / "backend").glob("*.yaml")):
        spec = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        if spec.get("type") == "script" and isinstance(spec.get("path"), str):
            found[file.stem] = spec["path"]
    return found


def _sources(name: str) -> list[Path]:
    skip = {"node_modules", "dist", "backend"}
    app = [p for p in app_dir(name).rglob("*") if p.is_file() and not skip & set(p.relative_to(app_dir(name)).parts)]
    return sorted(app + [p for p in (ROOT / "ui").rglob("*") if p.is_file()] + [ROOT / "package-lock.json"])


def digest(name: str) -> str:
    h = hashlib.sha256(name.encode())
    for path in _sources(name):
        h.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


def wmill() -> str:
    return shutil.which("wmill") or str(ROOT / "node_modules" / ".bin" / "wmill")


def build(name: str) -> Path:
    """The folder holding the app's bundle.js and bundle.css, built by the Windmill CLI if stale."""
    if name not in APPS:
        raise NotFound(f"no app {name}", hint=f"apps: {', '.join(APPS)}")
    out = Path(os.environ.get("FRACTAL_APPS_BUILD") or Path(tempfile.gettempdir()) / "fractal-apps") / f"{name}-{digest(name)}"
    with _BUILD_LOCK:
        if (out / "bundle.js").is_file():
            return out
        (app_dir(name) / "node_modules").mkdir(exist_ok=True)  # else the CLI runs `npm install` (network)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=out.parent))
        proc = subprocess.run([wmill(), "app", "bundle", str(app_dir(name)), "--out", str(tmp)],
                              cwd=ROOT, capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            raise ConfigError(f"wmill app bundle {name} failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}",
                              hint="run scripts/setup (windmill-cli, react and esbuild come from package.json)")
        try:
            tmp.rename(out)
        except OSError:  # another process built the same digest meanwhile
            shutil.rmtree(tmp, ignore_errors=True)
    return out


def _host_page(name: str, query: str) -> bytes:
    html = (HOST / "index.html").read_text(encoding="utf-8")
    frame = "frame.html" + (f"?{query}" if query else "")
    return html.replace("{{app}}", name).replace("{{frame}}", escape(frame)).encode()


def _index() -> bytes:
    links = "".join(f'<li><a href="/apps/{n}/">{n.replace("_", " ")}</a></li>' for n in APPS)
    return f"<!doctype html><html lang=en><title>Fractal apps</title><h1>Fractal apps</h1><ul>{links}</ul></html>".encode()


FRAME = (b'<!doctype html><html lang="en"><head><meta charset="utf-8">'
         b'<meta name="viewport" content="width=device-width, initial-scale=1">'
         b'<link rel="stylesheet" href="bundle.css"></head><body><div id="root"></div>'
         b'<script src="bundle.js"></script></body></html>')


def asset(url: str) -> tuple[int, str, bytes] | None:
    """(status, content type, body) for a GET under /apps, or None when the URL is not an app's."""
    path, _, query = url.partition("?")
    if not (path == "/apps" or path.startswith("/apps/")):
        return None
    parts = [p for p in path.split("/")[2:] if p]
    if not parts:
        return 200, _TYPES[".html"], _index()
    if parts == ["host.js"]:
        return 200, _TYPES[".js"], (HOST / "host.js").read_bytes()
    name, rest = parts[0], "/".join(parts[1:])
    if name not in APPS:
        return 404, "text/plain", f"no app {name}: {', '.join(APPS)}".encode()
    if rest == "":
        return 200, _TYPES[".html"], _host_page(name, query)
    if rest == "frame.html":
        return 200, _TYPES[".html"], FRAME
    if rest == "runnables.json":
        return 200, _TYPES[".json"], json.dumps(runnables(name)).encode()
    if rest in ("bundle.js", "bundle.css"):
        return 200, _TYPES[Path(rest).suffix], (build(name) / rest).read_bytes()
    return 404, "text/plain", f"no file {rest} in app {name}".encode()


def urls(base: str) -> list[str]:
    return [f"{base.rstrip('/')}/apps/{name}/" for name in APPS]


PUBLIC_PREFIXES = ("/apps",)  # static files: no token needed (the host page sends it with each API call)


def routes(api: Any = None) -> list[Any]:
    """Starlette routes for /apps and /apps/... (Starlette is imported only when an ASGI server asks).
    `api` (the server's job runtime) is not needed: the host page runs jobs through the public URLs."""
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def endpoint(request: Request) -> Response:
        import asyncio

        url = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        found = await asyncio.to_thread(asset, url)
        status, kind, body = found or (404, "text/plain", b"not found")
        return Response(body, status_code=status, media_type=kind, headers={"Cache-Control": "no-cache"})

    return [Route("/apps", endpoint), Route("/apps/{rest:path}", endpoint)]
