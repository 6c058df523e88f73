"""Terraform state that survives the worker, with the real terraform binary on a provider-free configuration
(terraform_data: nothing is downloaded): the `pg` backend against a real PostgreSQL server started here
(initdb/pg_ctl, tests/support/postgres.py); the `http` backend against a server speaking Terraform's http
backend protocol (tests/support/tf_http_backend.py, with locking); the `s3` backend against moto's S3 server
(tests/support/s3_server.py), a stand-in that answers as S3 does. Each round trip applies, forgets the
worker's cache, plans again (no changes: the state came back from the backend) and destroys."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import postgres, s3_server, tf_http_backend

import f.fractal.catalog.items as catalog
import f.fractal.platform.settings as settings
from f.fractal.model.errors import ConfigError
from f.fractal.model.providers import PROVIDERS
from f.fractal.platform.workspace import write_resource
from f.fractal.run_item import main as run_item
from f.fractal.tools.runs import Run
from f.fractal.tools.terraform.state import backend_for, state_key

MAIN_TF = """variable "name" {
  type = string
}
resource "terraform_data" "greeting" {
  input = "hello ${var.name}"
}
output "greeting" {
  value = terraform_data.greeting.output
}
"""


def tf_entity(name: str) -> dict[str, Any]:
    return {"apiVersion": "fractal/v1", "kind": "Entity", "metadata": {"name": name, "description": "state test"},
            "spec": {"tool": "terraform", "providers": ["local"], "outputs": {"greeting": {}}, "files": {"main.tf": MAIN_TF},
                     "inputs": {"type": "object", "properties": {"name": {"type": "string", "default": "world"}}}}}


def needs_terraform() -> None:
    if not shutil.which("terraform"):
        pytest.skip("terraform is not installed here (no registry scripts/setup uses provides it: "
                    "resources/windmill/worker-init.sh installs it on a worker)")


@pytest.fixture(scope="module")
def pg() -> Iterator[postgres.Postgres]:
    needs_terraform()
    try:
        server = postgres.start()
    except RuntimeError as e:
        pytest.skip(f"PostgreSQL cannot run here: {e}")
    yield server
    server.stop()


def test_state_in_postgresql_survives_the_worker_and_no_credential_is_written(
    pg: postgres.Postgres, make_target: Any, fractal_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_target("catalog")
    connection = {**pg.resource(), "password": "$var:f/fractal/tf_state_password"}
    write_resource("f/fractal/tf_state", "postgresql", connection)
    monkeypatch.setenv("F_FRACTAL_TF_STATE_PASSWORD", pg.password)
    monkeypatch.setenv("FRACTAL_TF_STATE_BACKEND", "pg")
    monkeypatch.setenv("FRACTAL_TF_STATE_RESOURCE", "f/fractal/tf_state")
    saved = catalog.save(tf_entity("tf-pg"))
    ref = str(saved["ref"])

    applied = run_item(ref, provider="local", inputs={"name": "fractal"})
    assert applied["status"] == "success", applied["log"]
    assert applied["outputs"]["greeting"] == "hello fractal"
    schemas = pg.psql("select schema_name from information_schema.schemata where schema_name like 'fractal_%'").split()
    assert len(schemas) == 1
    assert "hello fractal" in pg.psql(f"select data from {schemas[0]}.states where name = 'default'")

    shutil.rmtree(fractal_home / "cache")  # another worker: nothing of the first one's cache is left
    again = run_item(ref, provider="local", inputs={"name": "fractal"}, mode="plan")
    assert again["status"] == "success" and "No changes" in again["log"], again["log"]
    gone = run_item(ref, provider="local", mode="destroy")
    assert gone["status"] == "success", gone["log"]
    assert "hello fractal" not in pg.psql(f"select data from {schemas[0]}.states where name = 'default'")

    written = [p for p in fractal_home.rglob("*") if p.is_file() and pg.password.encode() in p.read_bytes()]
    assert written == [] and all(pg.password not in r["log"] for r in (applied, again, gone))


def test_a_wrong_password_fails_at_init_and_is_never_shown(
    pg: postgres.Postgres, make_target: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_target("catalog")
    write_resource("f/fractal/tf_state", "postgresql", {**pg.resource(), "password": "not-the-password-123"})
    monkeypatch.setenv("FRACTAL_TF_STATE_BACKEND", "pg")
    monkeypatch.setenv("FRACTAL_TF_STATE_RESOURCE", "f/fractal/tf_state")
    ref = str(catalog.save(tf_entity("tf-pg-bad"))["ref"])
    failed = run_item(ref, provider="local", inputs={"name": "x"})
    assert failed["status"] == "failed" and failed["failed_task"]["task"] == "terraform init"
    assert "not-the-password-123" not in str(failed)


def _run(name: str = "web", target: str = "f/fractal/catalog") -> Run:
    item = tf_entity(name)
    return Run(f"entity:{name}@1.0.0", item, PROVIDERS["local"], {}, "apply", {}, [], target=target)


@pytest.mark.parametrize(("backend", "value", "config", "env"), [
    ("s3", {"bucket": "states", "region": "ch-gva-2", "endPoint": "sos-ch-gva-2.exo.io", "useSSL": True, "pathStyle": False,
            "accessKey": "EXOabc", "secretKey": "s3cr3t"},
     {"bucket": "states", "region": "ch-gva-2", "endpoints": '{s3="https://sos-ch-gva-2.exo.io"}', "use_path_style": "false"},
     {"AWS_ACCESS_KEY_ID": "EXOabc", "AWS_SECRET_ACCESS_KEY": "s3cr3t"}),
    ("http", {"address": "https://tf.example/state", "username": "state-user-91", "password": "state-pass-7734"},
     {"lock_address": "https://tf.example/state/local/"},
     {"TF_HTTP_USERNAME": "state-user-91", "TF_HTTP_PASSWORD": "state-pass-7734"}),
])
def test_s3_and_http_backends_take_the_connection_from_their_resource(
    fractal_home: Path, monkeypatch: pytest.MonkeyPatch, backend: str, value: dict[str, Any], config: dict[str, str],
    env: dict[str, str],
) -> None:
    write_resource("f/fractal/tf_state", "s3" if backend == "s3" else "fractal_tf_http", value)
    monkeypatch.setenv("FRACTAL_TF_STATE_BACKEND", backend)
    monkeypatch.setenv("FRACTAL_TF_STATE_RESOURCE", "f/fractal/tf_state")
    chosen = backend_for(_run())
    assert chosen.env == env and chosen.block == f'terraform {{\n  backend "{backend}" {{}}\n}}\n'
    for key, expected in config.items():
        assert chosen.config[key].startswith(expected), (key, chosen.config)
    assert not any(secret in " ".join(chosen.init_args()) for secret in env.values())
    assert backend_for(_run("db")).config != chosen.config, "each entity has its own state"


def test_a_remote_backend_without_its_resource_is_refused_before_anything_runs(
    make_target: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_target("catalog")
    monkeypatch.setenv("FRACTAL_TF_STATE_BACKEND", "pg")
    with pytest.raises(ConfigError, match="needs a resource"):
        run_item(str(catalog.save(tf_entity("tf-none"))["ref"]), provider="local")
    monkeypatch.setenv("FRACTAL_TF_STATE_RESOURCE", "f/fractal/absent")
    with pytest.raises(ConfigError, match="needs the resource f/fractal/absent"):
        run_item(str(catalog.save(tf_entity("tf-none2"))["ref"]), provider="local")


def _round_trip(ref: str, fractal_home: Path, secret: str) -> None:
    """apply; a worker without the first one's cache plans no change; destroy. The secret is never shown."""
    applied = run_item(ref, provider="local", inputs={"name": "fractal"})
    assert applied["status"] == "success", applied["log"]
    assert applied["outputs"]["greeting"] == "hello fractal"
    shutil.rmtree(fractal_home / "cache")
    again = run_item(ref, provider="local", inputs={"name": "fractal"}, mode="plan")
    assert again["status"] == "success" and "No changes" in again["log"], again["log"]
    gone = run_item(ref, provider="local", mode="destroy")
    assert gone["status"] == "success", gone["log"]
    written = [p for p in fractal_home.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]
    assert written == [] and all(secret not in r["log"] for r in (applied, again, gone))


def test_a_catalog_target_names_its_own_backend_over_the_workspace_one(
    fractal_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_resource("f/fractal/tf_pg", "postgresql", {"host": "db", "user": "u", "dbname": "states"})
    write_resource("f/fractal/tf_http", "fractal_tf_http", {"address": "https://tf.example/state"})
    monkeypatch.setenv("FRACTAL_TF_STATE_BACKEND", "http")
    monkeypatch.setenv("FRACTAL_TF_STATE_RESOURCE", "f/fractal/tf_http")
    monkeypatch.setenv("FRACTAL_TF_STATE_TARGETS", "f/fractal/prod=pg:f/fractal/tf_pg, f/fractal/lab=local")
    chosen = {target: backend_for(_run(target=target)).name for target in ("f/fractal/prod", "f/fractal/lab", "f/fractal/x")}
    assert chosen == {"f/fractal/prod": "pg", "f/fractal/lab": "local", "f/fractal/x": "http"}

    monkeypatch.setenv("FRACTAL_TF_STATE_TARGETS", "f/fractal/prod=pg")
    with pytest.raises(ConfigError, match=r"FRACTAL_TF_STATE_TARGETS\.f/fractal/prod: the pg backend needs a resource"):
        settings.load()
    monkeypatch.setenv("FRACTAL_TF_STATE_TARGETS", "f/fractal/prod")
    with pytest.raises(ConfigError, match="is not <target>=<backend>"):
        settings.load()


def test_the_settings_resource_names_a_backend_per_target() -> None:
    source = f"resource {settings.RESOURCE}"
    parsed = settings._parse({"terraform_state": {"backend": "s3", "resource": "f/fractal/tf_s3", "targets": {
        "f/fractal/prod": {"backend": "pg", "resource": "f/fractal/tf_pg"}}}}, source)
    assert parsed.terraform_state.for_target("f/fractal/prod") == settings.StateBackend("pg", "f/fractal/tf_pg")
    assert parsed.terraform_state.for_target("f/fractal/catalog") == settings.StateBackend("s3", "f/fractal/tf_s3")
    with pytest.raises(ConfigError, match=r"f/fractal/fractal_settings\.terraform_state\.targets\.f/fractal/prod: unknown"):
        settings._parse({"terraform_state": {"targets": {"f/fractal/prod": {"backend": "nfs"}}}}, source)


@pytest.mark.slow
def test_state_over_http_is_locked_and_survives_the_worker(
    make_target: Any, fractal_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    needs_terraform()
    target = make_target("catalog")
    password = "http-state-pass-5521"
    with tf_http_backend.running("state-writer", password) as server:
        write_resource("f/fractal/tf_http", "fractal_tf_http",
                       {"address": server.url, "username": "state-writer", "password": "$var:f/fractal/tf_http_password"})
        monkeypatch.setenv("F_FRACTAL_TF_HTTP_PASSWORD", password)
        monkeypatch.setenv("FRACTAL_TF_STATE_TARGETS", f"{target}=http:f/fractal/tf_http")  # this target only
        ref = str(catalog.save(tf_entity("tf-http"))["ref"])
        key = "/".join(state_key(_run("tf-http", target=target)))

        _round_trip(ref, fractal_home, password)
        assert list(server.states) == [f"/state/{key}"] and '"resources": []' in server.states[f"/state/{key}"].decode()
        methods = [m for m, path, status in server.requests if status == 200]
        assert {"LOCK", "UNLOCK", "POST", "GET"} <= set(methods) and server.locks == {}

        server.locks[f"/state/{key}"] = {"ID": "held-by-another-worker", "Who": "worker-2"}
        held = run_item(ref, provider="local", inputs={"name": "fractal"})
        assert held["status"] == "failed" and held["failed_task"]["task"] == "terraform plan", held
        assert "held-by-another-worker" in held["log"]


@pytest.mark.slow
def test_state_in_s3_is_locked_and_survives_the_worker(
    make_target: Any, fractal_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    needs_terraform()
    try:
        s3 = s3_server.start()
    except RuntimeError as e:
        pytest.skip(f"no local S3 server: {e}")
    try:
        s3.create_bucket("states")
        secret = "s3-secret-key-8812"
        write_resource("f/fractal/tf_s3", "s3", {"bucket": "states", "region": "us-east-1", "endPoint": "127.0.0.1",
                                                 "port": s3.port, "useSSL": False, "pathStyle": True,
                                                 "accessKey": "fractal-key", "secretKey": "$var:f/fractal/tf_s3_secret"})
        monkeypatch.setenv("F_FRACTAL_TF_S3_SECRET", secret)
        monkeypatch.setenv("FRACTAL_TF_STATE_BACKEND", "s3")
        monkeypatch.setenv("FRACTAL_TF_STATE_RESOURCE", "f/fractal/tf_s3")
        target = make_target("catalog")
        ref = str(catalog.save(tf_entity("tf-s3"))["ref"])
        key = "fractal/" + "/".join(state_key(_run("tf-s3", target=target))) + "/terraform.tfstate"

        _round_trip(ref, fractal_home, secret)
        assert s3.keys("states") == [key], "one state, its lock file released"
        assert '"resources": []' in s3.get("states", key).text

        s3.put("states", f"{key}.tflock", b'{"ID": "held-by-another-worker", "Who": "worker-2"}')
        held = run_item(ref, provider="local", inputs={"name": "fractal"})
        assert held["status"] == "failed" and held["failed_task"]["task"] == "terraform plan", held
        assert "held-by-another-worker" in held["log"]
    finally:
        s3.stop()
