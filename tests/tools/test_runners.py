"""run_item on Terraform, Kubernetes and secret entities.

Terraform and kubectl may be absent from a worker (the project's CI machine has neither). Tests
here control PATH: a folder holding only `git` (the catalog needs it) shows the "not installed"
refusal; where a test puts a RECORDING STAND-IN for `terraform` or `kubectl` on PATH — a tiny
Python script that appends its argv, working directory, environment and the files it was given to
a JSON-lines file and prints canned output — it checks the exact commands and environment the
real binary would have received; it does not check the tool's behaviour. When a real `terraform`
is installed, `test_real_terraform_*` runs it on a provider-free configuration.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from support.items import entity
from support.standins import calls, stand_in

import f.fractal.catalog.items as catalog
from f.fractal.model.errors import ConfigError, InvalidInput
from f.fractal.run_item import main as run_item

TF_OUTPUTS = {"greeting": {"value": "hello", "type": "string", "sensitive": False},
              "token": {"value": "sens-1234567890abcdef", "type": "string", "sensitive": True}}
MAIN_TF = 'variable "name" {\n  type = string\n}\noutput "greeting" {\n  value = "hello ${var.name}"\n}\n'
TF_INPUTS = {"type": "object", "properties": {"name": {"type": "string", "default": "world"}}}
EXO_KEY, EXO_SECRET = "EXO0123456789abcdef01234567", "exo-secret-value-9876543210"


def save(item: dict[str, Any]) -> str:
    result = catalog.save(item)
    assert result["ok"], result
    return str(result["ref"])


@pytest.fixture
def bin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """PATH = a folder with only git in it (terraform and kubectl absent, whatever the machine has)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    git = shutil.which("git")
    assert git
    (folder / "git").symlink_to(git)
    monkeypatch.setenv("PATH", str(folder))
    monkeypatch.setenv("FRACTAL_TEST_UNRELATED", "must-not-reach-tools")
    return folder


def tf_entity(name: str = "tf-hello", **spec: Any) -> dict[str, Any]:
    body = {"tool": "terraform", "providers": ["local", "exoscale"], "inputs": TF_INPUTS,
            "outputs": {"greeting": {}, "access_token": {"from": "token"}, "absent": {}}, "files": {"main.tf": MAIN_TF}}
    return entity(name, **{**body, **spec})


# ------------------------------------------------------------------ terraform


def test_terraform_absent_is_a_clear_error_before_any_work(make_target: Any, bin_dir: Path, fractal_home: Path) -> None:
    make_target("catalog")
    ref = save(tf_entity())
    with pytest.raises(ConfigError, match="terraform is not installed") as caught:
        run_item(ref, provider="local")
    assert "install Terraform" in caught.value.hint
    assert not list(fractal_home.glob("cache/runs/*.log"))


def test_terraform_commands_and_env_with_a_recording_stand_in(
    make_target: Any, bin_dir: Path, fractal_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A recording stand-in for terraform is on PATH: this checks the commands and env it receives."""
    make_target("catalog")
    ref = save(tf_entity())  # saved first: the save's own checks would call the stand-in too
    log = stand_in(bin_dir, "terraform", TF_OUTPUTS)
    monkeypatch.setenv("EXOSCALE_API_KEY", EXO_KEY)
    monkeypatch.setenv("EXOSCALE_API_SECRET", EXO_SECRET)
    result = run_item(ref, provider="exoscale", inputs={"name": "fractal"})
    assert result["status"] == "success", result["log"]
    recorded = calls(log)
    tf = str(bin_dir / "terraform")
    [state] = (fractal_home / "cache" / "terraform-state" / "local").glob("f-fractal-catalog-*/exoscale/tf-hello")
    state = state / "terraform.tfstate"
    assert [c["argv"] for c in recorded] == [
        ["init", "-input=false", "-no-color", f"-backend-config=path={state}"],
        ["plan", "-input=false", "-no-color", "-var-file=fractal.tfvars.json", "-out=fractal.tfplan"],
        ["apply", "-input=false", "-no-color", "fractal.tfplan"],
        ["output", "-json", "-no-color"],
    ]
    assert f"$ {tf} init -input=false -no-color" in result["log"]
    first = recorded[0]
    assert (Path(first["cwd"]) / "main.tf").exists() is False  # the work dir is gone after the run
    env = first["env"]
    assert env["EXOSCALE_API_KEY"] == EXO_KEY and env["EXOSCALE_API_SECRET"] == EXO_SECRET
    assert env["TF_IN_AUTOMATION"] == "1" and env["TF_INPUT"] == "0" and env["CHECKPOINT_DISABLE"] == "1"
    assert env["TF_PLUGIN_CACHE_DIR"] == str(fractal_home / "cache" / "terraform-plugins")
    assert "FRACTAL_TEST_UNRELATED" not in env and "FRACTAL_HOME" not in env  # allowlisted env only
    var_file = recorded[1]["files"]["fractal.tfvars.json"]
    assert json.loads(var_file["text"]) == {"name": "fractal"} and var_file["mode"] == "0o600"
    ref = result["outputs"]["access_token"]  # a secret-named output is passed by reference, its value in the secret store
    assert result["outputs"]["greeting"] == "hello" and ref == f"$var:f/fractal/run_outputs/{result['run_id']}/access_token"
    import f.fractal.platform.workspace as workspace

    assert workspace.get_variable(ref.removeprefix("$var:")) == "sens-1234567890abcdef"
    assert "sens-1234567890abcdef" not in json.dumps(result)
    assert any("absent" in w for w in result["warnings"])
    text = json.dumps(result) + Path(result["log_file"]).read_text()
    for value in (EXO_KEY, EXO_SECRET, "sens-1234567890abcdef"):
        assert value not in text


@pytest.mark.parametrize(("mode", "expected"), [
    ("plan", [["init"], ["plan", "-input=false", "-no-color", "-var-file=fractal.tfvars.json"],
              ["output", "-json", "-no-color"]]),
    ("destroy", [["init"], ["destroy", "-input=false", "-no-color", "-auto-approve", "-var-file=fractal.tfvars.json"]]),
])
def test_terraform_plan_and_destroy_commands(make_target: Any, bin_dir: Path, mode: str, expected: list[list[str]]) -> None:
    """A recording stand-in for terraform is on PATH: this checks the commands of plan and destroy."""
    make_target("catalog")
    ref = save(tf_entity())  # saved first: the save's own checks would call the stand-in too
    log = stand_in(bin_dir, "terraform")
    result = run_item(ref, provider="local", mode=mode)
    assert result["status"] == "success", result["log"]
    argvs = [c["argv"] for c in calls(log)]
    assert [argvs[0][0], *argvs[1:]] == [expected[0][0], *expected[1:]]


def test_terraform_keeps_a_declared_backend(make_target: Any, bin_dir: Path) -> None:
    """A recording stand-in for terraform is on PATH: an entity's own backend is not overridden."""
    make_target("catalog")
    backend = 'terraform {\n  backend "s3" {}\n}\n'
    ref = save(tf_entity("tf-s3", files={"main.tf": MAIN_TF, "backend.tf": backend}))
    log = stand_in(bin_dir, "terraform")
    run_item(ref, provider="local", mode="plan")
    init = calls(log)[0]
    assert init["argv"] == ["init", "-input=false", "-no-color"]


def test_terraform_failure_is_a_failed_result(make_target: Any, bin_dir: Path) -> None:
    """A recording stand-in that fails `plan` (rc 3): the result names the failing command."""
    make_target("catalog")
    stand_in(bin_dir, "terraform")
    script = bin_dir / "terraform"
    script.write_text(script.read_text() + "if sys.argv[1:2] == ['plan']:\n    print('Error: boom'); sys.exit(3)\n")
    result = run_item(save(tf_entity()), provider="local")
    assert (result["status"], result["rc"]) == ("failed", 3)
    assert result["failed_task"]["task"] == "terraform plan" and "Error: boom" in result["error"]


ECHO_SECRETS = """
if sys.argv[1:2] == ["plan"]:
    given = (cwd / "fractal.tfvars.json").read_text()
    print("var file:", given)                          # JSON-escaped forms
    print(json.loads(given)["private_key"])            # a multi-line value, streamed line by line
    print("password:", json.loads(given)["db_password"])
"""


def test_multi_line_and_json_escaped_secrets_are_masked(make_target: Any, bin_dir: Path) -> None:
    """A recording stand-in for terraform echoes its var file and a multi-line key: neither leaks."""
    make_target("catalog")
    stand_in(bin_dir, "terraform")
    (bin_dir / "terraform").write_text((bin_dir / "terraform").read_text() + ECHO_SECRETS)
    body = ["b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB", "AAAAMwAAAAtzc2gtZWQyNTUxOQAAACBfcmFjdGFsLXRlc3Qta2V5",
            "ZnJhY3RhbC10ZXN0LWtleS1ub3QtYS1yZWFsLW9uZS0xMjM0NTY3"]
    key = "\n".join(["-----BEGIN " + "OPENSSH PRIVATE KEY-----", *body, "-----END " + "OPENSSH PRIVATE KEY-----", ""])
    password = 'p"ss\\w0rd-with-quote'
    secret_vars = {"private_key": {"type": "string"}, "db_password": {"type": "string"}}
    tf = tf_entity(inputs={**TF_INPUTS, "properties": {**TF_INPUTS["properties"], **secret_vars}})
    result = run_item(save(tf), provider="local", inputs={"private_key": key, "db_password": password})
    assert result["status"] == "success", result["log"]
    assert '"private_key": "***", "db_password": "***"' in result["log"] and "password: ***" in result["log"]
    texts = {"result": json.dumps(result), "log": result["log"], "log file": Path(result["log_file"]).read_text()}
    for form in [*body, password, json.dumps(password)[1:-1], json.dumps(key)[1:-1]]:
        for where, text in texts.items():
            assert form not in text, f"{form!r} in the {where}"


def test_short_secret_inputs_are_masked_by_name(make_target: Any, bin_dir: Path) -> None:
    """A recording stand-in for terraform is on PATH; a 3-character password is still masked in the result."""
    make_target("catalog")
    stand_in(bin_dir, "terraform")
    tf = tf_entity(inputs={**TF_INPUTS, "properties": {**TF_INPUTS["properties"], "db_password": {"type": "string"}}})
    result = run_item(save(tf), provider="local", inputs={"name": "x", "db_password": "abc"})
    assert result["status"] == "success", result["log"]
    assert result["inputs"] == {"name": "x", "db_password": "***"}


def test_terraform_state_is_per_workspace_catalog_provider_and_entity(
    make_target: Any, bin_dir: Path, fractal_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A recording stand-in for terraform records the state path each run's init is given."""
    first, second = make_target("team-a"), make_target("team-b")
    log = stand_in(bin_dir, "terraform")
    refs = [catalog.save(tf_entity("same-name"), [target])["ref"] for target in (first, second)]
    for ref, target in zip(refs, (first, second), strict=True):
        assert run_item(ref, provider="local", mode="plan", targets=[target])["status"] == "success"
    monkeypatch.setenv("WM_WORKSPACE", "other-ws")  # no WM_BASE_URL: still a local run, in another workspace
    assert run_item(refs[0], provider="local", mode="plan", targets=[first])["status"] == "success"
    inits = [c["argv"][-1].removeprefix("-backend-config=path=") for c in calls(log) if c["argv"][0] == "init"]
    assert len(inits) == len(set(inits)) == 3
    base = fractal_home / "cache" / "terraform-state"
    parts = [Path(p).relative_to(base).parts for p in inits]
    assert [p[0] for p in parts] == ["local", "local", "other-ws"]
    assert parts[0][1].startswith("f-fractal-team-a-") and parts[1][1].startswith("f-fractal-team-b-")
    assert all(p[2:] == ("local", "same-name", "terraform.tfstate") for p in parts)


@pytest.mark.skipif(shutil.which("terraform") is None, reason="no real terraform on this machine")
def test_real_terraform_apply_outputs_and_destroy(make_target: Any, fractal_home: Path) -> None:
    """The real terraform binary, on a configuration without providers (nothing downloaded)."""
    make_target("catalog")
    ref = save(tf_entity("tf-real"))
    result = run_item(ref, provider="local", inputs={"name": "fractal"})
    assert result["status"] == "success", result["log"]
    assert result["outputs"]["greeting"] == "hello fractal"
    [state] = (fractal_home / "cache" / "terraform-state" / "local").glob("f-fractal-catalog-*/local/tf-real/terraform.tfstate")
    assert "hello fractal" in state.read_text()
    planned = run_item(ref, provider="local", inputs={"name": "other"}, mode="plan")
    assert planned["status"] == "success" and '"hello other"' in planned["log"]
    gone = run_item(ref, provider="local", mode="destroy")
    assert gone["status"] == "success", gone["log"]
    assert "hello fractal" not in state.read_text()


# ------------------------------------------------------------------ kubernetes

KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []\nusers:\n- name: admin\n  user: {token: k3s-token-abcdef123456}\n"


def k8s_entity() -> dict[str, Any]:
    ns = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n"
    return entity("k3s-ns", tool="kubernetes", providers=["k3s"], outputs={"resources": {}}, files={"namespace.yaml": ns})


def test_kubectl_absent_is_a_clear_error(make_target: Any, bin_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_target("catalog")
    monkeypatch.setenv("KUBECONFIG_CONTENT", KUBECONFIG)
    with pytest.raises(ConfigError, match="kubectl is not installed") as caught:
        run_item(save(k8s_entity()))
    assert "install kubectl" in caught.value.hint


def test_k3s_without_kubeconfig_names_the_variable(make_target: Any, bin_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_target("catalog")
    monkeypatch.delenv("KUBECONFIG_CONTENT", raising=False)
    stand_in(bin_dir, "kubectl")
    with pytest.raises(ConfigError, match="KUBECONFIG_CONTENT"):
        run_item(save(k8s_entity()))


@pytest.mark.parametrize(("mode", "verbs"), [
    ("apply", [["apply", "--server-side", "--field-manager=fractal", "-f", "{m}", "-R"]]),
    ("plan", [["diff", "--server-side", "--field-manager=fractal", "-f", "{m}", "-R"],
              ["apply", "--server-side", "--field-manager=fractal", "-f", "{m}", "-R", "--dry-run=server"]]),
    ("destroy", [["delete", "--ignore-not-found=true", "-f", "{m}", "-R"]]),
])
def test_kubectl_commands_with_a_recording_stand_in(
    make_target: Any, bin_dir: Path, monkeypatch: pytest.MonkeyPatch, mode: str, verbs: list[list[str]]
) -> None:
    """A recording stand-in for kubectl is on PATH: this checks its exact commands, kubeconfig and env."""
    make_target("catalog")
    log = stand_in(bin_dir, "kubectl")
    monkeypatch.setenv("KUBECONFIG_CONTENT", KUBECONFIG)
    result = run_item(save(k8s_entity()), mode=mode, inputs={"namespace": "team-a"})
    assert result["status"] == "success", result["log"]  # kubectl diff's exit 1 means "differences"
    recorded = calls(log)
    assert len(recorded) == len(verbs)
    for call, verb in zip(recorded, verbs, strict=True):
        kubeconfig = call["env"]["KUBECONFIG"]
        manifests = str(Path(kubeconfig).parent / "manifests")
        expected = [verb[0], f"--kubeconfig={kubeconfig}", "--namespace=team-a", *(a.replace("{m}", manifests) for a in verb[1:])]
        assert call["argv"] == expected
        assert call["files"][kubeconfig] == {"text": KUBECONFIG, "mode": "0o600"}
        assert "KUBECONFIG_CONTENT" not in call["env"] and "FRACTAL_TEST_UNRELATED" not in call["env"]
    if mode == "apply":
        assert result["outputs"] == {"resources": ["namespace/team-a serverside-applied"]}
    assert "k3s-token-abcdef123456" not in json.dumps(result) + Path(result["log_file"]).read_text()


def test_k3s_with_a_kubeconfig_input_needs_no_provider_credential(
    make_target: Any, bin_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A recording stand-in for kubectl is on PATH: the kubeconfig input (e.g. from a cluster step) suffices."""
    make_target("catalog")
    monkeypatch.delenv("KUBECONFIG_CONTENT", raising=False)
    log = stand_in(bin_dir, "kubectl")
    result = run_item(save(k8s_entity()), inputs={"kubeconfig": KUBECONFIG})
    assert result["status"] == "success", result["log"]
    [call] = calls(log)
    assert call["files"][call["env"]["KUBECONFIG"]] == {"text": KUBECONFIG, "mode": "0o600"}
    assert result["inputs"] == {"kubeconfig": "***"}
    assert "k3s-token-abcdef123456" not in json.dumps(result) + Path(result["log_file"]).read_text()


@pytest.mark.parametrize("provider", [["local"], {"name": "local"}, 3])
def test_provider_must_be_a_name(make_target: Any, bin_dir: Path, fractal_home: Path, provider: Any) -> None:
    make_target("catalog")
    stand_in(bin_dir, "terraform")
    with pytest.raises(InvalidInput, match="provider must be a provider name") as caught:
        run_item(save(tf_entity()), provider=provider)
    assert "local" in caught.value.hint
    assert not list(fractal_home.glob("cache/runs/*.log"))


# ------------------------------------------------------------------ secret


def secret_entity() -> dict[str, Any]:
    spec = ("resource_type: exoscale\npath: f/fractal/exoscale\n"
            "env:\n  EXOSCALE_API_KEY: api_key\n  EXOSCALE_API_SECRET: api_secret\ndescription: Exoscale IAM key\n")
    return entity("exoscale-api-key", tool="secret", providers=["exoscale"], credentials=["exoscale"],
                  files={"secret.yaml": spec})


def test_secret_check_create_use_and_destroy(
    make_target: Any, bin_dir: Path, fractal_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Check (missing), create from run-time values, use it from a Terraform run (recording stand-in), delete."""
    make_target("catalog")
    for var in ("EXOSCALE_API_KEY", "EXOSCALE_API_SECRET"):
        monkeypatch.delenv(var, raising=False)
    ref = save(secret_entity())
    missing = run_item(ref, mode="check")
    assert missing["status"] == "failed" and "EXOSCALE_API_KEY" in missing["error"] and missing["outputs"]["present"] is False

    created = run_item(ref, inputs={"values": {"api_key": EXO_KEY, "api_secret": EXO_SECRET}})
    assert created["status"] == "success", created["log"]
    assert created["outputs"] == {"path": "f/fractal/exoscale", "resource_type": "exoscale", "present": True,
                                  "source": "workspace", "created": True, "env": ["EXOSCALE_API_KEY", "EXOSCALE_API_SECRET"]}
    assert created["inputs"]["values"] == {"api_key": "***", "api_secret": "***"}
    file = fractal_home / "f" / "fractal" / "exoscale.resource.yaml"
    assert oct(file.stat().st_mode & 0o777) == "0o600"
    assert run_item(ref, mode="check")["outputs"]["source"] == "workspace"

    tf_ref = save(tf_entity())  # saved first: the save's own checks would call the stand-in too
    log = stand_in(bin_dir, "terraform", TF_OUTPUTS)
    used = run_item(tf_ref, provider="exoscale")
    assert used["status"] == "success", used["log"]
    assert calls(log)[0]["env"]["EXOSCALE_API_KEY"] == EXO_KEY

    everything = "".join(json.dumps(r) + Path(r["log_file"]).read_text() for r in (missing, created, used))
    assert EXO_KEY not in everything and EXO_SECRET not in everything
    history = subprocess.run(["git", "-C", str(tmp_path / "remotes" / "catalog.git"), "log", "--all", "-p"],
                             capture_output=True, text=True, check=True).stdout
    assert "exoscale-api-key" in history and EXO_KEY not in history and EXO_SECRET not in history

    gone = run_item(ref, mode="destroy")
    assert gone["status"] == "success" and not file.exists()


def test_secret_values_must_cover_every_field(make_target: Any, bin_dir: Path, fractal_home: Path) -> None:
    make_target("catalog")
    with pytest.raises(InvalidInput, match="api_secret"):
        run_item(save(secret_entity()), inputs={"values": {"api_key": EXO_KEY}})
    assert not (fractal_home / "f" / "fractal" / "exoscale.resource.yaml").exists()  # nothing stored
    assert not list(fractal_home.glob("cache/runs/*.log"))  # no run was even started
