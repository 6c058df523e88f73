"""deploy_flow and composite runs inside Windmill, against a small recording HTTP server on 127.0.0.1
that answers the Windmill REST endpoints the pack calls (there is no Windmill server here; the
catalog is a real bare Git repo, the flows are the real compiled ones and are linted)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from support.compose_catalog import lint_flows, pipe, runnable, string_inputs

import f.fractal.catalog.items as catalog
import f.fractal.platform.workspace as workspace
from f.fractal.model.errors import ConfigError

TIMEOUT_S = 10


class Recorder:
    """Answers like Windmill: resources, flows exists/create/update, a flow job that succeeds."""

    def __init__(self, resources: dict[str, Any]) -> None:
        self.resources = resources
        self.requests: list[dict[str, Any]] = []
        self.flows: dict[str, Any] = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def _answer(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        prefix = "/api/w/demo/"
        rest = path[len(prefix) :] if path.startswith(prefix) else ""
        if rest.startswith("resources/get_value_interpolated/"):
            return 200, self.resources[rest.split("/", 2)[2]]
        if rest.startswith("flows/exists/"):
            return 200, rest[len("flows/exists/") :] in self.flows
        if rest == "flows/create" or rest.startswith("flows/update/"):
            self.flows[body["path"]] = body
            return 201, body["path"]
        if rest.startswith("jobs/run/f/"):
            return 201, "0192-job"
        if rest.startswith("jobs_u/completed/get_result_maybe/"):
            return 200, {
                "completed": True,
                "success": True,
                "result": {"status": "success", "outputs": {"motd_path": "/x/motd"}, "steps": {}},
            }
        if rest.startswith("jobs_u/get/"):
            return 200, {"flow_status": {"modules": [{"id": "welcome", "type": "Success", "job": "0193"}]}}
        return 404, {"error": f"unexpected {method} {path}"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            timeout = TIMEOUT_S  # a client that stops sending fails the request, not the suite

            def log_message(self, *args: Any) -> None:
                pass

            def _do(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                recorder.requests.append(
                    {"method": method, "path": self.path, "body": body, "auth": self.headers.get("Authorization")}
                )
                status, payload = recorder._answer(method, self.path, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._do("GET")

            def do_POST(self) -> None:
                self._do("POST")

        return Handler


@pytest.fixture
def windmill(make_target: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    target = make_target("catalog")
    for item in runnable():
        catalog.save(item, [target])
    motd = string_inputs("motd_dir", required=("motd_dir",))
    wired = {"motd_dir": {"from": "inputs.motd_dir"}}
    catalog.save(
        pipe("Pipeline", "welcome", [{"id": "motd", "ref": "entity:local-motd@1.0.0", "inputs": wired}],
             inputs=motd, outputs={"motd_path": {"from": "steps.motd.outputs.motd_path"}}),
        [target],
    )
    catalog.save(
        pipe("MetaPipeline", "estate", [{"id": "welcome", "ref": "pipeline:welcome@1.0.0", "inputs": wired}],
             inputs=motd, outputs={"motd_path": {"from": "steps.welcome.outputs.motd_path"}}),
        [target],
    )
    value = workspace.get_resource(target)
    recorder = Recorder({target: value})
    monkeypatch.setattr(workspace, "WINDMILL_CACHE", tmp_path / "windmill-cache")
    monkeypatch.setenv("WM_TOKEN", "job-token-123")
    monkeypatch.setenv("BASE_INTERNAL_URL", recorder.url)
    monkeypatch.setenv("WM_WORKSPACE", "demo")
    import httpx
    import wmill.client

    # wmill keeps one global client: give it this test's env, and a short timeout so a lost answer fails in
    # seconds with a stack instead of hanging for wmill's default 900 s
    client = wmill.client.Windmill()
    client.client = httpx.Client(base_url=client.base_url, headers=client.headers, timeout=TIMEOUT_S)
    monkeypatch.setattr(wmill.client, "_client", client)
    yield recorder
    client.client.close()
    recorder.server.shutdown()
    recorder.server.server_close()


def test_deploy_creates_member_flows_first_then_updates(windmill: Recorder, tmp_path: Path) -> None:
    from f.fractal.deploy_flow import main as deploy

    result = deploy("meta-pipeline:estate")
    assert result["ref"] == "meta-pipeline:estate@1.0.0" and result["flow_path"] == "f/fractal_flows/meta_pipeline_estate_v1_0_0"
    assert [(f["path"], f["status"]) for f in result["flows"]] == [
        ("f/fractal_flows/pipeline_welcome_v1_0_0", "created"),
        ("f/fractal_flows/meta_pipeline_estate_v1_0_0", "created"),
        ("f/fractal_flows/meta_pipeline_estate", "created"),
    ]
    creates = [r for r in windmill.requests if r["path"] == "/api/w/demo/flows/create"]
    assert len(creates) == 3 and all(r["auth"] == "Bearer job-token-123" for r in windmill.requests)
    body = creates[1]["body"]
    assert body["value"]["modules"][0]["value"] == {
        **body["value"]["modules"][0]["value"],
        "type": "flow",
        "path": "f/fractal_flows/pipeline_welcome_v1_0_0",
    }
    assert body["schema"]["properties"]["provider"]["enum"] == ["local"] and body["summary"].startswith("Meta-pipeline estate")
    assert lint_flows(
        {r["body"]["path"]: {k: r["body"][k] for k in ("summary", "description", "value", "schema")} for r in creates},
        tmp_path / "lint",
    )["success"]
    again = deploy("meta-pipeline:estate", alias=False)
    assert [f["status"] for f in again["flows"]] == ["updated", "updated"]
    assert windmill.requests[-1]["path"] == "/api/w/demo/flows/update/f/fractal_flows/meta_pipeline_estate_v1_0_0"


def test_inside_windmill_a_composite_runs_as_a_flow_job(windmill: Recorder) -> None:
    from f.fractal.run_item import main as run_item

    result = run_item("meta-pipeline:estate", "local", {"motd_dir": "/x"})
    assert result["status"] == "success" and result["job_id"] == "0192-job" and result["outputs"] == {"motd_path": "/x/motd"}
    assert result["steps"] == [{"id": "welcome", "status": "Success", "job": "0193"}]
    run = next(r for r in windmill.requests if r["path"].startswith("/api/w/demo/jobs/run/f/"))
    assert run["path"] == "/api/w/demo/jobs/run/f/f/fractal_flows/meta_pipeline_estate_v1_0_0"
    assert run["body"] == {"motd_dir": "/x", "mode": "apply", "targets": [], "provider": "local"}
    reads = [r for r in windmill.requests if "/resources/get_value_interpolated/" in r["path"]]
    assert len(reads) == 3, "one catalog read per item (the root, its pipeline, its entity), none again to deploy"


@pytest.mark.parametrize("wait", ["soon", "-1", "nan"])
def test_a_bad_flow_wait_is_a_config_error_before_anything_starts(
    windmill: Recorder, monkeypatch: pytest.MonkeyPatch, wait: str
) -> None:
    from f.fractal.run_item import main as run_item

    monkeypatch.setenv("FRACTAL_FLOW_WAIT_S", wait)
    with pytest.raises(ConfigError, match="FRACTAL_FLOW_WAIT_S must be a number of seconds") as info:
        run_item("meta-pipeline:estate", "local", {"motd_dir": "/x"})
    assert "0 (return the job id at once)" in info.value.hint
    assert not [r for r in windmill.requests if "/flows/" in r["path"] or "/jobs/" in r["path"]], "nothing deployed or started"


def test_deploy_outside_windmill_is_a_clear_error(make_target: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from f.fractal.deploy_flow import main as deploy

    target = make_target("catalog")
    for item in runnable():
        catalog.save(item, [target])
    catalog.save(
        {
            "apiVersion": "fractal/v1",
            "kind": "Pipeline",
            "metadata": {"name": "p"},
            "spec": {"steps": [{"id": "m", "ref": "entity:local-motd@1.0.0", "inputs": {"motd_dir": "/tmp"}}]},
        },
        [target],
    )
    with pytest.raises(ConfigError, match="runs inside Windmill"):
        deploy("pipeline:p")
    from f.fractal.model.errors import InvalidInput

    with pytest.raises(InvalidInput, match="only pipelines and meta-pipelines"):
        deploy("entity:local-motd")
