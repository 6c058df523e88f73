"""`scripts/fractal run` and `scripts/fractal providers`, and f/fractal/list_providers.

The CLI runs as a real process (the venv's Python, `-m fractal_local`); the interactive provider
prompt is driven through a real pseudo-terminal.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.cli import run_cli
from support.items import entity
from support.paths import ROOT

import f.fractal.catalog.items as catalog
from f.fractal.list_providers import main as list_providers

pytestmark = pytest.mark.slow
PLAY = "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - ansible.builtin.copy: {dest: '{{ out }}/done', content: ok}\n"
OUT_INPUT = {"type": "object", "properties": {"out": {"type": "string"}}, "required": ["out"]}


def test_run_end_to_end_on_the_local_provider(make_target: Any, fractal_home: Path, tmp_path: Path) -> None:
    make_target("catalog")
    catalog.save(yaml.safe_load((ROOT / "resources" / "samples" / "local-motd.yaml").read_text()))
    done = run_cli("run", "entity:local-motd", "--input", f"motd_dir={tmp_path}", "--input", "message=from the CLI",
                   env={"FRACTAL_HOME": str(fractal_home)})
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "success" and result["outputs"] == {"motd_path": f"{tmp_path}/motd"}
    assert (tmp_path / "motd").read_text() == "from the CLI\n"
    assert "s] TASK [Write the file]" in done.stderr  # live progress, with the elapsed time
    assert f"full log: {result['log_file']}" in done.stderr


def test_run_without_provider_is_refused_when_not_interactive(make_target: Any, fractal_home: Path, tmp_path: Path) -> None:
    make_target("catalog")
    catalog.save(entity("anywhere", providers=[], files={"site.yml": PLAY}, inputs=OUT_INPUT))
    done = run_cli("run", "entity:anywhere", "--input", f"out={tmp_path}", env={"FRACTAL_HOME": str(fractal_home)}, input="")
    assert done.returncode == 1
    error = json.loads(done.stderr)
    assert "--provider" in error["message"] and error["data"]["choices"][0] == "local"
    assert not (tmp_path / "done").exists()


def test_run_asks_for_the_provider_on_a_terminal(make_target: Any, fractal_home: Path, tmp_path: Path) -> None:
    make_target("catalog")
    catalog.save(entity("anywhere", providers=["exoscale", "local"], files={"site.yml": PLAY}, inputs=OUT_INPUT))
    primary, secondary = os.openpty()
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'scripts'}", "FRACTAL_HOME": str(fractal_home)}
    proc = subprocess.Popen([sys.executable, "-m", "fractal_local", "run", "entity:anywhere", "--input", f"out={tmp_path}"],
                            cwd=ROOT, env=env, stdin=secondary, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    os.close(secondary)
    os.write(primary, b"1\n")
    out, err = proc.communicate(timeout=120)
    os.close(primary)
    assert proc.returncode == 0, err
    assert "1. local" in err and "2. exoscale" in err and "credentials missing" in err
    assert json.loads(out)["provider"] == "local" and (tmp_path / "done").read_text() == "ok"


def test_a_failed_run_exits_3_with_the_error(make_target: Any, fractal_home: Path) -> None:
    make_target("catalog")
    play = "- hosts: localhost\n  tasks:\n    - name: Fail here\n      ansible.builtin.fail: {msg: no}\n"
    catalog.save(entity("breaks", files={"site.yml": play}))
    done = run_cli("run", "entity:breaks", env={"FRACTAL_HOME": str(fractal_home)})
    assert done.returncode == 3
    assert json.loads(done.stdout)["failed_task"]["task"] == "Fail here"
    assert "error: task 'Fail here' failed" in done.stderr


def test_providers_command_and_list_providers(make_target: Any, fractal_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_target("catalog")
    for var in ("EXOSCALE_API_KEY", "EXOSCALE_API_SECRET", "VASTAI_API_KEY", "RUNPOD_API_KEY", "KUBECONFIG_CONTENT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("VASTAI_API_KEY", "vast-key-0123456789")
    ref = catalog.save(entity("gpu-box", providers=["vastai", "runpod", "k3s"], files={"site.yml": PLAY}))["ref"]
    listing = list_providers(ref)
    rows = {r["name"]: r for r in listing["providers"]}
    assert listing["choices"] == ["k3s", "vastai", "runpod"] and listing["fixed"] is None
    assert rows["vastai"]["credentials"] == {"required": True, "present": True, "source": "env"}
    assert rows["runpod"]["credentials"]["present"] is False
    assert rows["runpod"]["credentials"]["missing_env"] == ["RUNPOD_API_KEY"]
    assert rows["local"]["fits"] is False and rows["local"]["credentials"]["required"] is False
    assert "vast-key-0123456789" not in json.dumps(listing)
    assert all(r["fits"] for r in list_providers()["providers"])

    other = catalog.save(entity("exo-only", providers=["exoscale", "runpod"]))["ref"]
    pipeline = {"apiVersion": "fractal/v1", "kind": "Pipeline", "metadata": {"name": "two"},
                "spec": {"provider": None, "steps": [{"id": "a", "ref": ref}, {"id": "b", "ref": other}]}}
    assert list_providers(catalog.save(pipeline)["ref"])["choices"] == ["runpod"]

    done = run_cli("providers", ref, env={"FRACTAL_HOME": str(fractal_home), "VASTAI_API_KEY": "vast-key-0123456789"})
    assert done.returncode == 0, done.stderr
    assert "✓ vastai" in done.stdout and "credentials present (env)" in done.stdout and "· local" in done.stdout


def test_run_with_bad_inputs_json_is_refused_with_a_hint(fractal_home: Path) -> None:
    done = run_cli("run", "entity:anything", "--inputs", "{bad", env={"FRACTAL_HOME": str(fractal_home)})
    assert done.returncode == 1
    error = json.loads(done.stderr)
    assert error["error"] == "invalid_input" and "--inputs is not valid JSON" in error["message"]
    assert "--input name=value" in error["hint"]
