"""The pack's settings, read here and nowhere else.

Inside Windmill they come from the resource `f/fractal/settings` (type `fractal_settings`, schema in
fractal_settings.resource-type.yaml at the repository root): a job starts from an empty environment, so
`FRACTAL_*` variables never reach it. Outside Windmill they come from the environment, the local
runtime's way. Anything missing takes its default.

| resource field | local environment | default | meaning |
|---|---|---|---|
| `default_targets` | `FRACTAL_DEFAULT_TARGETS` (a,b) | `[f/fractal/catalog]` | catalogs used when a call names none |
| `flow_wait_s` | `FRACTAL_FLOW_WAIT_S` | `0` (start, return the job id) | seconds a composite run waits for its flow |
| `tf_plugin_dir` | `FRACTAL_TF_PLUGIN_DIR` | none (validate skipped) | Terraform provider mirror for `validate` |
| `terraform_state` | `FRACTAL_TF_STATE_BACKEND`, `_RESOURCE` | `local` | where Terraform state lives |
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any

from f.fractal.model.errors import ConfigError, FractalError
from f.fractal.platform.windmill import call
from f.fractal.platform.workspace import DEFAULT_CATALOG, check_path, in_windmill

RESOURCE = "f/fractal/settings"
RESOURCE_TYPE = "fractal_settings"
MAX_FLOW_WAIT_S = 840  # a waiting job holds its worker; Windmill Cloud kills jobs at 900 s
STATE_BACKENDS = ("local", "pg", "s3", "http")


@dataclass(frozen=True)
class TerraformState:
    """`backend` local (a file in the worker cache / local workspace), pg, s3 or http; `resource` holds the
    connection and its credentials (a `postgresql`, `s3` or `fractal_tf_http` resource) for the remote ones."""

    backend: str = "local"
    resource: str = ""


@dataclass(frozen=True)
class Settings:
    default_targets: tuple[str, ...] = (DEFAULT_CATALOG,)
    flow_wait_s: float = 0.0
    tf_plugin_dir: str = ""
    terraform_state: TerraformState = field(default_factory=TerraformState)
    source: str = "defaults"


_read: dict[tuple[str, ...], Settings] = {}  # per Windmill job (its URL, workspace and token): one request each


def load() -> Settings:
    """The settings of this job (Windmill: read once) or this process (local: the environment, every time)."""
    if not in_windmill():
        return _parse(_from_env(), "environment")
    job = tuple(os.environ.get(k, "") for k in ("BASE_INTERNAL_URL", "WM_BASE_URL", "WM_WORKSPACE", "WM_TOKEN"))
    if job not in _read:
        _read[job] = _parse(_from_windmill(), f"resource {RESOURCE}")
    return _read[job]


def _from_windmill() -> dict[str, Any]:
    try:
        value = call("GET", f"resources/get_value_interpolated/{RESOURCE}")
    except FractalError as e:
        if e.data.get("status") == 404:
            return {}  # no settings resource: the defaults
        raise
    if not isinstance(value, dict):
        raise ConfigError(f"resource {RESOURCE} is not an object", hint=f"give it the type {RESOURCE_TYPE}")
    return value


def _from_env() -> dict[str, Any]:
    env = os.environ
    raw: dict[str, Any] = {}
    if env.get("FRACTAL_DEFAULT_TARGETS"):
        raw["default_targets"] = [p.strip() for p in env["FRACTAL_DEFAULT_TARGETS"].split(",") if p.strip()]
    if env.get("FRACTAL_FLOW_WAIT_S"):
        raw["flow_wait_s"] = env["FRACTAL_FLOW_WAIT_S"]
    if env.get("FRACTAL_TF_PLUGIN_DIR"):
        raw["tf_plugin_dir"] = env["FRACTAL_TF_PLUGIN_DIR"]
    if env.get("FRACTAL_TF_STATE_BACKEND") or env.get("FRACTAL_TF_STATE_RESOURCE"):
        raw["terraform_state"] = {"backend": env.get("FRACTAL_TF_STATE_BACKEND", "local"),
                                  "resource": env.get("FRACTAL_TF_STATE_RESOURCE", "")}
    return raw


def _name(source: str, field_name: str) -> str:
    return {"flow_wait_s": "FRACTAL_FLOW_WAIT_S", "default_targets": "FRACTAL_DEFAULT_TARGETS",
            "terraform_state": "FRACTAL_TF_STATE_BACKEND/RESOURCE"}.get(field_name, field_name) \
        if source == "environment" else f"{RESOURCE}.{field_name}"


def _parse(raw: dict[str, Any], source: str) -> Settings:
    targets = raw.get("default_targets") or [DEFAULT_CATALOG]
    if not isinstance(targets, list) or not targets:
        raise ConfigError(f"{_name(source, 'default_targets')} must be a list of catalog resource paths",
                          hint="e.g. [f/fractal/catalog]")
    for path in targets:
        check_path(path, f"catalog path in {_name(source, 'default_targets')}")
    return Settings(tuple(targets), _wait(raw.get("flow_wait_s", 0), _name(source, "flow_wait_s")),
                    str(raw.get("tf_plugin_dir") or ""), _state(raw.get("terraform_state") or {}, source), source)


def _wait(raw: Any, name: str) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = -1.0
    if isinstance(raw, bool) or not math.isfinite(value) or not 0 <= value <= MAX_FLOW_WAIT_S:
        raise ConfigError(f"{name} must be a number of seconds from 0 to {MAX_FLOW_WAIT_S}, got {raw!r:.40}",
                          hint="0 (the default) returns the flow's job id at once; a waiting job holds its worker")
    return value


def _state(raw: Any, source: str) -> TerraformState:
    name = _name(source, "terraform_state")
    if not isinstance(raw, dict):
        raise ConfigError(f"{name} must be an object {{backend, resource}}")
    backend = str(raw.get("backend") or "local")
    resource = str(raw.get("resource") or "")
    if backend not in STATE_BACKENDS:
        raise ConfigError(f"{name}: unknown Terraform state backend {backend!r:.40}",
                          hint=f"use one of {', '.join(STATE_BACKENDS)}")
    if backend != "local":
        if not resource:
            raise ConfigError(f"{name}: the {backend} backend needs a resource holding its connection",
                              hint="e.g. f/fractal/tf_state (a postgresql resource for pg, s3 for s3, fractal_tf_http for http)")
        check_path(resource, f"resource path in {name}")
    return TerraformState(backend, resource)
