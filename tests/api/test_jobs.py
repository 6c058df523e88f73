"""Jobs for orchestrators over real HTTP: listed, followed, cancelled, called back, idempotent, isolated."""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fractal_local.server import Running, serve
from support.api_http import TOKEN, call
from support.items import entity

WS = "/api/w/local"


@pytest.fixture
def api(fractal_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Running]:
    monkeypatch.setenv("FRACTAL_API_TOKEN", TOKEN)
    monkeypatch.setenv("SERVER_ONLY_SECRET", "never-in-a-job-0123456789")
    server = serve("127.0.0.1", 0, token=TOKEN)
    yield server
    server.shutdown()


def _wait(predicate: Any, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


class Callbacks(ThreadingHTTPServer):
    """A loopback receiver of job callbacks; answers 500 to the first POST to prove the retry."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.attempts = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver.attempts += 1
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                self.send_response(500 if receiver.attempts == 1 else 204)
                self.end_headers()
                if receiver.attempts > 1:
                    receiver.bodies.append(body)

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


SLEEPER = """- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - ansible.builtin.debug: {msg: sleeper-started}
    - ansible.builtin.command: sleep 987
"""


@pytest.mark.slow
def test_a_job_is_listed_followed_and_cancelled_with_its_process_tree(api: Running, make_target: Any) -> None:
    """A real Ansible run (ansible-runner) that sleeps: its logs are followed, then the whole tree is stopped."""
    target = make_target("a")
    assert call(f"{api.url}/api/r/fractal/items/save", {"item": entity("sleeper", files={"site.yml": SLEEPER}),
                                                        "targets": [target]})[0] == 200
    status, job = call(f"{api.url}{WS}/jobs/run/p/f/fractal/run_item", {"ref": "entity:sleeper", "targets": [target]})
    assert status == 201
    _wait(lambda: "sleeper-started" in call(f"{api.url}{WS}/jobs_u/get_logs/{job}")[1])
    assert call(f"{api.url}{WS}/jobs_u/get/{job}")[1]["status"] == "running"
    assert call(f"{api.url}{WS}/jobs_u/completed/get_result_maybe/{job}")[1]["completed"] is False
    listed = call(f"{api.url}{WS}/jobs/list?script_path_exact=f/fractal/run_item&running=true")[1]
    assert [j["id"] for j in listed] == [job]
    _wait(lambda: any(_cmdline(p) == "sleep 987" for p in _pids()))
    assert call(f"{api.url}{WS}/jobs_u/queue/cancel/{job}", {"reason": "test over"})[0] == 200
    got = call(f"{api.url}{WS}/jobs_u/get/{job}")[1]
    assert got["status"] == "canceled" and "test over" in got["result"]["error"]["message"]
    assert call(f"{api.url}{WS}/jobs_u/completed/get_result/{job}")[0] == 409
    _wait(lambda: not any(_cmdline(p) == "sleep 987" for p in _pids()), timeout=10)
    assert call(f"{api.url}{WS}/jobs/list?status=canceled")[1][0]["id"] == job


def _pids() -> list[Path]:
    return list(Path("/proc").glob("[0-9]*"))


def _cmdline(proc: Path) -> str:
    try:
        return (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


def test_callback_and_idempotency_keys(api: Running, make_target: Any) -> None:
    target = make_target("a")
    receiver = Callbacks()
    try:
        url = f"{api.url}{WS}/jobs/run/p/f/fractal/save_item?callback_url=http://127.0.0.1:{receiver.server_port}/done"
        body = {"item": entity("web"), "targets": [target]}
        first = call(url, body, headers={"Idempotency-Key": "save-web-1"})
        again = call(url, body, headers={"Idempotency-Key": "save-web-1"})
        assert first[0] == again[0] == 201 and first[1] == again[1]
        other = {"item": entity("api"), "targets": [target]}
        status, error = call(url, other, headers={"Idempotency-Key": "save-web-1"})
        assert status == 422 and error["error"] == "idempotency_key_reused"
        _wait(lambda: receiver.bodies)
        posted = receiver.bodies[0]
        assert posted["id"] == first[1] and posted["status"] == "success" and posted["result"]["ref"] == "entity:web@1.0.0"
        assert _wait(lambda: call(f"{api.url}{WS}/jobs_u/get/{first[1]}")[1]["callback"].get("state") == "delivered")
        assert call(f"{api.url}{WS}/jobs_u/get/{first[1]}")[1]["callback"]["attempts"] == 2
    finally:
        receiver.shutdown()
    # a retried synchronous save with the same key saves once
    changed = entity("web")
    changed["metadata"]["description"] = "changed once"
    sync = f"{api.url}{WS}/jobs/run_wait_result/p/f/fractal/save_item"
    one = call(sync, {"item": changed, "targets": [target]}, headers={"Idempotency-Key": "save-web-2"})
    two = call(sync, {"item": changed, "targets": [target]}, headers={"Idempotency-Key": "save-web-2"})
    assert one == two and one[1]["version"] == "1.0.1"
    history = call(f"{api.url}/api/r/fractal/items/history", {"ref": "entity:web", "targets": [target]})[1]
    assert [e["version"] for e in history["targets"][0]["entries"]] == ["1.0.1", "1.0.0"]


def test_jobs_run_in_their_own_process_without_the_servers_secrets(api: Running, make_target: Any) -> None:
    target = make_target("a")
    status, job_id = call(f"{api.url}{WS}/jobs/run/p/f/fractal/list_items", {"targets": [target]})
    assert status == 201
    _wait(lambda: call(f"{api.url}{WS}/jobs_u/get/{job_id}")[1]["status"] == "success")
    jobs = api.server.config.app.state.api.jobs
    job, worker = jobs.get(job_id), jobs.host
    assert job.pid not in (None, os.getpid(), worker.pid)
    environ = Path(f"/proc/{worker.pid}/environ").read_bytes().split(b"\0")
    names = {e.split(b"=", 1)[0].decode() for e in environ if e}
    assert "FRACTAL_HOME" in names and "PATH" in names and "WM_WORKSPACE" in names
    assert "FRACTAL_API_TOKEN" not in names and "SERVER_ONLY_SECRET" not in names
    assert all(TOKEN.encode() not in e for e in environ)


def test_jobs_list_filters_and_refusals(api: Running, make_target: Any) -> None:
    target = make_target("a")
    assert call(f"{api.url}{WS}/jobs/run_wait_result/p/f/fractal/list_items", {"targets": [target]})[0] == 200
    assert call(f"{api.url}{WS}/jobs/run_wait_result/p/f/fractal/get_item", {"ref": "entity:nope", "targets": [target]}
                )[0] == 404
    rows = call(f"{api.url}{WS}/jobs/list?success=false")[1]
    assert [r["script_path"] for r in rows] == ["f/fractal/get_item"] and rows[0]["status"] == "failure"
    assert call(f"{api.url}{WS}/jobs/list?created_after=2999-01-01T00:00:00Z")[1] == []
    assert call(f"{api.url}{WS}/jobs/list?status=nope")[0] == 400
    assert call(f"{api.url}{WS}/jobs/list?per_page=0")[0] == 400
    assert call(f"{api.url}{WS}/jobs_u/get/00000000-0000-0000-0000-000000000000")[0] == 404
    assert call(f"{api.url}{WS}/jobs/run/p/f/fractal/nope", {})[0] == 404
    assert call(f"{api.url}{WS}/jobs/run/p/f/fractal/save_item?callback_url=file:///etc/passwd",
                {"item": {}})[0] == 400


def test_a_killed_worker_fails_its_jobs_and_is_replaced(api: Running, make_target: Any) -> None:
    """A job hangs on a Git remote that never answers (a silent loopback socket); the worker is killed."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        target = make_target("silent", url=f"git://127.0.0.1:{silent.getsockname()[1]}/catalog.git")
        status, job_id = call(f"{api.url}{WS}/jobs/run/p/f/fractal/list_items", {"targets": [target]})
        assert status == 201
        jobs = api.server.config.app.state.api.jobs
        _wait(lambda: jobs.get(job_id).pid)
        os.kill(jobs.host.pid, signal.SIGKILL)
        got = _wait(lambda: (lambda j: j if j["status"] == "failure" else None)(
            call(f"{api.url}{WS}/jobs_u/get/{job_id}")[1]))
        assert got["result"]["error"]["error"] == "job_crashed"
        assert call(f"{api.url}/api/r/fractal/providers", {})[0] == 200  # a new worker took over
    finally:
        silent.close()
