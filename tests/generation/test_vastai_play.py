"""A generated Vast.ai entity really runs: run_item → ansible-runner → the play → Vast.ai's official `vastai` CLI
(PyPI vastai, pinned in scripts/providers/vastai.txt, installed by scripts/setup in .venv-providers/vastai).

Vast.ai itself is never called: the CLI's `--url` points at a STAND-IN on 127.0.0.1 that answers as Vast.ai's
API does, as the pinned CLI's own client reads it (vastai 1.9.1: api/client.py, cli/commands/offers.py and
instances.py): POST /api/v0/bundles/ with the parsed query → {"offers": [...]} (Content-Type application/json, which
the CLI checks); GET /api/v1/instances/?select_filters=… → {"instances": [...], "next_token": null}, rows with
start_date and extra_env; PUT /api/v0/asks/<offer id>/ → {"success": true, "new_contract": <instance id>};
DELETE /api/v0/instances/<id>/ → {"success": true}; GET /api/v0/users/current (the CLI's role probe). The key
arrives as `Authorization: Bearer <key>` (and the CLI's api_key query argument).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from support.paths import ROOT

import f.fractal.catalog.items as catalog
import f.fractal.platform.workspace as workspace
from f.fractal.generation.generator import offline_draft
from f.fractal.run_item import main as run_item

pytestmark = pytest.mark.slow
CLI = ROOT / ".venv-providers" / "vastai" / "bin" / "vastai"
KEY = "4f" * 32  # a Vast.ai-shaped key (64 hex), known to the stand-in only
OFFERS = [{"id": 9001, "gpu_name": "RTX 4090", "num_gpus": 2, "dph_total": 0.71, "disk_space": 300},
          {"id": 9002, "gpu_name": "RTX 4090", "num_gpus": 2, "dph_total": 0.93, "disk_space": 500}]


class VastAPI:
    """The stand-in: Vast.ai's answers to the calls the CLI makes, and a record of every request."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.instances: list[dict[str, Any]] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                url = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}") if length else {}
                api.requests.append({"method": self.command, "path": url.path, "query": parse_qs(url.query), "body": body,
                                     "auth": self.headers.get("Authorization", "")})
                status, payload = api.answer(self.command, url.path, parse_qs(url.query), body,
                                             self.headers.get("Authorization", ""))
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, method: str, path: str, query: dict[str, list[str]], body: dict[str, Any], auth: str
               ) -> tuple[int, dict[str, Any]]:
        if auth != f"Bearer {KEY}":
            return 401, {"success": False, "error": "invalid_api_key", "msg": "Invalid API key"}
        if method == "GET" and path == "/api/v0/users/current":
            return 200, {"id": 1, "username": "fractal", "host_agreement_accepted": False}
        if method == "POST" and path == "/api/v0/bundles/":
            wanted = int(body.get("num_gpus", {}).get("eq", 0))
            cap = float(body.get("dph_total", {}).get("lte", 1e9))
            fits = [o for o in OFFERS if o["num_gpus"] == wanted and o["dph_total"] <= cap]
            order = body.get("order") or [["score", "desc"]]
            return 200, {"offers": sorted(fits, key=lambda o: o.get(order[0][0], 0), reverse=order[0][1] == "desc")}
        if method == "GET" and path == "/api/v1/instances/":
            labels = json.loads(query.get("select_filters", ["{}"])[0]).get("label", {}).get("in")
            rows = [i for i in self.instances if labels is None or i["label"] in labels]
            return 200, {"instances": rows, "next_token": None, "total_instances": len(rows)}
        if method == "PUT" and path.startswith("/api/v0/asks/"):
            instance = {"id": 7000 + len(self.instances), "label": body.get("label"), "image_uuid": body.get("image"),
                        "actual_status": "loading", "start_date": 1.7e9, "extra_env": []}
            self.instances.append(instance)
            return 200, {"success": True, "new_contract": instance["id"]}
        if method == "DELETE" and path.startswith("/api/v0/instances/"):
            gone = int(path.rstrip("/").rsplit("/", 1)[-1])
            self.instances = [i for i in self.instances if i["id"] != gone]
            return 200, {"success": True}
        return 404, {"success": False, "error": "not_found", "msg": f"no route {method} {path}"}


@pytest.fixture
def vast_api(make_target: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[VastAPI]:
    if not CLI.exists():
        pytest.skip("the vastai CLI is not installed: run scripts/setup (it creates .venv-providers/vastai)")
    monkeypatch.setenv("HOME", str(tmp_path / "cli-home"))  # the CLI keeps its role and caches under ~/.config, ~/.cache
    make_target("catalog")
    workspace.write_resource("f/fractal/vastai", "vastai", {"api_key": KEY})
    api = VastAPI()
    yield api
    api.server.shutdown()


def test_a_generated_vastai_entity_rents_reuses_and_releases_an_instance(vast_api: VastAPI, tmp_path: Path) -> None:
    draft = offline_draft("rent a GPU instance on Vast.ai with 2 RTX 4090 and 100 GB disk")[0]
    assert draft["spec"]["tool"] == "ansible" and draft["spec"]["providers"] == ["vastai"]
    saved = catalog.save(draft)
    assert saved["ok"], saved
    inputs = {"vastai_cli": str(CLI), "api_url": vast_api.url}

    first = run_item(saved["ref"], provider="vastai", inputs=inputs)
    assert first["status"] == "success", first["log"]
    assert first["outputs"]["instance_id"] == 7000
    search = next(r for r in vast_api.requests if r["path"] == "/api/v0/bundles/")
    assert search["body"]["gpu_name"] == {"eq": "RTX 4090"} and search["body"]["num_gpus"] == {"eq": "2"}
    assert search["body"]["dph_total"] == {"lte": "1.0"} and search["body"]["disk_space"] == {"gte": "100"}
    assert search["body"]["order"] == [["dph_total", "asc"]]
    rent = next(r for r in vast_api.requests if r["method"] == "PUT")
    assert rent["path"] == "/api/v0/asks/9001/"  # the cheapest offer
    assert rent["body"]["label"] == draft["spec"]["inputs"]["properties"]["label"]["default"] and rent["body"]["disk"] == 100.0
    assert rent["body"]["image"] == "pytorch/pytorch:2.4.0-cuda12.4-cudnn9-runtime"
    assert KEY not in first["log"]

    again = run_item(saved["ref"], provider="vastai", inputs=inputs)  # the label is rented already: reused, not rented twice
    assert again["status"] == "success" and again["outputs"]["instance_id"] == 7000
    assert sum(r["method"] == "PUT" for r in vast_api.requests) == 1

    gone = run_item(saved["ref"], provider="vastai", inputs=inputs, mode="destroy")
    assert gone["status"] == "success", gone["log"]
    assert [r["path"] for r in vast_api.requests if r["method"] == "DELETE"] == ["/api/v0/instances/7000/"]
    assert vast_api.instances == []

