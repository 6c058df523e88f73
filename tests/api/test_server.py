"""The local HTTP API: Windmill's webhook URLs and the pack's routes, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from fractal_local.server import load_routes, serve
from support.items import entity, quick_entity


def _post(url: str, body: Any, token: str | None = None, raw: bytes | None = None) -> tuple[int, Any]:
    data = raw if raw is not None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            text = response.read().decode()
            return response.status, json.loads(text) if response.headers["Content-Type"] == "application/json" else text
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read().decode())


def _get(url: str, token: str | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read().decode())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read().decode())


@pytest.fixture
def api(fractal_home):  # type: ignore[no-untyped-def]
    server = serve("127.0.0.1", 0, token="s3cret-token-for-tests")
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


TOKEN = "s3cret-token-for-tests"


def test_webhook_urls_run_scripts_like_windmill(api: str, make_target) -> None:
    target = make_target("a")
    status, saved = _post(
        f"{api}/api/w/local/jobs/run_wait_result/p/f/fractal/save_item", {"item": entity("web"), "targets": [target]}, TOKEN
    )
    assert status == 200 and saved["ref"] == "entity:web@1.0.0"
    status, got = _post(
        f"{api}/api/w/local/jobs/run_wait_result/p/f/fractal/get_item", {"ref": "entity:web", "targets": [target]}, TOKEN
    )
    assert status == 200 and got["item"]["spec"]["files"]["site.yml"].startswith("- name: Test play")


def test_routes_and_error_statuses(api: str, make_target) -> None:
    target = make_target("a")
    assert "fractal/items/list" in load_routes()
    assert _post(f"{api}/api/r/fractal/items/save", {"item": entity("web"), "targets": [target]}, TOKEN)[0] == 200
    status, listed = _post(f"{api}/api/r/fractal/items/list", {"query": "web", "targets": [target]}, TOKEN)
    assert status == 200 and listed["total"] == 1
    assert _post(f"{api}/api/r/fractal/items/get", {"ref": "entity:nope", "targets": [target]}, TOKEN)[0] == 404
    status, err = _post(f"{api}/api/r/fractal/items/history", {"ref": "entity:nope", "targets": [target]}, TOKEN)
    assert status == 404 and err["error"] == "not_found"
    status, err = _post(f"{api}/api/r/fractal/items/save", {"item": {"kind": "Nope"}, "targets": [target]}, TOKEN)
    assert status == 400 and err["error"] == "invalid_input"
    stale = entity("web")
    stale["metadata"]["description"] = "changed"
    assert (
        _post(f"{api}/api/r/fractal/items/save", {"item": stale, "targets": [target], "expected_version": "0.9.0"}, TOKEN)[0]
        == 409
    )
    assert _post(f"{api}/api/r/fractal/items/list", None, TOKEN, raw=b"{not json")[0] == 400
    assert _post(f"{api}/api/r/fractal/items/list", [1, 2], TOKEN)[0] == 400
    assert _post(f"{api}/api/r/fractal/nowhere", {}, TOKEN)[0] == 404


def test_the_token_is_required(api: str) -> None:
    assert _post(f"{api}/api/r/fractal/items/list", {}, None)[0] == 401
    assert _post(f"{api}/api/r/fractal/items/list", {}, "wrong")[0] == 401


def test_async_jobs(api: str, make_target) -> None:
    target = make_target("a")
    status, job = _post(f"{api}/api/w/local/jobs/run/p/f/fractal/save_item", {"item": quick_entity("web"), "targets": [target]},
                        TOKEN)
    assert status == 201 and len(job) == 36
    for _ in range(1200):
        status, maybe = _get(f"{api}/api/w/local/jobs_u/completed/get_result_maybe/{job}", TOKEN)
        if maybe["completed"]:
            break
        time.sleep(0.05)
    assert maybe["result"]["ref"] == "entity:web@1.0.0"
    assert _get(f"{api}/api/w/local/jobs_u/completed/get_result/{job}", TOKEN)[1]["version"] == "1.0.0"


def test_every_route_points_at_a_pack_script_and_every_public_script_has_a_route() -> None:
    from f.fractal.platform.scripts import load_main

    routes = load_routes()
    for route, script in routes.items():
        assert route.startswith("fractal/") and callable(load_main(script)), route
    pack = Path(__file__).resolve().parents[2] / "f" / "fractal"
    public = {p.stem for p in pack.glob("*.py")} - {"pipeline_result"}  # pipeline_result: called by flows only
    assert {s.rsplit("/", 1)[1] for s in routes.values()} == public


def test_generation_over_the_route(api: str, make_target) -> None:
    """The offline generator behind POST /api/r/fractal/entities/generate (no LLM configured)."""
    status, out = _post(f"{api}/api/r/fractal/entities/generate", {"need": "the API key for Vast.ai", "llm": "offline"}, TOKEN)
    assert status == 200 and out["draft"]["spec"]["tool"] == "secret" and out["report"]["ok"]


def test_a_bad_content_length_is_refused(api: str) -> None:
    """uvicorn's HTTP parser refuses the request before it reaches the app: 400, the connection closed."""
    import http.client

    host, port = api.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.putrequest("POST", "/api/r/fractal/items/list")
    conn.putheader("Authorization", f"Bearer {TOKEN}")
    conn.putheader("Content-Length", "not-a-number")
    conn.endheaders()
    response = conn.getresponse()
    assert response.status == 400
