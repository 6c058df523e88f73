"""Jobs for orchestrators over real HTTP: listed, followed, cancelled, timed out, called back, idempotent, isolated,
and kept across a server restart (a clean one, and one where the server is killed)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fractal_local.contracts import scripts
from fractal_local.limits import Limits
from fractal_local.proctree import process_tree
from fractal_local.server import Running, serve
from support.api_http import TOKEN, call
from support.items import entity, quick_entity
from support.paths import ROOT

from f.fractal.model.errors import InvalidInput

WS = "/api/w/local"


@pytest.fixture
def api(fractal_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Running]:
    monkeypatch.setenv("FRACTAL_API_TOKEN", TOKEN)
    monkeypatch.setenv("SERVER_ONLY_SECRET", "never-in-a-job-0123456789")
    monkeypatch.setenv("FRACTAL_CALLBACK_HOSTS", "127.0.0.1")  # the loopback receiver below, allowed explicitly
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
    """A loopback receiver of job callbacks: /done answers 500 to its first POST (to prove the retry), /moved a
    redirect to /done (which must not be followed)."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.attempts = self.moved = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if self.path == "/moved":
                    receiver.moved += 1
                    self.send_response(302)
                    self.send_header("Location", "/done")
                    self.end_headers()
                    return
                receiver.attempts += 1
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
        body = {"item": quick_entity("web"), "targets": [target]}
        first = call(url, body, headers={"Idempotency-Key": "save-web-1"})
        again = call(url, body, headers={"Idempotency-Key": "save-web-1"})
        assert first[0] == again[0] == 201 and first[1] == again[1]
        other = {"item": quick_entity("api"), "targets": [target]}
        status, error = call(url, other, headers={"Idempotency-Key": "save-web-1"})
        assert status == 422 and error["error"] == "idempotency_key_reused"
        _wait(lambda: receiver.bodies)
        posted = receiver.bodies[0]
        assert posted["id"] == first[1] and posted["status"] == "success" and posted["result"]["ref"] == "entity:web@1.0.0"
        assert _wait(lambda: call(f"{api.url}{WS}/jobs_u/get/{first[1]}")[1]["callback"].get("state") == "delivered")
        assert call(f"{api.url}{WS}/jobs_u/get/{first[1]}")[1]["callback"]["attempts"] == 2
        moved = f"http://127.0.0.1:{receiver.server_port}/moved"
        status, job_id = call(f"{api.url}{WS}/jobs/run/p/f/fractal/list_providers?callback_url={moved}", {})
        callback = _wait(lambda: (lambda c: c if c.get("state") == "failed" else None)(
            call(f"{api.url}{WS}/jobs_u/get/{job_id}")[1]["callback"]))
        assert "redirects are not followed" in callback["last_error"] and callback["attempts"] == 1
        assert receiver.moved == 1 and len(receiver.bodies) == 1 and receiver.attempts == 2
        for refused in ("http://example.com/hook", f"http://localhost:{receiver.server_port}/done"):
            status, error = call(f"{api.url}{WS}/jobs/run/p/f/fractal/list_providers?callback_url={refused}", {})
            assert status == 400 and error["data"]["argument"] == "callback_url" and "not an allowed" in error["message"]
    finally:
        receiver.shutdown()
    # a retried synchronous save with the same key saves once
    changed = quick_entity("web")
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
    silent = _silent_remote()
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


def _silent_remote() -> socket.socket:
    """A loopback socket that accepts and never answers: a Git fetch from it hangs."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    return silent


def _gone(pid: int) -> bool:
    """No such process, or a zombie that nobody reaps (its parent died)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in "ZX"
    except OSError:
        return True


def test_time_limits_and_callback_hosts() -> None:
    hosts = "hooks.example.com,127.0.0.1:9000, *.corp.example"
    limits = Limits.read({"FRACTAL_JOB_TIMEOUT_S": "600", "FRACTAL_CALLBACK_HOSTS": hosts})
    assert (limits.time_limit(None), limits.time_limit(300), limits.time_limit(300, "10"), limits.time_limit(None, 9999)) == (
        600, 300, 10, 600)  # the script's limit replaces the default; a request only lowers it
    assert scripts()["f/fractal/list_items"].timeout == 300 and scripts()["f/fractal/run_item"].timeout is None
    for allowed in ("https://hooks.example.com/x", "http://hooks.example.com:8080/", "http://127.0.0.1:9000/done",
                    "https://ci.corp.example/hook"):
        limits.check_callback(allowed)
    for refused in ("http://127.0.0.1:9001/", "http://[::1]:9000/", "http://evil.example/", "http://corp.example.evil/",
                    "http://xcorp.example/", "file:///etc/passwd", "http://hooks.example.com:bad/"):
        with pytest.raises(InvalidInput):
            limits.check_callback(refused)
    with pytest.raises(InvalidInput, match="not an allowed callback host"):
        Limits.read({}).check_callback("http://127.0.0.1/")  # none by default
    for bad in ({"FRACTAL_JOB_TIMEOUT_S": "0"}, {"FRACTAL_JOB_TIMEOUT_S": "soon"}, {"FRACTAL_CALLBACK_HOSTS": "a:b:c"}):
        with pytest.raises(InvalidInput):
            Limits.read(bad)
    with pytest.raises(InvalidInput):
        limits.time_limit(None, "-1")


def test_a_job_past_its_time_limit_is_stopped_and_recorded(api: Running, make_target: Any) -> None:
    """list_items on a silent remote: the request's 1 s (below the script's own 300 s) stops its whole tree."""
    silent = _silent_remote()
    try:
        target = make_target("silent", url=f"git://127.0.0.1:{silent.getsockname()[1]}/catalog.git")
        status, job_id = call(f"{api.url}{WS}/jobs/run/p/f/fractal/list_items?timeout=1", {"targets": [target]})
        assert status == 201
        got = _wait(lambda: (lambda j: j if j["type"] == "CompletedJob" else None)(call(f"{api.url}{WS}/jobs_u/get/{job_id}")[1]))
        assert (got["status"], got["canceled_by"], got["timeout_s"]) == ("canceled", "timeout", 1)
        assert got["result"]["error"]["error"] == "job_timeout" and got["canceled_reason"] == "duration > 1 s"
        remote = f"127.0.0.1:{silent.getsockname()[1]}"
        assert not any(remote in _cmdline(p) for p in _pids())  # its git fetch went with it
        sync = call(f"{api.url}{WS}/jobs/run_wait_result/p/f/fractal/list_items?timeout=0.5", {"targets": [target]})
        assert sync[0] == 504 and sync[1]["error"] == "job_timeout"
        assert call(f"{api.url}{WS}/jobs/run/p/f/fractal/list_items?timeout=soon", {"targets": [target]})[0] == 400
    finally:
        silent.close()


def test_jobs_and_idempotency_keys_outlive_a_restart(fractal_home: Path, make_target: Any) -> None:
    """One server runs a save (with a key) and a list, and stops; the next one on the workspace has them."""
    target = make_target("a")
    body = {"item": quick_entity("web"), "targets": [target]}
    save = f"{WS}/jobs/run_wait_result/p/f/fractal/save_item"
    first = serve("127.0.0.1", 0, token=TOKEN)
    try:
        saved = call(f"{first.url}{save}", body, headers={"Idempotency-Key": "save-web"})
        listing = call(f"{first.url}{WS}/jobs/run/p/f/fractal/list_items", {"targets": [target]})[1]
        _wait(lambda: call(f"{first.url}{WS}/jobs_u/get/{listing}")[1]["status"] == "success")
    finally:
        first.shutdown()
    second = serve("127.0.0.1", 0, token=TOKEN)
    try:
        assert saved[0] == 200 and saved[1]["ref"] == "entity:web@1.0.0"
        rows = call(f"{second.url}{WS}/jobs/list")[1]
        assert [(r["script_path"], r["status"]) for r in rows] == [("f/fractal/list_items", "success"),
                                                                   ("f/fractal/save_item", "success")]
        got = call(f"{second.url}{WS}/jobs_u/get/{listing}")[1]
        assert got["result"]["total"] == 1 and call(f"{second.url}{WS}/jobs_u/completed/get_result/{listing}")[0] == 200
        assert call(f"{second.url}{WS}/jobs_u/get_logs/{listing}")[0] == 200
        again = call(f"{second.url}{save}", body, headers={"Idempotency-Key": "save-web"})
        assert again == saved  # the first job's answer: no second save ran
        assert len(call(f"{second.url}{WS}/jobs/list?script_path_exact=f/fractal/save_item")[1]) == 1
        other = call(f"{second.url}{save}", {"item": quick_entity("api"), "targets": [target]},
                     headers={"Idempotency-Key": "save-web"})
        assert other[0] == 422 and other[1]["error"] == "idempotency_key_reused"
    finally:
        second.shutdown()


def test_the_jobs_of_a_killed_server_end_with_the_reason(fractal_home: Path, make_target: Any) -> None:
    """`scripts/fractal serve --jobs 1` in its own process, one job running (a silent remote) and one queued, is
    killed (SIGKILL): the job's processes stop with it, and the next server reports both jobs ended, with why."""
    silent = _silent_remote()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'scripts'}", "FRACTAL_API_TOKEN": TOKEN}
    proc = subprocess.Popen([sys.executable, "-m", "fractal_local", "serve", "--port", str(port), "--jobs", "1"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        target = make_target("silent", url=f"git://127.0.0.1:{silent.getsockname()[1]}/catalog.git")
        url = f"http://127.0.0.1:{port}"
        _wait(lambda: _answers(f"{url}/api/version"))
        running = call(f"{url}{WS}/jobs/run/p/f/fractal/list_items", {"targets": [target]})[1]
        queued = call(f"{url}{WS}/jobs/run/p/f/fractal/list_items", {"targets": [target], "limit": 5})[1]
        _wait(lambda: call(f"{url}{WS}/jobs_u/get/{running}")[1]["status"] == "running")
        tree = _wait(lambda: (lambda t: t if len(t) >= 4 else None)(process_tree(proc.pid)))  # server, worker, job, git
        proc.kill()
        proc.wait(10)
        _wait(lambda: all(_gone(pid) for pid in tree), timeout=15)
    finally:
        proc.kill()
        silent.close()
    server = serve("127.0.0.1", 0, token=TOKEN)
    try:
        died = call(f"{server.url}{WS}/jobs_u/get/{running}")[1]
        assert died["status"] == "failure" and died["result"]["error"]["error"] == "job_crashed"
        assert "the server stopped while the job ran" in died["result"]["error"]["message"]
        never = call(f"{server.url}{WS}/jobs_u/get/{queued}")[1]
        assert (never["status"], never["canceled_by"]) == ("canceled", "server")
        assert never["canceled_reason"] == "the server stopped before the job started"
        assert call(f"{server.url}{WS}/jobs/list?running=true")[1] == []
    finally:
        server.shutdown()


def _answers(url: str) -> bool:
    try:
        return call(url)[0] == 200
    except OSError:
        return False
