"""The flagship (issue 12): a K3s cluster on Exoscale, then workloads on that cluster — composed from a
need, saved, compiled lint-clean, planned and run with the kubeconfig handed over by reference.

Real: the Git catalog (a bare repo), the offline composer, the checks, the compiled flows (through the
pinned `wmill lint`), the local flow runner, Ansible on localhost. RECORDING STAND-INS for `terraform`
and `kubectl` (tests/support/standins.py: a tiny script that records its argv, working directory,
environment and the files it was given, and prints canned output — `terraform output -json` prints a
kubeconfig marked sensitive, as Terraform does) take the place of the binaries: no cloud, no cluster.
They check the exact commands each step would run and what reached them, not the tools' behaviour.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fractal_local.server import serve
from support.cli import run_cli
from support.compose_catalog import TABLE, entity_flows, lint_flows, table_entity
from support.composition_needs import EXTRA_ENTITIES, PIPELINES
from support.git import init_bare
from support.llm_server import ScriptedLLM
from support.standins import calls, stand_in

import f.fractal.catalog.items as catalog
import f.fractal.composition.composer as composer
import f.fractal.platform.workspace as workspace
from f.fractal.get_run import main as get_run
from f.fractal.item_diff import main as item_diff
from f.fractal.item_users import main as item_users
from f.fractal.list_providers import main as list_providers
from f.fractal.list_runs import main as list_runs
from f.fractal.model.errors import ConfigError, InvalidInput, NotFound
from f.fractal.platform.llm import load_config
from f.fractal.run_item import main as run_item

KUBECONFIG = (
    "apiVersion: v1\nclusters:\n- cluster: {server: 'https://192.0.2.10:6443'}\n  name: flagship\n"
    "users:\n- name: admin\n  user: {token: kc-token-0123456789abcdef}\n"
)
TF_OUTPUTS = {
    "kubeconfig": {"value": KUBECONFIG, "type": "string", "sensitive": True},
    "server_ips": {"value": ["192.0.2.10"], "type": ["tuple", ["string"]], "sensitive": False},
}
NEED = "a K3s cluster on Exoscale, then a PostgreSQL stack on that cluster"
TARGETS = ["f/fractal/catalog"]


@pytest.fixture(scope="module")
def flagship(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The cross-provider part of the composition table's catalog, saved once for the module."""
    base = tmp_path_factory.mktemp("flagship")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FRACTAL_HOME", str(base / "home"))
        mp.setenv("FRACTAL_ACTOR", "Test Runner <tests@localhost>")
        for var in ("WM_TOKEN", "WM_BASE_URL", "BASE_INTERNAL_URL", "FRACTAL_DEFAULT_TARGETS", "FRACTAL_LLM_MODEL"):
            mp.delenv(var, raising=False)
        remote = init_bare(base / "remotes" / "catalog.git")
        workspace.write_resource(TARGETS[0], "git_repository", {"url": str(remote), "branch": "main"})
        route = next(table_entity(r) for r in TABLE if r[0] == "k3s-ingress-route")
        wanted = {"exoscale-k3s", "k3s-postgres-stack", "k3s-web-stack"}
        for item in [*EXTRA_ENTITIES, route, *(p for p in PIPELINES if p["metadata"]["name"] in wanted)]:
            catalog.save(item, TARGETS)
        yield {"base": base, "remote": remote}


@pytest.fixture
def tools(flagship: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """PATH: recording stand-ins for terraform and kubectl first (before any real one), then the system's
    (git, and the shell Ansible's local connection needs); fake Exoscale keys (the stand-in ignores them)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", f"{folder}:/usr/bin:/bin")
    monkeypatch.setenv("EXOSCALE_API_KEY", "EXO0123456789abcdef01234567")
    monkeypatch.setenv("EXOSCALE_API_SECRET", "exo-secret-value-9876543210")
    monkeypatch.delenv("KUBECONFIG_CONTENT", raising=False)
    return {"terraform": stand_in(folder, "terraform", TF_OUTPUTS), "kubectl": stand_in(folder, "kubectl")}


def _composed() -> dict[str, Any]:
    return composer.compose(composer.Request(need=NEED, kind="MetaPipeline", targets=TARGETS))


def test_the_flagship_composes_into_a_meta_pipeline_with_two_provider_slots(flagship: dict[str, Any], tmp_path: Path) -> None:
    result = _composed()
    assert result["checks"] == {"ok": True, "errors": []} and result["gaps"] == []
    spec = result["draft"]["spec"]
    assert [s["ref"] for s in spec["steps"]] == ["pipeline:exoscale-k3s@1.0.0", "pipeline:k3s-postgres-stack@1.0.0"]
    cluster, stack = (s["id"] for s in spec["steps"])
    assert spec["steps"][1]["inputs"]["kubeconfig"] == {"from": f"steps.{cluster}.outputs.kubeconfig"}
    assert spec["provider"] is None and spec["providers"] == ["k3s", "exoscale"]
    assert spec["slots"] == [
        {"name": f"provider_{cluster}", "choices": ["exoscale"], "steps": [[cluster, "provider"]]},
        {"name": f"provider_{stack}", "choices": ["k3s"], "steps": [[stack, "provider"]]},
    ]
    flow = yaml.safe_load(spec["files"]["flow.yaml"])
    props = flow["schema"]["properties"]
    assert props[f"provider_{cluster}"]["enum"] == ["exoscale"] and props[f"provider_{stack}"]["enum"] == ["k3s"]
    assert "provider" not in props
    saved = composer.run("MetaPipeline", NEED, None, None, "flagship", None, "offline", TARGETS, True)["saved"]
    assert saved["ref"] == "meta-pipeline:flagship@1.0.0"
    report = lint_flows(entity_flows(saved["ref"], TARGETS), tmp_path / "lint")
    assert report["success"] and report["returncode"] == 0, report
    launch = list_providers(saved["ref"], TARGETS)
    assert [(s["name"], s["choices"]) for s in launch["slots"]] == [(f"provider_{cluster}", ["exoscale"]),
                                                                  (f"provider_{stack}", ["k3s"])]
    users = item_users("entity:k3s-postgres", TARGETS)["users"]
    assert [(u["ref"], u["depth"], u["via"], u["steps"]) for u in users] == [
        ("pipeline:k3s-postgres-stack@1.0.0", 1, "", ["postgres"]),
        ("meta-pipeline:flagship@1.0.0", 2, "pipeline:k3s-postgres-stack@1.0.0", [stack]),
    ]


def test_entity_refs_with_a_need_are_merged_without_duplicates(flagship: dict[str, Any]) -> None:
    need = "un cluster K3s sur Exoscale qui tourne à Vienne, puis PostgreSQL dessus"
    result = composer.compose(composer.Request(need=need, targets=TARGETS, refs=["entity:exoscale-k3s-cluster"]))
    steps = result["draft"]["spec"]["steps"]
    assert [s["ref"] for s in steps] == ["entity:exoscale-k3s-cluster@1.0.0", "entity:k3s-postgres@1.0.0"], steps
    assert steps[1]["inputs"]["kubeconfig"] == {"from": f"steps.{steps[0]['id']}.outputs.kubeconfig"}
    assert result["checks"]["ok"] and result["gaps"] == []


def test_a_diff_between_two_versions_names_metadata_spec_and_file_changes(flagship: dict[str, Any]) -> None:
    old = catalog.get("entity:k3s-web-app@1.0.0", TARGETS)["item"]
    new = json.loads(json.dumps(old))
    new["metadata"]["description"] = "A web application (two replicas) on K3s"
    new["spec"]["files"]["manifest.yaml"] = old["spec"]["files"]["manifest.yaml"].replace("replicas: 1", "replicas: 2")
    new["spec"]["files"]["service.yaml"] = (
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n    - port: 80\n"
    )
    saved = catalog.save(new, TARGETS)
    changes = item_diff("entity:k3s-web-app@1.0.0", saved["version"], TARGETS)
    assert changes["to"]["ref"] == f"entity:k3s-web-app@{saved['version']}" != changes["from"]["ref"] and not changes["same"]
    assert changes["metadata"] == {"description": {"from": old["metadata"]["description"], "to": new["metadata"]["description"]}}
    assert changes["files"]["added"] == ["service.yaml"] and changes["files"]["removed"] == []
    assert "+  replicas: 2" in changes["files"]["changed"]["manifest.yaml"] and changes["spec"] == {}
    with pytest.raises(NotFound):
        item_users("entity:nothing-like-it", TARGETS)


def test_the_flagship_plans_with_the_kubeconfig_handed_over_by_reference(
    flagship: dict[str, Any], tools: dict[str, Path]
) -> None:
    """terraform plan + output on Exoscale, then kubectl diff + server dry-run on k3s with the cluster's kubeconfig."""
    ref = "meta-pipeline:flagship"
    if not any(r["ref"].startswith(ref) for r in catalog.list_items(TARGETS, "meta-pipeline")["items"]):
        composer.run("MetaPipeline", NEED, None, None, "flagship", None, "offline", TARGETS, True)
    result = run_item(ref, mode="plan", targets=TARGETS)
    assert result["status"] == "success", result["error"]
    tf = [c["argv"] for c in calls(tools["terraform"])]
    assert [a[0] for a in tf] == ["init", "plan", "output"]
    assert tf[1] == ["plan", "-input=false", "-no-color", "-var-file=fractal.tfvars.json"]
    kubectl = calls(tools["kubectl"])
    assert [c["argv"][0] for c in kubectl] == ["diff", "apply"]
    assert kubectl[1]["argv"][-1] == "--dry-run=server" and "--server-side" in kubectl[1]["argv"]
    config_arg = next(a for a in kubectl[0]["argv"] if a.startswith("--kubeconfig="))
    handed = kubectl[0]["files"][config_arg.split("=", 1)[1]]
    assert handed == {"text": KUBECONFIG, "mode": "0o600"}, "the cluster's kubeconfig reached kubectl, in a private file"
    assert "KUBECONFIG_CONTENT" not in kubectl[0]["env"] and "EXOSCALE_API_KEY" not in kubectl[0]["env"]
    assert tools and calls(tools["terraform"])[0]["env"]["EXOSCALE_API_KEY"].startswith("EXO")
    record = get_run(result["run_id"])
    assert set(record["providers"].values()) == {"exoscale", "k3s"}
    assert [s["provider"] for s in record["steps"]] == ["exoscale", "k3s"]
    assert all(m["commit"] for m in record["members"]) and len(record["members"]) == 2
    reference = record["steps"][0]["outputs"]["kubeconfig"]
    assert reference.startswith("$var:f/fractal/run_outputs/") and record["steps"][1]["outputs"] == {}
    everything = json.dumps([result, record]) + "".join(Path(p).read_text() for p in record["logs"])
    assert "kc-token-0123456789abcdef" not in everything, "the kubeconfig is never in a result, record or log"
    assert result["run_id"] in [r["id"] for r in list_runs(ref="pipeline:k3s-postgres-stack")["runs"]]
    assert record["steps"][1]["inputs"]["kubeconfig"] == reference, "each step's inputs are recorded (a reference kept)"
    with pytest.raises(ConfigError, match="is not set"):
        workspace.get_variable(reference.removeprefix("$var:"))  # the run has ended: its secret outputs are gone


def test_destroying_an_entity_deletes_the_secret_outputs_its_runs_left(flagship: dict[str, Any], tools: dict[str, Path]) -> None:
    applied = run_item("entity:exoscale-k3s-cluster", mode="apply", targets=TARGETS)
    reference = applied["outputs"]["kubeconfig"]
    assert applied["status"] == "success" and workspace.get_variable(reference.removeprefix("$var:")) == KUBECONFIG
    assert run_item("entity:exoscale-k3s-cluster", mode="destroy", targets=TARGETS)["status"] == "success"
    assert [c["argv"][0] for c in calls(tools["terraform"])][-1] == "destroy"
    with pytest.raises(ConfigError, match="is not set"):
        workspace.get_variable(reference.removeprefix("$var:"))


def test_the_llm_composer_fixes_providers_per_step_under_the_same_checks(flagship: dict[str, Any]) -> None:
    """THE LLM IS SCRIPTED (tests/support/llm_server.ScriptedLLM, an OpenAI-compatible server on 127.0.0.1, through
    the real litellm). First it binds the PostgreSQL step to exoscale, which does not fit it: the checks' error goes
    back; then it fixes the cluster to exoscale and leaves the workload's provider to the launch."""
    cluster = {"id": "cluster", "ref": "entity:exoscale-k3s-cluster@1.0.0", "provider": "exoscale"}
    db = {"id": "db", "ref": "entity:k3s-postgres@1.0.0", "inputs": {"kubeconfig": {"from": "steps.cluster.outputs.kubeconfig"}}}
    answer = {"name": "k3s-postgres-on-exoscale", "description": "K3s on Exoscale, PostgreSQL on it", "provider": None,
              "gaps": [], "explanation": "the cluster first, its kubeconfig to the database"}
    wrong = {**answer, "steps": [cluster, {**db, "provider": "exoscale"}]}
    with ScriptedLLM([json.dumps(wrong), json.dumps({**answer, "steps": [cluster, db]})]) as llm:
        result = composer.compose(composer.Request(need=NEED, targets=TARGETS), load_config(llm.config))
    assert result["checks"] == {"ok": True, "errors": []} and result["draft"]["provenance"]["attempts"] == 2
    feedback = llm.requests[1]["messages"][-1]["content"]
    assert "db" in feedback and "exoscale" in feedback, feedback
    assert "A step may fix its own" in llm.requests[0]["messages"][0]["content"]
    spec = result["draft"]["spec"]
    assert [(s["id"], s.get("provider")) for s in spec["steps"]] == [("cluster", "exoscale"), ("db", None)]
    assert spec["slots"] == [{"name": "provider", "choices": ["k3s"], "steps": [["db", ""]]}], "one launch slot: the db step"
    flow = yaml.safe_load(spec["files"]["flow.yaml"])
    assert flow["schema"]["properties"]["provider"]["enum"] == ["k3s"]
    first = flow["value"]["modules"][0]["value"]["input_transforms"]
    assert first["provider"] == {"type": "static", "value": "exoscale"}


def test_a_mixed_local_and_k3s_pipeline_runs_ansible_for_real(
    flagship: dict[str, Any], tools: dict[str, Path], tmp_path: Path
) -> None:
    """Step 1 is a real Ansible play on localhost (provider local) that outputs a kubeconfig; step 2 applies
    manifests on k3s with it (kubectl is the recording stand-in). Each step's provider is its own."""
    play = (
        "- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n"
        "    - ansible.builtin.copy: {dest: '{{ out }}/cluster.txt', content: '{{ server }}'}\n"
        # the kubeconfig is built by an expression: a literal text under a secret-named key is refused at save
        "    - ansible.builtin.set_fact:\n"
        "        kubeconfig: \"{{ ['apiVersion: v1', 'server: ' + server, ''] | join('\\n') }}\"\n"
    )
    maker = {
        "apiVersion": "fractal/v1",
        "kind": "Entity",
        "metadata": {"name": "local-cluster-access"},
        "spec": {
            "tool": "ansible",
            "providers": ["local"],
            "files": {"site.yml": play},
            "inputs": {
                "type": "object",
                "properties": {"out": {"type": "string"}, "server": {"type": "string"}},
                "required": ["out", "server"],
            },
            "outputs": {"kubeconfig": {"type": "string", "secret": True}},
        },
    }
    catalog.save(maker, TARGETS)
    pipeline = {
        "apiVersion": "fractal/v1",
        "kind": "Pipeline",
        "metadata": {"name": "local-then-k3s"},
        "spec": {
            "inputs": {"type": "object", "properties": {"out": {"type": "string"}}, "required": ["out"]},
            "steps": [
                {
                    "id": "access",
                    "ref": "entity:local-cluster-access@1.0.0",
                    "inputs": {"out": {"from": "inputs.out"}, "server": "https://127.0.0.1:6443"},
                },
                {
                    "id": "db",
                    "ref": "entity:k3s-postgres@1.0.0",
                    "inputs": {"kubeconfig": {"from": "steps.access.outputs.kubeconfig"}},
                },
            ],
        },
    }
    catalog.save(pipeline, TARGETS)
    with pytest.raises(InvalidInput, match=r"has no input 'ot' \(did you mean 'out'\?\)"):
        run_item("pipeline:local-then-k3s", inputs={"ot": str(tmp_path)}, targets=TARGETS)
    result = run_item("pipeline:local-then-k3s", inputs={"out": str(tmp_path)}, targets=TARGETS)
    assert result["status"] == "success", result["error"]
    assert (tmp_path / "cluster.txt").read_text() == "https://127.0.0.1:6443", "the play ran for real"
    assert result["provider"] == {"provider_access": "local", "provider_db": "k3s"}
    [apply] = calls(tools["kubectl"])
    config = next(a.split("=", 1)[1] for a in apply["argv"] if a.startswith("--kubeconfig="))
    assert apply["files"][config]["text"] == "apiVersion: v1\nserver: https://127.0.0.1:6443\n"
    assert [s["provider"] for s in get_run(result["run_id"])["steps"]] == ["local", "k3s"]


def test_a_generated_kubernetes_entity_runs_with_kubeconfig_content_cli_and_api(
    flagship: dict[str, Any], tools: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A generated Kubernetes entity names its credential by type (`credentials: [kubeconfig]`): with
    KUBECONFIG_CONTENT set, as the missing-credential error asks, it runs (was: "bad credential 'kubeconfig'")."""
    monkeypatch.setenv("KUBECONFIG_CONTENT", KUBECONFIG)
    done = run_cli("run", "entity:k3s-postgres", "--provider", "k3s", "--mode", "plan", "--target", TARGETS[0])
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "success" and "kc-token" not in done.stdout + done.stderr
    server = serve("127.0.0.1", 0, token="t0ken-for-the-flagship")
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/api/w/local/jobs/run_wait_result/p/f/fractal/run_item"
        args = {"ref": "entity:k3s-postgres", "provider": "k3s", "mode": "plan", "targets": TARGETS}
        headers = {"Content-Type": "application/json", "Authorization": "Bearer t0ken-for-the-flagship"}
        request = urllib.request.Request(url, data=json.dumps(args).encode(), method="POST", headers=headers)
        with urllib.request.urlopen(request, timeout=120) as response:
            status, body = response.status, json.loads(response.read().decode())
    finally:
        server.shutdown()
    assert status == 200 and body["status"] == "success", body
    argvs = [c["argv"][0] for c in calls(tools["kubectl"])]
    assert argvs == ["diff", "apply", "diff", "apply"], "both runs reached kubectl (plan: diff + server dry-run)"
