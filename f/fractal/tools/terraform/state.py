"""Where a Terraform entity's state lives: the backend block a run adds, what `init` is told, the credentials.

The `terraform_state` setting (f.fractal.platform.settings) chooses the backend: the catalog target's own
(`terraform_state.targets[<target>]`) when it names one, else the workspace's. Each entity has its own
state, keyed by Windmill workspace, catalog target, provider and entity name:
- `local` (the default, and the local runtime's way): a file in the cache folder
  (`terraform-state/<workspace>/<target>/<provider>/<entity>/terraform.tfstate`). On a worker the cache is
  per worker (and per job under nsjail): use a remote backend there.
- `pg`: a `postgresql` resource (Windmill already runs on PostgreSQL); the connection string reaches
  Terraform as `PG_CONN_STR`, each state in its own schema (`schema_name`).
- `s3`: an `s3` resource (bucket, region, endPoint, useSSL, pathStyle, accessKey, secretKey); the keys as
  `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, each state at `fractal/<key>/terraform.tfstate`, locked by a
  lock file beside it (`use_lockfile`, Terraform >= 1.10).
- `http`: a `fractal_tf_http` resource; basic auth as `TF_HTTP_USERNAME`/`TF_HTTP_PASSWORD`, each state at
  `<address>/<key>`.
Credentials only ever reach the Terraform process's environment: never a file, an argument or a log.
An entity that declares its own `backend` or `cloud` block keeps it; nothing is added.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import f.fractal.platform.settings as settings
import f.fractal.platform.workspace as workspace
from f.fractal.model.errors import ConfigError, FractalError
from f.fractal.tools.runs import Run

BACKEND_FILE = "_fractal_backend.tf"


@dataclass(frozen=True)
class Backend:
    """What a run adds for its state: the block (in BACKEND_FILE), `init -backend-config` pairs, credential env."""

    name: str
    config: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def block(self) -> str:
        return f'terraform {{\n  backend "{self.name}" {{}}\n}}\n'

    def init_args(self) -> list[str]:
        return [f"-backend-config={key}={value}" for key, value in self.config.items()]


def _slug(text: str) -> str:
    """A readable name for a workspace or catalog target, made unique by its hash."""
    readable = re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")[:60] or "none"
    return f"{readable}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"


def state_key(run: Run) -> tuple[str, str, str, str]:
    """(workspace, target, provider, entity): one state each."""
    ws = re.sub(r"[^A-Za-z0-9_-]+", "-", os.environ.get("WM_WORKSPACE") or "local")
    return ws, _slug(run.target), run.provider.name, str(run.item["metadata"]["name"])


def state_file(run: Run) -> Path:
    """The local backend's state file of an entity."""
    return workspace.cache_dir("terraform-state", *state_key(run)) / "terraform.tfstate"


def _schema(run: Run) -> str:
    """A PostgreSQL schema name per state (63 characters at most, lower case)."""
    key = "/".join(state_key(run))
    readable = re.sub(r"[^a-z0-9_]+", "_", f"{state_key(run)[0]}_{state_key(run)[3]}".lower())[:40]
    return f"fractal_{readable}_{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def _connection(path: str, backend: str) -> dict[str, Any]:
    try:
        return workspace.get_resource(path)
    except Exception as e:  # a missing resource: NotFound locally, a plain client error from wmill
        detail = e.message if isinstance(e, FractalError) else type(e).__name__
        raise ConfigError(f"the {backend} Terraform state backend needs the resource {path} ({detail})",
                          hint="create it, or point terraform_state (or the catalog target's entry in its targets) "
                               "in f/fractal/fractal_settings at it") from None


def _require(value: dict[str, Any], path: str, *names: str) -> None:
    missing = [n for n in names if not value.get(n)]
    if missing:
        raise ConfigError(f"the Terraform state resource {path} lacks {', '.join(missing)}",
                          data={"resource": path, "missing_fields": missing})


def _pg(run: Run, path: str) -> Backend:
    value = _connection(path, "pg")
    _require(value, path, "host", "user", "dbname")
    auth = quote(str(value["user"]), safe="") + (f":{quote(str(value['password']), safe='')}" if value.get("password") else "")
    url = (f"postgres://{auth}@{value['host']}:{int(value.get('port') or 5432)}/{quote(str(value['dbname']), safe='')}"
           f"?sslmode={quote(str(value.get('sslmode') or 'require'), safe='')}")
    return Backend("pg", {"schema_name": _schema(run)}, {"PG_CONN_STR": url})


def _s3(run: Run, path: str) -> Backend:
    value = _connection(path, "s3")
    _require(value, path, "bucket", "accessKey", "secretKey")
    config = {"bucket": str(value["bucket"]), "key": "fractal/" + "/".join(state_key(run)) + "/terraform.tfstate",
              "region": str(value.get("region") or "us-east-1"), "use_lockfile": "true"}
    if value.get("endPoint"):  # an S3-compatible store (MinIO, Exoscale SOS, …), not AWS itself
        scheme = "https" if value.get("useSSL", True) else "http"
        port = f":{value['port']}" if value.get("port") else ""
        config.update({"endpoints": f'{{s3="{scheme}://{value["endPoint"]}{port}"}}',
                       "use_path_style": str(bool(value.get("pathStyle"))).lower(),
                       "skip_credentials_validation": "true", "skip_region_validation": "true",
                       "skip_requesting_account_id": "true", "skip_metadata_api_check": "true"})
    return Backend("s3", config, {"AWS_ACCESS_KEY_ID": str(value["accessKey"]), "AWS_SECRET_ACCESS_KEY": str(value["secretKey"])})


def _http(run: Run, path: str) -> Backend:
    value = _connection(path, "http")
    _require(value, path, "address")
    address = str(value["address"]).rstrip("/") + "/" + "/".join(quote(part, safe="") for part in state_key(run))
    config = {"address": address}
    if value.get("lock", True):
        config.update({"lock_address": address, "unlock_address": address})
    env = {name: str(value[field]) for name, field in (("TF_HTTP_USERNAME", "username"), ("TF_HTTP_PASSWORD", "password"))
           if value.get(field)}
    return Backend("http", config, env)


def backend_for(run: Run) -> Backend:
    """The backend of this run's state: its catalog target's in the terraform_state setting, else the workspace's."""
    chosen = settings.load().terraform_state.for_target(run.target)
    if chosen.backend == "pg":
        return _pg(run, chosen.resource)
    if chosen.backend == "s3":
        return _s3(run, chosen.resource)
    if chosen.backend == "http":
        return _http(run, chosen.resource)
    return Backend("local", {"path": str(state_file(run))})
