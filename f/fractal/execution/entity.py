"""Run a catalog entity on a provider: refuse bad launches before anything runs, then run its tool.

Order of checks (each failure a FractalError with a hint, nothing run): the mode; the inputs are
a mapping; the ref resolves; the item is an entity; it uses no dangerous construct without an
allowance (tools.policy); the provider fits the entity (required when
the entity does not fix exactly one); the inputs match the entity's input JSON Schema (defaults
filled in); the provider's and the entity's credentials are present; the tool's runner has what it
needs (binary on the worker, entry files). Then the runner works in a fresh private directory
(deleted afterwards) and the result is JSON, with every credential value the worker can see
(secrets.known_values), the run's credentials and its secret inputs masked in every form.

`run_entity(resolved, …)` takes what `f.fractal.catalog.get` returned, so a flow runner that already
resolved a step can run it without reading the catalog again.
"""

from __future__ import annotations

import json
import re
import secrets as _random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import f.fractal.model.composite as composite
import f.fractal.model.providers as providers
import f.fractal.platform.credentials as credentials
import f.fractal.platform.workspace as workspace
from f.fractal.model.errors import ConfigError, InvalidInput
from f.fractal.model.providers import Provider
from f.fractal.model.records import Found
from f.fractal.platform.secrets import is_secret_name, known_values
from f.fractal.tools.policy import ensure_allowed
from f.fractal.tools.registry import get_tool
from f.fractal.tools.runs import Outcome, Progress, Run, RunLog, strings

MODES = ("plan", "check", "apply", "destroy")
_validators: dict[str, Any] = {}
REFERENCE = "$var:"  # an input given by reference: `$var:<variable path>` (Windmill's own form)


def _stderr(text: str) -> None:
    sys.stderr.write(text)
    sys.stderr.flush()


# ------------------------------------------------------------------ checks before anything runs


def check_mode(mode: Any) -> str:
    if mode not in MODES:
        raise InvalidInput(f"bad mode {mode!r:.40}", hint="use plan or check (dry run), apply, or destroy")
    return str(mode)


def fitting(item: dict[str, Any]) -> list[str]:
    spec = item["spec"]
    return providers.fitting(spec.get("providers") or [], spec.get("tool"))


def choose_provider(ref: str, item: dict[str, Any], name: str | None) -> Provider:
    """The provider to run on: the one given (if it fits), or the one the entity fixes."""
    if name is not None and not isinstance(name, str):
        raise InvalidInput(f"provider must be a provider name, got {type(name).__name__}",
                           hint=f"pass one name, one of: {', '.join(fitting(item)) or '(none fits)'}")
    choices = fitting(item)
    declared = item["spec"].get("providers") or []
    if not name:
        if len(declared) == 1 and declared == choices:
            return providers.get(declared[0])
        raise InvalidInput(
            f"{ref} does not fix a provider: choose one",
            hint=f"pass provider, one of: {', '.join(choices) or '(none fits)'}", data={"choices": choices},
        )
    provider = providers.get(name)
    if name not in choices:
        raise InvalidInput(
            f"provider {name} does not fit {ref} (tool {item['spec'].get('tool')}, providers {declared or 'any'})",
            hint=f"use one of: {', '.join(choices) or '(none fits)'}", data={"choices": choices},
        )
    return provider


def validate_inputs(ref: str, item: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
    """The inputs checked against the entity's input JSON Schema, with its defaults filled in."""
    schema = item["spec"].get("inputs") or {"type": "object"}
    composite.refuse_unknown_inputs(ref, inputs, {*(schema.get("properties") or {}), *composite.runner_inputs(item)})
    key = repr(schema)
    if key not in _validators:
        import fastjsonschema

        try:
            _validators[key] = fastjsonschema.compile(schema)
        except Exception as e:  # a schema the catalog let through but the validator cannot compile
            raise InvalidInput(f"{ref} has an invalid input schema: {e}"[:400]) from None
    try:
        return dict(_validators[key](dict(inputs)))
    except Exception as e:  # fastjsonschema.JsonSchemaValueException
        where = str(getattr(e, "name", "inputs")).replace("data", "inputs", 1)
        props = sorted(schema.get("properties") or {})
        raise InvalidInput(
            f"inputs do not match {ref}: {where}: {getattr(e, 'message', e)}"[:500],
            hint=f"its inputs: {', '.join(props) or '(none)'}; required: {', '.join(schema.get('required') or []) or '(none)'}",
        ) from None


def secret_inputs(item: dict[str, Any], inputs: dict[str, Any]) -> list[str]:
    """Names of the inputs to mask: secret-flagged or secret-named properties, a secret entity's `values`."""
    props = (item["spec"].get("inputs") or {}).get("properties") or {}
    found: list[str] = []
    for name in inputs:
        prop: dict[str, Any] = props.get(name) or {} if isinstance(props.get(name), dict) else {}
        flagged = bool(prop.get("password") or prop.get("writeOnly") or prop.get("x-secret") or prop.get("format") == "password")
        if flagged or is_secret_name(name) or (name == "values" and item["spec"].get("tool") == "secret"):
            found.append(name)
    return found


def masked(value: Any) -> Any:
    """A secret input as the result shows it: every value `***`, an object's or list's shape kept."""
    if isinstance(value, dict):
        return {k: masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v) for v in value]
    return "***"


def check_picks(picks: Any) -> dict[str, str]:
    """The credential resources a launch chose, {resource type: resource path}, checked before anything runs."""
    if picks in (None, {}):
        return {}
    if not isinstance(picks, dict):
        raise InvalidInput("credentials must be an object of credential types to resource paths",
                           hint='e.g. {"exoscale": "u/me/exoscale_prod"}; list_providers lists the resources of each type')
    known = sorted({p.credential.resource_type for p in providers.PROVIDERS.values() if p.credential is not None})
    for kind, path in picks.items():
        if kind not in known:
            raise InvalidInput(f"unknown credential type {str(kind)!r:.40}", hint=f"use one of {', '.join(known)}")
        workspace.check_path(path, f"{kind} credential resource path")
    return dict(picks)


def entity_credentials(item: dict[str, Any], inputs: dict[str, Any] | None = None,
                       picks: dict[str, str] | None = None) -> credentials.Found:
    """Credentials the entity names in spec.credentials: provider names, provider credential resource
    types (`kubeconfig`, `exoscale` …, as generated entities name them) or Windmill resource paths.
    A kubeconfig given as an input (wired from the step that made the cluster) replaces the stored one;
    `picks` ({resource type: path}) names the resource the launch chose for a type."""
    found = credentials.Found()
    for name in item["spec"].get("credentials") or []:
        cred = providers.PROVIDERS[name].credential if name in providers.PROVIDERS else _credential_of_type(name)
        if cred is not None or name in providers.PROVIDERS:
            if cred is None or (cred.resource_type == "kubeconfig" and _has_kubeconfig(inputs or {})):
                continue
            one = credentials.find(cred, (picks or {}).get(cred.resource_type))
            found.env.update(one.env)
            found.secrets.extend(one.secrets)
            continue
        path = workspace.check_path(name, "credential (a provider name, a credential type or a resource path)")
        try:
            found.secrets.extend(strings(workspace.get_resource(path)))
        except Exception as e:
            raise ConfigError(f"credential resource {path} is missing", hint=f"create the resource {path}") from e
    return found


def _credential_of_type(resource_type: str) -> providers.Credential | None:
    """The provider credential of this resource type (e.g. kubeconfig → k3s's), if any."""
    return next((p.credential for p in providers.PROVIDERS.values()
                 if p.credential is not None and p.credential.resource_type == resource_type), None)


def _has_kubeconfig(inputs: dict[str, Any]) -> bool:
    value = inputs.get("kubeconfig")
    return isinstance(value, str) and bool(value.strip())


def provider_credentials(chosen: Provider, tool: str, inputs: dict[str, Any],
                         picks: dict[str, str] | None = None) -> credentials.Found:
    """The provider's credential, unless the run brings its own access (a kubeconfig input) or needs none."""
    if not get_tool(tool).provider_credential:
        return credentials.Found()
    if tool == "kubernetes" and _has_kubeconfig(inputs):
        return credentials.Found()
    return credentials.for_provider(chosen, picks)


def resolve_references(inputs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Inputs given as `$var:<path>` references (a secret output of an earlier step) resolved to their
    values: (inputs with values, {name: reference}). An unknown reference is a ConfigError."""
    values, references = dict(inputs), {}
    for name, value in inputs.items():
        if isinstance(value, str) and value.startswith(REFERENCE):
            values[name] = workspace.get_variable(value[len(REFERENCE):])
            references[name] = value
    return values, references


def is_secret_output(item: dict[str, Any], name: str, value: Any) -> bool:
    """Declared `secret: true`, or a secret-named (kubeconfig, token …) text output."""
    declared = (item["spec"].get("outputs") or {}).get(name) or {}
    flagged = isinstance(declared, dict) and bool(declared.get("secret"))
    return flagged or (isinstance(value, str) and is_secret_name(name))


def by_reference(run: Run, run_id: str, outputs: dict[str, Any], scope: str = "") -> dict[str, Any]:
    """Secret outputs (declared `secret: true`, or secret-named text like a kubeconfig) stored in the
    secret store; the result carries their `$var:` reference, never the value. Other outputs that
    hold a secret (a sensitive Terraform output, an echoed credential) stay masked. In a composite run
    (`scope`: its run id, or the root flow job inside Windmill) they are stored under the scope, which
    the composite deletes when it ends; a run on its own keeps them until the entity is destroyed."""
    out = dict(outputs)
    folder = f"{workspace.OUTPUT_STORE}/{scope}/{run_id}" if scope else f"{workspace.OUTPUT_STORE}/{run_id}"
    for name, value in outputs.items():
        if value in (None, "") or not is_secret_output(run.item, name, value):
            continue
        text = value if isinstance(value, str) else json.dumps(value)
        run.secrets.append(text)
        out[name] = workspace.set_secret_variable(f"{folder}/{name}", text, f"secret output {name} of {run.ref} (run {run_id})",
                                                  ttl_s=workspace.OUTPUT_TTL_S)
    return out


def forget_entity_outputs(name: str) -> list[str]:
    """After an entity is destroyed: the secret outputs its earlier runs left (their run ids name it)."""
    mine = re.compile(rf"^\d{{8}}T\d{{6}}-{re.escape(name)}-[0-9a-f]{{6}}$")
    gone = [p for p in workspace.list_variables(f"{workspace.OUTPUT_STORE}/") if any(mine.match(s) for s in p.split("/"))]
    for path in gone:
        workspace.delete_variable(path)
    return gone


def prepare(resolved: Found, provider: str | None, inputs: dict[str, Any] | None, mode: str,
            picks: dict[str, str] | None = None) -> Run:
    """Every check that can refuse the launch; returns the run, nothing executed yet. `picks`: the
    credential resources the launch chose ({resource type: path}; a type not named uses its default)."""
    ref, item = resolved["ref"], resolved["item"]
    if item.get("kind") != "Entity":
        raise InvalidInput(f"{ref} is a {item.get('kind')}, not an entity", hint="run_entity runs entities only")
    ensure_allowed(item, ref)
    chosen = choose_provider(ref, item, provider)
    given, references = resolve_references(inputs or {})
    values = validate_inputs(ref, item, given)
    tool = item["spec"]["tool"]
    runner = get_tool(tool)
    picks = check_picks(picks)
    creds = provider_credentials(chosen, tool, values, picks)
    extra = entity_credentials(item, values, picks) if runner.provider_credential else credentials.Found()
    env = {**creds.env, **extra.env}
    hidden = [s for name in {*secret_inputs(item, values), *references} for s in strings(values[name])]
    run = Run(ref, item, chosen, values, mode, env, [*creds.secrets, *extra.secrets, *hidden, *known_values()],
              target=str(resolved.get("target") or ""), references=references)
    runner.preflight(run)
    return run


# ------------------------------------------------------------------ running


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _redact(value: Any, log: RunLog, key: str = "") -> Any:
    if isinstance(value, str):
        return log.redact(value, key)
    if isinstance(value, dict):
        return {k: _redact(v, log, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, log, key) for v in value]
    return value


def run_entity(
    resolved: Found, provider: str | None = None, inputs: dict[str, Any] | None = None,
    mode: str = "apply", progress: Progress | None = _stderr, scope: str = "", picks: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Check, then run an entity that f.fractal.catalog.get resolved; returns the result JSON. `scope`: the
    composite run it is a step of (by_reference); inside a Windmill flow, its root job. `picks`: the
    credential resources the launch chose, {resource type: resource path}."""
    t0 = time.perf_counter()
    started = _now()
    run = prepare(resolved, provider, inputs, check_mode(mode), picks)
    run_id = f"{time.strftime('%Y%m%dT%H%M%S')}-{run.item['metadata']['name']}-{_random.token_hex(3)}"
    log = RunLog(workspace.cache_dir("runs") / f"{run_id}.log", run.secrets, progress)
    run.log = log
    log.write(f"fractal: {mode} {run.ref} on {run.provider.name} (run {run_id})")
    workdir = Path(tempfile.mkdtemp(prefix="fractal-run-"))
    t1 = time.perf_counter()
    try:
        outcome = get_tool(run.item["spec"]["tool"]).execute(run, workdir)
        outcome.outputs = by_reference(run, run_id, outcome.outputs, scope or workspace.flow_root())
        if mode == "destroy" and outcome.status == "success":
            forget_entity_outputs(run.item["metadata"]["name"])
    except Exception as e:  # a runner bug or a tool crash: still a result, never a half-reported run
        outcome = Outcome("failed", -1, error=f"{type(e).__name__}: {e}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    t2 = time.perf_counter()
    log.write(f"fractal: {outcome.status} (rc {outcome.rc}) in {t2 - t0:.2f}s")
    log.close()
    return _result(resolved, run, outcome, log, run_id, started, (t0, t1, t2, time.perf_counter()))


def _masked_inputs(run: Run) -> dict[str, Any]:
    """The inputs as the result shows them: a reference as given, a secret masked."""
    hidden = set(secret_inputs(run.item, run.inputs))
    return {k: run.references.get(k) or (masked(v) if k in hidden else v) for k, v in run.inputs.items()}


def _result(
    resolved: Found, run: Run, outcome: Outcome, log: RunLog, run_id: str, started: str,
    marks: tuple[float, float, float, float],
) -> dict[str, Any]:
    meta = run.item["metadata"]
    t0, t1, t2, t3 = marks
    result: dict[str, Any] = {
        "status": outcome.status, "rc": outcome.rc, "ref": run.ref, "kind": "Entity", "name": meta["name"],
        "version": meta.get("version", ""), "tool": run.item["spec"]["tool"], "commit": resolved.get("commit", ""),
        "target": resolved.get("target", ""), "provider": run.provider.name, "mode": run.mode,
        "inputs": _masked_inputs(run), "outputs": outcome.outputs, "error": outcome.error, "failed_task": outcome.failed_task,
        "warnings": outcome.warnings, **outcome.details,
        "log": log.tail(), "log_truncated": log.total > len(log.tail()), "log_file": str(log.path), "run_id": run_id,
        "started": started, "ended": _now(), "duration_s": round(t3 - t0, 3),
        "timings": {"prepare_s": round(t1 - t0, 4), "tool_s": round(t2 - t1, 4), "finish_s": round(t3 - t2, 4)},
    }
    if resolved.get("stale"):
        result["stale"] = True
    log.learn(result)  # a Kubernetes Secret an output shows (a parsed manifest, its lines): masked everywhere
    return dict(_redact(result, log))

