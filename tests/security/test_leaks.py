"""No credential the worker can see reaches a result: a hostile Ansible play (real Ansible on localhost), run through
the local server (a real process, started with credentials in its environment), reads every /proc/*/environ and the
workspace's variable and resource files, prints them, publishes them as outputs (raw and base64) and fails with them
in its message. Nothing of any credential value, in any form, may come back in the answer or the run's log file."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.git import free_port, init_bare
from support.items import entity
from support.paths import ROOT

import f.fractal.platform.secrets as secrets
import f.fractal.platform.workspace as workspace
from f.fractal.execution.entity import run_entity

pytestmark = pytest.mark.slow

TOKEN = "api-token-7Hq2Lm9Xv4Rt8Wz1"
CREDENTIALS = {
    "FRACTAL_API_TOKEN": TOKEN,
    "EXOSCALE_API_KEY": "EXO0a1b2c3d4e5f6a7b8c9d0e1f",
    "EXOSCALE_API_SECRET": "Xs9-Lq2vR7tY3uW8zA1bC4dE6fG0hJ5kM2nP7qR9sT3",
}
RUNPOD_KEY = "rpa_Q7W2E9R4T6Y1U3I8O5P0A2S4D6F8G1H3"
VARIABLE = "variable-value-Zk4Pw8Ns2Qd6"
URL_PASSWORD = "url-pass-Mv3Tc7Bx9Lr1"
OUTPUTS = ("stolen", "stolen_b64", "stolen_files", "stolen_files_b64")
PLAY = """\
- name: Take what the worker can see
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Read every process environment
      ansible.builtin.shell: for p in /proc/[0-9]*; do tr '\\0' '\\n' < $p/environ; done | grep -E 'TOKEN|SECRET|KEY|PASS'
      register: environ
      changed_when: false
      failed_when: false
    - name: Read the workspace files
      ansible.builtin.shell: cat {{ home }}/f/fractal/*.yaml
      register: files
      changed_when: false
    - name: Print them
      ansible.builtin.debug:
        msg: "{{ environ.stdout_lines + files.stdout_lines }}"
    - name: Publish them
      ansible.builtin.set_fact:
        stolen: "{{ environ.stdout }}"
        stolen_b64: "{{ environ.stdout | b64encode }}"
        stolen_files: "{{ files.stdout }}"
        stolen_files_b64: "{{ files.stdout | b64encode }}"
    - name: Fail with them
      ansible.builtin.fail:
        msg: "{{ environ.stdout }} {{ files.stdout }}"
"""


def _call(base: str, script: str, args: dict[str, Any]) -> tuple[int, str]:
    request = urllib.request.Request(f"{base}/api/w/local/jobs/run_wait_result/p/f/fractal/{script}", method="POST",
                                     data=json.dumps(args).encode(), headers={"Authorization": f"Bearer {TOKEN}",
                                                                                 "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=240) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


@pytest.fixture
def server(fractal_home: Path, tmp_path: Path) -> Iterator[str]:
    """`fractal serve` in its own process, its environment holding the API token and the Exoscale credential."""
    init_bare(tmp_path / "catalog.git")
    workspace.write_resource("f/fractal/catalog", "git_repository", {"url": str(tmp_path / "catalog.git"), "branch": "main"})
    workspace.write_resource("f/fractal/mirror", "git_repository",
                             {"url": f"https://bot:{URL_PASSWORD}@git.example.org/x.git", "branch": "main"})
    workspace.write_resource("f/fractal/runpod", "runpod", {"api_key": RUNPOD_KEY})
    (fractal_home / "f/fractal/deploy_key.variable.yaml").write_text(f"value: {VARIABLE}\n")
    port = free_port()
    env = {"PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "HOME": os.environ.get("HOME", "/root"),
           "PYTHONPATH": f"{ROOT}:{ROOT / 'scripts'}", "FRACTAL_HOME": str(fractal_home), "LITELLM_LOCAL_MODEL_COST_MAP": "True",
           **CREDENTIALS}
    proc = subprocess.Popen([sys.executable, "-m", "fractal_local", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{base}/api/version", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_play_reading_proc_environ_and_the_workspace_gets_no_credential_out(server: str, fractal_home: Path) -> None:
    leaky = entity("leaky", files={"site.yml": PLAY},
                   inputs={"type": "object", "properties": {"home": {"type": "string"}}, "required": ["home"]},
                   outputs={name: {"description": "what the play took"} for name in OUTPUTS},
                   allow=[{"rule": "ansible-proc-environ", "reason": "test: masking must hold even when a play reads it"}])
    status, saved = _call(server, "save_item", {"item": leaky, "force": True})
    assert status == 200, saved
    status, body = _call(server, "run_item", {"ref": "entity:leaky", "provider": "local", "inputs": {"home": str(fractal_home)}})
    assert status == 200, body
    result = json.loads(body)
    log = Path(result["log_file"]).read_text()
    assert result["status"] == "failed" and result["failed_task"]["task"] == "Fail with them"
    assert "EXOSCALE_API_SECRET=***" in result["outputs"]["stolen"] and "EXOSCALE_API_SECRET=***" in log  # it did read them
    assert "api_key: ***" in result["outputs"]["stolen_files"]
    values = [*CREDENTIALS.values(), RUNPOD_KEY, VARIABLE, URL_PASSWORD]
    for text in (body, log):
        leaked = [form for value in values for form in secrets.forms(value) if form in text]
        assert leaked == []


KUBECTL_PLAY = """\
- name: Show a Secret as `kubectl get secret app -o yaml` prints it
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Get the Secret
      ansible.builtin.shell: |
        cat <<'EOF'
        apiVersion: v1
        data:
          api-user: {{ 'deploy-bot' | b64encode }}
          db-connection: {{ ('seed-' ~ seed) | hash('sha1') | b64encode }}
        kind: Secret
        metadata:
          name: app
          namespace: default
        type: Opaque
        EOF
      register: got
      changed_when: false
    - name: Show its lines
      ansible.builtin.debug:
        var: got.stdout_lines
    - name: Show it as JSON
      ansible.builtin.debug:
        msg: "{{ got.stdout | from_yaml | to_json }}"
    - name: Publish it
      ansible.builtin.set_fact:
        manifest: "{{ got.stdout }}"
        lines: "{{ got.stdout_lines }}"
        parsed: "{{ got.stdout | from_yaml }}"
        decoded: "{{ (got.stdout | from_yaml).data['db-connection'] | b64decode }}"
"""


def test_a_kubernetes_secret_a_step_prints_is_masked_in_the_log_and_the_result(fractal_home: Path) -> None:
    """Real Ansible on localhost prints a Secret as kubectl does (YAML lines, JSON) and publishes it (text, lines,
    parsed, one value decoded): no value of it, base64 or decoded, reaches the log file or the result."""
    seed = "Qm4Tz8"
    value = hashlib.sha1(f"seed-{seed}".encode()).hexdigest()  # made inside the play: no rule knows it
    encoded = base64.b64encode(value.encode()).decode()
    item = entity("kubectl-like", files={"site.yml": KUBECTL_PLAY}, inputs={"type": "object", "properties": {
        "seed": {"type": "string"}}}, outputs={name: {"description": name} for name in ("manifest", "lines", "parsed",
                                                                                     "decoded")})
    result = run_entity({"ref": "entity:kubectl-like@1.0.0", "item": item}, "local", {"seed": seed}, "apply", None)
    assert result["status"] == "success", result["error"]
    log = Path(result["log_file"]).read_text()
    assert "db-connection: ***" in log and result["outputs"]["decoded"] == "***"
    assert result["outputs"]["parsed"]["metadata"]["name"] == "app"  # the rest stays readable
    for text in (json.dumps(result), log):
        assert [form for form in (value, encoded) if form in text] == []
