"""The pack's settings, read here and nowhere else.

Inside Windmill they come from the resource `f/fractal/fractal_settings` (type `fractal_settings`, schema in
fractal_settings.resource-type.yaml at the repository root): a job starts from an empty environment, so
`FRACTAL_*` variables never reach it. Outside Windmill they come from the environment, the local
runtime's way. Anything missing takes its default.

| resource field | local environment | default | meaning |
|---|---|---|---|
| `default_targets` | `FRACTAL_DEFAULT_TARGETS` (a,b) | `[f/fractal/catalog]` | catalogs used when a call names none |
| `flow_wait_s` | `FRACTAL_FLOW_WAIT_S` | `0` (start, return the job id) | seconds a composite run waits for its flow |
| `tf_plugin_dir` | `FRACTAL_TF_PLUGIN_DIR` | none (validate skipped) | Terraform provider mirror for `validate` |
| `terraform_state` | `FRACTAL_TF_STATE_BACKEND`, `_RESOURCE` | `local` | where Terraform state lives (the workspace's) |
| `terraform_state.targets` | `FRACTAL_TF_STATE_TARGETS` (t=backend:resource,…) | none | a catalog target's own state backend |
| `fetch_ttl_s` | `FRACTAL_FETCH_TTL_S` | `2` | seconds a refreshed catalog clone is read without fetching |
| `knowledge_targets` | `FRACTAL_KNOWLEDGE_TARGETS` (a,b) | `[f/fractal/knowledge]` | the learning loop's knowledge catalogs |

Terraform state backend of an entity, first match: its own `backend`/`cloud` block; the entry of the
catalog target it was read from in `terraform_state.targets`; `terraform_state.backend`; `local`.

Not settings (the local runtime's own paths, identity and credentials; a worker never has them):
`FRACTAL_HOME`, `FRACTAL_ACTOR` (platform/workspace.py), `FRACTAL_LLM_*` (platform/llm.py: the local
stand-in for the `f/fractal/llm` resource), `FRACTAL_SCANNERS_DIR` (tools/checks.py). ENV_EXCEPTIONS
lists them; tests/pack/test_settings_source.py keeps every other `FRACTAL_*` read in this module.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any

from f.fractal.model.errors import ConfigError, FractalError
from f.fractal.platform.windmill import call
from f.fractal.platform.workspace import DEFAULT_CATALOG, check_path, in_windmill

RESOURCE = "f/fractal/fractal_settings"  # not …/settings: `wmill sync` takes settings.*.yaml for workspace settings, skips it
RESOURCE_TYPE = "fractal_settings"
MAX_FLOW_WAIT_S = 840  # a waiting job holds its worker; Windmill Cloud kills jobs at 900 s
MAX_FETCH_TTL_S = 3600
STATE_BACKENDS = ("local", "pg", "s3", "http")
DEFAULT_KNOWLEDGE = "f/fractal/knowledge"
# FRACTAL_* variables read elsewhere on purpose (see the module docstring), by the module reading them.
ENV_EXCEPTIONS = {
    "FRACTAL_HOME": "f/fractal/platform/workspace.py", "FRACTAL_ACTOR": "f/fractal/platform/workspace.py",
    "FRACTAL_LLM_": "f/fractal/platform/llm.py", "FRACTAL_SCANNERS_DIR": "f/fractal/tools/checks.py",
}


@dataclass(frozen=True)
class StateBackend:
    """`backend` local (a file in the worker cache / local workspace), pg, s3 or http; `resource` holds the
    connection and its credentials (a `postgresql`, `s3` or `fractal_tf_http` resource) for the remote ones."""

    backend: str = "local"
    resource: str = ""


@dataclass(frozen=True)
class TerraformState(StateBackend):
    """The workspace's backend, and catalog targets (git_repository resource paths) that name their own."""

    targets: dict[str, StateBackend] = field(default_factory=dict)

    def for_target(self, target: str) -> StateBackend:
        """The backend of an entity read from `target`: the target's own, else the workspace's."""
        return self.targets.get(target) or StateBackend(self.backend, self.resource)


@dataclass(frozen=True)
class Settings:
    default_targets: tuple[str, ...] = (DEFAULT_CATALOG,)
    flow_wait_s: float = 0.0
    tf_plugin_dir: str = ""
    terraform_state: TerraformState = field(default_factory=TerraformState)
    fetch_ttl_s: float = 2.0
    source: str = "defaults"
    knowledge_targets: tuple[str, ...] = (DEFAULT_KNOWLEDGE,)


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
    for key in ("default_targets", "knowledge_targets"):
        if env.get(f"FRACTAL_{key.upper()}"):
            raw[key] = [p.strip() for p in env[f"FRACTAL_{key.upper()}"].split(",") if p.strip()]
    for name, key in (("FRACTAL_FLOW_WAIT_S", "flow_wait_s"), ("FRACTAL_TF_PLUGIN_DIR", "tf_plugin_dir"),
                      ("FRACTAL_FETCH_TTL_S", "fetch_ttl_s")):
        if env.get(name):
            raw[key] = env[name]
    state: dict[str, Any] = {}
    if env.get("FRACTAL_TF_STATE_BACKEND") or env.get("FRACTAL_TF_STATE_RESOURCE"):
        state = {"backend": env.get("FRACTAL_TF_STATE_BACKEND", "local"), "resource": env.get("FRACTAL_TF_STATE_RESOURCE", "")}
    if env.get("FRACTAL_TF_STATE_TARGETS"):
        state["targets"] = _targets_from_env(env["FRACTAL_TF_STATE_TARGETS"])
    if state:
        raw["terraform_state"] = state
    return raw


def _targets_from_env(text: str) -> dict[str, Any]:
    """`f/fractal/prod=pg:f/fractal/tf_prod,f/fractal/lab=local` → {target: {backend, resource}}."""
    targets: dict[str, Any] = {}
    for entry in filter(None, (e.strip() for e in text.split(","))):
        target, sep, chosen = entry.partition("=")
        if not sep:
            raise ConfigError(f"FRACTAL_TF_STATE_TARGETS: {entry!r:.80} is not <target>=<backend>[:<resource>]",
                              hint="e.g. f/fractal/prod=pg:f/fractal/tf_prod,f/fractal/lab=local")
        backend, _, resource = chosen.partition(":")
        targets[target.strip()] = {"backend": backend.strip(), "resource": resource.strip()}
    return targets


_ENV_NAMES = {"flow_wait_s": "FRACTAL_FLOW_WAIT_S", "default_targets": "FRACTAL_DEFAULT_TARGETS",
              "fetch_ttl_s": "FRACTAL_FETCH_TTL_S", "terraform_state": "FRACTAL_TF_STATE_BACKEND/RESOURCE",
              "terraform_state.targets": "FRACTAL_TF_STATE_TARGETS", "knowledge_targets": "FRACTAL_KNOWLEDGE_TARGETS"}


def _name(source: str, field_name: str) -> str:
    return _ENV_NAMES.get(field_name, field_name) if source == "environment" else f"{RESOURCE}.{field_name}"


def _parse(raw: dict[str, Any], source: str) -> Settings:
    return Settings(_targets(raw, "default_targets", DEFAULT_CATALOG, source),
                    _seconds(raw.get("flow_wait_s", 0), _name(source, "flow_wait_s"), MAX_FLOW_WAIT_S,
                             "0 (the default) returns the flow's job id at once; a waiting job holds its worker"),
                    str(raw.get("tf_plugin_dir") or ""), _state(raw.get("terraform_state") or {}, source),
                    _seconds(raw.get("fetch_ttl_s", 2), _name(source, "fetch_ttl_s"), MAX_FETCH_TTL_S,
                             "0 fetches on every read"),
                    source, _targets(raw, "knowledge_targets", DEFAULT_KNOWLEDGE, source))


def _targets(raw: dict[str, Any], key: str, default: str, source: str) -> tuple[str, ...]:
    targets = raw.get(key) or [default]
    if not isinstance(targets, list) or not targets:
        raise ConfigError(f"{_name(source, key)} must be a list of catalog resource paths", hint=f"e.g. [{default}]")
    for path in targets:
        check_path(path, f"catalog path in {_name(source, key)}")
    return tuple(targets)


def _seconds(raw: Any, name: str, maximum: float, hint: str) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = -1.0
    if isinstance(raw, bool) or not math.isfinite(value) or not 0 <= value <= maximum:
        raise ConfigError(f"{name} must be a number of seconds from 0 to {maximum:g}, got {raw!r:.40}", hint=hint)
    return value


def _state(raw: Any, source: str) -> TerraformState:
    name = _name(source, "terraform_state")
    if not isinstance(raw, dict):
        raise ConfigError(f"{name} must be an object {{backend, resource, targets}}")
    default = _backend(raw, name)
    targets = raw.get("targets") or {}
    where = _name(source, "terraform_state.targets")
    if not isinstance(targets, dict):
        raise ConfigError(f"{where} must map catalog targets to {{backend, resource}}",
                          hint="e.g. {f/fractal/prod: {backend: pg, resource: f/fractal/tf_prod}}")
    chosen: dict[str, StateBackend] = {}
    for target, entry in targets.items():
        check_path(str(target), f"catalog target in {where}")
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}.{target} must be an object {{backend, resource}}")
        chosen[str(target)] = _backend(entry, f"{where}.{target}")
    return TerraformState(default.backend, default.resource, chosen)


def _backend(raw: dict[str, Any], name: str) -> StateBackend:
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
    return StateBackend(backend, resource)
