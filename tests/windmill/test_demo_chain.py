"""The demo chain inside "Windmill": generate → save → compose → deploy flows → run a composite → follow it.

Every step is a job on the simulated worker (tests/support/windmill_worker.py: a fresh process, an empty
environment plus the job variables, only the script's locked packages, pack modules fetched from the
stub). The Windmill API is the stand-in of tests/support/windmill_stub.py; the catalog is a real bare Git
repo; the generator and composer run offline (no LLM). Windmill's flow engine is stood in for by the pack's
own OpenFlow interpreter walking the deployed flow, each script step again a worker job; the Ansible runs
for real on this machine. Pack jobs use the worker cache /tmp/windmill/cache/fractal like on a worker
(clones there are keyed by the repo's URL, a new temp repo per run).
"""

from __future__ import annotations

import functools
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import worker_requirements as generator
from support.windmill_stub import WindmillStub
from support.windmill_worker import deploy_pack, lock, run_job, windmill_requirements

from f.fractal.flows.interpreter import FlowRunner

ROOT = Path(__file__).resolve().parents[2]
CATALOG = "f/fractal/catalog"
pytestmark = pytest.mark.slow


class Worker:
    """Runs scripts as jobs of the simulated worker against one stub."""

    def __init__(self, stub: WindmillStub, cache: Path, jobs: Path) -> None:
        self.stub, self.cache, self.jobs, self.count = stub, cache, jobs, 0

    def __call__(self, script: str, **args: Any) -> Any:
        code = self.stub.scripts[script]["content"]
        locked = lock(windmill_requirements(code, script, lambda p: self.stub.scripts.get(p, {}).get("content", "")))
        self.count += 1
        done = run_job(self.stub, script, locked, self.cache, self.jobs / f"{self.count:02d}-{script.rsplit('/', 1)[1]}",
                       args=args, timeout=300)
        assert "error" not in done, f"{script} failed on the worker: {done['error']['stack'][-3000:]}"
        return done["result"]


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[Worker]:
    stub = WindmillStub()
    deploy_pack(stub, ROOT)
    repo = tmp_path / "catalog.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(repo)], check=True)
    stub.add_resource(CATALOG, {"url": str(repo), "branch": "main"}, "git_repository")
    yield Worker(stub, tmp_path / "windmill-cache", tmp_path / "jobs")
    stub.close()


def test_the_demo_chain_runs_on_windmill_workers(worker: Worker, tmp_path: Path) -> None:
    assert set(generator.public_scripts()) >= {ROOT / "f/fractal/generate_entity.py", ROOT / "f/fractal/run_item.py"}
    generated = worker("f/fractal/generate_entity", need="a message of the day on this machine", name="welcome-motd",
                       provider="local", llm="offline")
    saved = worker("f/fractal/save_item", item=generated["draft"], targets=[CATALOG])
    assert saved["ref"] == "entity:welcome-motd@1.0.0", saved

    composed = worker("f/fractal/compose_pipeline", need="write a message of the day on this machine", name="motd-setup",
                      llm="offline", targets=[CATALOG], save=True)
    pipeline = composed["saved"]["ref"]
    assert [s["ref"] for s in composed["draft"]["spec"]["steps"]] == ["entity:welcome-motd@1.0.0"]

    deployed = worker("f/fractal/deploy_flow", ref=pipeline)
    assert "fractal_flows" in worker.stub.folders and deployed["flow_path"] in worker.stub.flows

    motd = tmp_path / "motd"
    started = worker("f/fractal/run_item", ref=pipeline, provider="local", inputs={"path": str(motd)})
    assert started["status"] == "started" and started["job_id"] in worker.stub.jobs
    job = worker.stub.jobs[started["job_id"]]

    # Windmill's flow engine, stood in for: walk the deployed flow, each script step a worker job
    scripts = {path: functools.partial(worker, path) for path in worker.stub.scripts}
    ran = FlowRunner(scripts=scripts, flows=worker.stub.flows.__getitem__).run(worker.stub.flows[job.path], job.args,
                                                                              name=job.path)
    steps = [step.to_dict() for step in ran["steps"]]
    worker.stub.complete(job.id, ran["result"], ran["status"] == "ok",
                         [{"id": s["id"], "type": "Success" if s["status"] == "ok" else "Failure"} for s in steps])

    followed = httpx.get(started["status_url"],
                         headers={"Authorization": f"Bearer {worker.stub.token}"}, timeout=10).json()
    assert followed["completed"] and followed["success"], followed
    assert followed["result"]["status"] == "success" and motd.is_file()
