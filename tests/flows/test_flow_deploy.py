"""deploy_flow and composite runs inside Windmill, against the Windmill stand-in (tests/support/windmill_stub.py:
there is no Windmill server here; it answers as Windmill's source does, text where Windmill sends text). The
catalog is a real bare Git repo, the flows are the real compiled ones and are linted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import wmill.client
from support.compose_catalog import lint_flows, pipe, runnable, string_inputs
from support.windmill_stub import Job, WindmillStub

import f.fractal.catalog.items as catalog
import f.fractal.platform.windmill as windmill_api
import f.fractal.platform.workspace as workspace
from f.fractal.model.errors import ConfigError

TIMEOUT_S = 10


@pytest.fixture
def windmill(make_target: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[WindmillStub]:
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
    stub = WindmillStub()
    stub.add_resource(target, workspace.get_resource(target), "git_repository")
    monkeypatch.setattr(workspace, "WINDMILL_CACHE", tmp_path / "windmill-cache")
    monkeypatch.setattr(windmill_api, "_ready_folders", set())
    for name, value in {"WM_TOKEN": stub.token, "BASE_INTERNAL_URL": stub.url, "WM_BASE_URL": "https://windmill.example",
                        "WM_WORKSPACE": stub.workspace}.items():
        monkeypatch.setenv(name, value)
    # wmill keeps one global client: give it this test's env, and a short timeout so a lost answer fails in
    # seconds with a stack instead of hanging for wmill's default 900 s
    client = wmill.client.Windmill()
    client.client = httpx.Client(base_url=client.base_url, headers=client.headers, timeout=TIMEOUT_S)
    monkeypatch.setattr(wmill.client, "_client", client)
    yield stub
    client.client.close()
    stub.close()


def test_deploy_creates_the_folder_then_member_flows_first_then_updates(windmill: WindmillStub, tmp_path: Path) -> None:
    from f.fractal.deploy_flow import main as deploy

    assert "fractal_flows" not in windmill.folders
    result = deploy("meta-pipeline:estate")
    assert result["ref"] == "meta-pipeline:estate@1.0.0" and result["flow_path"] == "f/fractal_flows/meta_pipeline_estate_v1_0_0"
    assert [(f["path"], f["status"]) for f in result["flows"]] == [
        ("f/fractal_flows/pipeline_welcome_v1_0_0", "created"),
        ("f/fractal_flows/meta_pipeline_estate_v1_0_0", "created"),
        ("f/fractal_flows/meta_pipeline_estate", "created"),
    ]
    assert [r["body"]["name"] for r in windmill.calls("POST", "folders/create")] == ["fractal_flows"]
    creates = windmill.calls("POST", "flows/create")
    assert len(creates) == 3 and all(r["auth"] == f"Bearer {windmill.token}" for r in windmill.requests)
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
    assert len(windmill.calls("POST", "folders/create")) == 1


def test_a_refused_folder_is_a_config_error_naming_the_permission(windmill: WindmillStub) -> None:
    from f.fractal.deploy_flow import main as deploy

    windmill.folder_refusal = "deployment rules forbid u/bob to deploy in workspace demo"
    with pytest.raises(ConfigError, match="cannot create the Windmill folder f/fractal_flows") as info:
        deploy("pipeline:welcome")
    assert "deployment rules forbid" in info.value.message and "write access" in info.value.hint
    assert info.value.data["status"] == 403 and not windmill.calls("POST", "flows/")


def test_inside_windmill_a_composite_starts_its_flow_and_returns_at_once(windmill: WindmillStub) -> None:
    from f.fractal.run_item import main as run_item

    result = run_item("meta-pipeline:estate", "local", {"motd_dir": "/x"})
    job = windmill.jobs[result["job_id"]]
    assert result["status"] == "started" and not job.completed
    assert result["status_url"] == f"https://windmill.example/api/w/demo/jobs_u/completed/get_result_maybe/{job.id}"
    assert result["job_url"] == f"https://windmill.example/run/{job.id}?workspace=demo"
    assert job.path == "f/fractal_flows/meta_pipeline_estate_v1_0_0"
    assert job.args == {"motd_dir": "/x", "mode": "apply", "targets": [], "provider": "local"}
    reads = windmill.calls("GET", "resources/get_value_interpolated/f/fractal/catalog")
    assert len(reads) == 3, "one catalog read per item (the root, its pipeline, its entity), none again to deploy"
    settings_reads = windmill.calls("GET", "resources/get_value_interpolated/f/fractal/fractal_settings")
    assert len(settings_reads) == 1, "settings read once a job"


def test_waiting_is_opted_into_by_the_settings_resource(windmill: WindmillStub) -> None:
    from f.fractal.run_item import main as run_item

    def worker(job: Job) -> tuple[bool, Any]:  # a scripted stand-in for Windmill's flow engine
        job.modules = [{"id": "welcome", "type": "Success", "job": "0193"}]
        return True, {"status": "success", "outputs": {"motd_path": job.args["motd_dir"] + "/motd"}, "steps": {}}

    windmill.runner = worker
    windmill.add_resource("f/fractal/fractal_settings", {"flow_wait_s": 30}, "fractal_settings")
    result = run_item("meta-pipeline:estate", "local", {"motd_dir": "/x"})
    assert result["status"] == "success" and result["outputs"] == {"motd_path": "/x/motd"}
    assert result["steps"] == [{"id": "welcome", "status": "Success", "job": "0193"}]


@pytest.mark.parametrize("wait", ["soon", -1, 3600, True])
def test_a_bad_flow_wait_is_a_config_error_before_anything_starts(windmill: WindmillStub, wait: Any) -> None:
    from f.fractal.run_item import main as run_item

    windmill.add_resource("f/fractal/fractal_settings", {"flow_wait_s": wait}, "fractal_settings")
    with pytest.raises(ConfigError, match=r"fractal_settings\.flow_wait_s must be a number of seconds from 0 to 840") as info:
        run_item("meta-pipeline:estate", "local", {"motd_dir": "/x"})
    assert "0 (the default) returns the flow's job id at once" in info.value.hint
    assert not windmill.calls("POST", "flows/") and not windmill.jobs, "nothing deployed or started"


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


def test_compile_playbook_deploys_a_new_script_version_into_its_folder(windmill: WindmillStub) -> None:
    from f.fractal.compile_playbook import main as compile_playbook

    first = compile_playbook("entity:local-motd", deploy=True)
    path = first["deployed"]
    assert path == "f/fractal_playbooks/local_motd" and windmill.scripts[path]["language"] == "ansible"
    assert "fractal_playbooks" in windmill.folders
    compile_playbook("entity:local-motd", deploy=True)
    creates = windmill.calls("POST", "scripts/create")
    assert "parent_hash" not in creates[0]["body"] and creates[1]["body"]["parent_hash"]


def test_runs_inside_windmill_are_recorded_where_every_worker_reads_them(
    windmill: WindmillStub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each job below runs with its own worker cache (a Windmill worker's cache is its own): the records are
    Windmill variables f/fractal_runs/<id>, so the step's worker and a third one read what the first wrote."""
    from f.fractal.get_run import main as get_run
    from f.fractal.list_runs import main as list_runs
    from f.fractal.run_item import main as run_item

    started = run_item("pipeline:welcome", "local", {"motd_dir": str(tmp_path)})
    job, run_id = started["job_id"], started["run_id"]
    stored = windmill.variables[f"f/fractal_runs/{run_id}"]
    assert stored["is_secret"] is False and stored["expires_at"] > "2026" and "fractal_runs" in windmill.folders
    # the flow's step runs on another worker: a real run of the entity, as Windmill starts it inside the flow job
    monkeypatch.setattr(workspace, "WINDMILL_CACHE", tmp_path / "worker-2")
    for name, value in {"WM_FLOW_JOB_ID": job, "WM_ROOT_JOB_ID": job, "WM_FLOW_STEP_ID": "motd"}.items():
        monkeypatch.setenv(name, value)
    step = run_item("entity:local-motd@1.0.0", "local", {"motd_dir": str(tmp_path)})
    assert step["status"] == "success", step.get("error")
    windmill.add_variable(f"f/fractal/run_outputs/{job}/{step['run_id']}/kubeconfig", "apiVersion: v1")  # a step's secret output
    for name in ("WM_FLOW_JOB_ID", "WM_ROOT_JOB_ID", "WM_FLOW_STEP_ID"):
        monkeypatch.delenv(name)
    monkeypatch.setattr(workspace, "WINDMILL_CACHE", tmp_path / "worker-3")
    listed = list_runs()["runs"]
    assert [(r["id"], r["status"]) for r in listed] == [(run_id, "started")], "a step is part of its run, not a run"
    windmill.complete(job, {"status": "success", "outputs": {"motd_path": step["outputs"]["motd_path"]}, "steps": {}})
    record = get_run(run_id)
    assert record["status"] == "success" and record["outputs"] == {"motd_path": step["outputs"]["motd_path"]}
    [row] = record["steps"]
    assert (row["path"], row["ref"], row["provider"], row["status"]) == ("motd", "entity:local-motd@1.0.0", "local", "success")
    assert row["inputs"] == {"motd_dir": str(tmp_path), "message": "Welcome to Fractal"}, "its inputs, defaults filled"
    assert row["run_id"] == step["run_id"] and row["commit"]
    assert not [p for p in windmill.variables if p.startswith("f/fractal/run_outputs/")], "its secret outputs are gone"
    assert list_runs(status="success")["runs"][0]["id"] == run_id
    assert json.loads(windmill.variables[f"f/fractal_runs/{run_id}"]["value"])["status"] == "success", "saved completed"


def test_secret_outputs_inside_windmill_expire_and_the_root_flow_deletes_them(
    windmill: WindmillStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Secret outputs carry expires_at (Windmill's monitor deletes them: the stub's expire() plays it); the last
    step of the run's own flow deletes its run's, a member flow's last step leaves them to its parent."""
    from f.fractal.pipeline_result import main as pipeline_result

    reference = workspace.set_secret_variable("f/fractal/run_outputs/j-root/r1/kubeconfig", "apiVersion: v1")
    assert reference == "$var:f/fractal/run_outputs/j-root/r1/kubeconfig"
    assert windmill.variables["f/fractal/run_outputs/j-root/r1/kubeconfig"]["expires_at"] is None
    workspace.set_secret_variable("f/fractal/run_outputs/j-root/r1/token", "t0ken-value", ttl_s=workspace.OUTPUT_TTL_S)
    assert windmill.expire("2999-01-01T00:00:00+00:00") == ["f/fractal/run_outputs/j-root/r1/token"]
    monkeypatch.setenv("WM_ROOT_JOB_ID", "j-root")
    monkeypatch.setenv("WM_FLOW_JOB_ID", "j-member")
    pipeline_result("pipeline:welcome", "local", "apply", {}, {})
    assert "f/fractal/run_outputs/j-root/r1/kubeconfig" in windmill.variables, "a member flow leaves them"
    monkeypatch.setenv("WM_FLOW_JOB_ID", "j-root")
    assert pipeline_result("pipeline:welcome", "local", "apply", {}, {})["status"] == "success"
    assert not [p for p in windmill.variables if p.startswith("f/fractal/run_outputs/")]
    assert windmill.calls("DELETE", "variables/delete/f/fractal/run_outputs/j-root/r1/kubeconfig")
