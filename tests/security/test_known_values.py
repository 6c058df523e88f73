"""What a job can see is what it masks: locally the workspace files (each read again only when it changed), inside
Windmill every secret variable the job can read and the providers' credential resources, read once per job.

There is no Windmill server in the suite: tests/support/windmill_stub answers variables/list, variables/get_value
and resources/get_value_interpolated as Windmill's source does (backend windmill-store variables.rs, paginate)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.windmill_stub import job_env, running

import f.fractal.platform.secrets as secrets
import f.fractal.platform.workspace as workspace

SECRET_VARIABLES = {"f/fractal/deploy_token": "wm-deploy-Tq8Zp3Lx6Vn1", "f/team/db": "wm-db-Hs4Kd9Wq2Jm7",
                    "u/admin/personal": "wm-mine-Rb5Yc1Fe8Gu3"}


def test_inside_windmill_every_readable_secret_variable_is_known_read_once_per_job(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with running() as stub:
        for path, value in SECRET_VARIABLES.items():
            stub.add_variable(path, value)
        stub.add_variable("f/fractal/region", "ch-gva-2-zone", is_secret=False)
        stub.add_variable("f/fractal/api_token", "plain-but-named-Kd7Pq2", is_secret=False)  # a token left non-secret
        stub.add_variable("u/admin/secret_arg/x1", "hidden-from-the-list-4Qz", is_secret=True)  # Windmill never lists it
        stub.add_resource("f/fractal/runpod", {"api_key": "rpa_Q7W2E9R4T6Y1U3I8O5P0A2"}, "runpod")
        for name, value in job_env(stub).items():
            monkeypatch.setenv(name, value)
        monkeypatch.setattr(secrets, "WINDMILL_PAGE", 2)  # 5 listed variables: pages of 2, 2 and 1

        known = secrets.known_values()
        assert {*SECRET_VARIABLES.values(), "plain-but-named-Kd7Pq2", "rpa_Q7W2E9R4T6Y1U3I8O5P0A2"} <= known
        assert "ch-gva-2-zone" not in known and "hidden-from-the-list-4Qz" not in known
        assert "wm-db-Hs4Kd9Wq2Jm7" not in secrets.mask_answer({"log": "connected with wm-db-Hs4Kd9Wq2Jm7"})["log"]

        for _ in range(3):  # every later answer of the job: nothing read again
            assert secrets.known_values() == known
        pages = [r["query"] for r in stub.calls("GET", "variables/list")]
        assert pages == ["per_page=2&page=1", "per_page=2&page=2", "per_page=2&page=3"]
        assert sorted(r["path"].rsplit("get_value/", 1)[1] for r in stub.calls("GET", "variables/get_value/")) == sorted(
            SECRET_VARIABLES)

        monkeypatch.setenv("WM_JOB_ID", "another-job")  # a dedicated worker's next job reads them again
        assert secrets.known_values() == known and len(stub.calls("GET", "variables/list")) == 6


def test_locally_each_workspace_file_is_read_again_only_when_it_changed(
    fractal_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace.write_resource("f/fractal/runpod", "runpod", {"api_key": "resource-key-789abc"})
    variable = fractal_home / "f/fractal/deploy_key.variable.yaml"
    variable.write_text("value: first-value-321xyz\n")
    reads: list[Path] = []
    read_yaml = secrets._read_yaml
    monkeypatch.setattr(secrets, "_read_yaml", lambda file: reads.append(file) or read_yaml(file))

    assert {"resource-key-789abc", "first-value-321xyz"} <= secrets.known_values()
    assert len(reads) == 2
    for _ in range(5):
        secrets.known_values()
    assert len(reads) == 2  # five more answers, nothing parsed again
    variable.write_text("value: second-value-654uvw\n")  # a new secret output, a rotated key
    known = secrets.known_values()
    assert "second-value-654uvw" in known and "first-value-321xyz" not in known and reads[2:] == [variable]
