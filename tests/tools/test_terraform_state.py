"""Terraform state that survives the worker: the `pg` backend against a real PostgreSQL server started here
(initdb/pg_ctl, tests/support/postgres.py) and the real terraform binary on a provider-free configuration
(terraform_data: nothing is downloaded). The other backends' init arguments are checked as data."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import postgres

import f.fractal.catalog.items as catalog
from f.fractal.model.errors import ConfigError
from f.fractal.model.providers import PROVIDERS
from f.fractal.platform.workspace import write_resource
from f.fractal.run_item import main as run_item
from f.fractal.tools.runs import Run
from f.fractal.tools.terraform.state import backend_for

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


@pytest.fixture(scope="module")
def pg() -> Iterator[postgres.Postgres]:
    if not shutil.which("terraform"):
        pytest.skip("terraform is not installed here")
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


def _run(name: str = "web") -> Run:
    item = tf_entity(name)
    return Run("entity:web@1.0.0", item, PROVIDERS["local"], {}, "apply", {}, [], target="f/fractal/catalog")


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
