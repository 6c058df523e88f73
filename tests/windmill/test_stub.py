"""The Windmill stand-in (tests/support/windmill_stub.py) read through the real `wmill` client and plain HTTP:
the answers' status codes, content types and shapes are Windmill's (see the stub's docstring for the sources)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import wmill
from support.windmill_stub import WindmillStub


@pytest.fixture
def stub() -> Iterator[WindmillStub]:
    stub = WindmillStub()
    yield stub
    stub.close()


@pytest.fixture
def client(stub: WindmillStub) -> Iterator[wmill.Windmill]:
    client = wmill.Windmill(base_url=stub.url, token=stub.token, workspace=stub.workspace)
    client.client = httpx.Client(base_url=client.base_url, headers=client.headers, timeout=10)
    yield client
    client.client.close()


def test_the_wmill_client_reads_resources_variables_and_jobs(stub: WindmillStub, client: wmill.Windmill) -> None:
    stub.add_resource("f/x/db", {"host": "h"}, "postgresql")
    stub.add_variable("f/x/key", "s3cr3t")
    stub.add_script("f/x/job", "def main(): pass")
    assert client.get_resource("f/x/db") == {"host": "h"}
    assert client.get_variable("f/x/key") == "s3cr3t"
    assert client.get_resource("f/x/none", none_if_undefined=True) is None
    job = client.run_script_by_path_async("f/x/job", {"a": 1})
    assert stub.jobs[job].args == {"a": 1} and client.get_job_status(job) == "WAITING"
    stub.complete(job, {"ok": True})
    assert client.wait_job(job, cleanup=False) == {"ok": True} and client.get_result(job) == {"ok": True}
    failed = client.run_script_by_path_async("f/x/job", {})
    stub.complete(failed, {"error": {"name": "Exception", "message": "boom"}}, success=False)
    with pytest.raises(Exception, match="was not successful"):
        client.wait_job(failed, cleanup=False)
    client.set_resource({"v": 2}, "f/x/new", "any")
    client.set_variable("f/x/key", "rotated")
    assert stub.resources["f/x/new"]["value"] == {"v": 2} and stub.variables["f/x/key"]["value"] == "rotated"


def test_text_answers_are_text_and_json_answers_json(stub: WindmillStub) -> None:
    headers = {"Authorization": f"Bearer {stub.token}"}
    api = f"{stub.url}/api/w/{stub.workspace}"
    with httpx.Client(headers=headers, timeout=10) as http:
        assert http.get(f"{api}/flows/exists/f/a/flow").json() is False
        created = http.post(f"{api}/flows/create", json={"path": "f/a/flow", "summary": "s", "value": {"modules": []}})
        assert (created.status_code, created.text) == (201, "f/a/flow")
        assert created.headers["content-type"].startswith("text/plain")
        updated = http.post(f"{api}/flows/update/f/a/flow", json={"path": "f/a/flow", "summary": "t", "value": {"modules": []}})
        assert (updated.status_code, updated.text) == (200, "f/a/flow")
        assert http.get(f"{api}/flows/exists/f/a/flow").json() is True
        run = http.post(f"{api}/jobs/run/f/f/a/flow", json={})
        assert run.status_code == 201 and run.headers["content-type"].startswith("text/plain") and run.text in stub.jobs
        folder = http.post(f"{api}/folders/create", json={"name": "b"})
        assert (folder.status_code, folder.text) == (200, "Created folder b")
        again = http.post(f"{api}/folders/create", json={"name": "b"})
        assert (again.status_code, again.text) == (400, "Bad request: Folder b already exists")
        missing = http.get(f"{api}/resources/get/f/a/none")
        assert missing.status_code == 404 and missing.text.startswith("Not found: ")
        assert http.get(f"{api}/flows/exists/f/a/flow", headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_a_plain_user_cannot_write_into_a_missing_folder(stub: WindmillStub) -> None:
    stub.admin = False
    with httpx.Client(headers={"Authorization": f"Bearer {stub.token}"}, timeout=10) as http:
        refused = http.post(f"{stub.url}/api/w/demo/flows/create", json={"path": "f/new/flow", "summary": "s", "value": {}})
        assert refused.status_code == 400 and "row-level security" in refused.text
        stub.folder_refusal = "deploy rules forbid u/bob to deploy in workspace demo"
        denied = http.post(f"{stub.url}/api/w/demo/folders/create", json={"name": "new"})
        assert denied.status_code == 403
        assert denied.text == "Permission denied: deploy rules forbid u/bob to deploy in workspace demo"
